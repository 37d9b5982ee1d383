import GRDB

// MARK: - Reading a whole bank (for `csar bank export`)

extension AppDatabase {
  /// Calls `body` with every hash of bank `name` in (type, hash) order, streaming, in one read
  /// snapshot; returns the bank. Throws ``StoreError/notFound(entity:id:)`` for an unknown bank.
  @discardableResult
  public func forEachBankHash(name: String, _ body: (BankHashEntry) throws -> Void) throws
    -> BankRow
  {
    try read { db in
      let bank = try Self.bankRow(db, name: name)
      let rows = try Row.fetchCursor(
        db,
        sql: """
          SELECT type, hash, label, source_id, metadata FROM bank_hash
          WHERE bank_id = ? AND (import_id IS NULL OR import_id IS NOT ?) ORDER BY type, hash
          """,
        arguments: [bank.id, bank.pendingImport?.id])
      while let row = try rows.next() {
        let typeText: String = row[0]
        guard let type = BankHashType(rawValue: typeText) else {
          throw StoreError.invalidValue(
            field: "bank_hash.type", value: typeText, reason: "unknown hash type")
        }
        try body(
          BankHashEntry(
            type: type, hash: row[1], label: row[2], sourceId: row[3], metadata: row[4]))
      }
      return bank
    }
  }
}

extension AppDatabase {
  /// Records that bank `name` was exported (`bank.export`: format, hashes written, where to).
  public func recordBankExport(
    name: String, format: String, hashes: Int, destination: String, by operatorName: String
  ) throws {
    try audited(by: operatorName) { db, audit in
      let bank = try Self.bankRow(db, name: name)
      try audit.record(
        action: "bank.export", entity: "bank", entityId: String(bank.id), before: nil,
        after: [
          "name": .string(name), "format": .string(format), "hashes": .int(Int64(hashes)),
          "destination": .string(destination),
        ])
    }
  }
}
