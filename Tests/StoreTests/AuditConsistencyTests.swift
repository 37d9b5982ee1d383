import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

/// What `audit verify` checks besides the chain: the guard triggers, reports and items against
/// their last audited change, a head recorded elsewhere; and what the export does with a
/// report that disagrees with its trail.
@Suite("Audit verify: triggers, states, expected head")
struct AuditConsistencyTests {
  // MARK: - Triggers

  @Test func aFreshDatabaseAndTheDemoHaveEveryTriggerAsDefined() throws {
    #expect(try seededDatabase().triggerMismatches().isEmpty)
    #expect(try sharedDemo.triggerMismatches().isEmpty)
    // The guards re-created by the re-keying count as the same SQL.
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("old.sqlite")
    try AuditKeyedChainTests.legacyDatabase(path, events: 3)
    let rekeyed = try AppDatabase.open(path: path, clock: { fixedNow }, auditKey: folder.auditKey)
    #expect(try rekeyed.triggerMismatches().isEmpty)
  }

  @Test func aDroppedGuardIsNamedAndFailsVerify() throws {
    let db = try seededDatabase()
    try db.writer.write { try $0.execute(sql: "DROP TRIGGER audit_event_no_delete") }
    let found = try db.triggerMismatches()
    #expect(found.map(\.label) == ["audit_event_no_delete"])
    #expect(found[0].description.contains("missing"))
    let check = try db.verifyAudit()
    #expect(check.chain.isOK)
    #expect(!check.isOK)
    #expect(check.problems.contains { $0.contains("trigger audit_event_no_delete") })
  }

  @Test func aChangedOrAddedTriggerIsNamed() throws {
    let db = try seededDatabase()
    try db.writer.write { db in
      try db.execute(
        sql: """
          DROP TRIGGER operator_no_delete;
          CREATE TRIGGER operator_no_delete BEFORE DELETE ON operator WHEN 0 BEGIN
            SELECT RAISE(ABORT, 'never');
          END;
          CREATE TRIGGER sneaky AFTER INSERT ON report BEGIN
            UPDATE report SET state = 'ready' WHERE id = NEW.id;
          END;
          """)
    }
    let found = try db.triggerMismatches().map(\.description)
    #expect(found.count == 2)
    #expect(found.contains { $0.hasPrefix("trigger operator_no_delete: its SQL was changed") })
    #expect(found.contains { $0.hasPrefix("trigger sneaky: csar does not define it") })
  }

  // MARK: - States

  @Test func theDemoAndNormalWorkAgreeWithTheLog() throws {
    #expect(try sharedDemo.stateMismatches().isEmpty)
    let (db, _) = try ReportTests.withReadyReports(2)
    try db.exportReadyReports(
      to: try Outbox(directory: try TempFolder().path), provider: "P", key: ReportTests.key,
      by: "alice")
    #expect(try db.stateMismatches().isEmpty)
    #expect(try db.verifyAudit().isOK)
  }

  /// The finding: a sent report set back to `ready` with sqlite3 was exported again (four
  /// times) while verify said ok.
  @Test func aReportResetToReadyIsNamedAndNotExportedAgain() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, refs) = try ReportTests.withReadyReports(2)
    let outbox = try Outbox(directory: folder.file("outbox"))
    #expect(try db.exportReadyReports(to: outbox, provider: "P", key: ReportTests.key, by: "alice")
      .count == 2)
    try db.writer.write { db in
      try db.execute(
        sql: "UPDATE report SET state = 'ready', sent_at = NULL WHERE case_ref = ?",
        arguments: [refs[1]])
    }
    let found = try db.stateMismatches()
    #expect(found.map(\.label) == [refs[1]])
    #expect(found[0].description.contains("state is ready, the audit log says sent"))
    #expect(!(try db.verifyAudit().isOK))
    try FileManager.default.removeItem(atPath: folder.file("outbox"))
    let again = try Outbox(directory: folder.file("outbox"))
    do {
      try db.exportReadyReports(to: again, provider: "P", key: ReportTests.key, by: "alice")
      Issue.record("a report reset by hand was exported again")
    } catch let error as ReportError {
      guard case .disagreesWithAudit(let mismatch) = error else {
        Issue.record("unexpected \(error)")
        return
      }
      #expect(mismatch.label == refs[1])
      #expect(error.description.contains("run `csar audit verify`"))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: again.directory).isEmpty)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'report.export'") == 2)
  }

  @Test func aReportSetFoundedByHandIsNotRevealed() throws {
    let (db, refs) = try ReportTests.withReadyReports(1)
    try db.writer.write { db in
      try db.execute(sql: "UPDATE report SET state = 'founded'", arguments: [])
    }
    #expect(throws: ReportError.self) { try db.requestReveal(caseRef: refs[0], by: "alice") }
    #expect(try db.stateMismatches().map(\.label) == [refs[0]])
  }

  @Test func anItemOrReportEditedOrInsertedByHandIsNamed() throws {
    let (db, refs) = try ReportTests.withReadyReports(1)
    let item = try #require(try db.reportListings().first?.itemIds.first)
    try db.writer.write { db in
      try db.execute(sql: "UPDATE flagged_item SET state = 'dismissed' WHERE id = ?", arguments: [item])
      try db.execute(
        sql: """
          INSERT INTO report (case_ref, state, kind, created_at)
          VALUES ('CSAR-2025-999999', 'ready', 'known_match', 0)
          """)
      try db.execute(sql: "UPDATE report SET purged_at = 1 WHERE case_ref = ?", arguments: [refs[0]])
    }
    let found = try db.stateMismatches().map(\.description)
    #expect(found.contains("report \(refs[0]): it is marked purged without an audited purge"))
    #expect(found.contains("report CSAR-2025-999999: no audit event created it (inserted outside csar)"))
    #expect(found.contains { $0.hasPrefix("item \(item): state is dismissed, the audit log says confirmed") })
  }

  // MARK: - Verdicts and undo act only on states the log agrees with

  /// Before: a ready report set to `sent` by hand (never sent) took the verdict
  /// `not_manifestly_unfounded` and became `founded`, so it could be revealed.
  @Test func aVerdictForAReportEditedByHandIsRefusedAndNothingIsApplied() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, refs) = try ReportTests.withReadyReports(1)
    try db.exportReadyReports(
      to: try Outbox(directory: folder.file("outbox")), provider: "P", key: ReportTests.key,
      by: "alice")
    let item = try queueItem(db, kind: .knownMatch, account: 1)
    let forged = try #require(try claimAndDecide(db, item, .confirm).reportCaseRef)
    try db.writer.write { db in
      try db.execute(
        sql: "UPDATE report SET state = 'sent', sent_at = 1 WHERE case_ref = ?",
        arguments: [forged])
    }
    let file = """
      {"case_ref": "\(refs[0])", "verdict": "not_manifestly_unfounded"}
      {"case_ref": "\(forged)", "verdict": "not_manifestly_unfounded"}
      """
    do {
      try db.importVerdicts(Array(file.utf8), format: .jsonl, file: "v.jsonl", by: "alice")
      Issue.record("a verdict was applied to a report set to sent by hand")
    } catch let error as VerdictImportError {
      #expect(error.issues.map(\.line) == [2])
      let text = error.description
      #expect(
        text.contains(
          "v.jsonl:2: refused: report \(forged): state is sent, the audit log says ready"))
      #expect(text.contains("run `csar audit verify`"))
    }
    let states = try db.writer.read { db in
      try String.fetchAll(db, sql: "SELECT state FROM report ORDER BY id")
    }
    #expect(states == ["sent", "sent"])
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'report.verdict'") == 0)
  }

  /// Before: a sent report set back to `ready` by hand let its decision be undone, which
  /// deleted the report that had gone to the EU Centre.
  @Test func anUndoOverAReportResetByHandIsRefused() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, refs) = try ReportTests.withReadyReports(1)
    let decision = try #require(try db.lastDecision(by: "alice"))
    try db.exportReadyReports(
      to: try Outbox(directory: folder.file("outbox")), provider: "P", key: ReportTests.key,
      by: "alice")
    try db.writer.write { db in
      try db.execute(sql: "UPDATE report SET state = 'ready', sent_at = NULL")
    }
    Self.expectUndoRefused(
      db, decision.id,
      "decision \(decision.id) cannot be undone: report \(refs[0]): state is ready, the audit "
        + "log says sent")
    #expect(try db.reportListings().map(\.caseRef) == refs)
    #expect(try itemState(db, decision.itemId) == "confirmed")
  }

  /// Before: an item whose last audited change (here another state change recorded after the
  /// decision) was reverted in the table by hand still had the decision undone.
  @Test func anUndoOverAnItemRevertedByHandIsRefused() throws {
    let db = try seededDatabase()
    let item = try queueItem(db, kind: .knownMatch, account: 1)
    let outcome = try claimAndDecide(db, item, .dismiss)
    _ = try db.audited(by: "alice") { _, trail in
      try trail.record(
        action: "item.decide", entity: "flagged_item", entityId: String(item),
        before: ["state": "dismissed"], after: ["state": "confirmed"])
    }
    Self.expectUndoRefused(
      db, outcome.decisionId,
      "decision \(outcome.decisionId) cannot be undone: item \(item): state is dismissed, the "
        + "audit log says confirmed")
    #expect(try itemState(db, item) == "dismissed")
  }

  /// Undoing `decision` is refused with an error containing `message` that sends the
  /// operator to `csar audit verify`.
  static func expectUndoRefused(_ db: AppDatabase, _ decision: Int64, _ message: String) {
    do {
      try db.undoDecision(decision, by: "alice")
      Issue.record("decision \(decision) was undone over a state changed by hand")
    } catch {
      #expect(error is UndoError)
      #expect("\(error)".contains(message))
      #expect("\(error)".contains("run `csar audit verify`"))
    }
  }

  // MARK: - The head

  @Test func aRecordedHeadVerifiesWhileInTheLogAndFailsOtherwise() throws {
    let db = try seededDatabase()
    let head = try #require(try db.auditHead())
    #expect(AuditHead(parsing: head.description) == head)
    #expect(AuditHead(parsing: head.mac)?.mac == head.mac)
    #expect(AuditHead(parsing: "12:xyz") == nil)
    let now = try db.verifyAudit(expectedHead: head)
    #expect(now.isOK && now.eventsSinceExpectedHead == 0)
    try db.createService(code: "later", name: "Later", kind: .hosting, by: "bahar")
    let later = try db.verifyAudit(expectedHead: head)
    #expect(later.isOK && later.eventsSinceExpectedHead == 1)
    let unknown = AuditHead(events: head.events, mac: String(repeating: "ab", count: 32))
    let missing = try db.verifyAudit(expectedHead: unknown)
    #expect(!missing.isOK)
    #expect(missing.problems.contains { $0.contains("is not in the log") })
    let moved = try db.verifyAudit(expectedHead: AuditHead(events: 1, mac: head.mac))
    #expect(moved.expectedHeadProblem?.contains("not event 1's") == true)
  }

  @Test func exportsCarryTheHeadTheyWereMadeAt() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, refs) = try ReportTests.withReadyReports(1)
    let head = try #require(try db.auditHead())
    let outbox = try Outbox(directory: folder.file("outbox"))
    let exported = try db.exportReadyReports(
      to: outbox, provider: "P", key: ReportTests.key, by: "alice")
    let document = try ReportTests.json(exported[0].path)
    let carried = try #require(document["audit_head"] as? [String: Any])
    #expect(carried["events"] as? Int == Int(head.events))
    #expect(carried["mac"] as? String == head.mac)
    #expect(try db.verifyAudit(expectedHead: head).eventsSinceExpectedHead == 1)
    #expect(refs.count == 1)
  }

  // MARK: - Purge and holds are for leads

  @Test func aReviewerCannotPurgeOrHold() throws {
    let (db, refs) = try ReportTests.withReadyReports(1)
    #expect(throws: IdentityError.notALead(name: "alice", action: "purge data")) {
      try db.purge(by: "alice")
    }
    #expect(throws: IdentityError.notALead(name: "alice", action: "place a legal hold")) {
      try db.placeLegalHold(caseRef: refs[0], reason: "LKA 1", by: "alice")
    }
    let hold = try db.placeLegalHold(caseRef: refs[0], reason: "LKA 1", by: "bahar")
    #expect(throws: IdentityError.notALead(name: "alice", action: "release a legal hold")) {
      try db.releaseLegalHold(id: hold.id, by: "alice")
    }
    try db.releaseLegalHold(id: hold.id, by: "bahar")
    #expect(try db.purge(by: "bahar").reports.isEmpty)
  }
}

/// The re-key loophole: a keyed log rewritten as an old unkeyed one under a new database id
/// was keyed, and so blessed, by the next open.
@Suite("Audit re-keying is explicit once a key anchors a database")
struct AuditRekeyTests {
  @Test func aLogRewrittenAsUnkeyedUnderANewIdIsNotKeyedAtOpen() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try AuditKeyedChainTests.database(folder)
    let path = db.path
    try db.writer.write { db in
      try AuditKeyedChainTests.dropGuards(db)
      try db.execute(
        sql: "UPDATE audit_event SET details_json = replace(details_json, 'S4', 'S9') WHERE id = 6")
      try AuditKeyedChainTests.recomputeUnkeyedChain(db, from: 6)
      try db.execute(sql: "UPDATE audit_event SET mac = NULL")
      try db.execute(
        sql: "UPDATE audit_chain SET key_check = NULL, database_id = 'a-new-database-id'")
      try db.execute(sql: AuditGuard.noUpdate)
      try db.execute(sql: AuditGuard.noDelete)
    }
    let reopened = try AppDatabase.open(path: path, clock: { fixedNow }, auditKey: folder.auditKey)
    #expect(try count(reopened, "SELECT count(*) FROM audit_event WHERE mac IS NOT NULL") == 0)
    let verdict = try reopened.verifyAuditChain()
    #expect(!verdict.isOK)
    #expect(verdict.description.contains("csar audit rekey"))
    #expect(throws: AuditError.self) {
      try reopened.createService(code: "x", name: "X", kind: .hosting, by: "alice")
    }
    // Keying it is an admin's decision: alice (a reviewer) cannot.
    #expect(throws: IdentityError.self) { try reopened.rekeyAuditChain(by: "alice") }
  }

  @Test func anAdminKeysAnOldLogExplicitlyAudited() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    _ = try AuditKeyedChainTests.database(folder)  // this key now anchors a database
    let path = folder.file("old.sqlite")
    try AuditKeyedChainTests.legacyDatabase(path, events: 5)
    let old = try AppDatabase.open(path: path, clock: { fixedNow }, auditKey: folder.auditKey)
    #expect(try count(old, "SELECT count(*) FROM audit_event WHERE action = 'audit.rekey'") == 0)
    #expect(!(try old.verifyAuditChain().isOK))
    try old.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO operator (name, role, created_at, uid) VALUES ('root-admin', 'admin', 0, 0)
          """)
    }
    #expect(try old.rekeyAuditChain(by: "root-admin"))
    #expect(try old.verifyAuditChain() == .ok(count: 6))
    let event = try #require(try old.auditPage(beforeId: nil, limit: 1).first)
    #expect(event.action == "audit.rekey" && event.operatorName == "root-admin")
    #expect(event.detailsJSON.contains("\"explicit\":true"))
    #expect(try old.rekeyAuditChain(by: "root-admin") == false)
  }
}
