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
  ///   and no database was anchored with this key yet, every event gets its MAC, in id order,
  ///   and an `audit.rekey` event records it; if broken, it is left as it is (verification
  ///   reports it, writes are refused).
  ///
  /// An unkeyed log with events is never keyed automatically once this key anchors any
  /// database: otherwise someone who can write the file could rewrite the log as an old
  /// unkeyed one (recomputing the unkeyed chain needs no secret) under a new database id and
  /// have it keyed, and so blessed, by the next open. Such a log waits for an admin to run
  /// `csar audit rekey` (``rekeyAuditChain(by:)``). A chain keyed with another key is left
  /// alone (writes refused, verification says so). Returns the new head when events were
  /// keyed.
  @discardableResult
  func prepareAuditChain() throws -> (id: Int64, link: AuditLink)? {
    guard let auditKey else { return nil }
    if try read({ try AuditChain.identity($0).keyCheck }) != nil { return nil }
    return try writeImmediate { db -> (id: Int64, link: AuditLink)? in
      try keyChain(db, key: auditKey, operatorName: "csar", at: clock(), explicit: false)
    }
  }

  /// `csar audit rekey`: keys an intact unkeyed log (one from before keyed chains that was not
  /// keyed automatically because this key already anchors databases) with the audit key, as
  /// the admin `admin`, recorded in an `audit.rekey` event naming the admin and the unkeyed
  /// head it accepted. Throws ``IdentityError/notAnAdmin(name:)`` for anyone else,
  /// ``AuditError/notKeyed(path:reason:)`` when the unkeyed chain is broken (nothing is
  /// blessed) and ``AuditError/wrongKey(path:)`` for a chain keyed with another key. Returns
  /// false when the chain was keyed with this key already.
  @discardableResult
  public func rekeyAuditChain(by admin: String) throws -> Bool {
    guard let auditKey else { throw AuditError.noAuditKey(path: path) }
    let outcome = try writeImmediate { db -> (keyed: Bool, head: (id: Int64, link: AuditLink)?) in
      try Self.requireAdmin(db, name: admin)
      let keyCheck = try AuditChain.identity(db).keyCheck
      if keyCheck == auditKey.check { return (false, nil) }
      if keyCheck != nil { throw AuditError.wrongKey(path: path) }
      let head = try keyChain(
        db, key: auditKey, operatorName: admin, at: clock(), explicit: true)
      return (true, head)
    }
    if let head = outcome.head { anchor(head: head, changeStart: head.id) }
    return outcome.keyed
  }

  /// Keys the chain inside a write transaction: an empty log at once; an intact unkeyed one
  /// (not automatically once this key anchors a database) gets its MACs and an
  /// `audit.rekey` event by `operatorName`; a broken one is left (explicitly: an error).
  private func keyChain(
    _ db: Database, key: AuditKey, operatorName: String, at: Int64, explicit: Bool
  ) throws -> (id: Int64, link: AuditLink)? {
    let identity = try AuditChain.identity(db)
    guard identity.keyCheck == nil else { return nil }
    let walk = try AuditChain.walk(db, key: nil, databaseId: identity.databaseId)
    guard case .ok(let count) = walk.verification else {
      if explicit {
        throw AuditError.notKeyed(path: path, reason: walk.verification.description)
      }
      return nil
    }
    let anchors = AuditAnchor.count(folder: key.anchorFolder, key: key)
    if count > 0, anchors > 0, !explicit { return nil }
    if count > 0 {
      try Self.addMacs(db, key: key, databaseId: identity.databaseId)
    }
    try db.execute(
      sql: "UPDATE audit_chain SET key_check = ? WHERE id = 1", arguments: [key.check])
    guard let head = walk.head else { return nil }
    let details: JSONValue = [
      "before": ["keyed": false, "events": .int(Int64(count)), "head_hash": .string(
        head.link.hash)],
      "after": [
        "keyed": true, "by_uid": .int(Int64(geteuid())), "explicit": .bool(explicit),
        "anchors_of_key": .int(Int64(anchors)),
      ],
    ]
    let prev = try AuditChain.head(db, key: key, path: path)
    return try AuditChain.append(
      db, key: key, prev: prev, at: at, operatorName: operatorName,
      action: "audit.rekey", entity: "audit_chain", entityId: identity.databaseId,
      detailsJSON: details.description)
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
