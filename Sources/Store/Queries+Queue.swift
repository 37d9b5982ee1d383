import Compliance
import Foundation
import GRDB

// MARK: - Review queue (keyset paging)

extension AppDatabase {
  /// Up to `limit` items after `cursor` (from the top when nil) in queue order: priority ASC,
  /// created_at ASC, id ASC. Cost depends on `limit`, not on the size of the queue.
  public func queuePage(filter: QueueFilter, after cursor: QueueCursor?, limit: Int) throws
    -> [QueueItem]
  {
    try read { db in try Self.queuePage(db, filter: filter, cursor: cursor, forward: true, limit) }
  }

  /// Up to `limit` items just before `cursor`, returned in display order (ascending).
  public func queuePage(filter: QueueFilter, before cursor: QueueCursor, limit: Int) throws
    -> [QueueItem]
  {
    try read { db in
      try Self.queuePage(db, filter: filter, cursor: cursor, forward: false, limit).reversed()
    }
  }

  /// Number of items the filter matches (trigger-kept counters unless a bank is given).
  public func queueCount(filter: QueueFilter) throws -> Int {
    try read { db in
      let states = Self.stateList(filter.states)
      if states.isEmpty { return 0 }
      if filter.bank == nil {
        var sql = "SELECT coalesce(sum(n), 0) FROM flag_tally WHERE state IN (\(states))"
        var arguments: StatementArguments = []
        if let kind = filter.kind {
          sql += " AND kind = ?"
          arguments += [kind.rawValue]
        }
        if let service = filter.serviceId {
          sql += " AND service_id = ?"
          arguments += [service]
        }
        return try Int.fetchOne(db.cachedStatement(sql: sql), arguments: arguments) ?? 0
      }
      var total = 0
      for state in filter.states.sorted(by: { $0.rawValue < $1.rawValue }) {
        var sql = "SELECT count(*) FROM flagged_item WHERE state = ? AND bank = ?"
        var arguments: StatementArguments = [state.rawValue, filter.bank]
        if let kind = filter.kind {
          sql += " AND kind = ?"
          arguments += [kind.rawValue]
        }
        if let service = filter.serviceId {
          sql += " AND service_id = ?"
          arguments += [service]
        }
        total += try Int.fetchOne(db.cachedStatement(sql: sql), arguments: arguments) ?? 0
      }
      return total
    }
  }

  /// One item with its service and account, or nil.
  public func flaggedItem(id: Int64) throws -> QueueItem? {
    try read { db in
      try Row.fetchOne(
        db.cachedStatement(sql: Self.itemSelect + " WHERE f.id = ?"), arguments: [id]
      ).map(Self.queueItem)
    }
  }

  /// The banks and URL lists that occur among open items (for the filter menu), by name.
  public func banks() throws -> [String] {
    try read { db in
      var names: Set<String> = []
      for state in QueueFilter.openStates {
        // A loose index scan: one seek per distinct bank, not a scan of the table.
        let found = try String.fetchAll(
          db.cachedStatement(
            sql: """
              WITH RECURSIVE b(name) AS (
                SELECT min(bank) FROM flagged_item WHERE state = ?1
                UNION ALL
                SELECT (SELECT min(bank) FROM flagged_item WHERE state = ?1 AND bank > b.name)
                FROM b WHERE b.name IS NOT NULL)
              SELECT name FROM b WHERE name IS NOT NULL
              """), arguments: [state.rawValue])
        names.formUnion(found)
      }
      return names.sorted()
    }
  }

  // MARK: - SQL

  static let itemSelect = """
    SELECT f.*, s.code AS service_code, s.name AS service_name,
      a.pseudonym AS account_pseudonym, o.name AS claimed_by_name,
      (SELECT v.version FROM bank_version v WHERE v.id = f.bank_version_id) AS bank_version
    FROM flagged_item f
    JOIN service s ON s.id = f.service_id
    LEFT JOIN account a ON a.id = f.account_id
    LEFT JOIN operator o ON o.id = f.claimed_by
    """

  /// State codes as an SQL list literal (codes are fixed identifiers, never user text).
  static func stateList(_ states: Set<FlagState>) -> String {
    states.map(\.rawValue).sorted().map { "'\($0)'" }.joined(separator: ", ")
  }

  /// One sub-query per state (and per kind when only a service is filtered), each walking an
  /// index range in queue order from the cursor and stopping at `limit`; the union is merged
  /// and cut to `limit`. So a page costs about ranges x limit index steps, however many items
  /// there are.
  static func queuePage(
    _ db: Database, filter: QueueFilter, cursor: QueueCursor?, forward: Bool, _ limit: Int
  ) throws -> [QueueItem] {
    guard limit > 0, !filter.states.isEmpty else { return [] }
    let direction = forward ? "ASC" : "DESC"
    let comparison = forward ? ">" : "<"
    let order = "priority \(direction), created_at \(direction), id \(direction)"
    var parts: [String] = []
    var arguments: StatementArguments = []
    let splitKinds = filter.serviceId != nil && filter.kind == nil && filter.bank == nil
    let kinds: [FlagKind?] = splitKinds ? FlagKind.allCases.map { $0 } : [filter.kind]
    let states = filter.states.sorted(by: { $0.rawValue < $1.rawValue })
    for (state, kind) in states.flatMap({ state in kinds.map { (state, $0) } }) {
      // Codes are fixed identifiers, inlined so each range has its own index plan.
      var conditions = ["state = '\(state.rawValue)'"]
      if let kind {
        conditions.append("kind = '\(kind.rawValue)'")
      }
      if let service = filter.serviceId {
        conditions.append("service_id = ?")
        arguments += [service]
      }
      if let bank = filter.bank {
        conditions.append("bank = ?")
        arguments += [bank]
      }
      if let cursor {
        conditions.append("(priority, created_at, id) \(comparison) (?, ?, ?)")
        arguments += [cursor.priority, cursor.createdAt, cursor.id]
      }
      arguments += [limit]
      parts.append(
        """
        SELECT * FROM (SELECT id, priority, created_at FROM flagged_item
          WHERE \(conditions.joined(separator: " AND ")) ORDER BY \(order) LIMIT ?)
        """)
    }
    arguments += [limit]
    let sql = """
      WITH page(id, priority, created_at) AS (
        SELECT id, priority, created_at FROM (
          \(parts.joined(separator: "\nUNION ALL\n"))
        ) ORDER BY \(order) LIMIT ?)
      \(itemSelect.replacingOccurrences(of: "FROM flagged_item f", with:
        "FROM page p JOIN flagged_item f ON f.id = p.id"))
      ORDER BY p.priority \(direction), p.created_at \(direction), p.id \(direction)
      """
    return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
      .map(queueItem)
  }

  static func queueItem(_ row: Row) throws -> QueueItem {
    let table = "flagged_item"
    return QueueItem(
      id: row["id"],
      kind: try row.code(FlagKind.self, "kind", table: table),
      state: try row.code(FlagState.self, "state", table: table),
      priority: row["priority"],
      serviceId: row["service_id"], serviceCode: row["service_code"],
      serviceName: row["service_name"],
      accountId: row["account_id"], accountPseudonym: row["account_pseudonym"],
      mediaPath: row["media_path"], url: row["url"], sha256: row["sha256"], md5: row["md5"],
      pdq: row["pdq"], bank: row["bank"], label: row["label"], distance: row["distance"],
      model: row["model"], score: row["score"], createdAt: row["created_at"],
      claimedBy: row["claimed_by_name"], claimExpiresAt: row["claim_expires_at"],
      decidedAt: row["decided_at"], bankVersion: row["bank_version"])
  }
}
