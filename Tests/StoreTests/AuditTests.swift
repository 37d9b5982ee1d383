import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

@Suite("Audited writes and the hash chain")
struct AuditTests {
  struct Boom: Error {}

  @Test func bodyErrorRollsBackEverything() throws {
    let db = try seededDatabase()
    let before = try count(db, "SELECT count(*) FROM audit_event")
    #expect(throws: Boom.self) {
      try db.audited(by: "alice") { db, audit in
        try db.execute(sql: "UPDATE service SET name = 'changed' WHERE id = 1")
        try audit.record(action: "service.rename", entity: "service", entityId: "1")
        throw Boom()
      }
    }
    #expect(try count(db, "SELECT count(*) FROM audit_event") == before)
    #expect(try count(db, "SELECT count(*) FROM service WHERE name = 'changed'") == 0)
    #expect(try db.verifyAuditChain() == .ok(count: before))
  }

  @Test func writeWithoutAuditIsRefused() throws {
    let db = try seededDatabase()
    #expect(throws: StoreError.unauditedWrite(operatorName: "alice")) {
      try db.audited(by: "alice") { db, _ in
        try db.execute(sql: "UPDATE service SET name = 'sneaky' WHERE id = 1")
      }
    }
    #expect(try count(db, "SELECT count(*) FROM service WHERE name = 'sneaky'") == 0)
  }

  @Test func bodyThatChangesNothingNeedsNoEvent() throws {
    let db = try seededDatabase()
    let before = try count(db, "SELECT count(*) FROM audit_event")
    let answer = try db.audited(by: "alice") { db, _ in
      try Int.fetchOne(db, sql: "SELECT count(*) FROM service") ?? 0
    }
    #expect(answer > 0)
    #expect(try count(db, "SELECT count(*) FROM audit_event") == before)
    // Registering an operator that another console registered meanwhile is not an error.
    let first = try db.ensureOperator(name: "zoë", role: .reviewer)
    let again = try db.audited(by: "zoë") { db, audit in
      try Int64.fetchOne(db, sql: "SELECT id FROM operator WHERE name = 'zoë'")
    }
    #expect(again == first.id)
  }

  @Test func auditRowsCannotBeUpdatedOrDeletedThroughSQL() throws {
    let db = try seededDatabase()
    #expect(throws: DatabaseError.self) {
      try db.writer.write { try $0.execute(sql: "UPDATE audit_event SET operator = 'x'") }
    }
    #expect(throws: DatabaseError.self) {
      try db.writer.write { try $0.execute(sql: "DELETE FROM audit_event WHERE id = 1") }
    }
  }

  @Test func chainVerifiesAndLinks() throws {
    let db = try seededDatabase()
    let events = try db.auditPage(beforeId: nil, limit: 100)
    #expect(events.count == 4)
    #expect(events.map(\.id) == [4, 3, 2, 1])
    #expect(events.last?.prevHash == String(repeating: "0", count: 64))
    for (newer, older) in zip(events, events.dropFirst()) {
      #expect(newer.prevHash == older.hash)
    }
    #expect(try db.verifyAuditChain() == .ok(count: 4))
    #expect(events[0].detailsJSON.contains("\"after\""))
  }

  /// Simulates tampering with the sqlite3 shell: drop the guards, then edit.
  static func tamper(_ db: AppDatabase, _ sql: String) throws {
    try db.writer.write { db in
      try db.execute(
        sql: """
          DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete;
          \(sql)
          """)
    }
  }

  @Test func detectsAnEditedRow() throws {
    let db = try seededDatabase()
    try Self.tamper(db, "UPDATE audit_event SET operator = 'mallory' WHERE id = 3")
    guard case .broken(let id, let reason) = try db.verifyAuditChain() else {
      Issue.record("edit not detected")
      return
    }
    #expect(id == 3)
    #expect(reason.contains("edited"))
  }

  @Test func detectsAnEditWithARecomputedHash() throws {
    let db = try seededDatabase()
    let row = try #require(try db.auditPage(beforeId: 3, limit: 1).first)
    let forged = AuditChain.hash(
      prev: row.prevHash, at: row.at, operatorName: "mallory", action: row.action,
      entity: row.entity, entityId: row.entityId, detailsJSON: row.detailsJSON)
    try Self.tamper(
      db, "UPDATE audit_event SET operator = 'mallory', hash = '\(forged)' WHERE id = 2")
    #expect(try db.verifyAuditChain().isOK == false)
    guard case .broken(let id, _) = try db.verifyAuditChain() else { return }
    #expect(id == 2)  // its MAC cannot be recomputed without the audit key
  }

  @Test func detectsADeletedRow() throws {
    let db = try seededDatabase()
    try Self.tamper(db, "DELETE FROM audit_event WHERE id = 2")
    guard case .broken(let id, let reason) = try db.verifyAuditChain() else {
      Issue.record("deletion not detected")
      return
    }
    #expect(id == 3)
    #expect(reason.contains("deleted"))
  }

  @Test func detectsDeletedRowsAtTheEnd() throws {
    let db = try seededDatabase()
    try Self.tamper(db, "DELETE FROM audit_event WHERE id >= 3")
    guard case .broken(let id, let reason) = try db.verifyAuditChain() else {
      Issue.record("deletion at the end not detected")
      return
    }
    #expect(id == 3)
    #expect(reason.contains("end"))
  }

  @Test func auditPageFiltersByActionPrefix() throws {
    let db = sharedDemo
    let consent = try db.auditPage(beforeId: nil, limit: 50, actionPrefix: "consent.")
    #expect(!consent.isEmpty)
    #expect(consent.allSatisfy { $0.action.hasPrefix("consent.") })
    #expect(consent.map(\.id) == consent.map(\.id).sorted(by: >))
    let expected = try db.writer.read { db in
      try Int64.fetchAll(
        db,
        sql: "SELECT id FROM audit_event WHERE action LIKE 'consent.%' ORDER BY id DESC LIMIT 50")
    }
    #expect(consent.map(\.id) == expected)
    let older = try db.auditPage(beforeId: consent.last!.id, limit: 10, actionPrefix: "report")
    #expect(older.allSatisfy { $0.id < consent.last!.id && $0.action.hasPrefix("report") })
    // Paging back towards newer events gives the same rows, still newest first.
    let newer = try db.auditPage(
      afterId: consent.last!.id - 1, limit: 49, actionPrefix: "consent.")
    #expect(newer.map(\.id) == Array(consent.map(\.id).suffix(49)))
    let plainNewer = try db.auditPage(afterId: 10, limit: 3)
    #expect(plainNewer.map(\.id) == [13, 12, 11])
    let all = try db.auditPage(beforeId: nil, limit: 5)
    #expect(all.first?.id == Int64(try db.auditCount()))
  }
}
