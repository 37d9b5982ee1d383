import GRDB
import GRDBSQLite

#if canImport(Glibc)
  import Glibc
#endif

// MARK: - Prepared statements driven through the SQLite C API, for bulk loops

/// A cached GRDB statement bound and stepped directly through the SQLite C API.
///
/// For loops that run one statement a million times (consent imports), GRDB's per-call
/// argument conversion and bookkeeping cost more than SQLite's own work. Use only inside a
/// transaction that GRDB opened (a read's snapshot, or a write); nothing here observes
/// changes (csar has no GRDB observers), and `Database.changesCount` / `lastInsertedRowID`
/// stay valid.
struct BulkStatement {
  private let statement: Statement
  private let connection: SQLiteConnection?
  private var handle: SQLiteStatement { statement.sqliteStatement }

  /// Prepares (or takes from GRDB's cache) the statement for `sql`; with `cached` false it is
  /// prepared for this use only (a statement made for one odd number of rows).
  init(_ db: Database, sql: String, cached: Bool = true) throws {
    statement = try cached ? db.cachedStatement(sql: sql) : db.makeStatement(sql: sql)
    connection = db.sqliteConnection
  }

  /// Binds text to the 1-based parameter `index` (SQLite copies it).
  func bind(_ index: Int32, _ text: String) {
    var text = text
    text.withUTF8 { bytes in
      bytes.withMemoryRebound(to: CChar.self) { chars in
        _ = sqlite3_bind_text(
          handle, index, chars.baseAddress, Int32(chars.count), Self.transient)
      }
    }
  }

  /// Binds text, or NULL when nil.
  func bind(_ index: Int32, _ text: String?) {
    if let text { bind(index, text) } else { sqlite3_bind_null(handle, index) }
  }

  func bind(_ index: Int32, _ value: Int64) {
    sqlite3_bind_int64(handle, index, value)
  }

  /// Runs the statement to completion and resets it, handing each row it returns (a
  /// `RETURNING` clause) to `row`; throws SQLite's error.
  func execute(_ row: (BulkRow) -> Void = { _ in }) throws {
    var code = sqlite3_step(handle)
    while code == SQLITE_ROW {
      row(BulkRow(handle: handle))
      code = sqlite3_step(handle)
    }
    let reset = sqlite3_reset(handle)
    sqlite3_clear_bindings(handle)
    guard code == SQLITE_DONE else {
      let message = connection.map { String(cString: sqlite3_errmsg($0)) }
      throw DatabaseError(
        resultCode: ResultCode(rawValue: reset != SQLITE_OK ? reset : code), message: message,
        sql: statement.sql)
    }
  }

  /// `SQLITE_TRANSIENT`: SQLite copies bound text before the call returns.
  private static let transient = unsafeBitCast(
    OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}

/// The current row of a ``BulkStatement`` (valid only inside the callback).
struct BulkRow {
  let handle: SQLiteStatement

  func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

  func text(_ column: Int32) -> String {
    guard let bytes = sqlite3_column_text(handle, column) else { return "" }
    return String(cString: bytes)
  }

  /// Whether a text column holds exactly the UTF-8 bytes of `text` (no String is made).
  func text(_ column: Int32, equals text: String) -> Bool {
    guard let bytes = sqlite3_column_text(handle, column) else { return false }
    let count = Int(sqlite3_column_bytes(handle, column))
    var text = text
    return text.withUTF8 { utf8 in
      utf8.count == count && (count == 0 || memcmp(utf8.baseAddress!, bytes, count) == 0)
    }
  }
}

// MARK: - Multi-row inserts

/// One value of a ``BulkInserter`` row.
enum BulkValue {
  case text(String)
  case int(Int64)
  case null

  init(_ text: String?) { self = text.map { .text($0) } ?? .null }
}

/// Inserts rows `rowsPerStatement` at a time (`INSERT … VALUES (…), (…), …`): SQLite's cost
/// of starting a statement is paid once per group instead of once per row.
///
/// Rows are written by ``flush()`` (and when a group is full), in the order appended.
struct BulkInserter {
  private let db: Database
  private let head: String
  private let tail: String
  private let columns: Int
  private let rowsPerStatement: Int
  private var pending: [BulkValue] = []
  private var full: BulkStatement?
  /// Rows the statements run so far inserted, updated or deleted (SQLite's count of changes:
  /// a row an `INSERT OR IGNORE` left out is not one).
  private(set) var changes = 0

  /// `head` is `INSERT INTO table (a, b, c) VALUES`, `tail` what follows the rows (an
  /// `ON CONFLICT` clause, or empty).
  init(
    _ db: Database, head: String, columns: Int, tail: String = "", rowsPerStatement: Int = 256
  ) {
    self.db = db
    self.head = head
    self.tail = tail
    self.columns = columns
    self.rowsPerStatement = rowsPerStatement
    pending.reserveCapacity(columns * rowsPerStatement)
  }

  /// Queues the next value: rows are `columns` values in a row, in column order. (One call
  /// per value, not a row at once: a variadic row would be an array, allocated for each row.)
  mutating func add(_ value: BulkValue) throws {
    pending.append(value)
    if pending.count == columns * rowsPerStatement {
      if full == nil { full = try statement(rows: rowsPerStatement) }
      try run(full!)
    }
  }

  /// Writes the queued rows.
  mutating func flush() throws {
    guard !pending.isEmpty else { return }
    precondition(pending.count % columns == 0, "a row of fewer than \(columns) values")
    try run(try statement(rows: pending.count / columns))
  }

  /// The statement for `rows` rows: cached when full (used again and again), else made for
  /// this flush (caching every remainder's size would keep up to `rowsPerStatement` large
  /// statements).
  private func statement(rows: Int) throws -> BulkStatement {
    let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
    let values = Array(repeating: row, count: rows).joined(separator: ", ")
    return try BulkStatement(
      db, sql: "\(head) \(values) \(tail)", cached: rows == rowsPerStatement)
  }

  private mutating func run(_ statement: BulkStatement) throws {
    for (k, value) in pending.enumerated() {
      let index = Int32(k + 1)
      switch value {
      case .text(let text): statement.bind(index, text)
      case .int(let n): statement.bind(index, n)
      case .null: statement.bind(index, nil as String?)
      }
    }
    pending.removeAll(keepingCapacity: true)
    try statement.execute()
    changes += db.changesCount
  }
}
