import GRDB

// MARK: - Health checks (after crashes, contention runs and restores)

extension AppDatabase {
  /// SQLite's own `PRAGMA integrity_check`: `ok`, or the first problems it lists.
  public func integrityCheck() throws -> String {
    try read { db in
      try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
    }
  }

  /// Items with more than one standing final decision (confirm or dismiss not undone): must
  /// always be 0, whatever consoles or processes decide at once.
  public func itemsDecidedTwice() throws -> Int {
    try read { db in
      try Int.fetchOne(
        db,
        sql: """
          SELECT count(*) FROM (
            SELECT item_id FROM review_decision
            WHERE decision IN ('confirm', 'dismiss') AND undone_at IS NULL
            GROUP BY item_id HAVING count(*) > 1)
          """) ?? 0
    }
  }

  /// How many decisions the operator has recorded (undone ones included).
  public func decisionCount(by operatorName: String) throws -> Int {
    try read { db in
      try Int.fetchOne(
        db,
        sql: """
          SELECT count(*) FROM review_decision d JOIN operator o ON o.id = d.operator_id
          WHERE o.name = ?
          """, arguments: [operatorName]) ?? 0
    }
  }

  /// Consent events whose id starts with `idPrefix` (checking what an import wrote).
  public func consentEventCount(idPrefix: String) throws -> Int {
    try read { db in
      try Int.fetchOne(
        db,
        sql: "SELECT count(*) FROM consent_event WHERE substr(event_id, 1, ?) = ?",
        arguments: [idPrefix.utf8.count, idPrefix]) ?? 0
    }
  }
}
