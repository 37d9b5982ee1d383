import Compliance
import GRDB

// MARK: - Accounts and consent

extension AppDatabase {
  /// Accounts whose provider id or pseudonym starts with `prefix` (pseudonyms compared in
  /// lower case), by provider id; two indexed range scans, at most `limit` rows each.
  /// `after` pages on: only accounts whose provider id sorts after it (the last one shown).
  ///
  /// The prefix is taken in NFC, and also as given when that differs: an id pasted in NFD
  /// finds the twin holding exactly that spelling as well (see
  /// ``account(_:externalId:)``), not only the account in NFC.
  public func searchAccounts(prefix: String, limit: Int, after: String? = nil) throws
    -> [AccountSummary]
  {
    let normalized = Identifier.normalized(prefix)
    let found = try searchAccounts(spelling: normalized, limit: limit, after: after)
    guard !normalized.utf8.elementsEqual(prefix.utf8) else { return found }
    let spelt = try searchAccounts(spelling: prefix, limit: limit, after: after)
    var seen = Set<Int64>()
    // By provider id as SQLite orders it (bytes): Swift's < takes NFD and NFC as one.
    return (found + spelt).filter { seen.insert($0.id).inserted }
      .sorted { $0.externalId.utf8.lexicographicallyPrecedes($1.externalId.utf8) }
      .prefix(limit).map { $0 }
  }

  /// ``searchAccounts(prefix:limit:after:)`` for a prefix in one spelling, taken as it is.
  private func searchAccounts(spelling prefix: String, limit: Int, after: String?)
    throws -> [AccountSummary]
  {
    guard limit > 0 else { return [] }
    return try read { db in
      // Every string with the prefix sorts in [prefix, prefix + U+10FFFF) under BINARY
      // collation (UTF-8 byte order), so the unique indexes answer with a range scan.
      let high = "\u{10FFFF}"
      let lowered = prefix.lowercased()
      // The provider-id scan starts at the prefix, or just after the last account shown.
      let startAfter = after.map { $0 >= prefix } ?? false
      let rows = try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT * FROM (SELECT id, external_id, pseudonym, created_at FROM account
              WHERE \(startAfter ? "external_id > ?5" : "external_id >= ?1")
                AND external_id < ?1 || ?3
              ORDER BY external_id LIMIT ?4)
            UNION
            SELECT * FROM (SELECT id, external_id, pseudonym, created_at FROM account
              WHERE pseudonym >= ?2 AND pseudonym < ?2 || ?3
                AND (?5 IS NULL OR external_id > ?5)
              ORDER BY pseudonym LIMIT ?4)
            ORDER BY external_id LIMIT ?4
            """), arguments: [prefix, lowered, high, limit, after])
      return rows.map(AccountSummary.init(row:))
    }
  }

  /// One account, or nil.
  public func account(id: Int64) throws -> AccountSummary? {
    try read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM account WHERE id = ?", arguments: [id])
        .map(AccountSummary.init(row:))
    }
  }

  /// An account's consent events, oldest first.
  public func consentHistory(accountId: Int64) throws -> [ConsentEventRow] {
    try read { db in
      let table = "consent_event"
      return try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT e.*, s.code AS service_code, s.name AS service_name,
              o.name AS operator_name
            FROM consent_event e
            JOIN service s ON s.id = e.service_id
            LEFT JOIN operator o ON o.id = e.operator_id
            WHERE e.account_id = ?
            ORDER BY e.occurred_at, e.rowid
            """), arguments: [accountId]
      ).map { row in
        ConsentEventRow(
          eventId: row["event_id"], accountId: row["account_id"],
          serviceId: row["service_id"], serviceCode: row["service_code"],
          serviceName: row["service_name"],
          state: try row.code(ConsentState.self, "state", table: table),
          occurredAt: row["occurred_at"],
          source: try row.code(ConsentSource.self, "source", table: table),
          termsVersion: row["terms_version"], operatorName: row["operator_name"],
          reason: row["reason"])
      }
    }
  }

  /// An account's current consent on every service (`not_asked` where nothing was recorded),
  /// by service code.
  public func consentStates(accountId: Int64) throws -> [ServiceConsent] {
    try read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT s.id, s.code, s.name, c.state, c.updated_at
            FROM service s
            LEFT JOIN consent_current c ON c.service_id = s.id AND c.account_id = ?
            ORDER BY s.code
            """), arguments: [accountId]
      ).map { row in
        ServiceConsent(
          serviceId: row["id"], serviceCode: row["code"], serviceName: row["name"],
          state: try row.optionalCode(ConsentState.self, "state", table: "consent_current")
            ?? .notAsked,
          updatedAt: row["updated_at"])
      }
    }
  }
}

extension AccountSummary {
  /// The account of a row with its `id`, `external_id`, `pseudonym` and `created_at`.
  init(row: Row) {
    self.init(
      id: row["id"], externalId: row["external_id"], pseudonym: row["pseudonym"],
      createdAt: row["created_at"])
  }
}
