import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

@Suite("Audit verify finds edited and deleted rows")
struct AuditTamperTests {
  /// A file database with a dozen events, and raw SQL with the append-only triggers dropped
  /// (as someone with the sqlite3 shell could).
  static func tampered(_ sql: String) throws -> AuditVerification {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try AppDatabase.open(
      path: folder.file("audit.sqlite"), clock: { fixedNow }, auditKey: folder.auditKey)
    try db.ensureOperator(name: "alice", role: .reviewer)
    for n in 0..<10 {
      try db.createService(code: "svc-\(n)", name: "S\(n)", kind: .hosting, by: "alice")
    }
    #expect(try db.verifyAuditChain() == .ok(count: 11))
    try db.writer.write { db in
      try db.execute(
        sql: "DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete; " + sql)
    }
    return try db.verifyAuditChain()
  }

  @Test func editedRowIsNamed() throws {
    let result = try Self.tampered(
      "UPDATE audit_event SET details_json = replace(details_json, 'S4', 'S9') WHERE id = 6")
    #expect(result == .broken(eventId: 6, reason: "its contents were edited (hash mismatch)"))
  }

  @Test func editedRowWithARecomputedHashBreaksTheNextLink() throws {
    let result = try Self.tampered(
      "UPDATE audit_event SET hash = 'ff' || substr(hash, 3) WHERE id = 4")
    #expect(result.isOK == false)
    guard case .broken(let id, _) = result else { return }
    #expect(id == 4)
  }

  @Test func deletedRowIsNamed() throws {
    let result = try Self.tampered("DELETE FROM audit_event WHERE id = 7")
    guard case .broken(let id, let reason) = result else {
      Issue.record("expected a broken chain")
      return
    }
    #expect(id == 8)
    #expect(reason.contains("7"))
  }

  @Test func deletedTailIsFound() throws {
    let result = try Self.tampered("DELETE FROM audit_event WHERE id >= 10")
    guard case .broken(let id, _) = result else {
      Issue.record("expected a broken chain")
      return
    }
    #expect(id == 10)
  }
}
