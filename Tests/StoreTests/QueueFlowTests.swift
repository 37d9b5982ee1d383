import Compliance
import Foundation
import GRDB
import Testing
import TestSupport

@testable import Store

@Suite("Queue flow: next free item, escalations to leads, changes by others")
struct QueueFlowTests {
  @Test func aReviewerCannotClaimOrDecideAnEscalatedItem() throws {
    let db = try seededDatabase()
    let item = try queueItem(db, kind: .knownMatch, account: 1)
    try claimAndDecide(db, item, .escalate, by: "alice")
    #expect(throws: ClaimError.leadsOnly(id: item)) { try db.claimItem(id: item, by: "alice") }
    // A claim taken before the rule (or by any other path) still cannot decide it.
    try db.writer.write { db in
      try db.execute(
        sql: """
          UPDATE flagged_item SET claimed_by = (SELECT id FROM operator WHERE name = 'alice'),
            claim_expires_at = ? WHERE id = ?
          """, arguments: [fixedNow + 600, item])
    }
    #expect(throws: ClaimError.leadsOnly(id: item)) {
      try db.decide(itemId: item, decision: .confirm, note: nil, by: "alice")
    }
    #expect(try itemState(db, item) == "escalated")
    try db.releaseClaim(id: item, by: "alice")
    #expect(try claimAndDecide(db, item, .dismiss, by: "bahar").newState == .dismissed)
  }

  @Test func theNextFreeItemPassesClaimsOfOthersAndWhatYouPassedOn() throws {
    let clock = TestClock()
    let db = try seededDatabase(clock: clock.function)
    try db.ensureOperator(name: "chen", role: .reviewer)
    let first = try queueItem(db, kind: .knownMatch, account: 1, createdAt: fixedNow - 900)
    let second = try queueItem(db, kind: .knownMatch, account: 1, createdAt: fixedNow - 800)
    let third = try queueItem(db, kind: .knownMatch, account: 2, createdAt: fixedNow - 700)
    let urgent = try queueItem(
      db, kind: .urlMatch, account: 2, priority: 1, createdAt: fixedNow - 100)
    func next(_ name: String, excluding: Set<Int64> = []) throws -> Int64? {
      try db.nextFreeItem(filter: QueueFilter(), for: name, excluding: excluding)?.id
    }
    // Priority first, then age.
    #expect(try next("alice") == urgent)
    try db.claimItem(id: urgent, by: "chen", leaseSeconds: 60)
    try db.claimItem(id: first, by: "chen", leaseSeconds: 60)
    #expect(try next("alice") == second)
    #expect(try next("alice", excluding: [second]) == third)
    // Your own claim does not hide an item from you.
    try db.claimItem(id: second, by: "alice")
    #expect(try next("alice") == second)
    // A lapsed claim of a colleague frees the item again.
    clock.advance(61)
    #expect(try next("bahar") == urgent)
    let kindOnly = QueueFilter(kind: .knownMatch)
    #expect(try db.nextFreeItem(filter: kindOnly, for: "bahar")?.id == first)
  }

  @Test func escalatedItemsGoToLeadsFirstAndNeverToReviewers() throws {
    let db = try seededDatabase()
    let old = try queueItem(db, kind: .knownMatch, account: 1, createdAt: fixedNow - 900)
    let escalated = try queueItem(
      db, kind: .knownMatch, account: 1, priority: 5, createdAt: fixedNow - 100)
    try claimAndDecide(db, escalated, .escalate, by: "alice")
    #expect(try db.nextFreeItem(filter: QueueFilter(), for: "alice")?.id == old)
    #expect(try db.nextFreeItem(filter: QueueFilter(), for: "alice", excluding: [old]) == nil)
    #expect(try db.nextFreeItem(filter: QueueFilter(), for: "bahar")?.id == escalated)
    #expect(try db.operatorRole(name: "bahar") == .lead)
  }

  @Test func theDataVersionMovesOnlyForOtherConnections() throws {
    let folder = try ScratchSpace.folder("version")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/csar.sqlite"
    let key = AuditKey.random()
    let mine = try AppDatabase.open(path: path, clock: { fixedNow }, auditKey: key)
    let other = try AppDatabase.open(path: path, clock: { fixedNow }, auditKey: key)
    let start = try mine.dataVersion()
    try mine.ensureOperator(name: "alice", role: .reviewer)
    #expect(try mine.dataVersion() == start)
    try other.ensureOperator(name: "chen", role: .reviewer)
    #expect(try mine.dataVersion() != start)
  }
}
