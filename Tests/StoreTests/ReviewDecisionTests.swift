import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

@Suite("Decisions: two-hit rule, leases, undo")
struct ReviewDecisionTests {
  // MARK: - Two-hit rule

  @Test func knownMaterialReportsAtOnce() throws {
    let db = try seededDatabase()
    let item = try queueItem(db, kind: .knownMatch, account: 1, priority: 1)
    let outcome = try claimAndDecide(db, item, .confirm)
    #expect(outcome.newState == .confirmed)
    #expect(!outcome.heldForSecondHit)
    let ref = try #require(outcome.reportCaseRef)
    #expect(ref == "CSAR-2025-100001")
    #expect(try reportItems(db) == [ref: [item]])
    let contents = try db.reportContents(caseRef: ref, provider: "P")
    #expect(contents.urgency == .urgent)
    #expect(contents.account.accountId == "A100000001")
    #expect(contents.items.map(\.bank) == ["IWF"])
    #expect(try db.reportListings(state: .ready).map(\.caseRef) == [ref])
  }

  @Test func secondNewMaterialHitWithinTheWindowMakesOneReport() throws {
    let clock = TestClock()
    let db = try seededDatabase(clock: clock.function)
    let first = try queueItem(db, kind: .newMaterial, account: 1)
    let other = try queueItem(db, kind: .newMaterial, account: 2)
    let second = try queueItem(db, kind: .newMaterial, account: 1)

    let held = try claimAndDecide(db, first, .confirm)
    #expect(held.newState == .awaitingSecondHit && held.heldForSecondHit)
    #expect(held.reportCaseRef == nil)
    clock.advance(86_400)
    // Another account's hit does not pair with it.
    #expect(try claimAndDecide(db, other, .confirm).heldForSecondHit)
    clock.advance(9 * 86_400)
    let paired = try claimAndDecide(db, second, .confirm)
    #expect(paired.newState == .confirmed)
    let ref = try #require(paired.reportCaseRef)
    #expect(try reportItems(db) == [ref: [first, second]])
    #expect(try itemState(db, first) == "confirmed")
    #expect(try itemState(db, other) == "awaiting_second_hit")
    let contents = try db.reportContents(caseRef: ref, provider: "P")
    #expect(contents.kind == .newMaterial)
    #expect(contents.confirmedAt == fixedNow + 10 * 86_400)
    #expect(contents.urgency == .normal)
    #expect(try db.verifyAuditChain().isOK)
  }

  @Test func hitOutsideTheWindowStaysHeld() throws {
    let clock = TestClock()
    let db = try seededDatabase(clock: clock.function)
    let first = try queueItem(db, kind: .newMaterial, account: 1)
    let late = try queueItem(db, kind: .newMaterial, account: 1)
    let third = try queueItem(db, kind: .newMaterial, account: 1)
    try claimAndDecide(db, first, .confirm)
    clock.advance(31 * 86_400)
    let outcome = try claimAndDecide(db, late, .confirm)
    #expect(outcome.heldForSecondHit)
    #expect(try db.reportListings().isEmpty)
    #expect(try itemState(db, first) == "awaiting_second_hit")
    // A third hit pairs with the one inside the window, not with the stale first hit.
    clock.advance(86_400)
    let ref = try #require(try claimAndDecide(db, third, .confirm).reportCaseRef)
    #expect(try reportItems(db) == [ref: [late, third]])
    #expect(try itemState(db, first) == "awaiting_second_hit")
  }

  @Test func windowIsConfigurable() throws {
    let clock = TestClock()
    let db = try seededDatabase(clock: clock.function)
    let first = try queueItem(db, kind: .newMaterial, account: 1)
    let second = try queueItem(db, kind: .newMaterial, account: 1)
    try claimAndDecide(db, first, .confirm, windowDays: 7)
    clock.advance(8 * 86_400)
    #expect(try claimAndDecide(db, second, .confirm, windowDays: 7).heldForSecondHit)
  }

  @Test func dismissEscalateAndSkip() throws {
    let db = try seededDatabase()
    let a = try queueItem(db, kind: .urlMatch, account: 1)
    let b = try queueItem(db, kind: .knownMatch, account: 1)
    let c = try queueItem(db, kind: .knownMatch, account: 2)
    #expect(try claimAndDecide(db, a, .dismiss).newState == .dismissed)
    #expect(try claimAndDecide(db, b, .escalate).newState == .escalated)
    #expect(try claimAndDecide(db, c, .skip).newState == .pending)
    #expect(try db.reportListings().isEmpty)
    // An escalated item can be claimed and confirmed by a lead.
    #expect(try claimAndDecide(db, b, .confirm, by: "bahar").reportCaseRef != nil)
    #expect(throws: ClaimError.alreadyDecided(state: .dismissed)) {
      try db.claimItem(id: a, by: "bahar")
    }
  }

  // MARK: - Leases

  @Test func lapsedClaimCanBeTakenByAnotherOperator() throws {
    let clock = TestClock()
    let db = try seededDatabase(clock: clock.function)
    let item = try queueItem(db, kind: .knownMatch, account: 1)
    try db.claimItem(id: item, by: "alice", leaseSeconds: 600)
    clock.advance(599)
    #expect(throws: ClaimError.claimedByOther(name: "alice", until: fixedNow + 600)) {
      try db.claimItem(id: item, by: "bahar")
    }
    clock.advance(1)
    try db.claimItem(id: item, by: "bahar")
    // alice's lease is gone: her decision is refused, bahar's goes through.
    #expect(throws: ClaimError.self) {
      try db.decide(itemId: item, decision: .dismiss, note: nil, by: "alice")
    }
    #expect(try db.decide(itemId: item, decision: .confirm, note: "ok", by: "bahar")
      .newState == .confirmed)
    #expect(try count(db, "SELECT count(*) FROM review_decision WHERE item_id = ?", [item]) == 1)
  }

  @Test func renewedClaimIsNotTakenAndLapsedOwnClaimCannotDecide() throws {
    let clock = TestClock()
    let db = try seededDatabase(clock: clock.function)
    let item = try queueItem(db, kind: .knownMatch, account: 1)
    try db.claimItem(id: item, by: "alice", leaseSeconds: 600)
    clock.advance(500)
    try db.renewClaim(id: item, by: "alice", leaseSeconds: 600)
    clock.advance(500)
    #expect(throws: ClaimError.self) { try db.claimItem(id: item, by: "bahar") }
    clock.advance(200)
    #expect(throws: ClaimError.notHeld(id: item)) {
      try db.decide(itemId: item, decision: .confirm, note: nil, by: "alice")
    }
    #expect(throws: ClaimError.notHeld(id: item)) { try db.renewClaim(id: item, by: "alice") }
  }

  /// Two independent connection pools on one file (two consoles), racing: alice decides with
  /// a lease that bahar's clock already considers lapsed, bahar takes over and decides. Every
  /// item ends with exactly one decision.
  @Test func twoPoolsNeverDecideOneItemTwice() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("race.sqlite")
    let aliceClock = TestClock()
    let baharClock = TestClock(fixedNow + 700)
    let alice = try AppDatabase.open(
      path: path, clock: aliceClock.function, auditKey: folder.auditKey)
    try alice.ensureOperator(name: "alice", role: .reviewer)
    try alice.ensureOperator(name: "bahar", role: .lead)
    try alice.createService(code: "chat-eu", name: "Café Chat", kind: .messaging, by: "bahar")
    try alice.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO account (id, external_id, pseudonym, created_at)
          VALUES (1, 'A1', 'u-1', 0)
          """)
    }
    let items = try (0..<60).map { _ in try queueItem(alice, kind: .knownMatch, account: 1) }
    for item in items { try alice.claimItem(id: item, by: "alice", leaseSeconds: 600) }
    let bahar = try AppDatabase.open(
      path: path, clock: baharClock.function, auditKey: folder.auditKey)
    let errors = ErrorBox()
    let decided = ErrorBox()
    let group = DispatchGroup()
    for (db, name, order) in [(alice, "alice", items), (bahar, "bahar", items.reversed())] {
      group.enter()
      Thread.detachNewThread {
        defer { group.leave() }
        for item in order {
          do {
            if name == "bahar" { try db.claimItem(id: item, by: name) }
            try db.decide(itemId: item, decision: .confirm, note: nil, by: name)
            decided.add("\(item)")
          } catch is ClaimError {
            // lost the race: fine
          } catch {
            errors.add("\(name) \(item): \(error)")
          }
        }
      }
    }
    group.wait()
    #expect(errors.all.isEmpty)
    #expect(decided.all.count == items.count)
    #expect(Set(decided.all).count == items.count)
    #expect(
      try count(alice, "SELECT count(*) FROM review_decision") == items.count)
    #expect(try count(alice, "SELECT count(*) FROM report") == items.count)
    #expect(try count(alice, "SELECT count(*) FROM flagged_item WHERE state = 'confirmed'")
      == items.count)
    #expect(try bahar.verifyAuditChain().isOK)
  }

  // MARK: - Undo

  @Test func undoWithinTheWindowRestoresTheItemAndVoidsTheReport() throws {
    let clock = TestClock()
    let db = try seededDatabase(clock: clock.function)
    let item = try queueItem(db, kind: .knownMatch, account: 1)
    let outcome = try claimAndDecide(db, item, .confirm)
    #expect(outcome.reportCaseRef == "CSAR-2025-100001")
    clock.advance(30)
    try db.undoDecision(outcome.decisionId, by: "alice")
    #expect(try itemState(db, item) == "pending")
    #expect(try db.reportListings().isEmpty)
    // The item is the undoer's again, and a new decision gets a new case number.
    let again = try db.decide(itemId: item, decision: .confirm, note: nil, by: "alice")
    #expect(again.reportCaseRef == "CSAR-2025-100002")
    #expect(throws: UndoError.alreadyUndone(decisionId: outcome.decisionId)) {
      try db.undoDecision(outcome.decisionId, by: "alice")
    }
    #expect(try db.verifyAuditChain().isOK)
  }

  @Test func undoIsRefusedWhileTheReportIsUnderALegalHold() throws {
    let clock = TestClock()
    let db = try seededDatabase(clock: clock.function)
    let item = try queueItem(db, kind: .knownMatch, account: 1)
    let outcome = try claimAndDecide(db, item, .confirm)
    let caseRef = try #require(outcome.reportCaseRef)
    let hold = try db.placeLegalHold(caseRef: caseRef, reason: "CA request 7", by: "bahar")
    #expect(throws: UndoError.reportHeld(caseRef: caseRef)) {
      try db.undoDecision(outcome.decisionId, by: "alice")
    }
    #expect(try itemState(db, item) == "confirmed")
    try db.releaseLegalHold(id: hold.id, by: "bahar")
    try db.undoDecision(outcome.decisionId, by: "alice")
    #expect(try itemState(db, item) == "pending")
  }

  @Test func undoAfterTheWindowOrBySomeoneElseIsRefused() throws {
    let clock = TestClock()
    let db = try seededDatabase(clock: clock.function)
    let item = try queueItem(db, kind: .urlMatch, account: 1)
    let outcome = try claimAndDecide(db, item, .dismiss)
    #expect(throws: UndoError.notYours(decisionId: outcome.decisionId, madeBy: "alice")) {
      try db.undoDecision(outcome.decisionId, by: "bahar")
    }
    clock.advance(31)
    #expect(throws: UndoError.tooLate(decisionId: outcome.decisionId, windowSeconds: 30)) {
      try db.undoDecision(outcome.decisionId, by: "alice")
    }
    #expect(try itemState(db, item) == "dismissed")
    #expect(throws: UndoError.notFound(decisionId: 999)) {
      try db.undoDecision(999, by: "alice")
    }
  }

  @Test func undoOfASecondHitHoldsTheFirstAgain() throws {
    let clock = TestClock()
    let db = try seededDatabase(clock: clock.function)
    let first = try queueItem(db, kind: .newMaterial, account: 1)
    let second = try queueItem(db, kind: .newMaterial, account: 1)
    try claimAndDecide(db, first, .confirm)
    clock.advance(60)
    let paired = try claimAndDecide(db, second, .confirm)
    #expect(paired.reportCaseRef != nil)
    clock.advance(5)
    try db.undoDecision(paired.decisionId, by: "alice")
    #expect(try itemState(db, first) == "awaiting_second_hit")
    #expect(try itemState(db, second) == "pending")
    #expect(try db.reportListings().isEmpty)
  }

  @Test func undoIsRefusedOnceTheReportWasExported() throws {
    let clock = TestClock()
    let db = try seededDatabase(clock: clock.function)
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let item = try queueItem(db, kind: .knownMatch, account: 1)
    let outcome = try claimAndDecide(db, item, .confirm)
    try db.exportReadyReports(
      to: try Outbox(directory: folder.path), provider: "P",
      key: ProviderKey(bytes: Array(repeating: 7, count: 32)), by: "alice")
    clock.advance(5)
    #expect(
      throws: UndoError.reportNotReady(caseRef: outcome.reportCaseRef!, state: .sent)
    ) { try db.undoDecision(outcome.decisionId, by: "alice") }
  }
}
