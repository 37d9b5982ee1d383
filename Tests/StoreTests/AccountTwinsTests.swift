import Foundation
import GRDB
import Testing

@testable import Store

/// Twin accounts: one id in two Unicode forms, kept apart by `v6-nfc-ids`.
@Suite("Account twins")
struct AccountTwinsTests {
  static let zoeNFD = "Zoe\u{308}-4", zoeNFC = "Zo\u{EB}-4"
  static let emeNFD = "e\u{301}me-7"
  /// When the test databases are opened again (and so migrated).
  static let openedAt: Int64 = 1_796_040_000

  /// A database as a csar from before `v6-nfc-ids` left it, with accounts: 1-2 plain, 3 in
  /// NFD beside 4, its NFC twin; 5 in NFD alone; `extra` SQL on top. What the migrations
  /// from v6 on made is dropped, so the next open runs them again.
  static func oldDatabase(_ folder: TempFolder, extra: String = "") throws -> String {
    let path = folder.file("csar.sqlite")
    let db = try seededDatabase(path: path)
    try db.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO account (id, external_id, pseudonym, created_at) VALUES
            (3, ?, 'u-cccc00000003', 0), (4, ?, 'u-dddd00000004', 0),
            (5, ?, 'u-eeee00000005', 0);
          \(extra)
          DROP INDEX id_respelling_kept_account;
          DROP TABLE migration_time;
          DROP TABLE id_respelling;
          DELETE FROM grdb_migrations WHERE identifier IN ('v6-nfc-ids', 'v7-twins');
          """, arguments: [zoeNFD, zoeNFC, emeNFD])
    }
    return path
  }

  static func reopen(_ path: String) throws -> AppDatabase {
    try AppDatabase.open(
      path: path, clock: { openedAt }, auditKey: testAuditKey(besideDatabase: path))
  }

  @Test func twinsAreListedWithWhereTheirIdsDifferAndWhenTheyWereKept() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try Self.reopen(try Self.oldDatabase(folder))

    let twins = try db.accountTwins()
    try #require(twins.count == 1, "\(twins)")
    let pair = twins[0]
    #expect(Array(pair.normalizedId.utf8) == Array(Self.zoeNFC.utf8))
    // The NFC one first: the one a look-up by either spelling finds.
    #expect(pair.accounts.map(\.id) == [4, 3])
    #expect(pair.accounts.map(\.pseudonym) == ["u-dddd00000004", "u-cccc00000003"])
    #expect(pair.differingCodePoints == ["U+00EB", "U+0065 U+0308"])
    #expect(pair.isNormalized(pair.accounts[0]) && !pair.isNormalized(pair.accounts[1]))
    #expect(pair.keptAt == Self.openedAt)
    #expect(try db.account(externalIdOrPseudonym: Self.zoeNFD)?.id == 4)

    // Each twin names the other; an account respelt without a twin has none.
    #expect(try db.twins(ofAccount: 3).map(\.id) == [4])
    #expect(try db.twins(ofAccount: 4).map(\.id) == [3])
    #expect(try db.twins(ofAccount: 5).isEmpty)
    #expect(try db.twins(ofAccount: 1).isEmpty)
    #expect(try db.twins(ofAccount: 99).isEmpty)
    #expect(try db.verifyAuditChain().isOK)
  }

  /// Listing twins reads the kept rows alone, never every respelt id; finding one account's
  /// twins is index look-ups.
  @Test func twinsAreFoundByIndexNotByAScan() throws {
    let db = try seededDatabase()
    let plans = try db.read { db in
      try [
        AppDatabase.accountTwinsSQL,
        "SELECT 1 FROM id_respelling r WHERE r.kind = 'account' AND r.kept = 1 "
          + "AND r.normalized = 'x'",
      ].map { sql in
        try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
      }
    }
    #expect(plans[0].filter { $0.contains("id_respelling") } == [
      "SCAN r USING INDEX id_respelling_kept_account",
      "SCAN r USING INDEX id_respelling_kept_account",
    ], "\(plans[0])")
    #expect(plans[1].contains { $0.contains("USING INDEX id_respelling_kept_account") })
    #expect(!plans.joined().contains { $0.contains("PRIMARY KEY (kind=?)") })
  }

  /// Every migration that runs records its time; opening again changes none.
  @Test func migrationsRecordWhenTheyRan() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = try Self.oldDatabase(folder)
    do {
      let db = try Self.reopen(path)
      let times = try db.read { db in
        try Row.fetchAll(db, sql: "SELECT identifier, applied_at FROM migration_time")
          .map { "\($0["identifier"] as String) \($0["applied_at"] as Int64)" }
      }
      #expect(Set(times) == ["v6-nfc-ids \(Self.openedAt)", "v7-twins \(Self.openedAt)"])
    }
    let later = try AppDatabase.open(
      path: path, clock: { Self.openedAt + 60 }, auditKey: testAuditKey(besideDatabase: path))
    #expect(try later.accountTwins().first?.keptAt == Self.openedAt)
    let fresh = try AppDatabase.inMemory(clock: { 42 })
    #expect(
      try count(fresh, "SELECT count(*) FROM migration_time WHERE applied_at = 42")
        == Schema.migrator.migrations.count)
  }

  /// A database that ran v6 before csar recorded migration times: the twins are listed, the
  /// time is unknown (nil), not made up.
  @Test func aTimeNeverRecordedStaysUnknown() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = try Self.oldDatabase(folder)
    // v6 as a csar from before v7 ran it.
    try Schema.migrator.migrate(try DatabaseQueue(path: path), upTo: "v6-nfc-ids")
    let db = try Self.reopen(path)
    let twins = try db.accountTwins()
    #expect(twins.map { $0.accounts.map(\.id) } == [[4, 3]])
    #expect(twins.first?.keptAt == nil)
  }

  /// Three spellings of one id beside its NFC spelling: both kept, all three listed together,
  /// each naming the other two. Two spellings without an NFC one: the first is respelt (its
  /// NFC spelling was free) and is the other's twin.
  @Test func moreThanTwoSpellingsOfOneIdAreOneSet() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    // U+1EC7 is e + U+0323 + U+0302; U+1EAD is a + U+0323 + U+0302.
    let extra = """
      INSERT INTO account (id, external_id, pseudonym, created_at) VALUES
        (6, '\u{1EC7}-9', 'u-ffff00000006', 0), (7, '\u{EA}\u{323}-9', 'u-ffff00000007', 0),
        (8, 'e\u{323}\u{302}-9', 'u-ffff00000008', 0),
        (9, '\u{E2}\u{323}-8', 'u-ffff00000009', 0),
        (10, '\u{1EA1}\u{302}-8', 'u-ffff0000000a', 0);
      """
    let db = try Self.reopen(try Self.oldDatabase(folder, extra: extra))
    let twins = try db.accountTwins()
    try #require(twins.count == 3, "\(twins)")
    let three = try #require(twins.first { $0.normalizedId == "\u{1EC7}-9" })
    #expect(three.accounts.map(\.id) == [6, 7, 8])
    #expect(
      three.differingCodePoints == ["U+1EC7", "U+00EA U+0323", "U+0065 U+0323 U+0302"])
    #expect(try db.twins(ofAccount: 7).map(\.id) == [6, 8])
    #expect(try db.twins(ofAccount: 6).map(\.id) == [7, 8])
    let respelt = try #require(twins.first { $0.normalizedId == "\u{1EAD}-8" })
    #expect(respelt.accounts.map(\.id) == [9, 10])
    #expect(Array(respelt.accounts[0].externalId.utf8) == Array("\u{1EAD}-8".utf8))
    #expect(try db.twins(ofAccount: 9).map(\.id) == [10])
  }
}
