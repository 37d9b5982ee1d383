import GRDB
import Testing

@testable import Store

@Suite("Bulk statements")
struct BulkStatementTests {
  @Test func insertsFullGroupsAndTheRestInOrder() throws {
    let db = try AppDatabase.inMemory()
    try db.writer.write { db in
      try db.execute(sql: "CREATE TABLE t (a INTEGER NOT NULL, b TEXT, c TEXT UNIQUE)")
      var inserter = BulkInserter(
        db, head: "INSERT INTO t (a, b, c) VALUES", columns: 3, rowsPerStatement: 8)
      for n in 0..<21 {
        try inserter.add(.int(Int64(n)))
        try inserter.add(BulkValue(n % 2 == 0 ? "é\(n)" : nil))
        try inserter.add(.text("k\(n)"))
      }
      #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 16)
      try inserter.flush()
      let rows = try Row.fetchAll(db, sql: "SELECT a, b FROM t ORDER BY rowid")
      #expect(rows.map { $0["a"] as Int } == Array(0..<21))
      #expect(rows[2]["b"] as String? == "é2")
      #expect(rows[3]["b"] as String? == nil)

      // A constraint failure is SQLite's error, with the statement.
      for value: BulkValue in [.int(99), .null, .text("k3")] { try inserter.add(value) }
      #expect(throws: DatabaseError.self) { try inserter.flush() }
      #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 21)
    }
  }
}
