import Foundation
import GRDB

// MARK: - Keying the chain at open

/// The append-only guards of `audit_event`, exactly as the first migration created them; the
/// re-keying drops and re-creates the first one, and verification compares both with what
/// the database holds.
enum AuditGuard {
  static let noUpdate = """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event BEGIN
      SELECT RAISE(ABORT, 'audit_event is append-only: rows cannot be updated');
    END
    """
  static let noDelete = """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event BEGIN
      SELECT RAISE(ABORT, 'audit_event is append-only: rows cannot be deleted');
    END
    """
  /// Trigger name → its SQL.
  static let all = ["audit_event_no_update": noUpdate, "audit_event_no_delete": noDelete]
}

extension AppDatabase {
  /// Run at every open with a key; does something only while the chain is not keyed yet:
  /// - a new, empty log is keyed at once (the key's check value is stored);
  /// - a log from before keyed chains is first verified as the unkeyed chain it is; if intact,
  ///   every event gets its MAC, in id order, and an `audit.rekey` event records it; if
  ///   broken, it is left as it is (verification reports it, writes are refused).
  ///
  /// A chain keyed with another key is left alone (writes refused, verification says so).
  /// Returns the new head when events were keyed.
  @discardableResult
  func prepareAuditChain() throws -> (id: Int64, link: AuditLink)? {
    guard let auditKey else { return nil }
    if try read({ try AuditChain.identity($0).keyCheck }) != nil { return nil }
    return try writeImmediate { db -> (id: Int64, link: AuditLink)? in
      let identity = try AuditChain.identity(db)
      guard identity.keyCheck == nil else { return nil }
      let walk = try AuditChain.walk(db, key: nil, databaseId: identity.databaseId)
      guard case .ok(let count) = walk.verification else { return nil }
      if count > 0 {
        try Self.addMacs(db, key: auditKey, databaseId: identity.databaseId)
      }
      try db.execute(
        sql: "UPDATE audit_chain SET key_check = ? WHERE id = 1", arguments: [auditKey.check])
      guard let head = walk.head else { return nil }
      let details: JSONValue = [
        "before": ["keyed": false, "events": .int(Int64(count)), "head_hash": .string(
          head.link.hash)],
        "after": ["keyed": true, "by_uid": .int(Int64(getuid()))],
      ]
      let prev = try AuditChain.head(db, key: auditKey, path: path)
      return try AuditChain.append(
        db, key: auditKey, prev: prev, at: clock(), operatorName: "csar",
        action: "audit.rekey", entity: "audit_chain", entityId: identity.databaseId,
        detailsJSON: details.description)
    }
  }

  /// Throws unless audited writes can be made with this database's key: the chain is keyed
  /// with it (not with another provider key, and not left unkeyed because it was broken).
  /// For long-running writers (`csar serve`), so a wrong key stops them at start instead of
  /// failing every request.
  public func checkAuditKeyForWrites() throws {
    guard let auditKey else { throw AuditError.noAuditKey(path: path) }
    try read { db in _ = try AuditChain.head(db, key: auditKey, path: path) }
  }

  /// Fills `mac` of every event, in id order and in batches; the update guard is lifted for
  /// the transaction and put back exactly as it was.
  private static func addMacs(_ db: Database, key: AuditKey, databaseId: String) throws {
    try db.execute(sql: "DROP TRIGGER audit_event_no_update")
    var prev = key.genesis(databaseId: databaseId)
    var after: Int64 = 0
    let update = try db.makeStatement(sql: "UPDATE audit_event SET mac = ? WHERE id = ?")
    while true {
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT id, at, operator, action, entity, entity_id, details_json FROM audit_event
          WHERE id > ? ORDER BY id LIMIT 5000
          """, arguments: [after])
      guard let last = rows.last else { break }
      for row in rows {
        prev = AuditChain.mac(
          key: key, prev: prev, at: row[1], operatorName: row[2], action: row[3],
          entity: row[4], entityId: row[5], detailsJSON: row[6])
        try update.execute(arguments: [prev, row[0] as Int64])
      }
      after = last[0]
    }
    try db.execute(sql: AuditGuard.noUpdate)
  }
}
