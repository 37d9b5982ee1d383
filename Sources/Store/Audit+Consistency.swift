import Foundation
import GRDB

// MARK: - What else verification checks

/// A row or schema object that disagrees with what csar's own writes (and their audit events)
/// leave: a trigger missing or changed, a report or review item whose state differs from its
/// last audited change. Each names what it found, so an operator can look at it.
public struct AuditMismatch: Hashable, Sendable, CustomStringConvertible {
  /// What kind of thing: `trigger`, `operator`, `report` or `flagged_item`.
  public let entity: String
  /// The trigger's name, the report's case reference or the item's id.
  public let label: String
  /// What differs, e.g. `state is ready, the audit log says sent (event 57)`.
  public let problem: String

  public var description: String {
    switch entity {
    case "trigger": "trigger \(label): \(problem)"
    case "report": "report \(label): \(problem)"
    case "operator": "operator \(label): \(problem)"
    default: "item \(label): \(problem)"
    }
  }
}

// MARK: - Triggers

extension AppDatabase {
  /// Every trigger csar's migrations define that the database lacks or holds with other SQL
  /// (whitespace aside), and every trigger it holds that csar does not define. The guards that
  /// keep `audit_event` append-only and operators bound are among them: dropping one lets the
  /// sqlite3 shell rewrite the log or the bindings, so its absence alone is a finding even
  /// when no row was changed yet. The expected set is read from a fresh in-memory database
  /// migrated by the same migrator, so a trigger added by a later migration is checked too.
  public func triggerMismatches() throws -> [AuditMismatch] {
    let expected = try Self.expectedTriggers()
    let actual = try read { db in try Self.triggers(db) }
    var found: [AuditMismatch] = []
    for (name, sql) in expected.sorted(by: { $0.key < $1.key }) {
      guard let held = actual[name] else {
        found.append(
          AuditMismatch(
            entity: "trigger", label: name,
            problem: "it is missing (dropped outside csar): "
              + "the table it guards can be changed unnoticed"))
        continue
      }
      if held != sql {
        found.append(
          AuditMismatch(
            entity: "trigger", label: name, problem: "its SQL was changed outside csar"))
      }
    }
    for name in actual.keys.sorted() where expected[name] == nil {
      found.append(
        AuditMismatch(
          entity: "trigger", label: name, problem: "csar does not define it (added outside csar)"))
    }
    return found
  }

  /// Trigger name → its SQL with runs of whitespace made one space.
  static func triggers(_ db: Database) throws -> [String: String] {
    var out: [String: String] = [:]
    for row in try Row.fetchAll(
      db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    {
      out[row["name"]] = normalisedSQL(row["sql"] ?? "")
    }
    return out
  }

  /// The triggers of a database freshly migrated by ``Schema/migrator``.
  static func expectedTriggers() throws -> [String: String] {
    let queue = try DatabaseQueue()
    try Schema.migrator.migrate(queue)
    return try queue.read { try triggers($0) }
  }

  static func normalisedSQL(_ sql: String) -> String {
    sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" })
      .joined(separator: " ")
  }
}

// MARK: - States agree with the audit log

extension AppDatabase {
  /// The audited actions that set a report's state (`after.state`), or remove it (void).
  static let reportStateActions = [
    "report.create", "report.export", "report.verdict", "report.reveal", "report.void",
  ]
  /// The audited actions that set a review item's state (`after.state`).
  static let itemStateActions = [
    "flag.create", "item.decide", "item.second_hit", "item.second_hit_undo", "item.undo",
    "item.purge",
  ]

  /// Reports (all, or those with the ids given) whose state differs from the `after.state`
  /// of their last audited state change, that no audited event created, that the log says
  /// were voided, or whose purge mark disagrees with the log. Every state change csar makes
  /// to a report is audited with the new state, so a difference means the table was edited
  /// outside csar (say, a sent report set back to `ready` to be exported again).
  static func reportMismatches(_ db: Database, ids: [Int64]? = nil) throws -> [AuditMismatch] {
    if let ids, ids.isEmpty { return [] }
    let actions = reportStateActions.map { "'\($0)'" }.joined(separator: ", ")
    let filter = ids.map { "WHERE r.id IN (" + $0.map(String.init).joined(separator: ",") + ")" }
    let rows = try Row.fetchCursor(
      db,
      sql: """
        SELECT r.id, r.case_ref, r.state, r.purged_at IS NOT NULL AS purged, e.id AS event,
          e.action, json_extract(e.details_json, '$.after.state') AS audited,
          EXISTS (SELECT 1 FROM audit_event p WHERE p.entity = 'report'
            AND p.entity_id = CAST(r.id AS TEXT) AND p.action = 'report.purge') AS purge_event
        FROM report r LEFT JOIN audit_event e ON e.id = (
          SELECT max(id) FROM audit_event WHERE entity = 'report'
            AND entity_id = CAST(r.id AS TEXT) AND action IN (\(actions)))
        \(filter ?? "")
        ORDER BY r.id
        """)
    var found: [AuditMismatch] = []
    while let row = try rows.next() {
      let ref: String = row["case_ref"]
      let state: String = row["state"]
      func mismatch(_ problem: String) {
        found.append(AuditMismatch(entity: "report", label: ref, problem: problem))
      }
      guard let event = row["event"] as Int64? else {
        mismatch("no audit event created it (inserted outside csar)")
        continue
      }
      if row["action"] as String == "report.void" {
        mismatch("the audit log says it was voided (event \(event)), yet it is there")
      } else if let audited = row["audited"] as String?, audited != state {
        mismatch("state is \(state), the audit log says \(audited) (event \(event))")
      }
      let purged: Bool = row["purged"]
      let purgeEvent: Bool = row["purge_event"]
      if purged != purgeEvent {
        mismatch(
          purged
            ? "it is marked purged without an audited purge"
            : "the audit log says it was purged, yet it is not marked purged")
      }
    }
    return found
  }

  /// Review items (all, or those with the ids given) whose state differs from the
  /// `after.state` of their last audited state change. An item no event names must be
  /// `pending` and inside a range an `items.ingest` event records (bulk-loaded demo items);
  /// otherwise it was inserted outside csar.
  static func itemMismatches(
    _ db: Database, limit: Int, ids: [Int64]? = nil
  ) throws -> [AuditMismatch] {
    if let ids, ids.isEmpty { return [] }
    let filter = ids.map { "AND f.id IN (" + $0.map(String.init).joined(separator: ",") + ")" }
    let actions = itemStateActions.map { "'\($0)'" }.joined(separator: ", ")
    let ingested = try Row.fetchAll(
      db,
      sql: """
        SELECT json_extract(details_json, '$.after.first') AS first,
          json_extract(details_json, '$.after.last') AS last
        FROM audit_event WHERE action = 'items.ingest'
        """
    ).compactMap { row -> ClosedRange<Int64>? in
      guard let first = row["first"] as Int64?, let last = row["last"] as Int64?,
        first <= last
      else { return nil }
      return first...last
    }
    let rows = try Row.fetchCursor(
      db,
      sql: """
        SELECT f.id, f.state, e.id AS event,
          json_extract(e.details_json, '$.after.state') AS audited
        FROM flagged_item f LEFT JOIN audit_event e ON e.id = (
          SELECT max(id) FROM audit_event WHERE entity = 'flagged_item'
            AND entity_id = CAST(f.id AS TEXT) AND action IN (\(actions)))
        WHERE (e.id IS NULL OR audited IS NOT f.state) \(filter ?? "")
        ORDER BY f.id
        """)
    var found: [AuditMismatch] = []
    while found.count < limit, let row = try rows.next() {
      let id: Int64 = row["id"]
      let state: String = row["state"]
      guard let event = row["event"] as Int64? else {
        if state == "pending", ingested.contains(where: { $0.contains(id) }) { continue }
        found.append(
          AuditMismatch(
            entity: "flagged_item", label: String(id),
            problem: state == "pending"
              ? "no audit event created it (inserted outside csar)"
              : "state is \(state), but no audit event changed it"))
        continue
      }
      let audited: String = row["audited"] ?? "nothing"
      found.append(
        AuditMismatch(
          entity: "flagged_item", label: String(id),
          problem: "state is \(state), the audit log says \(audited) (event \(event))"))
    }
    return found
  }

  /// Reports and review items whose state disagrees with the audit log (see
  /// ``reportMismatches(_:ids:)`` and ``itemMismatches(_:limit:)``), at most `limit` of each.
  public func stateMismatches(limit: Int = 20) throws -> [AuditMismatch] {
    try read { db in
      try Array(Self.reportMismatches(db).prefix(limit))
        + Self.itemMismatches(db, limit: limit)
    }
  }

  /// The first of the reports `reports` and review items `items` whose state disagrees with
  /// the audit log (the check `csar audit verify` makes for them), or nil: csar does not act
  /// on such a row, since acting would build on a change made outside csar.
  static func firstMismatch(
    _ db: Database, reports: [Int64], items: [Int64]
  ) throws -> AuditMismatch? {
    if let found = try reportMismatches(db, ids: reports).first { return found }
    return try itemMismatches(db, limit: 1, ids: items).first
  }
}
