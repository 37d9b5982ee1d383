import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

// MARK: - Helpers

/// A CSV import file from data lines (the header is added).
func consentCSV(_ lines: [String]) -> [UInt8] {
  let header = "event_id,account,service,state,occurred_at,source,terms_version,reason"
  return Array(([header] + lines).joined(separator: "\n").utf8)
}

extension AppDatabase {
  func importCSV(_ lines: [String], skipInvalid: Bool = false, batchSize: Int = 10_000)
    throws -> ConsentImportReport
  {
    try importConsent(
      bytes: consentCSV(lines), fileName: "consent.csv",
      options: ConsentImportOptions(skipInvalid: skipInvalid, batchSize: batchSize))
  }

  /// `(event_id, state)` of an account's history, by provider id.
  func historyIds(_ external: String) throws -> [String] {
    guard let account = try account(externalIdOrPseudonym: external) else { return [] }
    return try consentHistory(accountId: account.id).map(\.eventId)
  }
}

// MARK: - Tests

@Suite("Consent import")
struct ConsentImportTests {
  @Test func importsCSVCreatingAccountsAndCurrentStates() throws {
    let db = try seededDatabase()
    let report = try db.importCSV([
      "e1,A100000001,chat-eu,granted,2025-01-01T10:00:00Z,app,tos-1,",
      "e2,A100000001,chat-eu,withdrawn,2025-02-01T10:00:00Z,app,tos-1,changed mind",
      "e3,NEW-7,foto-de,refused,1735725600,app,tos-1,",
    ])
    #expect(report.committed && report.rejected.isEmpty)
    #expect(report.accepted == 3 && report.duplicates == 0)
    #expect(report.accountsCreated == 1)
    #expect(report.lines == 4)
    #expect(try db.historyIds("A100000001") == ["e1", "e2"])
    let created = try #require(try db.account(externalIdOrPseudonym: "NEW-7"))
    #expect(created.pseudonym.hasPrefix("u-") && created.pseudonym.count == 14)
    #expect(try db.consentStates(accountId: created.id).map(\.state) == [.notAsked, .refused])
    #expect(try db.consentStates(accountId: 1)[0].state == .withdrawn)
    #expect(try db.consentHistory(accountId: 1)[1].reason == "changed mind")
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'consent.import'") == 1)
    #expect(try db.verifyAuditChain().isOK)
  }

  @Test func importsJSONLines() throws {
    let db = try seededDatabase()
    let text = """
      {"event_id":"j1","account":"A100000002","service":"foto-de","state":"granted",\
      "occurred_at":"2025-03-01T08:00:00Z","source":"app","terms_version":"tos-2"}

      {"event_id": "j2", "account": "A100000002", "service": "foto-de", "state": "withdrawn",\
       "occurred_at": 1740900000, "source": "import", "terms_version": "tos-2", "reason": null}
      """
    let report = try db.importConsent(bytes: Array(text.utf8), fileName: "backend.jsonl")
    #expect(report.format == .jsonl)
    #expect(report.accepted == 2 && report.rejected.isEmpty)
    #expect(try db.consentStates(accountId: 2)[1].state == .withdrawn)
  }

  @Test func malformedLinesAreReportedAndNothingIsImported() throws {
    let db = try seededDatabase()
    let lines = [
      "m1,A100000001,chat-eu,granted,2025-01-01T10:00:00Z,app,tos-1,",  // line 2: fine
      "m2,A100000001,chat-eu,granted,2025-01-01T10:00:00Z,app",  // 3: too few columns
      "m3,A100000001,chat-eu,maybe,2025-01-01T10:00:00Z,app,tos-1,",  // 4: bad state
      "m4,A100000001,chat-eu,refused,2025-13-01T10:00:00Z,app,tos-1,",  // 5: bad month
      "m5,A100000001,nope,refused,2025-01-01T10:00:00Z,app,tos-1,",  // 6: unknown service
      "m6,,chat-eu,refused,2025-01-01T10:00:00Z,app,tos-1,",  // 7: no account
      "m7,A100000002,chat-eu,refused,2025-01-01T10:00:00Z,phone,tos-1,",  // 8: bad source
      "\"m8,A100000002,chat-eu,refused,2025-01-01T10:00:00Z,app,tos-1,",  // 9: open quote
      "m9,A100000002,chat-eu,granted,2025-01-01T10:00:00Z,app,tos-1,",  // 10: fine
    ]
    let events = try count(db, "SELECT count(*) FROM audit_event")
    let report = try db.importCSV(lines)
    #expect(!report.committed)
    #expect(report.accepted == 0)
    #expect(report.rejected.map(\.line) == [3, 4, 5, 6, 7, 8, 9])
    let reasons = report.rejected.map(\.reason)
    #expect(reasons[0].contains("expected 8 columns"))
    #expect(reasons[1].contains("maybe"))
    #expect(reasons[2].contains("occurred_at"))
    #expect(reasons[3].contains("\"nope\" is not a known service code"))
    #expect(reasons[4].contains("account: missing or empty"))
    #expect(reasons[5].contains("phone"))
    #expect(reasons[6].contains("quote"))
    #expect(try count(db, "SELECT count(*) FROM consent_event") == 0)
    #expect(try count(db, "SELECT count(*) FROM audit_event") == events)

    let skipping = try db.importCSV(lines, skipInvalid: true)
    #expect(skipping.committed)
    #expect(skipping.accepted == 2)
    #expect(skipping.rejected.count == 7)
    #expect(try db.historyIds("A100000001") == ["m1"])
    #expect(try db.historyIds("A100000002") == ["m9"])
  }

  @Test func badJSONLinesAndHeadersAreReported() throws {
    let db = try seededDatabase()
    let text = """
      {"event_id":"x1","account":"A1","service":"chat-eu","state":"granted",\
      "occurred_at":"2025-03-01T08:00:00Z","source":"app","terms_version":"t"}
      {"event_id":"x2", "account": ["A1"]}
      not json
      {"event_id":"x3","account":"A1","service":"chat-eu","state":"withdrawn",\
      "occurred_at":"2025-03-02T08:00:00Z","source":"app"}
      """
    let report = try db.importConsent(bytes: Array(text.utf8), fileName: "x.jsonl")
    #expect(report.rejected.map(\.line) == [2, 3, 4])
    #expect(report.rejected[0].reason.contains("nested"))
    #expect(report.rejected[1].reason.hasPrefix("bad JSON"))
    #expect(report.rejected[2].reason.contains("terms_version: missing"))
    #expect(!report.committed)

    let header = try db.importConsent(
      bytes: Array("event_id,account,state\nz,A1,granted\n".utf8), fileName: "h.csv")
    #expect(header.rejected.count == 1 && header.rejected[0].line == 1)
    #expect(header.rejected[0].reason.contains("missing column(s) service, occurred_at"))
  }

  @Test func reImportingIsHarmlessAndCountsDuplicates() throws {
    let db = try seededDatabase()
    let lines = [
      "d1,A100000001,chat-eu,granted,2025-01-01T10:00:00Z,app,tos-1,",
      "d2,A100000001,chat-eu,withdrawn,2025-01-02T10:00:00Z,app,tos-1,",
      "d1,A100000001,chat-eu,granted,2025-01-01T10:00:00Z,app,tos-1,",  // repeated in the file
    ]
    let first = try db.importCSV(lines)
    #expect(first.accepted == 2 && first.duplicates == 1 && first.rejected.isEmpty)
    let audits = try count(db, "SELECT count(*) FROM audit_event")
    let again = try db.importCSV(lines)
    #expect(again.accepted == 0 && again.duplicates == 3 && again.rejected.isEmpty)
    #expect(again.committed && again.batches == 0)
    #expect(try count(db, "SELECT count(*) FROM consent_event") == 2)
    #expect(try count(db, "SELECT count(*) FROM audit_event") == audits)

    // Same id, other content: rejected, in the file and against the database.
    let clash = try db.importCSV([
      "d2,A100000001,chat-eu,granted,2025-01-05T10:00:00Z,app,tos-1,",
      "d3,A100000002,chat-eu,granted,2025-01-05T10:00:00Z,app,tos-1,",
      "d3,A100000002,chat-eu,refused,2025-01-05T10:00:00Z,app,tos-1,",
    ])
    #expect(clash.rejected.map(\.line) == [2, 4])
    #expect(clash.rejected[0].reason.contains("already recorded with different content"))
    #expect(clash.rejected[1].reason.contains("also on line 3"))
  }

  @Test func outOfOrderEventsAreOrderedByTime() throws {
    let db = try seededDatabase()
    let report = try db.importCSV([
      "o3,A100000001,chat-eu,granted,2025-03-01T00:00:00Z,app,tos-2,",
      "o2,A100000001,chat-eu,withdrawn,2025-02-01T00:00:00Z,app,tos-1,",
      "o1,A100000001,chat-eu,granted,2025-01-01T00:00:00Z,app,tos-1,",
    ])
    #expect(report.accepted == 3 && report.rejected.isEmpty)
    #expect(try db.historyIds("A100000001") == ["o1", "o2", "o3"])
    let state = try db.consentStates(accountId: 1)[0]
    #expect(state.state == .granted)
    #expect(state.updatedAt == 1_740_787_200)  // 2025-03-01T00:00:00Z

    // A late event that fits between stored ones is merged; one that breaks them is not.
    let late = try db.importCSV(
      [
        "o0,A100000002,chat-eu,refused,2025-01-01T00:00:00Z,app,tos-1,",
        "o4,A100000001,chat-eu,withdrawn,2025-04-01T00:00:00Z,app,tos-2,",
        "o5,A100000001,chat-eu,refused,2025-01-15T00:00:00Z,app,tos-1,",
      ], skipInvalid: true)
    #expect(late.accepted == 2)
    #expect(late.rejected.map(\.line) == [4])
    #expect(late.rejected[0].reason.contains("illegal transition"))
    #expect(late.rejected[0].reason.contains("granted to refused"))
    #expect(try db.consentStates(accountId: 1)[0].state == .withdrawn)
  }

  @Test func illegalTransitionsAreRejectedWithTheirReason() throws {
    let db = try seededDatabase()
    let report = try db.importCSV(
      [
        "i1,A100000001,chat-eu,withdrawn,2025-01-01T00:00:00Z,app,tos-1,",
        "i2,A100000001,chat-eu,granted,2025-01-02T00:00:00Z,app,tos-1,",
        "i3,A100000001,chat-eu,granted,2025-01-03T00:00:00Z,app,tos-1,",
        "i4,A100000001,chat-eu,not_asked,2025-01-04T00:00:00Z,app,tos-1,",
      ], skipInvalid: true)
    #expect(report.accepted == 1)
    #expect(report.rejected.map(\.line) == [2, 4, 5])
    #expect(report.rejected[0].reason.contains("from not_asked to withdrawn"))
    #expect(report.rejected[1].reason.contains("already granted"))
    #expect(report.rejected[2].reason.contains("cannot go back to not_asked"))

    // An older event that would make the stored later history illegal is refused.
    let breaking = try db.importCSV([
      "i5,A100000001,chat-eu,granted,2024-12-01T00:00:00Z,app,tos-1,"
    ])
    try #require(breaking.rejected.count == 1)
    #expect(breaking.rejected[0].reason.contains("out of order"))
    #expect(!breaking.committed)
  }

  @Test func aSupportChangeAfterAFutureDatedImportStaysInOrder() throws {
    let db = try seededDatabase()
    // Imported with a time after the database clock (fixedNow is 2025-06-15).
    _ = try db.importCSV(["f1,A100000001,chat-eu,granted,2025-07-01T00:00:00Z,app,tos-1,"])
    let event = try db.recordConsentChange(
      accountId: 1, serviceId: 1, to: .withdrawn, source: .support, termsVersion: "tos-1",
      reason: "ticket 7", by: "alice")
    #expect(event.occurredAt == 1_751_328_000)  // not before the imported change
    let history = try db.consentHistory(accountId: 1)
    #expect(history.map(\.state) == [.granted, .withdrawn])
    let changes = history.map {
      ConsentChange(
        state: $0.state, occurredAt: $0.occurredAt, source: $0.source,
        termsVersion: $0.termsVersion)
    }
    #expect(try replayConsent(changes) == .withdrawn)
  }

  @Test func anInterruptedImportConvergesWhenRunAgain() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    var lines: [String] = []
    // 300 accounts x 2 services, three events each, shuffled deterministically.
    for account in 0..<300 {
      for service in ["chat-eu", "foto-de"] {
        let base = 1_735_689_600 + account * 60
        let path = account % 3 == 0 ? ["refused", "granted", "withdrawn"]
          : ["granted", "withdrawn", "granted"]
        for (k, state) in path.enumerated() {
          lines.append(
            "k\(account)-\(service)-\(k),ACC\(account),\(service),\(state),"
              + "\(base + k * 86_400),app,tos-1,")
        }
      }
    }
    var generator = SplitMix64(seed: 42)
    lines.shuffle(using: &generator)

    let reference = try seededDatabase()
    let full = try reference.importCSV(lines, batchSize: 50)
    #expect(full.accepted == 1_800 && full.rejected.isEmpty)

    let db = try seededDatabase()
    var options = ConsentImportOptions(batchSize: 50)
    options.stopAfterBatches = 7
    let partial = try db.importConsent(
      bytes: consentCSV(lines), fileName: "consent.csv", options: options)
    #expect(partial.batches == 7)
    #expect(partial.accepted > 0 && partial.accepted < 1_800)
    let rerun = try db.importCSV(lines, batchSize: 50)
    #expect(rerun.duplicates == partial.accepted)
    #expect(rerun.accepted == 1_800 - partial.accepted)
    #expect(rerun.rejected.isEmpty)

    let sql = """
      SELECT a.external_id || '/' || s.code || '/' || e.event_id || '/' || e.state
      FROM consent_event e JOIN account a ON a.id = e.account_id
      JOIN service s ON s.id = e.service_id ORDER BY 1
      """
    let currentSQL = """
      SELECT a.external_id || '/' || s.code || '/' || c.state || '/' || c.updated_at
      FROM consent_current c JOIN account a ON a.id = c.account_id
      JOIN service s ON s.id = c.service_id ORDER BY 1
      """
    func rows(_ database: AppDatabase, _ sql: String) throws -> [String] {
      try database.writer.read { try String.fetchAll($0, sql: sql) }
    }
    #expect(try rows(db, sql) == rows(reference, sql))
    #expect(try rows(db, currentSQL) == rows(reference, currentSQL))
    #expect(try count(db, "SELECT count(*) FROM account") == 302)
    let tallies = "SELECT service_id || state || n FROM consent_tally ORDER BY 1"
    #expect(try rows(db, tallies) == rows(reference, tallies))
    #expect(try db.verifyAuditChain().isOK)
  }
}

// MARK: - Two imports of one file at the same time

@Suite("Concurrent consent imports")
struct ConcurrentConsentImportTests {
  static let lines = [
    "c1,A100000001,chat-eu,granted,2025-01-01T10:00:00Z,app,tos-1,",
    "c2,A100000001,chat-eu,withdrawn,2025-02-01T10:00:00Z,app,tos-1,",
    "c3,A100000001,chat-eu,granted,2025-03-01T10:00:00Z,app,tos-1,",
    "c4,NEW-9,foto-de,granted,2025-01-05T10:00:00Z,app,tos-1,",
    "c5,NEW-9,foto-de,withdrawn,2025-01-06T10:00:00Z,app,tos-1,",
  ]

  @Test func theSecondImportCountsDuplicatesInsteadOfIllegalTransitions() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let path = temp.file("csar.sqlite")
    let db = try seededDatabase(path: path)
    let other = try AppDatabase.open(path: path, auditKey: temp.auditKey)
    let bytes = consentCSV(Self.lines)
    let first = Locked<ConsentImportReport>()
    // The second import has checked the file; the first runs whole before it writes.
    var options = ConsentImportOptions()
    options.beforeWriting = {
      first.set(try other.importConsent(bytes: bytes, fileName: "consent.csv"))
    }
    let second = try db.importConsent(bytes: bytes, fileName: "consent.csv", options: options)
    let firstReport = try #require(first.get())
    #expect(firstReport.accepted == 5 && firstReport.rejected.isEmpty)
    #expect(second.rejected.isEmpty, "\(second.rejected)")
    #expect(second.accepted == 0 && second.duplicates == 5)
    #expect(second.committed)
    #expect(try db.historyIds("A100000001") == ["c1", "c2", "c3"])
    #expect(try db.historyIds("NEW-9") == ["c4", "c5"])
    #expect(try count(db, "SELECT count(*) FROM account WHERE external_id = 'NEW-9'") == 1)
  }

  @Test func anEventRecordedMeanwhileWithOtherContentIsRejected() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let path = temp.file("csar.sqlite")
    let db = try seededDatabase(path: path)
    let other = try AppDatabase.open(path: path, auditKey: temp.auditKey)
    var options = ConsentImportOptions(skipInvalid: true)
    options.beforeWriting = {
      _ = try other.importConsent(
        bytes: consentCSV(["c1,A100000001,chat-eu,refused,2025-01-01T10:00:00Z,app,tos-1,"]),
        fileName: "other.csv")
    }
    let report = try db.importConsent(
      bytes: consentCSV(Self.lines), fileName: "consent.csv", options: options)
    #expect(report.rejected.first?.line == 2)
    #expect(report.rejected.first?.reason.contains("different content") == true)
  }
}
