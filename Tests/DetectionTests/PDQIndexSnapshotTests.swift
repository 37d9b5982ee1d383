import Foundation
import Testing

@testable import Detection

@Suite("PDQ index snapshot")
struct PDQIndexSnapshotTests {
  static func folder() throws -> String {
    let path = NSTemporaryDirectory() + "csar-snapshot-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
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
}
