import Compliance
import Foundation
import GRDB

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - Who is calling

/// The operator a command or the console acts as: the operator row bound to the caller's OS
/// account, as ``AppDatabase/actingOperator(requested:uid:)`` resolved it. Every audited
/// write of a command is attributed to `name`.
public struct ActingOperator: Hashable, Sendable, CustomStringConvertible {
  /// The operator row's id.
  public let id: Int64
  /// The operator name recorded in the audit log.
  public let name: String
  /// The OS account (effective uid) the name is bound to: the caller's.
  public let uid: UInt32
  /// What the operator may do.
  public let role: OperatorRole

  /// Creates a value with every field given.
  public init(id: Int64, name: String, uid: UInt32, role: OperatorRole) {
    self.id = id
    self.name = name
    self.uid = uid
    self.role = role
  }

  public var description: String { name }
}

/// Why a caller cannot act as an operator, or an operator change was refused. Each message
/// names the command that fixes it.
public enum IdentityError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The password database knows no account for the caller's uid.
  case noAccount(uid: UInt32)
  /// The database file, which has no admin yet, is owned by a uid without an account.
  case ownerWithoutAccount(path: String, uid: UInt32)
  /// The caller's OS account is not an operator of this database.
  case notAnOperator(account: OSAccount)
  /// `--operator`, `CSAR_OPERATOR` or config `operator` named an operator that does not exist.
  case unknownOperator(name: String, caller: OSAccount)
  /// The operator exists but is bound to no OS account yet (made before binding existed).
  case unbound(name: String)
  /// The operator is bound to another OS account than the caller's.
  case boundToAnotherAccount(name: String, caller: OSAccount)
  /// An admin disabled the operator.
  case disabled(name: String)
  /// Only an admin may do this.
  case notAnAdmin(name: String)
  /// `csar operator add LOGIN`: no OS account has this login name.
  case unknownLogin(String)
  /// The name is bound to another uid; names are never rebound.
  case rebind(name: String, boundUid: UInt32, uid: UInt32)
  /// Disabling this operator would leave the database without an enabled admin.
  case lastAdmin(name: String)
  /// The step (a purge, a legal hold) is for leads and admins; the operator is a reviewer.
  case notALead(name: String, action: String)

  public var description: String {
    switch self {
    case .noAccount(let uid):
      return "uid \(uid) has no entry in the password database (getpwuid): "
        + "csar acts only for named OS accounts"
    case .ownerWithoutAccount(let path, let uid):
      return "\(path) has no admin yet and is owned by uid \(uid), which has no account here: "
        + "the owner of a database becomes its first admin, so chown it to that person's "
        + "account"
    case .notAnOperator(let account):
      return "you are OS account \(account), which is not an operator of this database; "
        + "an admin adds you with: csar operator add \(account.name) --role reviewer"
    case .unknownOperator(let name, let caller):
      return "no operator \"\(name)\" in this database: --operator, CSAR_OPERATOR and config "
        + "\"operator\" may only name an operator bound to your OS account \(caller); "
        + "an admin adds you with: csar operator add \(caller.name) --role reviewer"
    case .unbound(let name):
      return "operator \"\(name)\" is not bound to an OS account yet; an admin binds it to "
        + "the OS login of that name with: csar operator add \(name) --role reviewer"
    case .boundToAnotherAccount(let name, let caller):
      return "operator \"\(name)\" belongs to another OS account; you are \(caller) and may "
        + "act only as an operator bound to it (an admin adds you with: "
        + "csar operator add \(caller.name) --role reviewer)"
    case .disabled(let name):
      return "operator \"\(name)\" is disabled; an admin enables it again with: "
        + "csar operator add \(name) --role reviewer"
    case .notAnAdmin(let name):
      return "operator \"\(name)\" is not an admin: only an admin adds, lists and disables "
        + "operators"
    case .unknownLogin(let login):
      return "\"\(login)\" is not an OS account on this host (no such login in the password "
        + "database): operators are OS accounts"
    case .rebind(let name, let bound, let uid):
      return "operator \"\(name)\" is bound to uid \(bound), not \(uid): a name is never "
        + "rebound to another OS account"
    case .lastAdmin(let name):
      return "\"\(name)\" is the last enabled admin: add another admin before disabling it "
        + "(csar operator add LOGIN --role admin)"
    case .notALead(let name, let action):
      return "operator \"\(name)\" is a reviewer: only a lead or an admin may \(action) "
        + "(an admin changes the role with: csar operator add \(name) --role lead)"
    }
  }
}

extension AppDatabase {
  /// The one place that decides who is calling, for every command and the console.
  ///
  /// The caller is the OS account with the effective uid `uid` (login name from the password
  /// database). `requested` (from `--operator`, `CSAR_OPERATOR` or config `operator`; nil or
  /// empty: none) may only pick an operator bound to that uid; without it the operator named
  /// like the login acts. Unknown, unbound, foreign and disabled operators are refused with an
  /// ``IdentityError`` naming the admin command that fixes it. A database without a bound
  /// admin first gets one: its owner (see ``ensureFirstAdmin(creatorUid:)``).
  public func actingOperator(
    requested: String?, uid: UInt32 = OSAccount.effectiveUid
  ) throws -> ActingOperator {
    guard let caller = OSAccount.withUid(uid) else { throw IdentityError.noAccount(uid: uid) }
    try ensureFirstAdmin(creatorUid: uid)
    let asked = requested.map { $0.trimmingCharacters(in: .whitespaces) }
      .flatMap { $0.isEmpty ? nil : $0 }
    let name = asked ?? caller.name
    guard let row = try read({ db in try Self.operatorRow(db, name: name) }) else {
      if asked != nil, asked != caller.name {
        throw IdentityError.unknownOperator(name: name, caller: caller)
      }
      throw IdentityError.notAnOperator(account: caller)
    }
    guard let bound = row.uid else { throw IdentityError.unbound(name: name) }
    guard bound == uid else {
      throw IdentityError.boundToAnotherAccount(name: name, caller: caller)
    }
    guard row.isEnabled else { throw IdentityError.disabled(name: name) }
    return ActingOperator(id: row.id, name: row.name, uid: bound, role: row.role)
  }

  /// The account that created the database is its first admin. When no enabled admin is
  /// bound yet (a new database, or one made before operators were bound to OS accounts), the
  /// owner of the database file (for an in-memory database: `creatorUid`) is bound as admin:
  /// an existing unbound operator of its login name is bound and made admin, else a new one
  /// is added. Audited ("operator.bind" or "operator.create"). Nothing happens otherwise.
  public func ensureFirstAdmin(creatorUid: UInt32 = OSAccount.effectiveUid) throws {
    if try read({ db in try Self.hasBoundAdmin(db) }) { return }
    let ownerUid = try databaseOwnerUid() ?? creatorUid
    guard let owner = OSAccount.withUid(ownerUid) else {
      throw IdentityError.ownerWithoutAccount(path: path, uid: ownerUid)
    }
    try audited(by: owner.name) { db, audit in
      // Re-checked inside the write lock: another process may have done it meanwhile.
      if try Self.hasBoundAdmin(db) { return }
      let after: JSONValue = [
        "name": .string(owner.name), "uid": .int(Int64(owner.uid)), "role": "admin",
        "disabled": false, "reason": "owner of the database",
      ]
      if let existing = try Self.operatorRow(db, name: owner.name) {
        if let bound = existing.uid, bound != owner.uid {
          throw IdentityError.rebind(name: owner.name, boundUid: bound, uid: owner.uid)
        }
        try db.execute(
          sql: "UPDATE operator SET uid = ?, role = 'admin', disabled_at = NULL WHERE id = ?",
          arguments: [owner.uid, existing.id])
        try audit.record(
          action: "operator.bind", entity: "operator", entityId: String(existing.id),
          before: Self.auditValue(existing), after: after)
      } else {
        try db.execute(
          sql: "INSERT INTO operator (name, role, created_at, uid) VALUES (?, 'admin', ?, ?)",
          arguments: [owner.name, audit.at, owner.uid])
        try audit.record(
          action: "operator.create", entity: "operator",
          entityId: String(db.lastInsertedRowID), after: after)
      }
    }
  }

  /// The uid owning the database file; nil for an in-memory database.
  private func databaseOwnerUid() throws -> UInt32? {
    guard hasFile else { return nil }
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw StoreError.cannotOpen(
        path: path, reason: String(cString: strerror(errno)) + " (reading its owner)")
    }
    return UInt32(info.st_uid)
  }

  /// Registers an operator, or returns the existing one of that name unchanged (role and
  /// binding included). For tests and the demo: commands act through
  /// ``actingOperator(requested:uid:)`` and admins add operators with
  /// ``addOperator(login:role:by:)``. `uid` binds the new operator to an OS account (nil:
  /// unbound, so nobody can act as it through a command). The event is attributed to `by`,
  /// or to the operator themself.
  @discardableResult
  public func ensureOperator(
    name: String, role: OperatorRole, uid: UInt32? = nil, by: String? = nil
  ) throws -> OperatorRow {
    let trimmed = try Self.checkedName(name)
    if let existing = try read({ db in try Self.operatorRow(db, name: trimmed) }) {
      return existing
    }
    return try audited(by: by ?? trimmed) { db, audit in
      // Re-check inside the write lock: another console may have added it meanwhile.
      if let existing = try Self.operatorRow(db, name: trimmed) { return existing }
      try db.execute(
        sql: "INSERT INTO operator (name, role, created_at, uid) VALUES (?, ?, ?, ?)",
        arguments: [trimmed, role.rawValue, audit.at, uid])
      let row = OperatorRow(
        id: db.lastInsertedRowID, name: trimmed, role: role, createdAt: audit.at, uid: uid)
      try audit.record(
        action: "operator.create", entity: "operator", entityId: String(row.id),
        after: Self.auditValue(row))
      return row
    }
  }

  // MARK: - Helpers

  static func checkedName(_ name: String) throws -> String {
    let trimmed = name.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty, !trimmed.contains(where: { $0.isNewline }) else {
      throw StoreError.invalidValue(
        field: "operator name", value: name, reason: "must be a non-empty single line")
    }
    return trimmed
  }

  static func hasBoundAdmin(_ db: Database) throws -> Bool {
    try Bool.fetchOne(
      db,
      sql: """
        SELECT 1 FROM operator
        WHERE role = 'admin' AND uid IS NOT NULL AND disabled_at IS NULL LIMIT 1
        """) == true
  }

  /// An operator's fields as an audit event records them.
  static func auditValue(_ row: OperatorRow) -> JSONValue {
    [
      "name": .string(row.name), "role": .string(row.role.rawValue),
      "uid": row.uid.map { .int(Int64($0)) } ?? .null,
      "disabled": .bool(!row.isEnabled),
    ]
  }

  static func operatorRow(_ row: Row) throws -> OperatorRow {
    OperatorRow(
      id: row["id"], name: row["name"],
      role: try row.code(OperatorRole.self, "role", table: "operator"),
      createdAt: row["created_at"], uid: row["uid"], disabledAt: row["disabled_at"])
  }

  static func operatorRow(_ db: Database, name: String) throws -> OperatorRow? {
    try Row.fetchOne(db, sql: "SELECT * FROM operator WHERE name = ?", arguments: [name])
      .map(operatorRow)
  }

  /// The id of a registered operator; throws ``StoreError/unknownOperator(name:)``.
  static func operatorId(_ db: Database, name: String) throws -> Int64 {
    guard
      let id = try Int64.fetchOne(
        db.cachedStatement(sql: "SELECT id FROM operator WHERE name = ?"), arguments: [name])
    else { throw StoreError.unknownOperator(name: name) }
    return id
  }

  /// Throws ``IdentityError/disabled(name:)`` when `name` is a disabled operator (every
  /// audited write checks it first).
  static func refuseDisabled(_ db: Database, name: String) throws {
    let disabled = try Bool.fetchOne(
      db.cachedStatement(
        sql: "SELECT 1 FROM operator WHERE name = ? AND disabled_at IS NOT NULL"),
      arguments: [name])
    if disabled == true { throw IdentityError.disabled(name: name) }
  }
}
