import Foundation
import Testing
import TestSupport

@testable import Detection

@Suite("PDQ index snapshot")
struct PDQIndexSnapshotTests {
  static func folder() throws -> String {
    try ScratchSpace.folder("snapshot")
  }

  /// A snapshot answers every query exactly as the index it was written from; a stale tag
  /// or another version reads as nil; a damaged file is an error naming it.
  @Test(arguments: [false, true])
  func roundTripAnswersTheSameQueries(multiIndex: Bool) throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var rng = SeededRandom(seed: 7)
    var entries: [(PDQHash, Int)] = []
    for i in 0..<5_003 { entries.append((PDQIndexTests.randomHash(&rng), 10 * i + 3)) }
    let index = PDQIndex(entries, multiIndex: multiIndex)
    let path = folder + "/banks.pdqindex"
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    try PDQIndexSnapshot.write(index, tag: "1:1:31/5003", to: fd, path: path)
    close(fd)
    let read = try #require(try PDQIndexSnapshot.read(path: path, tag: "1:1:31/5003"))
    #expect(read.isMapped && !index.isMapped)
    #expect(read.count == index.count)
    #expect(read.usesMultiIndex == multiIndex)
    for (hash, _) in entries.prefix(50) {
      let near = PDQIndexTests.flipping(hash, bits: 20, &rng)
      #expect(read.query(near, maxDistance: 31) == index.query(near, maxDistance: 31))
    }
    #expect(try PDQIndexSnapshot.read(path: path, tag: "1:1:31/5004") == nil, "stale")
    #expect(try PDQIndexSnapshot.read(path: folder + "/none", tag: "x") == nil)

    // Cut short: an error naming the file, never a half index.
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(bytes.count - 9).write(to: URL(fileURLWithPath: path))
    #expect(throws: SnapshotError.self) {
      _ = try PDQIndexSnapshot.read(path: path, tag: "1:1:31/5003")
    }
    // Another format version is not read (it is rebuilt by the caller).
    var other = bytes
    other[8] = 99
    try other.write(to: URL(fileURLWithPath: path))
    #expect(try PDQIndexSnapshot.read(path: path, tag: "1:1:31/5003") == nil)
  }

  // MARK: - Refused files

  /// Writes a multi-index snapshot of 5,000 random hashes; returns its path, bytes, index
  /// and hashes.
  static func written(in folder: String) throws -> (String, [UInt8], PDQIndex, [PDQHash]) {
    var rng = SeededRandom(seed: 11)
    var entries: [(PDQHash, Int)] = []
    for i in 0..<5_000 { entries.append((PDQIndexTests.randomHash(&rng), i)) }
    let index = PDQIndex(entries, multiIndex: true)
    let path = folder + "/banks.pdqindex"
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    try PDQIndexSnapshot.write(index, tag: "t", to: fd, path: path)
    close(fd)
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    return (path, bytes, index, entries.map(\.0))
  }

  static func reason(_ path: String) -> String? {
    do {
      _ = try PDQIndexSnapshot.read(path: path, tag: "t")
      return nil
    } catch {
      return error.reason
    }
  }

  /// The payload starts after the 64-byte header and the tag "t" padded to 8 bytes.
  static let payload = 72

  /// Stores each value at its offset and fixes both checksums, as a forger would.
  static func forge(_ bytes: inout [UInt8], _ values: [(UInt32, Int)]) {
    for (value, offset) in values {
      withUnsafeBytes(of: value.littleEndian) {
        bytes.replaceSubrange(offset..<offset + 4, with: $0)
      }
    }
    let payloadSum = bytes[payload...].withUnsafeBytes { PDQIndexSnapshot.checksum($0) }
    withUnsafeBytes(of: payloadSum.littleEndian) { bytes.replaceSubrange(48..<56, with: $0) }
    let headerSum = bytes[0..<payload].withUnsafeBytes { PDQIndexSnapshot.headerChecksum($0) }
    withUnsafeBytes(of: headerSum.littleEndian) { bytes.replaceSubrange(56..<64, with: $0) }
  }

  /// One changed bit anywhere, a cut, or a longer file: refused with a reason, never mapped.
  @Test func alteredOrCutFilesAreRefused() throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let (path, bytes, _, _) = try Self.written(in: folder)
    #expect(Self.reason(path) == nil)
    let url = URL(fileURLWithPath: path)
    for (offset, expected) in [
      (16, "header's checksum"), (40, "header's checksum"), (Self.payload + 5, "payload"),
      (bytes.count - 1, "payload"),
    ] {
      var altered = bytes
      altered[offset] ^= 0x10
      try Data(altered).write(to: url)
      #expect(Self.reason(path)?.contains(expected) == true, "byte \(offset)")
    }
    let cuts = [Array(bytes.prefix(40)), Array(bytes.prefix(bytes.count - 8)), bytes + [0, 0]]
    for cut in cuts {
      try Data(cut).write(to: url)
      let reason = Self.reason(path) ?? ""
      #expect(reason.contains("cut short") || reason.contains("bytes, its header says"))
    }
  }

  /// A forged file whose checksums agree is still checked: slot tables out of order or not
  /// covering the index are refused; entry numbers outside the index are skipped by
  /// queries (no read outside the mapping, no made-up match), and so are made-up partners.
  @Test func forgedTablesAreRefusedOrHarmless() throws {
    let folder = try Self.folder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let (path, bytes, index, hashes) = try Self.written(in: folder)
    let url = URL(fileURLWithPath: path)
    let n = index.count
    let offsets = Self.payload + n * 40
    var disorder = bytes
    Self.forge(&disorder, [(UInt32(n), offsets + 4 * 100)])
    try Data(disorder).write(to: url)
    #expect(Self.reason(path)?.contains("out of order") == true)
    var short = bytes
    Self.forge(&short, [(UInt32(n - 1), offsets + 4 * 65536)])
    try Data(short).write(to: url)
    #expect(Self.reason(path)?.contains("does not cover") == true)

    // Every entry number of slot 0 pointed far outside the index: queries skip them, so
    // they find a subset of the true matches (those reported at slot 0 are lost).
    let members = offsets + 16 * 65537 * 4
    var wild = bytes
    Self.forge(&wild, (0..<n).map { (UInt32.max - UInt32($0), members + 4 * $0) })
    try Data(wild).write(to: url)
    let read = try #require(try PDQIndexSnapshot.read(path: path, tag: "t"))
    for prepared in [false, true] {
      // Prepared for queries (copied to huge pages), such a table is as harmless.
      if prepared { read.prepareForQueries() }
      #expect(read.isPreparedForQueries == prepared)
      #expect(Self.foundSubsetOfTrueMatches(read, index, hashes) > 0, "the other slots find some")
    }

    // Every partner made up (the partner test then keeps or drops entries at random): the
    // answers are still true matches at their true distances.
    let partners = members + 16 * n * 4
    var noisy = bytes
    var seeded = SeededRandom(seed: 9)
    Self.forge(
      &noisy,
      (0..<(8 * n)).map { (UInt32(truncatingIfNeeded: seeded.next()), partners + 4 * $0) })
    try Data(noisy).write(to: url)
    let misled = try #require(try PDQIndexSnapshot.read(path: path, tag: "t"))
    _ = Self.foundSubsetOfTrueMatches(misled, index, hashes)
  }

  /// Queries `read` near 40 of the indexed hashes, expects only true matches (those of the
  /// intact `index`, at their distances), and returns how many it found.
  static func foundSubsetOfTrueMatches(
    _ read: PDQIndex, _ index: PDQIndex, _ hashes: [PDQHash]
  ) -> Int {
    var rng = SeededRandom(seed: 3)
    var found = 0
    for i in 0..<40 {
      let query = PDQIndexTests.flipping(hashes[i * 97], bits: 20, &rng)
      let truth = Set(index.linearQuery(query, maxDistance: 40))
      let answer = read.query(query, maxDistance: 40)
      #expect(Set(answer).isSubset(of: truth))
      found += answer.count
    }
    return found
  }
}
