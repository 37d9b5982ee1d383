import Compliance
import Foundation
import GRDB

// MARK: - Operator administration (admin only, audited)

/// What ``AppDatabase/addOperator(name:uid:role:by:)`` did.
public enum OperatorChange: String, Sendable {
  /// A new operator was added, bound to its uid.
  case created
  /// An operator that existed unbound was bound to its uid (and given the role).
  case bound
  /// The role changed, or a disabled operator was enabled again.
  case updated
  /// It was already so.
  case unchanged
}

extension AppDatabase {
  /// `csar operator add LOGIN --role ROLE`: binds the OS account `login` (looked up with
  /// getpwnam, so its uid is known) as an operator with `role`. An operator already bound
  /// keeps its uid, so the role of a name that is no login (a demo operator) can change too.
  /// See ``addOperator(name:uid:role:by:)``.
  @discardableResult
  public func addOperator(login: String, role: OperatorRole, by admin: String) throws
    -> (operator: OperatorRow, change: OperatorChange)
  {
    if let account = OSAccount.named(login) {
      return try addOperator(name: account.name, uid: account.uid, role: role, by: admin)
    }
    let bound = try read { db in try Self.operatorRow(db, name: login) }?.uid
    guard let bound else { throw IdentityError.unknownLogin(login) }
    return try addOperator(name: login, uid: bound, role: role, by: admin)
  }

  /// Adds an operator bound to `uid`, binds an unbound one of that name, or changes the role
  /// of (or enables again) one already bound to `uid`. A name bound to another uid is refused
  /// (names are never rebound). Only an enabled admin may do this; audited
  /// ("operator.create", "operator.bind" or "operator.update").
  @discardableResult
  public func addOperator(name: String, uid: UInt32, role: OperatorRole, by admin: String)
    throws -> (operator: OperatorRow, change: OperatorChange)
  {
    let name = try Self.checkedName(name)
    return try audited(by: admin) { db, audit in
      try Self.requireAdmin(db, name: admin)
      guard let existing = try Self.operatorRow(db, name: name) else {
        try db.execute(
          sql: "INSERT INTO operator (name, role, created_at, uid) VALUES (?, ?, ?, ?)",
          arguments: [name, role.rawValue, audit.at, uid])
        let row = OperatorRow(
          id: db.lastInsertedRowID, name: name, role: role, createdAt: audit.at, uid: uid)
        try audit.record(
          action: "operator.create", entity: "operator", entityId: String(row.id),
          after: Self.auditValue(row))
        return (row, .created)
      }
      if let bound = existing.uid, bound != uid {
        throw IdentityError.rebind(name: name, boundUid: bound, uid: uid)
      }
      var changed = existing
      changed.uid = uid
      changed.role = role
      changed.disabledAt = nil
      if changed == existing { return (existing, .unchanged) }
      try db.execute(
        sql: "UPDATE operator SET uid = ?, role = ?, disabled_at = NULL WHERE id = ?",
        arguments: [uid, role.rawValue, existing.id])
      let change: OperatorChange = existing.uid == nil ? .bound : .updated
      try audit.record(
        action: "operator.\(change == .bound ? "bind" : "update")", entity: "operator",
        entityId: String(existing.id), before: Self.auditValue(existing),
        after: Self.auditValue(changed))
      return (changed, change)
    }
  }

  /// `csar operator disable LOGIN`: the operator can act no more (commands, the console and
  /// Store writes refuse it); its name stays bound, so the audit log still maps to its
  /// account. Only an enabled admin may do this, and never to the last enabled admin.
  /// Audited ("operator.disable"); disabling a disabled operator changes nothing.
  @discardableResult
  public func disableOperator(name: String, by admin: String) throws -> OperatorRow {
    try audited(by: admin) { db, audit in
      try Self.requireAdmin(db, name: admin)
      guard let existing = try Self.operatorRow(db, name: name) else {
        throw StoreError.unknownOperator(name: name)
      }
      if !existing.isEnabled { return existing }
      if existing.role == .admin, existing.uid != nil {
        let others = try Int.fetchOne(
          db,
          sql: """
            SELECT count(*) FROM operator WHERE role = 'admin' AND uid IS NOT NULL
              AND disabled_at IS NULL AND id <> ?
            """, arguments: [existing.id]) ?? 0
        if others == 0 { throw IdentityError.lastAdmin(name: name) }
      }
      var changed = existing
      changed.disabledAt = audit.at
      try db.execute(
        sql: "UPDATE operator SET disabled_at = ? WHERE id = ?",
        arguments: [audit.at, existing.id])
      try audit.record(
        action: "operator.disable", entity: "operator", entityId: String(existing.id),
        before: Self.auditValue(existing), after: Self.auditValue(changed))
      return changed
    }
  }

  /// `csar operator list`: every operator with its binding, role and state. Only an enabled
  /// admin may list them; the listing is audited ("operator.list").
  public func listOperators(by admin: String) throws -> [OperatorRow] {
    try audited(by: admin) { db, audit in
      try Self.requireAdmin(db, name: admin)
      let rows = try Row.fetchAll(db, sql: "SELECT * FROM operator ORDER BY name")
        .map(Self.operatorRow)
      try audit.record(
        action: "operator.list", entity: "operator", entityId: "*",
        after: ["count": .int(Int64(rows.count))])
      return rows
    }
  }

  /// Throws unless `name` is an enabled, bound admin.
  /// Throws unless `name` is an enabled lead or admin bound to an OS account (purges and
  /// legal holds); `action` says what was refused, e.g. `purge`.
  static func requireLead(_ db: Database, name: String, action: String) throws {
    guard let row = try operatorRow(db, name: name) else {
      throw StoreError.unknownOperator(name: name)
    }
    guard row.isEnabled else { throw IdentityError.disabled(name: name) }
    guard row.role.approvesReveals, row.uid != nil else {
      throw IdentityError.notALead(name: name, action: action)
    }
  }

  static func requireAdmin(_ db: Database, name: String) throws {
    guard let row = try operatorRow(db, name: name) else {
      throw StoreError.unknownOperator(name: name)
    }
    guard row.isEnabled else { throw IdentityError.disabled(name: name) }
    guard row.role == .admin, row.uid != nil else { throw IdentityError.notAnAdmin(name: name) }
  }
}
