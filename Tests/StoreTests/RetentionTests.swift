import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

@Suite("Retention purge and legal holds")
struct RetentionTests {
  static let month: Int64 = 31 * 86_400

  /// Decided items and reports 13 months old, and fresh ones.
  static func aged() throws -> (db: AppDatabase, clock: TestClock, old: [String], fresh: String,
    dismissed: Int64, open: Int64)
  {
    let clock = TestClock()
    let db = try seededDatabase(clock: clock.function)
    try db.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO account_detail (account_id, field, value, seen_at) VALUES
            (1, 'ip_address', '203.0.113.7', 1), (2, 'name', 'Kim', 1)
          """)
    }
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let open = try queueItem(db, kind: .knownMatch, account: 1, createdAt: fixedNow - 400 * 86_400)
    let dismissed = try queueItem(db, kind: .urlMatch, account: 2)
    try db.claimItem(id: dismissed, by: "alice")
    try db.decide(itemId: dismissed, decision: .dismiss, note: "Kim's cat", by: "alice")
    var old: [String] = []
    for _ in 0..<2 {
      let item = try queueItem(db, kind: .knownMatch, account: 1)
      old.append(try #require(try claimAndDecide(db, item, .confirm).reportCaseRef))
    }
    try db.exportReadyReports(
      to: try Outbox(directory: folder.path), provider: "P", key: ReportTests.key, by: "alice")
    clock.advance(13 * month)
    let item = try queueItem(db, kind: .knownMatch, account: 2)
    let fresh = try #require(try claimAndDecide(db, item, .confirm).reportCaseRef)
    return (db, clock, old, fresh, dismissed, open)
  }

  @Test func cutoffIsCalendarMonths() {
    // 2025-06-15 15:06:40 minus 12 months = 2024-06-15 15:06:40.
    #expect(AppDatabase.retentionCutoff(now: fixedNow, months: 12) == fixedNow - 365 * 86_400)
  }

  @Test func dryRunListsWhatIsDueAndChangesNothing() throws {
    let (db, _, old, _, dismissed, _) = try Self.aged()
    let before = try count(db, "SELECT count(*) FROM audit_event")
    let plan = try db.purgePlan()
    #expect(plan.reports.map(\.label) == old)
    let oldItems = try db.reportListings().filter { old.contains($0.caseRef) }
      .flatMap(\.itemIds)
    #expect(plan.items.map(\.id) == ([dismissed] + oldItems).sorted())
    #expect(plan.held.isEmpty)
    #expect(try count(db, "SELECT count(*) FROM audit_event") == before)
    #expect(try db.purgePlan(retentionMonths: 24).reports.isEmpty)
  }

  @Test func purgeRemovesMediaAndPersonalDataAndKeepsTheAuditTrail() throws {
    let (db, _, old, fresh, dismissed, open) = try Self.aged()
    let auditBefore = try count(db, "SELECT count(*) FROM audit_event")
    let plan = try db.purge(by: "bahar")
    #expect(plan.reports.count == 2 && plan.items.count == 3)
    #expect(try count(db, "SELECT count(*) FROM flagged_item WHERE state = 'purged'") == 3)
    #expect(
      try count(
        db,
        """
        SELECT count(*) FROM flagged_item WHERE state = 'purged'
          AND (media_path IS NOT NULL OR account_id IS NOT NULL OR url IS NOT NULL)
        """) == 0)
    #expect(try count(db, "SELECT count(*) FROM review_decision WHERE note <> ''") == 0)
    let purged = try db.reportListings().filter { $0.purgedAt != nil }.map(\.caseRef)
    #expect(purged == old)
    #expect(
      try count(
        db, "SELECT count(*) FROM report WHERE purged_at IS NOT NULL AND payload_json <> '{}'")
        == 0)
    // Account 1 still has an open item; account 2 a fresh report: their details stay.
    #expect(try count(db, "SELECT count(*) FROM account_detail") == 2)
    #expect(try itemState(db, open) == "pending")
    #expect(try itemState(db, dismissed) == "purged")
    #expect(try db.reportListings(state: .ready).map(\.caseRef) == [fresh])
    #expect(try count(db, "SELECT count(*) FROM audit_event") == auditBefore + 5)
    #expect(try db.verifyAuditChain().isOK)
    // Nothing is due twice.
    let again = try db.purgePlan()
    #expect(again.reports.isEmpty && again.items.isEmpty)
  }

  @Test func legalHoldsKeepReportsWithTheirItems() throws {
    let (db, _, old, _, dismissed, _) = try Self.aged()
    let hold = try db.placeLegalHold(caseRef: old[0], reason: "LKA request 2026/17", by: "bahar")
    try db.placeLegalHold(itemId: dismissed, reason: "court order", by: "bahar")
    let heldItem = try #require(try db.reportListings().first { $0.caseRef == old[0] }?.itemIds
      .first)
    let plan = try db.purge(by: "bahar")
    #expect(plan.reports.map(\.label) == [old[1]])
    #expect(Set(plan.held.map(\.label)) == [old[0], String(heldItem), String(dismissed)])
    #expect(try itemState(db, heldItem) == "confirmed")
    #expect(try itemState(db, dismissed) == "dismissed")
    #expect(try db.legalHolds().count == 2)
    try db.releaseLegalHold(id: hold.id, by: "bahar")
    #expect(throws: StoreError.self) { try db.releaseLegalHold(id: hold.id, by: "bahar") }
    #expect(try db.purge(by: "bahar").reports.map(\.label) == [old[0]])
    #expect(throws: StoreError.self) {
      try db.placeLegalHold(caseRef: old[0], reason: "  ", by: "bahar")
    }
  }
}
