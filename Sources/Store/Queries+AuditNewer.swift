import GRDB

// MARK: - Paging the audit log towards newer events

extension AppDatabase {
  /// The `limit` audit events just newer than event `afterId`, returned newest first like
  /// ``auditPage(beforeId:limit:actionPrefix:)``, optionally only actions starting with
  /// `actionPrefix`. Used when scrolling back up a window the console has trimmed.
  public func auditPage(afterId: Int64, limit: Int, actionPrefix: String? = nil) throws
    -> [AuditEventRow]
  {
    try read { db in
      try Self.auditPage(
        db, from: afterId, newer: true, limit: limit, actionPrefix: actionPrefix)
    }
  }
}
