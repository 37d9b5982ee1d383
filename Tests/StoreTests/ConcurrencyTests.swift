import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

@Suite("Two writers on one file")
struct ConcurrencyTests {
  @Test func twoConnectionsWriteConcurrently() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("shared.sqlite")
    let first = try AppDatabase.open(path: path, auditKey: folder.auditKey)
    try first.ensureOperator(name: "alice", role: .reviewer)
    try first.ensureOperator(name: "chen", role: .reviewer)
    try first.createService(code: "chat-eu", name: "Café Chat", kind: .messaging, by: "alice")
    try first.writer.write { db in
      for n in 1...100 {
        try db.execute(
          sql: "INSERT INTO account (id, external_id, pseudonym, created_at) VALUES (?, ?, ?, 0)",
          arguments: [n, "A\(n)", "u-\(n)"])
      }
    }
    // A second, independent connection pool: as a second csar process would open it.
    let second = try AppDatabase.open(path: path, auditKey: folder.auditKey)
    let errors = ErrorBox()
    let group = DispatchGroup()
    for (db, name, accounts) in [(first, "alice", 1...50), (second, "chen", 51...100)] {
      group.enter()
      Thread.detachNewThread {
        defer { group.leave() }
        do {
          for account in accounts {
            try db.recordConsentChange(
              accountId: Int64(account), serviceId: 1, to: .granted, source: .app,
              termsVersion: "t", reason: nil, by: name)
            try db.recordConsentChange(
              accountId: Int64(account), serviceId: 1, to: .withdrawn, source: .support,
              termsVersion: "t", reason: "asked", by: name)
            _ = try db.dashboard(today: fixedToday)
          }
        } catch {
          errors.add("\(error)")
        }
      }
    }
    group.wait()
    #expect(errors.all.isEmpty)
    #expect(try first.verifyAuditChain() == .ok(count: 3 + 200))
    #expect(try second.dashboard(today: fixedToday).consent[0].withdrawn == 100)
  }

  /// A write behind another connection's transaction tries again every millisecond through
  /// csar's own handler, not SQLite's busy timeout, whose sleeps grow to 100 ms: a console's
  /// write behind a consent import missed the few milliseconds between its batches and waited
  /// up to 2.5 s (bench consent, import under writes).
  @Test func aWriteWaitingForTheLockTriesAgainEveryMillisecond() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("shared.sqlite")
    let first = try AppDatabase.open(path: path, auditKey: folder.auditKey)
    try first.ensureOperator(name: "alice", role: .reviewer)
    let second = try AppDatabase.open(path: path, auditKey: folder.auditKey)
    for db in [first, second] {
      let sqliteTimeout = try db.writer.writeWithoutTransaction {
        try Int.fetchOne($0, sql: "PRAGMA busy_timeout")
      }
      #expect(sqliteTimeout == 0)
    }
    #expect(AppDatabase.lockRetryMicroseconds == 1_000)
    let limit = Int(AppDatabase.busyTimeout * 1_000_000) / Int(AppDatabase.lockRetryMicroseconds)
    #expect(AppDatabase.retryLock(0))
    #expect(AppDatabase.retryLock(limit - 1))
    #expect(!AppDatabase.retryLock(limit))

    // The second connection's write waits while the first holds the lock, then goes through.
    let holding = DispatchSemaphore(value: 0)
    let released = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
      try? first.writer.write { db in
        try db.execute(sql: "UPDATE operator SET role = role")
        holding.signal()
        usleep(200_000)
      }
      released.signal()
    }
    holding.wait()
    try second.createService(code: "chat-eu", name: "Chat", kind: .messaging, by: "alice")
    released.wait()
    #expect(try first.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM service") } == 1)
  }
}

final class ErrorBox: @unchecked Sendable {
  private let lock = NSLock()
  private var errors: [String] = []
  func add(_ e: String) { lock.withLock { errors.append(e) } }
  var all: [String] { lock.withLock { errors } }
}
