// The service benchmark's data: a database holding N random PDQ hashes in one bank, a
// service with one consenting account, the same hashes as a text file for the reference,
// and the lookup queries (half near-duplicates of bank hashes, half unrelated).

import Compliance
import Detection
import Foundation
import Store

/// Deterministic 64-bit generator for benchmark data (SplitMix64): the same data every run.
public struct BenchRandom: RandomNumberGenerator {
  var state: UInt64

  /// A generator starting at `seed`.
  public init(seed: UInt64) { state = seed }

  /// The next value.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A random PDQ hash.
  mutating func hash() -> PDQHash {
    PDQHash(words: SIMD4(next(), next(), next(), next()))
  }
}

extension ServeBenchmark {
  /// Hashes imported per transaction.
  static let chunk = 1_000_000
  /// Lookup queries (wrk cycles through them).
  static let queryCount = 1_000

  /// Creates the database and the hash file unless both exist; returns the queries.
  func prepare(database: String, hashesFile: String, size: Int) throws -> [String] {
    if !FileManager.default.fileExists(atPath: database)
      || !FileManager.default.fileExists(atPath: hashesFile)
    {
      unlink(database)
      let started = monotonicSeconds()
      try create(database: database, hashesFile: hashesFile, size: size)
      report("data \(size)\tdatabase and hash file made in "
        + Self.ms(monotonicSeconds() - started))
    }
    // Every other query is a bank hash with 10 bits flipped (a match), the rest random.
    var bank = BenchRandom(seed: UInt64(size))
    var other = BenchRandom(seed: 0xC5A2)
    var queries: [String] = []
    let stride = max(1, size / Self.queryCount)
    for i in 0..<min(size, Self.queryCount) {
      var hash = bank.hash()
      if i % 2 == 0 {
        for _ in 0..<10 {
          let bit = Int(other.next() % 256)
          hash.words[bit / 64] ^= 1 << UInt64(bit % 64)
        }
        queries.append(hash.hex)
      } else {
        queries.append(other.hash().hex)
      }
      // Walk on to the next query's bank hash.
      for _ in 1..<stride { _ = bank.hash() }
    }
    return queries
  }

  func create(database: String, hashesFile: String, size: Int) throws {
    let keyFolder = configHome + "/csar"
    try FileManager.default.createDirectory(
      atPath: keyFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    let key = try ProviderKey.loadOrCreate(path: keyFolder + "/provider.key")
    let db = try AppDatabase.open(path: database, auditKey: AuditKey(providerKey: key))
    let me = try db.actingOperator(requested: nil).name
    try db.createService(code: Self.service, name: "Bench", kind: .hosting, by: me)
    let consent = """
      event_id,account,service,state,occurred_at,source,terms_version
      e1,\(Self.account),\(Self.service),granted,2026-01-01T00:00:00Z,app,v1

      """
    _ = try db.importConsent(
      bytes: Array(consent.utf8), fileName: "consent.csv",
      options: .init(operatorName: me))

    guard FileManager.default.createFile(atPath: hashesFile, contents: nil),
      let file = FileHandle(forWritingAtPath: hashesFile)
    else { throw BenchmarkError("cannot write \(hashesFile)") }
    defer { try? file.close() }
    var generator = BenchRandom(seed: UInt64(size))
    var done = 0
    while done < size {
      let count = min(Self.chunk, size - done)
      var entries: [BankHashEntry] = []
      entries.reserveCapacity(count)
      var text = ""
      text.reserveCapacity(count * 65)
      for _ in 0..<count {
        let hex = generator.hash().hex
        entries.append(BankHashEntry(type: .pdq, hash: hex))
        text += hex + "\n"
      }
      try file.write(contentsOf: Array(text.utf8))
      try db.importBank(name: "bench", entries: entries, by: me)
      done += count
    }
  }
}
