import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

@Suite("Migrations and opening")
struct MigrationTests {
  static let tables = [
    "operator", "service", "questionnaire_version", "assessment", "mitigation_measure",
    "detection_order", "account", "consent_event", "consent_current", "flagged_item",
    "review_decision", "report", "report_item", "audit_event",
  ]

  @Test func migratesInMemoryFromEmpty() throws {
    let db = try AppDatabase.inMemory()
    let (tables, applied, foreignKeys) = try db.writer.read { db in
      (
        try Self.tables.filter { try db.tableExists($0) },
        try Schema.migrator.appliedIdentifiers(db),
        try Bool.fetchOne(db, sql: "PRAGMA foreign_keys")
      )
    }
    #expect(tables == Self.tables)
    #expect(applied.sorted() == Schema.migrator.migrations.sorted())
    #expect(applied.contains("v1"))
    #expect(foreignKeys == true)
  }

  @Test func migratesTempFileAndReopens() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("nested/deeper/csar.sqlite")
    do {
      let db = try AppDatabase.open(path: path, auditKey: folder.auditKey)
      try db.ensureOperator(name: "alice", role: .reviewer)
      let (mode, tables) = try db.writer.read { db in
        (
          try String.fetchOne(db, sql: "PRAGMA journal_mode"),
          try Self.tables.filter { try db.tableExists($0) }
        )
      }
      #expect(mode == "wal")
      #expect(tables == Self.tables)
    }
    let again = try AppDatabase.open(path: path, auditKey: folder.auditKey)
    #expect(try again.operators().map(\.name) == ["alice"])
    #expect(try again.verifyAuditChain() == .ok(count: 1))
  }

  @Test func notADatabaseNamesThePath() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("notes.sqlite")
    try String(repeating: "this is not a database\n", count: 200)
      .write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o600)
    #expect(throws: StoreError.notADatabase(path: path)) {
      try AppDatabase.open(path: path, auditKey: folder.auditKey)
    }
    #expect(StoreError.notADatabase(path: path).description.contains(path))
  }

  @Test func newerSchemaIsRefused() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("csar.sqlite")
    let first = try AppDatabase.open(path: path, auditKey: folder.auditKey)
    try first.writer.write { db in
      try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')")
    }
    #expect(throws: StoreError.newerSchema(path: path, unknownMigrations: ["v99"])) {
      try AppDatabase.open(path: path, auditKey: folder.auditKey)
    }
  }

  @Test func defaultPathFollowsXDG() {
    #expect(
      AppDatabase.defaultPath(environment: ["XDG_DATA_HOME": "/data", "HOME": "/home/a"])
        == "/data/csar/csar.sqlite")
    #expect(
      AppDatabase.defaultPath(environment: ["HOME": "/home/a"])
        == "/home/a/.local/share/csar/csar.sqlite")
    #expect(
      AppDatabase.defaultPath(environment: ["XDG_DATA_HOME": "relative", "HOME": "/home/a"])
        == "/home/a/.local/share/csar/csar.sqlite")
  }

  @Test func unknownCodeInARowIsADomainValueError() throws {
    let db = try seededDatabase()
    try db.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO flagged_item (id, kind, state, priority, service_id, created_at)
          VALUES (1, 'knwon_match', 'pending', 1, 1, 0)
          """)
    }
    do {
      _ = try db.flaggedItem(id: 1)
      Issue.record("expected a DomainValueError")
    } catch let error as DomainValueError {
      #expect(error.field == "flagged_item.kind")
      #expect(error.value == "knwon_match")
      #expect(error.description.contains("known_match"))
    }
    try db.writer.write { db in
      try db.execute(sql: "UPDATE service SET kind = 'blog' WHERE id = 2")
    }
    #expect(throws: DomainValueError.self) { try db.services(today: fixedToday) }
  }
}
