import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

/// `v6-nfc-ids`: ids a database stored before the Store spelled them in NFC.
@Suite("NFC id migration")
struct NFCIdMigrationTests {
  static let amelieNFD = "Ame\u{301}lie-1", amelieNFC = "Am\u{E9}lie-1"
  static let joseNFD = "Jose\u{301}-3", joseNFC = "Jos\u{E9}-3"
  static let zoeNFD = "Zoe\u{308}-4", zoeNFC = "Zo\u{EB}-4"
  static let eventNFD = "e\u{301}v-1", eventNFC = "\u{E9}v-1"
  static let termsNFD = "tos-e\u{301}", termsNFC = "tos-\u{E9}"

  static func bytes(_ db: AppDatabase, _ sql: String) throws -> [[UInt8]] {
    try db.read { db in
      try String.fetchAll(db, sql: sql).map { Array($0.utf8) }
    }
  }

  /// A database as an earlier csar left it: an account in NFD with a report already sent,
  /// an NFD account with an NFD consent event and terms version, an account in NFD beside
  /// its NFC twin, and an NFD classifier reference. Opening it migrates.
  @Test func storedIdsAreSpelledInNFCAndSentPseudonymsStay() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("csar.sqlite")
    let sent: String
    do {
      let (old, refs) = try ReportTests.withReadyReports(1, path: path)
      try old.writer.write { db in
        try db.execute(
          sql: "UPDATE account SET external_id = ? WHERE id = 1", arguments: [Self.amelieNFD])
      }
      let outbox = try Outbox(directory: folder.file("outbox"))
      _ = try old.exportReadyReports(
        to: outbox, provider: "P", key: ReportTests.key, by: "alice")
      let file = try ReportTests.json(outbox.path(refs[0] + ".json"))
      sent = try #require((file["account"] as? [String: Any])?["account_id"] as? String)
      #expect(sent == ReportTests.key.pseudonym(field: "account_id", value: Self.amelieNFD))
      try old.writer.write { db in
        try db.execute(
          sql: """
            INSERT INTO account (id, external_id, pseudonym, created_at) VALUES
              (3, ?, 'u-cccc00000003', 0), (4, ?, 'u-dddd00000004', 0),
              (5, ?, 'u-eeee00000005', 0);
            INSERT INTO consent_event
              (event_id, account_id, service_id, state, occurred_at, source, terms_version)
              VALUES (?, 3, 1, 'granted', 1735725600, 'app', ?);
            INSERT INTO consent_current (account_id, service_id, state, updated_at)
              VALUES (3, 1, 'granted', 1735725600);
            INSERT INTO flag_import (external_ref, item_id, imported_at) VALUES (?, NULL, 0);
            -- As a database from before this migration.
            DROP TABLE id_respelling;
            DELETE FROM grdb_migrations WHERE identifier = 'v6-nfc-ids';
            """,
          arguments: [
            Self.joseNFD, Self.zoeNFD, Self.zoeNFC, Self.eventNFD, Self.termsNFD,
            "model:" + Self.eventNFD,
          ])
      }
    }
    let db = try AppDatabase.open(path: path, auditKey: testAuditKey(besideDatabase: path))

    // Rewritten in NFC, found by either spelling.
    #expect(
      try Self.bytes(db, "SELECT external_id FROM account WHERE id IN (1, 3) ORDER BY id")
        == [Array(Self.amelieNFC.utf8), Array(Self.joseNFC.utf8)])
    #expect(try db.account(externalIdOrPseudonym: Self.amelieNFD)?.id == 1)
    #expect(try db.account(externalIdOrPseudonym: Self.joseNFC)?.id == 3)
    #expect(
      try Self.bytes(db, "SELECT event_id || ' ' || terms_version FROM consent_event")
        == [Array((Self.eventNFC + " " + Self.termsNFC).utf8)])
    #expect(
      try Self.bytes(db, "SELECT external_ref FROM flag_import")
        == [Array(("model:" + Self.eventNFC).utf8)])

    // The report keeps the pseudonym it was sent with (the id as it was stored).
    let contents = try db.read { db in
      try AppDatabase.reportContents(db, reportId: 1, provider: "P")
    }
    #expect(contents.pseudonymised(ReportTests.key.pseudonym).account.accountId == sent)
    #expect(sent != ReportTests.key.pseudonym(field: "account_id", value: Self.amelieNFC))

    // The old file imported again is all duplicates: no second event, no new account.
    let again = try db.importCSV([
      "\(Self.eventNFD),\(Self.joseNFD),chat-eu,granted,2025-01-01T10:00:00Z,app,"
        + "\(Self.termsNFD),"
    ])
    #expect(again.duplicates == 1 && again.accepted == 0 && again.rejected.isEmpty)
    #expect(try count(db, "SELECT count(*) FROM consent_event") == 1)

    // Twins: both rows stay as they were, the NFD one listed as kept.
    #expect(
      try Self.bytes(db, "SELECT external_id FROM account WHERE id IN (4, 5) ORDER BY id")
        == [Array(Self.zoeNFD.utf8), Array(Self.zoeNFC.utf8)])
    // Each spelling names the account holding exactly it (see AccountTwinsTests).
    #expect(try db.account(externalIdOrPseudonym: Self.zoeNFD)?.id == 4)
    #expect(try db.account(externalIdOrPseudonym: Self.zoeNFC)?.id == 5)
    #expect(try count(db, "SELECT count(*) FROM account") == 5)
    let respelled = try db.read { db in
      try Row.fetchAll(
        db, sql: "SELECT kind, account_id, kept FROM id_respelling ORDER BY kind, account_id")
        .map { "\($0["kind"] as String) \($0["account_id"] as Int64? ?? 0) \($0["kept"] as Int)" }
    }
    #expect(
      respelled == [
        "account 1 0", "account 3 0", "account 4 1", "consent_event 0 0", "flag_import 0 0",
      ])
    #expect(try db.verifyAuditChain().isOK)
  }
}
