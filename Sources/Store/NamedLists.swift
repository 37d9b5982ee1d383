import GRDB

// MARK: - Finding or creating a named list (a bank or a URL list)

/// A kind of named list an import writes into, with what a new one starts with.
enum NamedListKind {
  /// A hash bank (known images, digests, videos), created with this PDQ threshold.
  case bank(threshold: Int)
  /// A URL list.
  case urlList
}

extension AppDatabase {
  /// The id of the list `name` of `kind`, created (enabled, at `at`) when missing; `created`
  /// says which. A new bank never takes the id of a deleted one (its versions keep that id
  /// as evidence). For use inside an import's audited transaction.
  static func findOrCreateList(
    _ db: Database, _ kind: NamedListKind, name: String, at: Int64
  ) throws -> (id: Int64, created: Bool) {
    let table =
      switch kind {
      case .bank: "bank"
      case .urlList: "url_list"
      }
    if let id = try Int64.fetchOne(
      db.cachedStatement(sql: "SELECT id FROM \(table) WHERE name = ?"), arguments: [name])
    {
      return (id, false)
    }
    switch kind {
    case .bank(let threshold):
      try db.execute(sql: insertNewBank, arguments: [name, threshold, at])
    case .urlList:
      try db.execute(
        sql: "INSERT INTO url_list (name, enabled, created_at) VALUES (?, 1, ?)",
        arguments: [name, at])
    }
    return (db.lastInsertedRowID, true)
  }

  /// Creates an enabled bank (name, PDQ threshold, creation time) under a new id, never one
  /// of a deleted bank (its versions keep that id as evidence).
  static let insertNewBank = """
    INSERT INTO bank (id, name, enabled, pdq_threshold, created_at)
    VALUES (max(coalesce((SELECT max(id) FROM bank), 0),
      coalesce((SELECT max(bank_id) FROM bank_version), 0)) + 1, ?, 1, ?, ?)
    """
}
