import Compliance
import Foundation
import GRDB
import Synchronization
import Testing

@testable import Store

@Suite("Group commit")
struct GroupCommitTests {
  static func database(_ folder: TempFolder) throws -> AppDatabase {
    let db = try AppDatabase.open(path: folder.file("group.sqlite"), auditKey: folder.auditKey)
    try db.ensureOperator(name: "service", role: .reviewer)
    try db.createService(code: "chat-eu", name: "Chat", kind: .messaging, by: "service")
    return db
  }

  static func item(priority: Int = 1) -> NewFlaggedItem {
    NewFlaggedItem(
      kind: .knownMatch, priority: priority, serviceId: 1, accountId: nil,
      mediaPath: "/u/x", bank: "known")
  }

  /// Waits for `condition`, checked every millisecond; throws after `seconds` rather than
  /// hanging the suite.
  static func waitUntil(
    _ what: String, seconds: Double = 60, _ condition: () -> Bool
  ) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
      guard Date() < deadline else { throw TimedOut(what: what) }
      usleep(1_000)
    }
  }

  /// A wait that did not end.
  struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
  }

  /// Writes that arrive while a transaction runs share the next one; one failing write
  /// rolls back alone; each caller returns only after its transaction committed.
  @Test func waitingWritesShareOneTransactionAndFailAlone() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try Self.database(folder)
    let group = GroupCommit(database: db, operatorName: "service")
    // Another process holds the write lock, so the first write (the leader) waits in BEGIN.
    let other = try AppDatabase.open(
      path: folder.file("group.sqlite"), auditKey: folder.auditKey)
    let results = Mutex<[Int: Result<[Int64], any Error>]>([:])
    let done = DispatchGroup()
    func submit(_ n: Int, priority: Int) {
      done.enter()
      Thread.detachNewThread {
        defer { done.leave() }
        let result = Result {
          try group.createFlaggedItems([Self.item(priority: priority)], source: "scan")
        }
        results.withLock { $0[n] = result }
      }
    }
    try other.writer.writeWithoutTransaction { db in
      try db.execute(sql: "BEGIN IMMEDIATE")
      defer { try? db.execute(sql: "ROLLBACK") }
      submit(0, priority: 1)
      // The leader took its batch (itself). Checking only that nobody waited once let the
      // test go on before the first write had even started, and then wait forever below.
      try Self.waitUntil("the first write to lead") { group.isLeading && group.waiting == 0 }
      submit(1, priority: 1)
      submit(2, priority: 9)  // invalid: rolls back alone
      submit(3, priority: 2)
      try Self.waitUntil("three writes to wait") { group.waiting == 3 }
      #expect(results.withLock { $0.isEmpty }, "nothing is acknowledged before its commit")
    }
    done.wait()
    let final = results.withLock { $0 }
    #expect(final.count == 4)
    #expect((try? final[0]?.get())?.count == 1)
    #expect((try? final[1]?.get())?.count == 1)
    #expect((try? final[3]?.get())?.count == 1)
    #expect(throws: StoreError.self) { try final[2]!.get() }
    #expect(group.batches.transactions == 2)
    #expect(group.batches.writes == 4)
    let rows = try db.writer.read {
      try Int.fetchOne($0, sql: "SELECT count(*) FROM flagged_item")
    }
    #expect(rows == 3)
    let events = try db.writer.read {
      try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_event WHERE action = 'flag.create'")
    }
    #expect(events == 3, "the failed write's audit event rolled back with it")
    #expect(try db.verifyAuditChain().isOK)
  }

  /// Many threads at once: every acknowledged write is there, once.
  @Test func concurrentWritersAllLand() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try Self.database(folder)
    let group = GroupCommit(database: db, operatorName: "service")
    let ids = Mutex<[Int64]>([])
    let done = DispatchGroup()
    for _ in 0..<8 {
      done.enter()
      Thread.detachNewThread {
        defer { done.leave() }
        for _ in 0..<25 {
          if let made = try? group.createFlaggedItems([Self.item()], source: "scan") {
            ids.withLock { $0 += made }
          }
        }
      }
    }
    done.wait()
    let all = ids.withLock { $0 }
    #expect(all.count == 200)
    #expect(Set(all).count == 200)
    let rows = try db.writer.read {
      try Int.fetchOne($0, sql: "SELECT count(*) FROM flagged_item")
    }
    #expect(rows == 200)
    #expect(group.batches.writes == 200)
    #expect(try db.verifyAuditChain().isOK)
  }
}
