import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

// MARK: - What the faster consent import must keep doing

@Suite("Consent import internals")
struct ConsentImportInternalsTests {
  /// 3 events for each of `accounts` new accounts, interleaved (account `i`: `N-i`; its
  /// events `n-i-k`): granted and withdrawn on one service, refused on the other.
  static func lines(accounts: Int) -> [String] {
    var lines: [String] = []
    for k in 0..<3 {
      for i in 0..<accounts {
        let first = i % 2 == 0 ? "chat-eu" : "foto-de"
        let service = k < 2 ? first : (i % 2 == 0 ? "foto-de" : "chat-eu")
        let state = ["granted", "withdrawn", "refused"][k]
        lines.append(
          "n-\(i)-\(k),N-\(i),\(service),\(state),\(1_735_689_600 + i * 10 + k),app,tos-1,")
      }
    }
    return lines
  }

  /// `event_id -> account external id` of every stored event.
  static func owners(_ db: AppDatabase) throws -> [String: String] {
    let rows = try db.writer.read {
      try Row.fetchAll(
        $0,
        sql: """
          SELECT e.event_id, a.external_id FROM consent_event e
          JOIN account a ON a.id = e.account_id
          """)
    }
    return Dictionary(uniqueKeysWithValues: rows.map { ($0[0], $0[1]) })
  }

  @Test func newAccountsCreatedManyPerStatementGetTheirOwnEvents() throws {
    let db = try seededDatabase()
    let lines = Self.lines(accounts: 600)
    // One batch: 600 new accounts, in 3 statements of up to 256.
    let report = try db.importCSV(lines, batchSize: 10_000)
    #expect(report.rejected.isEmpty, "\(report.rejected.prefix(3))")
    #expect(report.accepted == 1_800 && report.accountsCreated == 600)
    let owners = try Self.owners(db)
    #expect(owners.count == 1_800)
    for i in 0..<600 {
      for k in 0..<3 { #expect(owners["n-\(i)-\(k)"] == "N-\(i)") }
    }
    // Each account was created at its first event's time.
    let created = try db.writer.read {
      try Row.fetchAll($0, sql: "SELECT external_id, created_at FROM account WHERE id > 2")
    }
    #expect(created.count == 600)
    for row in created {
      let id: String = row[0]
      let i = Int(id.dropFirst(2))!
      #expect(row[1] == Int64(1_735_689_600 + i * 10))
    }
  }

  @Test func accountsCreatedMeanwhileKeepTheirIdsAndGetTheirEvents() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let path = temp.file("csar.sqlite")
    let db = try seededDatabase(path: path)
    let other = try AppDatabase.open(path: path, auditKey: temp.auditKey)
    var options = ConsentImportOptions(batchSize: 10_000)
    // After planning, another process creates some of the file's new accounts: the bulk
    // insert skips them, so rows come back with gaps.
    options.beforeWriting = {
      try other.writer.write { db in
        for i in [0, 5, 255, 256, 400, 599] {
          try db.execute(
            sql: "INSERT INTO account (external_id, pseudonym, created_at) VALUES (?, ?, 1)",
            arguments: ["N-\(i)", "u-meanwhile\(i)"])
        }
      }
    }
    let report = try db.importConsent(
      bytes: consentCSV(Self.lines(accounts: 600)), fileName: "consent.csv",
      options: options)
    #expect(report.rejected.isEmpty, "\(report.rejected.prefix(3))")
    #expect(report.accepted == 1_800 && report.accountsCreated == 594)
    let owners = try Self.owners(db)
    for i in 0..<600 {
      for k in 0..<3 { #expect(owners["n-\(i)-\(k)"] == "N-\(i)") }
    }
    let kept = try #require(try db.account(externalIdOrPseudonym: "N-400"))
    #expect(kept.pseudonym == "u-meanwhile400")
    #expect(try count(db, "SELECT count(*) FROM account") == 602)
  }

  @Test func theWritingConnectionRunsWithImportSettingsAndGetsItsOwnBack() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let db = try seededDatabase(path: temp.file("csar.sqlite"))
    let settings: @Sendable () throws -> ImportTuning = {
      try db.writer.writeWithoutTransaction { try ImportTuning.current($0) }
    }
    let before = try settings()
    #expect(before != ImportTuning.forImport)
    let during = Locked<ImportTuning>()
    let observer = StoppingObserver(stopAfter: nil) { _ in during.set(try settings()) }
    // 1,200 events: a large import.
    _ = try db.importConsent(
      bytes: consentCSV(Self.lines(accounts: 400)), fileName: "consent.csv",
      options: ConsentImportOptions(batchSize: 300), observer: observer)
    #expect(during.get() == ImportTuning.forImport)
    #expect(try settings() == before)

    // A small one (a service request's) leaves the connection as it is.
    let small = StoppingObserver(stopAfter: nil) { _ in during.set(try settings()) }
    let few = (0..<10).map {
      "s\($0),S-\($0),chat-eu,granted,2025-01-01T10:00:00Z,app,tos-1,"
    }
    _ = try db.importConsent(
      bytes: consentCSV(few), fileName: "small.csv",
      options: ConsentImportOptions(batchSize: 5), observer: small)
    #expect(small.reports.count == 2)
    #expect(during.get() == before)

    // Also when the run is stopped between batches.
    let stopping = StoppingObserver(stopAfter: 1)
    #expect(throws: LongRunStopped.self) {
      try db.importConsent(
        bytes: consentCSV(
          Self.lines(accounts: 500).map {
            $0.replacingOccurrences(of: "N-", with: "M-")
              .replacingOccurrences(of: "n-", with: "m-")
          }), fileName: "more.csv",
        options: ConsentImportOptions(batchSize: 300), observer: stopping)
    }
    #expect(try settings() == before)
  }

  @Test func aReimportLooksUpItsEventIdsManyAQuery() throws {
    let db = try seededDatabase()
    let lines = Self.lines(accounts: 300)
    _ = try db.importCSV(lines)
    // Statements that read stored events by event id, on the one connection of an
    // in-memory database (reads included).
    let lookups = Locked<Int>()
    lookups.set(0)
    db.writer.writeWithoutTransaction { connection in
      connection.trace(options: .statement) { event in
        guard case .statement(let statement) = event else { return }
        let sql = statement.sql
        if sql.hasPrefix("WITH") || sql.hasPrefix("SELECT"), sql.contains("consent_event"),
          sql.contains("event_id")
        {
          lookups.set(lookups.get()! + 1)
        }
      }
    }
    let again = try db.importCSV(lines)
    db.writer.writeWithoutTransaction { $0.trace(options: .statement, nil) }
    #expect(again.duplicates == 900 && again.accepted == 0)
    // 900 ids, 256 a query: 4 queries, not one per event.
    #expect(lookups.get() == 4)
  }

  @Test func aReimportAnswersEveryIdOfEveryGroupAsOneLookUpEachDid() throws {
    let db = try seededDatabase()
    var lines = Self.lines(accounts: 300)
    _ = try db.importCSV(lines)
    let audits = try count(db, "SELECT count(*) FROM audit_event")
    func edit(_ k: Int, _ change: (inout [Substring]) -> Void) {
      var fields = lines[k].split(separator: ",", omittingEmptySubsequences: false)
      change(&fields)
      lines[k] = fields.joined(separator: ",")
    }
    // Stored with other content: the first and last id of a group, the first of the next
    // (256 ids a query), one further on; each a different field.
    edit(0) { $0[1] = "N-9999" }
    edit(255) { $0[2] = $0[2] == "chat-eu" ? "foto-de" : "chat-eu" }
    edit(256) { $0[3] = "refused" }
    edit(511) { $0[4] = Substring(String(Int($0[4])! + 1)) }
    // Only the source differs: the same event, as before (account, service, state and time
    // are compared).
    edit(600) { $0[5] = "support" }
    lines.append(lines[300])  // repeated in the file
    for skipInvalid in [false, true] {
      let again = try db.importCSV(lines, skipInvalid: skipInvalid)
      #expect(again.rejected.map(\.line) == [2, 257, 258, 513])
      #expect(
        again.rejected.allSatisfy {
          $0.reason.hasSuffix("is already recorded with different content")
        })
      #expect(again.duplicates == 900 - 4 + 1 && again.accepted == 0)
      #expect(again.committed == skipInvalid && again.batches == 0)
    }
    #expect(try count(db, "SELECT count(*) FROM audit_event") == audits)
    #expect(try count(db, "SELECT count(*) FROM consent_event") == 900)
  }

  @Test func servicesAreFoundInAShortListAndInALongOne() throws {
    let db = try seededDatabase()
    let short = try db.writer.read { try ServiceCodes($0) }
    #expect(short.id("chat-eu") != nil && short.id("foto-de") != nil)
    #expect(short.id("chat-e") == nil && short.id("") == nil)
    for n in 0..<20 {
      try db.createService(code: "svc-\(n)", name: "Service \(n)", kind: .hosting, by: "bahar")
    }
    let long = try db.writer.read { try ServiceCodes($0) }
    let ids = try db.writer.read {
      try Dictionary(
        uniqueKeysWithValues: Row.fetchAll($0, sql: "SELECT code, id FROM service").map {
          row -> (String, Int64) in (row[0], row[1])
        })
    }
    #expect(ids.count == 22)
    for (code, id) in ids {
      #expect(long.id(code) == id)
      #expect(short.id(code) == (code.hasPrefix("svc-") ? nil : id))
    }
    #expect(long.id("svc-99") == nil)
  }

  @Test func anIndexListKeepsItsFirstIndexInlineAndBehavesLikeAnArray() {
    var list = IndexList()
    #expect(list.isEmpty && Array(list) == [])
    list.append(7)
    #expect(Array(list) == [7] && list.count == 1 && list.first == 7)
    for value: Int32 in [3, 9, 0, 5] { list.append(value) }
    #expect(Array(list) == [7, 3, 9, 0, 5])
    list.sort()
    #expect(Array(list) == [0, 3, 5, 7, 9])
    list[2] = 4
    #expect(Array(list) == [0, 3, 4, 7, 9])
    #expect(IndexList(list.filter { $0 % 3 != 0 }) == IndexList([4, 7]))
    list.removeAll()
    #expect(list.isEmpty)
    list.append(1)
    #expect(Array(list) == [1])
  }

  @Test func pseudonymsAreU_AndTwelveHexDigitsOfTheRandomValue() {
    #expect(ConsentImportPlan.pseudonym(0) == "u-000000000000")
    #expect(ConsentImportPlan.pseudonym(0xFFFF_0123_4567_89AB) == "u-0123456789ab")
    #expect(ConsentImportPlan.pseudonym(UInt64.max) == "u-ffffffffffff")
  }
}
