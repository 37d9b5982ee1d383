import Foundation
import GRDB

// MARK: - v4-bank-sha1: SHA-1 digests and metadata in hash banks

extension Schema {
  /// Hash banks take SHA-1 digests (NCMEC fingerprint lists use them) and keep the extra
  /// columns or fields of a list as `metadata`, a JSON object of text values (NULL: none).
  ///
  /// SQLite cannot change a CHECK constraint in place, so `bank_hash` is rebuilt from its own
  /// stored definition with `sha1` added to the type list (``allowBankHashTypes(_:in:)``):
  /// every column, index and trigger present at that moment is kept, including ones added by
  /// migrations registered before this one.
  static func v4BankSHA1(_ db: Database) throws {
    try allowBankHashTypes(["sha1"], in: db)
    try db.execute(sql: "ALTER TABLE bank_hash ADD COLUMN metadata TEXT")
  }

  /// Rebuilds `bank_hash` so that its `CHECK (type IN (...))` also admits `types`: the table's
  /// stored `CREATE TABLE` text with the list extended, every row copied column by column, then
  /// its indexes and triggers re-created from their stored text. For use inside a migration
  /// (foreign keys are checked after it); types already admitted are left as they are.
  static func allowBankHashTypes(_ types: [String], in db: Database) throws {
    guard
      let create = try String.fetchOne(
        db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'bank_hash'")
    else { throw StoreError.invalidValue(field: "bank_hash", value: "", reason: "no such table") }
    guard let extended = extendTypeCheck(create, with: types) else {
      throw StoreError.invalidValue(
        field: "bank_hash", value: create, reason: "no CHECK (type IN (...)) to extend")
    }
    guard extended != create else { return }
    let dependents = try String.fetchAll(
      db,
      sql: """
        SELECT sql FROM sqlite_master
        WHERE tbl_name = 'bank_hash' AND type IN ('index', 'trigger') AND sql IS NOT NULL
        ORDER BY type, name
        """)
    let columns = try db.columns(in: "bank_hash").map { $0.name.quotedDatabaseIdentifier }
      .joined(separator: ", ")
    guard let open = extended.firstIndex(of: "(") else { return }
    try db.execute(sql: "CREATE TABLE bank_hash_rebuilt " + extended[open...])
    try db.execute(
      sql: "INSERT INTO bank_hash_rebuilt (\(columns)) SELECT \(columns) FROM bank_hash")
    try db.execute(sql: "DROP TABLE bank_hash")
    try db.execute(sql: "ALTER TABLE bank_hash_rebuilt RENAME TO bank_hash")
    for sql in dependents { try db.execute(sql: sql) }
  }

  /// `create` with `types` appended to the list of its `CHECK (type IN (...))`, or nil when it
  /// has no such list.
  static func extendTypeCheck(_ create: String, with types: [String]) -> String? {
    let pattern = #"CHECK\s*\(\s*type\s+IN\s*\("#
    guard let check = create.range(of: pattern, options: .regularExpression),
      let close = create[check.upperBound...].firstIndex(of: ")")
    else { return nil }
    let listed = create[check.upperBound..<close]
    let missing = types.filter { !listed.contains("'\($0)'") }
    guard !missing.isEmpty else { return create }
    let added = missing.map { ", '\($0)'" }.joined()
    return String(create[..<close]) + added + String(create[close...])
  }
}
