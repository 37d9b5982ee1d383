import GRDB

// MARK: - Paging the audit log towards newer events

extension AppDatabase {
  /// The `limit` audit events just newer than event `afterId`, returned newest first like
  /// ``auditPage(beforeId:limit:actionPrefix:)``, optionally only actions starting with
  /// `actionPrefix`. Used when scrolling back up a window the console has trimmed.
  public func auditPage(afterId: Int64, limit: Int, actionPrefix: String? = nil) throws
    -> [AuditEventRow]
  {
    guard limit > 0 else { return [] }
    return try read { db in
      var sql = """
        SELECT id, at, operator, action, entity, entity_id, details_json, prev_hash, hash
        FROM audit_event WHERE id > ?
        """
      var arguments: StatementArguments = [afterId]
      if let prefix = actionPrefix, !prefix.isEmpty {
        sql += " AND action >= ? AND action < ?"
        arguments += [prefix, prefix + "\u{10FFFF}"]
      }
      sql += " ORDER BY id ASC LIMIT ?"
      arguments += [limit]
      let rows = try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
      return rows.reversed().map { row in
        AuditEventRow(
          id: row["id"], at: row["at"], operatorName: row["operator"], action: row["action"],
          entity: row["entity"], entityId: row["entity_id"], detailsJSON: row["details_json"],
          prevHash: row["prev_hash"], hash: row["hash"])
      }
    }
  }
}
