import Compliance
import Foundation
import GRDB

// MARK: - Operators agree with the audit log

/// An operator row that differs from what its last audited change left (say, a role, uid or
/// disabled flag edited with sqlite3 outside csar).
public struct OperatorMismatch: Hashable, Sendable, CustomStringConvertible {
  /// The operator's row id and name.
  public let id: Int64
  public let name: String
  /// What differs, e.g. `role is admin, the audit log says lead`.
  public let problem: String

  public var description: String { "operator \"\(name)\" (id \(id)): \(problem)" }
}

extension AppDatabase {
  /// Every operator whose name, role, uid or disabled flag differs from the `after` values
  /// of its last audited change (`operator.create`, `.bind`, `.update`, `.disable`), or that
  /// has no such event. Every change csar makes to an operator is audited with these values,
  /// so a difference means the table was edited outside csar: with a keyed audit chain, an
  /// attacker holding the file cannot make a role or binding look legitimate. Events from
  /// before operators were bound carry no uid (read as unbound) and no flag (enabled).
  public func operatorAuditMismatches() throws -> [OperatorMismatch] {
    try read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT o.id, o.name, o.role, o.uid, o.disabled_at IS NOT NULL AS disabled, e.id AS event,
            json_extract(e.details_json, '$.after.name') AS a_name,
            json_extract(e.details_json, '$.after.role') AS a_role,
            json_extract(e.details_json, '$.after.uid') AS a_uid,
            coalesce(json_extract(e.details_json, '$.after.disabled'), 0) AS a_disabled
          FROM operator o LEFT JOIN audit_event e ON e.id = (
            SELECT max(id) FROM audit_event
            WHERE entity = 'operator' AND entity_id = CAST(o.id AS TEXT)
              AND action IN ('operator.create', 'operator.bind', 'operator.update',
                'operator.disable'))
          ORDER BY o.id
          """)
      return rows.compactMap { row -> OperatorMismatch? in
        let id: Int64 = row["id"]
        let name: String = row["name"]
        guard row["event"] as Int64? != nil else {
          return OperatorMismatch(id: id, name: name, problem: "no audit event made it")
        }
        var problems: [String] = []
        func compare(_ field: String, _ stored: String, _ audited: String) {
          if stored != audited {
            problems.append("\(field) is \(stored), the audit log says \(audited)")
          }
        }
        func text(_ value: Int64?) -> String { value.map(String.init) ?? "unbound" }
        compare("name", name, row["a_name"] ?? "nothing")
        compare("role", row["role"], row["a_role"] ?? "nothing")
        compare("uid", text(row["uid"]), text(row["a_uid"]))
        compare(
          "state", row["disabled"] as Bool ? "disabled" : "enabled",
          row["a_disabled"] as Bool ? "disabled" : "enabled")
        if problems.isEmpty { return nil }
        return OperatorMismatch(id: id, name: name, problem: problems.joined(separator: "; "))
      }
    }
  }
}
