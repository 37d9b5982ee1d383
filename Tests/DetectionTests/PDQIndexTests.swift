import Detection
import Foundation
import Testing

@Suite("PDQ index")
struct PDQIndexTests {
  static func randomHash(_ rng: inout SeededRandom) -> PDQHash {
    PDQHash(words: SIMD4(rng.next(), rng.next(), rng.next(), rng.next()))
  }

  static func flipping(_ hash: PDQHash, bits: Int, _ rng: inout SeededRandom) -> PDQHash {
    var words = hash.words
    var chosen = Set<Int>()
    while chosen.count < bits { chosen.insert(Int(rng.next() % 256)) }
    for k in chosen { words[k >> 6] ^= 1 << UInt64(k & 63) }
    return PDQHash(words: words)
  }

  /// The multi-index tables return exactly what brute force returns, before and after the
  /// index is prepared for queries, at every distance where the probe radius or the
  /// partners' radius changes.
  @Test(arguments: [0, 7, 8, 15, 16, 23, 24, 31, 32, 39, 40, 47, 48, 60])
  func multiIndexEqualsBruteForce(maxDistance: Int) throws {
    var rng = SeededRandom(seed: UInt64(100 + maxDistance))
    var entries: [(PDQHash, Int)] = []
    var queries: [PDQHash] = []
    for i in 0..<20_000 { entries.append((Self.randomHash(&rng), i)) }
    // Planted near neighbours at every distance 0...64 around some query points.
    for q in 0..<30 {
      let centre = Self.randomHash(&rng)
      queries.append(centre)
      for d in stride(from: 0, through: 64, by: 1) where d % 3 == q % 3 {
        entries.append((Self.flipping(centre, bits: d, &rng), 100_000 + q * 100 + d))
      }
    }
    queries.append(entries[5].0)
    let index = PDQIndex(entries, multiIndex: true)
    #expect(index.usesMultiIndex)
    var answers: [[PDQMatch]] = []
    for query in queries {
      let fast = index.query(query, maxDistance: maxDistance)
      let slow = index.linearQuery(query, maxDistance: maxDistance)
      #expect(fast == slow)
      #expect(fast.allSatisfy { $0.distance <= maxDistance })
      answers.append(fast)
    }
    #expect(answers.contains { !$0.isEmpty } || maxDistance == 0)
    // Built in memory: in huge pages already, nothing to prepare.
    #expect(index.isPreparedForQueries)
    // The same index mapped from a snapshot, before and after its huge-page copies.
    let folder = try PDQIndexSnapshotTests.folder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let mapped = try Self.mapped(index, in: folder)
    #expect(!mapped.isPreparedForQueries)
    #expect(queries.map { mapped.query($0, maxDistance: maxDistance) } == answers)
    mapped.prepareForQueries()
    #expect(mapped.isPreparedForQueries)
    mapped.prepareForQueries()
    #expect(queries.map { mapped.query($0, maxDistance: maxDistance) } == answers)
  }

  /// `index` written to a snapshot in `folder` and mapped back.
  static func mapped(_ index: PDQIndex, in folder: String) throws -> PDQIndex {
    let path = folder + "/banks.pdqindex"
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    defer { close(fd) }
    try PDQIndexSnapshot.write(index, tag: "t", to: fd, path: path)
    return try #require(try PDQIndexSnapshot.read(path: path, tag: "t"))
  }

  /// A mapped index prepared by several threads at once is prepared once and gives the same
  /// answers.
  @Test func preparedConcurrentlyAnswersAsBruteForce() async throws {
    var rng = SeededRandom(seed: 77)
    let entries = (0..<8_000).map { (Self.randomHash(&rng), $0) }
    let folder = try PDQIndexSnapshotTests.folder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let index = try Self.mapped(PDQIndex(entries, multiIndex: true), in: folder)
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<4 { group.addTask { index.prepareForQueries() } }
    }
    #expect(index.isPreparedForQueries)
    for i in stride(from: 0, to: 8_000, by: 400) {
      let query = Self.flipping(entries[i].0, bits: 25, &rng)
      #expect(index.query(query, maxDistance: 31) == index.linearQuery(query, maxDistance: 31))
    }
  }

  @Test func smallIndexScansLinearly() {
    var rng = SeededRandom(seed: 4)
    let a = Self.randomHash(&rng)
    let index = PDQIndex([(a, 1), (Self.flipping(a, bits: 31, &rng), 2),
                          (Self.flipping(a, bits: 32, &rng), 3)])
    #expect(!index.usesMultiIndex)
    #expect(index.query(a) == [PDQMatch(id: 1, distance: 0), PDQMatch(id: 2, distance: 31)])
    #expect(PDQIndex([]).query(a).isEmpty)
  }

  @Test func dihedralQueryFindsRotatedCopies() {
    let image = Fixtures.scene(width: 300, height: 380, seed: 8)
    let rotated = image.oriented(.right)
    let index = PDQIndex([(PDQ.hash(rotated).hash, 42)])
    let variants = PDQ.dihedralHashes(image)
    #expect(index.query(variants.original).isEmpty)
    #expect(index.query(dihedral: variants) == [PDQMatch(id: 42, distance: 0)])
  }

  @Test func digestIndex() {
    let index = DigestIndex([("ABCDEF", 1), ("abcdef", 2), ("0123", 3)])
    #expect(index.query("abcdef") == [1, 2])
    #expect(index.query("0123") == [3])
    #expect(index.query("ffff").isEmpty)
    #expect(index.count == 2)
  }
}
