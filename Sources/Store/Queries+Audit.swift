import Compliance
import GRDB

// MARK: - Audit log and reports

extension AppDatabase {
  /// Audit events newest first, before event `beforeId` (from the newest when nil), optionally
  /// only actions starting with `actionPrefix` (e.g. `consent.`).
  public func auditPage(beforeId: Int64?, limit: Int, actionPrefix: String? = nil) throws
    -> [AuditEventRow]
  {
    try read { db in
      try Self.auditPage(
        db, from: beforeId ?? Int64.max, newer: false, limit: limit, actionPrefix: actionPrefix)
    }
  }

  /// Pages the log from event `from`, exclusive: towards older events (`newer` false) or newer
  /// ones. Rows come back newest first either way. With a prefix, the distinct actions that
  /// match are found by a loose scan of the action index (one seek each), then each action's
  /// id range is read in order and the ranges are merged; so a page never sorts the log.
  static func auditPage(
    _ db: Database, from: Int64, newer: Bool, limit: Int, actionPrefix: String?
  ) throws -> [AuditEventRow] {
    guard limit > 0 else { return [] }
    let columns = "id, at, operator, action, entity, entity_id, details_json, prev_hash, hash"
    let (comparison, order) = newer ? (">", "ASC") : ("<", "DESC")
    let rows: [Row]
    if let prefix = actionPrefix, !prefix.isEmpty {
      let actions = try String.fetchAll(
        db.cachedStatement(
          sql: """
            WITH RECURSIVE a(name) AS (
              SELECT min(action) FROM audit_event WHERE action >= ?1 AND action < ?1 || ?2
              UNION ALL
              SELECT (SELECT min(action) FROM audit_event
                WHERE action > a.name AND action < ?1 || ?2)
              FROM a WHERE a.name IS NOT NULL)
            SELECT name FROM a WHERE name IS NOT NULL
            """), arguments: [prefix, "\u{10FFFF}"])
      if actions.isEmpty { return [] }
      var parts: [String] = []
      var arguments: StatementArguments = []
      for action in actions {
        parts.append(
          """
          SELECT * FROM (SELECT \(columns) FROM audit_event
            WHERE action = ? AND id \(comparison) ? ORDER BY id \(order) LIMIT ?)
          """)
        arguments += [action, from, limit]
      }
      arguments += [limit]
      rows = try Row.fetchAll(
        db,
        sql: parts.joined(separator: " UNION ALL ") + " ORDER BY id \(order) LIMIT ?",
        arguments: arguments)
    } else {
      rows = try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT \(columns) FROM audit_event WHERE id \(comparison) ?
            ORDER BY id \(order) LIMIT ?
            """),
        arguments: [from, limit])
    }
    let ordered = newer ? rows.reversed() : rows
    var events = ordered.map(auditEventRow)
    let refs = try caseRefs(db, for: events)
    for index in events.indices { events[index].caseRef = refs[events[index].id] }
    return events
  }

  /// Number of audit events.
  public func auditCount() throws -> Int {
    try read { db in
      try Int.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM audit_event") ?? 0
    }
  }

  /// The newest reports first (by id), at most `limit`.
  public func reports(limit: Int) throws -> [ReportRow] {
    try read { db in
      let table = "report"
      return try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT r.*, a.pseudonym AS account_pseudonym FROM report r
            LEFT JOIN account a ON a.id = r.account_id
            ORDER BY r.id DESC LIMIT ?
            """), arguments: [limit]
      ).map { row in
        ReportRow(
          id: row["id"], caseRef: row["case_ref"],
          state: try row.code(ReportState.self, "state", table: table),
          kind: try row.code(FlagKind.self, "kind", table: table),
          accountId: row["account_id"], accountPseudonym: row["account_pseudonym"],
          createdAt: row["created_at"], sentAt: row["sent_at"],
          verdict: try row.optionalCode(ReportVerdict.self, "verdict", table: table),
          verdictAt: row["verdict_at"], payloadJSON: row["payload_json"])
      }
    }
  }
}
