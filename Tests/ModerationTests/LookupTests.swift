// Lookup by hash, the live bank index of a long-running service, and the gate's
// consent-first entry points for uploads given as bytes.

import Compliance
import Detection
import Foundation
import Imaging
import Testing

@testable import Moderation
@testable import Store

@Suite("Hash lookup and the live bank index")
struct LookupTests {
  static let pdq = String(repeating: "a5", count: 32)
  static let md5 = String(repeating: "0f", count: 16)

  /// `pdq` with the first `bits` bits flipped.
  static func near(_ bits: Int) -> String {
    var hash = PDQHash(hex: pdq)!
    for bit in 0..<bits { hash.words[bit / 64] ^= UInt64(1) << UInt64(bit % 64) }
    return hash.hex
  }

  @Test func lookupMatchesPDQWithinThresholdAndDigestsExactly() throws {
    let db = try moderationDatabase()
    try db.importBank(
      name: "known",
      entries: [
        BankHashEntry(type: .pdq, hash: Self.pdq, label: "ring"),
        BankHashEntry(type: .md5, hash: Self.md5, sourceId: "S-1"),
        BankHashEntry(type: .sha1, hash: String(repeating: "1", count: 40), sourceId: "N-1"),
      ], threshold: 20, by: "mod")
    let queries = try [
      HashQuery(type: "pdq", value: Self.near(12).uppercased(), field: "q"),
      HashQuery(type: "PDQ", value: Self.near(21), field: "q"),
      HashQuery(type: "md5", value: Self.md5, field: "q"),
      HashQuery(parsing: "sha1:" + String(repeating: "1", count: 40), field: "q"),
      HashQuery(parsing: "sha1:" + String(repeating: "2", count: 40), field: "q"),
    ]
    let results = try BankMatcher(database: db).lookup(queries)
    #expect(results[0].matches.map(\.distance) == [12])
    #expect(results[0].matches.first?.label == "ring")
    #expect(results[1].matches.isEmpty, "21 bits is beyond the bank's threshold of 20")
    #expect(results[2].matches.map(\.sourceId) == ["S-1"])
    #expect(results[3].matches.map(\.sourceId) == ["N-1"], "SHA-1 digests match exactly")
    #expect(results[3].matches.map(\.type) == [.sha1])
    #expect(results[4].matches.isEmpty)
    #expect(
      results[2].jsonLine
        == #"{"type":"md5","value":"\#(Self.md5)","matches":[{"bank":"known","bank_version":1,"#
        + #""distance":0,"label":null,"on_match":"review","source_id":"S-1","type":"md5"}]}"#)
    #expect(try count(db, "SELECT count(*) FROM flagged_item") == 0)
  }

  @Test func badQueriesNameTheirField() {
    #expect(throws: HashQueryError(field: "hashes[2].type", reason:
      "unknown hash type \"crc\" (use pdq, md5, sha256 or sha1)")) {
      try HashQuery(type: "crc", value: "00", field: "hashes[2]")
    }
    #expect(throws: HashQueryError(field: "hashes[0].value", reason:
      "a md5 hash is 32 hex digits")) {
      try HashQuery(type: "md5", value: String(repeating: "g", count: 32), field: "hashes[0]")
    }
    #expect(throws: HashQueryError.self) { try HashQuery(parsing: "pdq", field: "argument 1") }
  }

  @Test func theLiveIndexIsRebuiltWhenBanksChangeAndOnlyThen() throws {
    let db = try moderationDatabase()
    let live = try LiveBankMatcher(database: db)
    let query = [try HashQuery(type: "pdq", value: Self.near(3), field: "q")]
    #expect(try live.current.lookup(query)[0].matches.isEmpty)
    #expect(try live.refresh() == false, "nothing changed")

    try db.importBank(name: "known", entries: [.init(type: .pdq, hash: Self.pdq)], by: "mod")
    let before = live.current
    #expect(try before.lookup(query)[0].matches.isEmpty, "the old index is untouched")
    #expect(try live.refresh())
    #expect(try live.current.lookup(query)[0].matches.count == 1)
    #expect(live.currentGeneration.hashes == 1 && live.currentGeneration.banks == 1)

    try db.setBankThreshold(name: "known", threshold: 2, by: "mod")
    #expect(try live.refresh())
    #expect(try live.current.lookup(query)[0].matches.isEmpty)
    try db.setBankThreshold(name: "known", threshold: 31, by: "mod")
    try db.setBankEnabled(name: "known", enabled: false, by: "mod")
    #expect(try live.refresh())
    #expect(try live.current.lookup(query)[0].matches.isEmpty)
    #expect(live.currentGeneration.banks == 0)
    #expect(live.currentGeneration.hashes == 0)

    // Hashes of every type in the enabled banks: the index's PDQ hashes and the digests.
    try db.importBank(
      name: "mixed",
      entries: [
        .init(type: .pdq, hash: String(repeating: "ab", count: 32)),
        .init(type: .md5, hash: String(repeating: "cd", count: 16)),
        .init(type: .sha256, hash: String(repeating: "ef", count: 32)),
      ], by: "mod")
    #expect(try live.refresh())
    #expect(live.currentGeneration.banks == 1)
    #expect(live.currentGeneration.hashes == 3)

    // Any column of the bank table counts: a rename, or a setting added by a later
    // migration, is picked up without this code knowing of it.
    try db.writer.write { db in
      try db.execute(sql: "ALTER TABLE bank ADD COLUMN later_setting TEXT")
    }
    _ = try live.refresh()
    try db.writer.write { db in
      try db.execute(sql: "UPDATE bank SET later_setting = 'strict' WHERE name = 'known'")
    }
    #expect(try live.refresh())
    try db.writer.write { db in
      try db.execute(sql: "UPDATE bank SET name = 'renamed' WHERE name = 'known'")
    }
    #expect(try live.refresh())
  }

  @Test func uploadsAreAdmittedByConsentBeforeTheirBytesAreScanned() throws {
    let db = try moderationDatabase()
    let image = Picture.make()
    let png = try ImageEncoder.encodePNG(image)
    let pdq = PDQ.hash(image)
    try db.importBank(name: "known", entries: [.init(type: .pdq, hash: pdq.hash.hex)], by: "mod")
    let gate = UploadGate(database: db, operatorName: "mod")

    guard case .blocked(let refused) = try gate.admit(account: "A-refused", service: "chat-eu")
    else {
      Issue.record("an account that refused consent must be blocked")
      return
    }
    #expect(refused.consent == .refused && refused.twins.isEmpty)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'scan.blocked'") == 1)

    guard case .granted(let subject) = try gate.admit(account: "A-granted", service: "chat-eu")
    else {
      Issue.record("A-granted should be admitted")
      return
    }
    var kept: [[UInt8]] = []
    let other = try ImageEncoder.encodePNG(Picture.make(seed: 2))
    let allowed = gate.scan(bytes: other, input: "b.png", subject: subject) { bytes in
      kept.append(bytes)
      return "/kept/b"
    }
    #expect(allowed.decision == .allowed)
    #expect(kept.isEmpty, "an upload that matched nothing is not kept")
    let flagged = gate.scan(bytes: png, input: "a.png", subject: subject) { bytes in
      kept.append(bytes)
      return "/kept/a"
    }
    #expect(flagged.decision.code == "flagged")
    #expect(kept == [png])
    #expect(try column(db, "SELECT media_path FROM flagged_item", as: String.self) == ["/kept/a"])
  }

  /// A database file in `scratch` with one PDQ bank, and its snapshot's path.
  static func databaseWithBank(in scratch: Scratch) throws -> (AppDatabase, String) {
    let db = try AppDatabase.open(
      path: scratch.path + "/csar.sqlite", auditKey: .random(anchorFolder: scratch.path))
    try db.ensureOperator(name: "mod", role: .lead)
    try db.importBank(name: "known", entries: [.init(type: .pdq, hash: Self.pdq)], by: "mod")
    return (db, try #require(BankMatcher.snapshotPath(database: db)))
  }

  @Test func theSnapshotBesideTheDatabaseIsUsedOnlyForTheSameBanks() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let (db, path) = try Self.databaseWithBank(in: scratch)
    #expect(path == scratch.path + "/csar.pdqindex")
    #expect(BankMatcher.snapshotPath(database: try AppDatabase.inMemory()) == nil)
    let query = [try HashQuery(type: "pdq", value: Self.near(5), field: "q")]

    let first = try BankMatcher(database: db, snapshot: path)
    #expect(!first.fromSnapshot)
    #expect(FileManager.default.fileExists(atPath: path))
    let second = try BankMatcher(database: db, snapshot: path)
    #expect(second.fromSnapshot)
    #expect(try second.lookup(query) == first.lookup(query))
    #expect(try second.lookup(query)[0].matches.count == 1)

    // Any bank change makes the snapshot stale: the next matcher rebuilds, and sees it.
    try db.setBankEnabled(name: "known", enabled: false, by: "mod")
    let third = try BankMatcher(database: db, snapshot: path)
    #expect(!third.fromSnapshot)
    #expect(try third.lookup(query)[0].matches.isEmpty)
    // A damaged snapshot is rebuilt, not trusted.
    try Data("CSARPDQ1 damaged".utf8).write(to: URL(fileURLWithPath: path))
    let fourth = try BankMatcher(database: db, snapshot: path)
    #expect(!fourth.fromSnapshot)
    #expect(try BankMatcher(database: db, snapshot: path).fromSnapshot)
  }

  /// The snapshot is one of csar's private files: one that others could read or write, or
  /// a symlink, is refused (the reason names the `chmod`), rebuilt, and replaced by a
  /// private file.
  @Test func aSnapshotOthersCouldWriteOrASymlinkIsRefusedAndReplaced() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let (db, path) = try Self.databaseWithBank(in: scratch)
    let first = try BankMatcher(database: db, snapshot: path)
    #expect(!first.fromSnapshot && first.snapshotProblem == nil)
    func mode() throws -> Int {
      try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }
    #expect(try mode() == 0o600)

    chmod(path, 0o666)
    let refused = try BankMatcher(database: db, snapshot: path)
    #expect(!refused.fromSnapshot)
    #expect(refused.snapshotProblem?.contains("chmod") == true)
    #expect(try mode() == 0o600, "replaced by a private file")
    #expect(try BankMatcher(database: db, snapshot: path).fromSnapshot)

    let elsewhere = scratch.path + "/elsewhere.pdqindex"
    try FileManager.default.moveItem(atPath: path, toPath: elsewhere)
    try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: elsewhere)
    let linked = try BankMatcher(database: db, snapshot: path)
    #expect(!linked.fromSnapshot)
    #expect(linked.snapshotProblem?.contains("symbolic link") == true)
  }
}
