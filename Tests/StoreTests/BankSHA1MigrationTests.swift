import Foundation
import GRDB
import Testing

@testable import Store

/// `v4-bank-sha1`: SHA-1 in banks and a metadata column, by rebuilding `bank_hash` from its own
/// definition so rows and anything earlier migrations added survive.
@Suite("Bank SHA-1 migration")
struct BankSHA1MigrationTests {
  @Test func rebuildKeepsRowsColumnsIndexesAndTriggersAndAdmitsSHA1() throws {
    let queue = try DatabaseQueue()
    var migrator = Schema.migrator
    migrator.eraseDatabaseOnSchemaChange = false
    try migrator.migrate(queue, upTo: "v3-audit-keyed")
    try queue.write { db in
      try db.execute(
        sql: """
          INSERT INTO bank (id, name, created_at) VALUES (1, 'known', 0);
          INSERT INTO bank_hash (id, bank_id, type, hash, label, source_id)
            VALUES (7, 1, 'md5', '\(String(repeating: "0f", count: 16))', 'ring', 'S-1');
          -- What another capability's earlier migration might have added.
          ALTER TABLE bank_hash ADD COLUMN added_in INTEGER;
          UPDATE bank_hash SET added_in = 3;
          CREATE INDEX bank_hash_by_added ON bank_hash(added_in);
          CREATE TABLE hash_log (n INTEGER);
          CREATE TRIGGER bank_hash_logged AFTER INSERT ON bank_hash BEGIN
            INSERT INTO hash_log VALUES (NEW.id);
          END;
          """)
      #expect(throws: DatabaseError.self) {
        try db.execute(
          sql: "INSERT INTO bank_hash (bank_id, type, hash) VALUES (1, 'sha1', 'aa')")
      }
    }
    try migrator.migrate(queue)
    try queue.write { db in
      let row = try Row.fetchOne(
        db, sql: "SELECT id, type, label, source_id, added_in, metadata FROM bank_hash")
      #expect(row?["id"] == 7 as Int64)
      #expect(row?["label"] == "ring" && row?["source_id"] == "S-1")
      #expect(row?["added_in"] == 3 as Int64)
      #expect(row?["metadata"] == nil as String?)
      let indexes = try String.fetchAll(
        db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'bank_hash'")
      #expect(indexes.contains("bank_hash_by_added") && indexes.contains("bank_hash_by_bank"))
      try db.execute(
        sql: """
          INSERT INTO bank_hash (bank_id, type, hash, metadata)
            VALUES (1, 'sha1', '\(String(repeating: "1", count: 40))', '{"collab":"x"}')
          """)
      #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM hash_log") == 1)
      #expect(throws: DatabaseError.self) {
        try db.execute(sql: "INSERT INTO bank_hash (bank_id, type, hash) VALUES (1, 'crc', 'a')")
      }
      #expect(try db.foreignKeyViolations().map { _ in 1 }.isEmpty)
    }
  }

  @Test func extendingTheCheckAddsOnlyMissingTypes() {
    let create = "CREATE TABLE t (type TEXT CHECK (type IN ('pdq', 'md5')), x INTEGER)"
    #expect(
      Schema.extendTypeCheck(create, with: ["sha1", "md5"])
        == "CREATE TABLE t (type TEXT CHECK (type IN ('pdq', 'md5', 'sha1')), x INTEGER)")
    #expect(Schema.extendTypeCheck(create, with: ["pdq"]) == create)
    #expect(Schema.extendTypeCheck("CREATE TABLE t (type TEXT)", with: ["sha1"]) == nil)
  }
}
