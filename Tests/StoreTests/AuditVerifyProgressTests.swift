import Foundation
import Synchronization
import Testing

@testable import Store

/// Hears a verification's progress, and asks it to stop after `stopAfter` reports; runs
/// `onFirst` when it hears the first (the check has begun reading the log then).
final class VerifyWatcher: LongRunObserver, Sendable {
  private let reports = Mutex<[(done: Int, total: Int?)]>([])
  private let stopAfter: Int?
  private let onFirst: (@Sendable () -> Void)?

  init(stopAfter: Int? = nil, onFirst: (@Sendable () -> Void)? = nil) {
    self.stopAfter = stopAfter
    self.onFirst = onFirst
  }

  var heard: [(done: Int, total: Int?)] { reports.withLock { $0 } }

  func committed(_ done: Int, of total: Int?) {
    let first = reports.withLock {
      $0.append((done, total))
      return $0.count == 1
    }
    if first { onFirst?() }
  }

  var stopRequested: Bool {
    guard let stopAfter else { return false }
    return reports.withLock { $0.count >= stopAfter }
  }
}

@Suite("Verifying the audit log with progress")
struct AuditVerifyProgressTests {
  /// A log of more events than one progress step.
  static func longLog() throws -> (AppDatabase, events: Int) {
    let db = try seededDatabase()
    try db.audited(by: "alice") { _, audit in
      for n in 0..<(VerifyProgress.every + 100) {
        try audit.record(action: "test.event", entity: "test", entityId: String(n))
      }
    }
    let events = try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_event") }
    return (db, events ?? 0)
  }

  /// The console shows how far a long check got: it hears the events checked of the ids
  /// issued, from the start, every few thousand and at the chain's end, and the result is
  /// the same as without.
  @Test func theObserverHearsTheEventsChecked() throws {
    let (db, events) = try Self.longLog()
    let watcher = VerifyWatcher()
    let check = try db.verifyAudit(observer: watcher)
    #expect(check.isOK, "\(check.problems)")
    #expect(check.chain == .ok(count: events))
    let heard = watcher.heard
    #expect(heard.map(\.done) == [0, VerifyProgress.every, events], "\(heard)")
    #expect(heard.allSatisfy { $0.total == events })
  }

  /// Asked to stop (the console quits), the check stops at its next look and concludes
  /// nothing: it throws, it never says the log is intact.
  @Test func aStopEndsTheCheckWithoutAVerdict() throws {
    let (db, _) = try Self.longLog()
    let atOnce = VerifyWatcher(stopAfter: 1)
    #expect(throws: LongRunStopped.self) { try db.verifyAudit(observer: atOnce) }
    #expect(atOnce.heard.map(\.done) == [0])
    let midway = VerifyWatcher(stopAfter: 2)
    let stopped = #expect(throws: LongRunStopped.self) { try db.verifyAudit(observer: midway) }
    #expect(stopped?.committed == VerifyProgress.every)
  }

  /// Before: the anchor was read after the log's snapshot, so an audited write committed by
  /// another connection while the check read the log (a colleague's decision, this console's
  /// own while it verifies in the background) left an anchor ahead of the snapshot, and the
  /// check said events had been cut from the end of an intact log.
  @Test func aWriteDuringTheCheckIsNotTakenForEventsCut() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("csar.sqlite")
    let db = try seededDatabase(path: path)
    let colleague = try AppDatabase.open(
      path: path, clock: { fixedNow }, auditKey: testAuditKey(besideDatabase: path))
    let watcher = VerifyWatcher {
      _ = try? colleague.audited(by: "bahar") { _, audit in
        try audit.record(action: "test.event", entity: "test", entityId: "during")
      }
    }
    let check = try db.verifyAudit(observer: watcher)
    #expect(check.isOK, "\(check.problems)")
    #expect(try db.verifyAudit().isOK, "the write made meanwhile verifies next time")
  }
}
