import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

/// Bank versions, removal, retraction, deletion, renaming and per-bank settings.
@Suite("Bank curation")
struct BankCurationTests {
  static func pdq(_ byte: Int) -> BankHashEntry {
    BankHashEntry(type: .pdq, hash: String(repeating: String(format: "%02x", byte), count: 32))
  }
  static func md5(_ byte: Int) -> BankHashEntry {
    BankHashEntry(type: .md5, hash: String(repeating: String(format: "%02x", byte), count: 16))
  }
  static let csv = BankSource(file: "/drop/ncmec-2026-11-30.csv", format: "csv")

  // MARK: - Versions

  @Test func everyImportThatChangesTheListIsAVersionWithCountsAndSource() throws {
    let db = try seededDatabase()
    let first = try db.importBank(
      name: "known", entries: [Self.pdq(1), Self.md5(2)], source: Self.csv, by: "alice")
    #expect(first.version?.version == 1)
    // Nothing new: no version (the list is the same).
    let same = try db.importBank(name: "known", entries: [Self.pdq(1)], by: "alice")
    #expect(same.version == nil)
    try db.importBank(
      name: "known", entries: [Self.pdq(1), Self.pdq(3)],
      source: BankSource(file: "more.tsv", format: "tsv"), by: "alice")
    let versions = try db.bankVersions(name: "known")
    #expect(versions.map(\.version) == [1, 2])
    #expect(versions.map(\.change) == [.import, .import])
    #expect(versions.map(\.added) == [2, 1])
    #expect(versions.map(\.total) == [2, 3])
    #expect(versions[0].source == BankSource(file: "ncmec-2026-11-30.csv", format: "csv"))
    #expect(versions[0].source.file == "ncmec-2026-11-30.csv")
    #expect(versions[1].operatorName == "alice")
    #expect(try db.hashBank(name: "known").version == versions[1])
    let audit: String? = try db.writer.read {
      try String.fetchOne(
        $0, sql: "SELECT details_json FROM audit_event WHERE action = 'bank.import' LIMIT 1")
    }
    #expect(audit?.contains("\"source_file\":\"ncmec-2026-11-30.csv\"") == true)
  }

  @Test func banksImportedBeforeVersionsGetABaseline() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("old.sqlite")
    do {
      let queue = try DatabaseQueue(path: path)
      try Schema.migrator.migrate(queue, upTo: "v3-audit-keyed")
      try queue.write { db in
        try db.execute(
          sql: """
            INSERT INTO bank (id, name, enabled, pdq_threshold, created_at)
              VALUES (1, 'old', 1, 31, 5), (2, 'empty', 1, 31, 6);
            INSERT INTO bank_hash (bank_id, type, hash) VALUES
              (1, 'md5', '\(String(repeating: "a", count: 32))'),
              (1, 'md5', '\(String(repeating: "b", count: 32))');
            """)
      }
    }
    chmod(path, 0o600)
    let db = try AppDatabase.open(path: path, auditKey: folder.auditKey)
    let old = try db.hashBank(name: "old")
    #expect(old.version?.version == 1 && old.version?.change == .baseline)
    #expect(old.version?.total == 2 && old.version?.added == 2)
    #expect(try db.hashBank(name: "empty").version?.total == 0)
  }

  // MARK: - Removal

  @Test func removalIsForLeadsAndMakesAVersion() throws {
    let db = try seededDatabase()
    try db.importBank(name: "known", entries: [Self.pdq(1), Self.pdq(2), Self.md5(3)], by: "bahar")
    let events = try count(db, "SELECT count(*) FROM audit_event")
    #expect(throws: BankCurationError.leadsOnly(
      operatorName: "alice", action: "remove hashes from a bank")) {
      try db.removeBankHashes(name: "known", entries: [Self.pdq(1)], source: nil, by: "alice")
    }
    #expect(try db.hashBank(name: "known").total == 3)
    #expect(try count(db, "SELECT count(*) FROM audit_event") == events)
    let summary = try db.removeBankHashes(
      name: "known", entries: [Self.pdq(1), Self.md5(3), Self.md5(9), Self.pdq(1)],
      source: BankSource(file: "rm.csv", format: "csv"), by: "bahar")
    #expect((summary.removed, summary.notPresent) == (2, 1))
    #expect(summary.version?.change == .remove && summary.version?.version == 2)
    #expect(summary.version?.total == 1 && summary.version?.removed == 2)
    #expect(try db.exactBankHits(type: .md5, hash: Self.md5(3).hash).isEmpty)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'bank.remove'") == 1)
    // Removing what is not there changes nothing and records nothing.
    let none = try db.removeBankHashes(
      name: "known", entries: [Self.md5(9)], source: nil, by: "bahar")
    #expect(none.version == nil && none.removed == 0)
    #expect(try db.bankVersions(name: "known").count == 2)
  }

  // MARK: - Retraction

  @Test func retractionDeletesFromEveryBankWithAVersionEach() throws {
    let db = try seededDatabase()
    try db.importBank(name: "a", entries: [Self.pdq(1), Self.md5(2)], by: "bahar")
    try db.importBank(name: "b", entries: [Self.pdq(1), Self.pdq(4)], by: "bahar")
    try db.importBank(name: "c", entries: [Self.pdq(5)], by: "bahar")
    let stamp = try db.bankStamp()
    let summary = try db.retractHashes(
      entries: [Self.pdq(1), Self.md5(2), Self.md5(7)], source: Self.csv, by: "bahar")
    #expect((summary.requested, summary.removed, summary.notPresent) == (3, 3, 1))
    #expect(summary.versions.map(\.bankName) == ["a", "b"])
    #expect(summary.versions.map(\.total) == [0, 1])
    #expect(summary.versions.allSatisfy { $0.change == .retract && $0.version == 2 })
    #expect(try db.bankVersions(name: "c").count == 1)
    #expect(try db.bankStamp() != stamp)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'bank.retract'") == 2)
    #expect(throws: BankCurationError.self) {
      try db.retractHashes(entries: [Self.pdq(5)], source: nil, by: "alice")
    }
    #expect(try db.hashBank(name: "c").total == 1)
  }

  // MARK: - Deletion and renaming

  @Test func deletionKeepsTheVersionsAndNeverReusesTheBankId() throws {
    let db = try seededDatabase()
    try db.importBank(name: "known", entries: [Self.pdq(1), Self.pdq(2)], by: "bahar")
    let old = try db.hashBank(name: "known")
    #expect(throws: BankCurationError.self) { try db.deleteBank(name: "known", by: "alice") }
    let last = try db.deleteBank(name: "known", by: "bahar")
    #expect(last.change == .delete && last.removed == 2 && last.total == 0)
    #expect(throws: StoreError.notFound(entity: "bank", id: "known")) {
      try db.hashBank(name: "known")
    }
    #expect(try count(db, "SELECT count(*) FROM bank_hash") == 0)
    #expect(try db.bankVersion(id: old.version!.id)?.bankName == "known")
    try db.importBank(name: "known", entries: [Self.pdq(3)], by: "bahar")
    let again = try db.hashBank(name: "known")
    #expect(again.id != old.id)
    #expect(again.version?.version == 1)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'bank.delete'") == 1)
  }

  @Test func renameIsAVersionAndRefusesATakenName() throws {
    let db = try seededDatabase()
    try db.importBank(name: "ncmec", entries: [Self.pdq(1)], by: "bahar")
    try db.importBank(name: "other", entries: [Self.pdq(2)], by: "bahar")
    #expect(throws: BankCurationError.nameTaken("other")) {
      try db.renameBank(from: "ncmec", to: "other", by: "bahar")
    }
    #expect(throws: BankCurationError.self) {
      try db.renameBank(from: "ncmec", to: "ncmec-2026", by: "alice")
    }
    #expect(throws: StoreError.self) {
      try db.renameBank(from: "ncmec", to: "bad name", by: "bahar")
    }
    let version = try db.renameBank(from: "ncmec", to: "ncmec-2026", by: "bahar")
    #expect(version.change == .rename && version.version == 2 && version.total == 1)
    #expect(try db.bankVersions(name: "ncmec-2026").map(\.bankName) == ["ncmec", "ncmec-2026"])
    #expect(try db.exactBankHits(type: .pdq, hash: Self.pdq(1).hash).first?.bank == "ncmec-2026")
  }

  // MARK: - Evidence: items and reports record the version that matched

  @Test func itemsAndReportsRecordTheBankVersionAndReportOnMatchSkipsReview() throws {
    let db = try seededDatabase()
    try db.importBank(name: "known", entries: [Self.md5(1)], by: "bahar")
    try db.importBank(name: "known", entries: [Self.md5(2)], by: "bahar")
    let hit = try #require(try db.exactBankHits(type: .md5, hash: Self.md5(1).hash).first)
    #expect(hit.version == 2 && hit.onMatch == .review)
    let queued = try db.createFlaggedItems(
      [
        NewFlaggedItem(
          kind: .knownMatch, priority: 1, serviceId: 1, accountId: 1, md5: Self.md5(1).hash,
          bank: hit.bank, distance: 0, bankVersionId: hit.versionId)
      ], source: "scan", by: "alice")
    let item = try #require(try db.flaggedItem(id: queued[0]))
    #expect(item.state == .pending && item.bankVersion == 2)

    #expect(throws: BankCurationError.self) {
      try db.setBankOnMatch(name: "known", action: .report, by: "alice")
    }
    #expect(try db.setBankOnMatch(name: "known", action: .report, by: "bahar").onMatch == .report)
    let stamp = try db.bankStamp()
    try db.removeBankHashes(name: "known", entries: [Self.md5(2)], source: nil, by: "bahar")
    #expect(try db.bankStamp() != stamp)
    let now = try #require(try db.exactBankHits(type: .md5, hash: Self.md5(1).hash).first)
    #expect(now.version == 3 && now.onMatch == .report)
    let reported = try db.createFlaggedItems(
      [
        NewFlaggedItem(
          kind: .knownMatch, priority: 1, serviceId: 1, accountId: 1, md5: Self.md5(1).hash,
          bank: now.bank, distance: 0, bankVersionId: now.versionId, reportOnMatch: true)
      ], source: "scan", by: "alice")
    let confirmed = try #require(try db.flaggedItem(id: reported[0]))
    #expect(confirmed.state == .confirmed && confirmed.bankVersion == 3)
    let report = try #require(try db.reports(limit: 10).first)
    #expect(report.state == .ready)
    #expect(report.payloadJSON.contains("\"bank_version\":3"))
    let actions: [String] = try db.writer.read {
      try String.fetchAll(
        $0, sql: "SELECT action FROM audit_event WHERE entity_id = ? OR action = 'report.create'",
        arguments: [String(reported[0])])
    }
    #expect(actions.contains("item.report_on_match") && actions.contains("report.create"))
    // The item's and the report's states agree with their trail.
    #expect(try db.verifyAudit().problems == [])
  }
}
