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
}

final class ErrorBox: @unchecked Sendable {
  private let lock = NSLock()
  private var errors: [String] = []
  func add(_ e: String) { lock.withLock { errors.append(e) } }
  var all: [String] { lock.withLock { errors } }
}
