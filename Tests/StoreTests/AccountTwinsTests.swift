import Compliance
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
    // The NFD spelling is account 3's own bytes: it names 3 (see anIdSpeltAsAStoredTwin...).
    #expect(try db.account(externalIdOrPseudonym: Self.zoeNFD)?.id == 3)
    #expect(try db.account(externalIdOrPseudonym: Self.zoeNFC)?.id == 4)

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

  // MARK: - Which account an id names, and its twins' consent

  /// Twins on an in-memory database, as `v6-nfc-ids` leaves them: 3 holds the NFD spelling
  /// beside 4 in NFC; 6 (NFC), 7 and 8 hold one id in three forms. Kept rows are listed in
  /// `id_respelling`.
  static func twinDatabase() throws -> AppDatabase {
    let db = try seededDatabase()
    let ids: StatementArguments = [
      zoeNFD, zoeNFC, "\u{1EC7}-9", "\u{EA}\u{323}-9", "e\u{323}\u{302}-9",
    ]
    try db.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO account (id, external_id, pseudonym, created_at) VALUES
            (3, ?1, 'u-cccc00000003', 0), (4, ?2, 'u-dddd00000004', 0),
            (6, ?3, 'u-ffff00000006', 0), (7, ?4, 'u-ffff00000007', 0),
            (8, ?5, 'u-ffff00000008', 0)
          """, arguments: ids)
      try db.execute(
        sql: """
          INSERT INTO id_respelling (kind, stored, normalized, account_id, kept) VALUES
            ('account', ?1, ?2, 3, 1), ('account', ?4, ?3, 7, 1), ('account', ?5, ?3, 8, 1)
          """, arguments: ids)
    }
    return db
  }

  /// Records `state` (from not asked) for `account` on chat-eu (service 1).
  static func consent(_ db: AppDatabase, _ account: Int64, _ states: ConsentState...) throws {
    for state in states {
      _ = try db.recordConsentChange(
        accountId: account, serviceId: 1, to: state, source: .app, termsVersion: "t-1",
        reason: nil, by: "bahar")
    }
  }

  /// Before, every spelling found the NFC account: `consent show` and a scan by the NFD id
  /// consulted account 4 even though account 3 holds exactly those bytes.
  @Test func anIdSpeltAsAStoredTwinFindsThatTwinAndAnyOtherSpellingTheNFCOne() throws {
    let db = try Self.twinDatabase()
    func found(_ key: String) throws -> Int64? { try db.account(externalIdOrPseudonym: key)?.id }
    #expect(try found(Self.zoeNFD) == 3)
    #expect(try found(Self.zoeNFC) == 4)
    #expect(try found("U-CCCC00000003") == 3, "a pseudonym in any case")
    #expect(try found("\u{EA}\u{323}-9") == 7)
    #expect(try found("e\u{323}\u{302}-9") == 8)
    // A fourth spelling (the marks in another order) is nobody's bytes: its NFC is 6's.
    #expect(try found("e\u{302}\u{323}-9") == 6)
    #expect(try found("\u{1EC7}-9") == 6)
    #expect(try found("Zoe-4") == nil)
  }

  /// The Consent screen's search: an id pasted in NFD finds the twin holding exactly it as
  /// well as the account in NFC (before, the NFC one alone).
  @Test func aSearchByATwinsSpellingFindsItBesideTheNFCAccount() throws {
    let db = try Self.twinDatabase()
    func ids(_ prefix: String, after: String? = nil) throws -> [Int64] {
      try db.searchAccounts(prefix: prefix, limit: 10, after: after).map(\.id)
    }
    #expect(try ids(Self.zoeNFD) == [3, 4])
    #expect(try ids("Zoe\u{308}") == [3, 4])
    #expect(try ids(Self.zoeNFC) == [4])
    #expect(try ids("Zo") == [3, 4])
    #expect(try ids("e\u{323}\u{302}-9") == [8, 6])
    #expect(try db.searchAccounts(prefix: Self.zoeNFD, limit: 1).map(\.id) == [3])
    #expect(try ids("A1") == [1, 2])
  }

  /// A scan's subject carries every twin's consent, and is admitted only when all granted;
  /// the account answering is the one spelt.
  @Test func aScanSubjectWeighsEveryTwinsConsent() throws {
    let db = try Self.twinDatabase()
    try Self.consent(db, 3, .granted)
    try Self.consent(db, 4, .refused)
    let byNFD = try db.scanSubject(accountExternalId: Self.zoeNFD, serviceCode: "chat-eu")
    #expect(byNFD.accountId == 3 && byNFD.consent == .granted)
    #expect(byNFD.pseudonym == "u-cccc00000003")
    #expect(byNFD.twins.map(\.account.id) == [4] && byNFD.twins.map(\.consent) == [.refused])
    #expect(!byNFD.isAdmitted && byNFD.isBlockedByTwin)
    let byNFC = try db.scanSubject(accountExternalId: Self.zoeNFC, serviceCode: "chat-eu")
    #expect(byNFC.accountId == 4 && byNFC.consent == .refused)
    #expect(byNFC.twins.map(\.account.id) == [3] && byNFC.twins.map(\.consent) == [.granted])
    #expect(!byNFC.isAdmitted && !byNFC.isBlockedByTwin)
    // Not asked on foto-de by either: blocked, for want of its own consent.
    let other = try db.scanSubject(accountExternalId: Self.zoeNFD, serviceCode: "foto-de")
    #expect(other.consent == .notAsked && other.twins.map(\.consent) == [.notAsked])

    try Self.consent(db, 4, .granted)
    #expect(try db.scanSubject(accountExternalId: Self.zoeNFC, serviceCode: "chat-eu").isAdmitted)
    #expect(try db.scanSubject(accountExternalId: Self.zoeNFD, serviceCode: "chat-eu").isAdmitted)
    try Self.consent(db, 3, .withdrawn)
    let withdrawn = try db.scanSubject(accountExternalId: Self.zoeNFC, serviceCode: "chat-eu")
    #expect(!withdrawn.isAdmitted)

    // Three forms: each spelling answers for its own account and weighs the other two.
    let three = try db.scanSubject(accountExternalId: "\u{EA}\u{323}-9", serviceCode: "chat-eu")
    #expect(three.accountId == 7 && three.twins.map(\.account.id) == [6, 8])
    // An account without a twin, or one nobody holds: no twins, as before.
    let plain = try db.scanSubject(accountExternalId: "A100000001", serviceCode: "chat-eu")
    #expect(plain.accountId == 1 && plain.twins.isEmpty)
    let stranger = try db.scanSubject(accountExternalId: "Zoe-4", serviceCode: "chat-eu")
    #expect(stranger.accountId == nil && stranger.twins.isEmpty && !stranger.isAdmitted)
  }

  /// An account's consent beside its twins', per service: what `consent show`, the service's
  /// consent document and the Consent screen say the account may share.
  @Test func consentBesideTwinsSaysWhatTheGateAnswers() throws {
    let db = try Self.twinDatabase()
    try Self.consent(db, 3, .granted)
    let states = try db.consentWithTwins(accountId: 3)
    #expect(states.map(\.own.serviceCode) == ["chat-eu", "foto-de"])
    #expect(states[0].own.state == .granted && !states[0].mayShareVisualContentAndURLs)
    #expect(states[0].differingTwins.map(\.account.id) == [4])
    #expect(states[1].differingTwins.isEmpty)
    try Self.consent(db, 4, .granted)
    let agreed = try db.consentWithTwins(accountId: 4)
    #expect(agreed[0].mayShareVisualContentAndURLs && agreed[0].differingTwins.isEmpty)
    #expect(try db.consentWithTwins(accountId: 1).allSatisfy { $0.twins.isEmpty })
  }

  /// The set of accounts 3 and 4 alone.
  static func twinsOf3And4() throws -> [AccountTwins] {
    try twinDatabase().accountTwins().filter { $0.accounts.map(\.id) == [4, 3] }
  }

  /// verify's twins line and the console's brief one say the same counts.
  @Test func verifysTwinsNoticeCountsIdsAndAccounts() throws {
    let sets = try Self.twinDatabase().accountTwins()
    #expect(sets.count == 2)
    #expect(
      AccountTwins.verifyNotice(sets) == "twins: 2 account ids held by 5 accounts in different "
        + "Unicode forms (kept apart, not tampering); list them: csar consent twins")
    #expect(
      AccountTwins.verifyNotice(sets, brief: true)
        == "twins: 2 ids, 5 accounts (csar consent twins)")
    let one = try AccountTwinsTests.twinsOf3And4()
    #expect(
      AccountTwins.verifyNotice(one) == "twins: 1 account id held by 2 accounts in different "
        + "Unicode forms (kept apart, not tampering); list them: csar consent twins")
    #expect(
      AccountTwins.verifyNotice(one, brief: true)
        == "twins: 1 id, 2 accounts (csar consent twins)")
    #expect(AccountTwins.verifyNotice([]) == nil)
  }
}
