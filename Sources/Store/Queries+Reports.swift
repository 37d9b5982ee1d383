import Compliance
import GRDB

// MARK: - Reports for the console's Reports screen

/// One report as the console lists it: its listing and the account's pseudonym.
public struct ReportSummary: Hashable, Sendable {
  public var listing: ReportListing
  /// The account's pseudonym (what reports carry instead of the account id).
  public var accountPseudonym: String?

  /// Creates a value with every field given.
  public init(listing: ReportListing, accountPseudonym: String?) {
    self.listing = listing
    self.accountPseudonym = accountPseudonym
  }
}

/// Who asked for, or approved, the reveal of a case, and when.
public struct RevealStep: Hashable, Sendable {
  public var operatorName: String
  /// Unix seconds.
  public var at: Int64

  /// Creates a value with every field given.
  public init(operatorName: String, at: Int64) {
    self.operatorName = operatorName
    self.at = at
  }
}

/// What happened to one report since it was made: reveal requests and approvals (four eyes)
/// and its audit events, oldest first.
public struct ReportFollowUp: Hashable, Sendable {
  public var requests: [RevealStep]
  public var approvals: [RevealStep]
  public var events: [AuditEventRow]

  /// Creates a value with every field given.
  public init(requests: [RevealStep], approvals: [RevealStep], events: [AuditEventRow]) {
    self.requests = requests
    self.approvals = approvals
    self.events = events
  }
}

extension AppDatabase {
  /// Reports newest first (by id), before report `beforeId` (from the newest when nil), or
  /// just newer than `afterId` (still returned newest first). Paged by keyset, so a long
  /// history of reports scrolls at the cost of a page.
  public func reportPage(beforeId: Int64? = nil, afterId: Int64? = nil, limit: Int) throws
    -> [ReportSummary]
  {
    try read { db in
      let newer = afterId != nil
      let (comparison, order) = newer ? (">", "ASC") : ("<", "DESC")
      let rows = try Row.fetchAll(
        db.cachedStatement(
          sql: """
            SELECT r.id, r.case_ref, r.state, r.kind, r.account_id, r.created_at, r.sent_at,
              r.verdict, r.verdict_at, r.notify_due_at, r.notified_at, r.revealed_at,
              r.purged_at, a.pseudonym AS account_pseudonym,
              (SELECT group_concat(item_id) FROM report_item WHERE report_id = r.id) AS items
            FROM report r LEFT JOIN account a ON a.id = r.account_id
            WHERE r.id \(comparison) ? ORDER BY r.id \(order) LIMIT ?
            """), arguments: [afterId ?? beforeId ?? Int64.max, limit])
      let summaries = try rows.map { row in
        ReportSummary(
          listing: try Self.reportListing(row), accountPseudonym: row["account_pseudonym"])
      }
      return newer ? summaries.reversed() : summaries
    }
  }

  /// Number of reports.
  public func reportCount() throws -> Int {
    try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM report") ?? 0 }
  }

  /// Number of reports in a state (e.g. how many `ready` ones an export would write).
  public func reportCount(state: ReportState) throws -> Int {
    try read { db in
      try Int.fetchOne(
        db, sql: "SELECT count(*) FROM report WHERE state = ?", arguments: [state.rawValue]) ?? 0
    }
  }

  /// A report's reveal requests and approvals, and its audit events (at most `eventLimit`,
  /// the newest, returned oldest first).
  public func reportFollowUp(reportId: Int64, eventLimit: Int = 50) throws -> ReportFollowUp {
    try read { db in
      func steps(_ sql: String) throws -> [RevealStep] {
        try Row.fetchAll(db, sql: sql, arguments: [reportId]).map {
          RevealStep(operatorName: $0["name"], at: $0["at"])
        }
      }
      let requests = try steps(
        """
        SELECT o.name, r.requested_at AS at FROM reveal_request r
        JOIN operator o ON o.id = r.operator_id WHERE r.report_id = ? ORDER BY at, o.name
        """)
      let approvals = try steps(
        """
        SELECT o.name, a.approved_at AS at FROM reveal_approval a
        JOIN operator o ON o.id = a.approver_id WHERE a.report_id = ? ORDER BY at, o.name
        """)
      let events = try Row.fetchAll(
        db,
        sql: """
          SELECT * FROM audit_event WHERE entity = 'report' AND entity_id = ?
          ORDER BY id DESC LIMIT ?
          """, arguments: [String(reportId), eventLimit]
      ).reversed().map(Self.auditEventRow)
      return ReportFollowUp(requests: requests, approvals: approvals, events: events)
    }
  }

  /// The case references the audit events of a page concern: a report's own, or that of the
  /// report an item is part of; by event id.
  static func caseRefs(_ db: Database, for events: [AuditEventRow]) throws -> [Int64: String] {
    var reports: [Int64: [Int64]] = [:]
    var items: [Int64: [Int64]] = [:]
    for event in events {
      guard let id = Int64(event.entityId) else { continue }
      switch event.entity {
      case "report": reports[id, default: []].append(event.id)
      case "flagged_item": items[id, default: []].append(event.id)
      default: break
      }
    }
    var refs: [Int64: String] = [:]
    if !reports.isEmpty {
      let ids = reports.keys.map(String.init).joined(separator: ",")
      for row in try Row.fetchAll(
        db, sql: "SELECT id, case_ref FROM report WHERE id IN (\(ids))")
      {
        for event in reports[row["id"] as Int64] ?? [] { refs[event] = row["case_ref"] }
      }
    }
    if !items.isEmpty {
      let ids = items.keys.map(String.init).joined(separator: ",")
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT ri.item_id, min(r.case_ref) AS case_ref FROM report_item ri
          JOIN report r ON r.id = ri.report_id WHERE ri.item_id IN (\(ids))
          GROUP BY ri.item_id
          """)
      {
        for event in items[row["item_id"] as Int64] ?? [] { refs[event] = row["case_ref"] }
      }
    }
    return refs
  }

  /// A report row (with `items`, its item ids joined by commas) as a listing.
  static func reportListing(_ row: Row) throws -> ReportListing {
    let items: String = row["items"] ?? ""
    return ReportListing(
      id: row["id"], caseRef: row["case_ref"],
      state: try row.code(ReportState.self, "state", table: "report"),
      kind: try row.code(FlagKind.self, "kind", table: "report"),
      accountId: row["account_id"], createdAt: row["created_at"], sentAt: row["sent_at"],
      verdict: try row.optionalCode(ReportVerdict.self, "verdict", table: "report"),
      verdictAt: row["verdict_at"], notifyDueAt: row["notify_due_at"],
      notifiedAt: row["notified_at"], revealedAt: row["revealed_at"],
      purgedAt: row["purged_at"],
      itemIds: items.split(separator: ",").compactMap { Int64($0) }.sorted())
  }

  static func auditEventRow(_ row: Row) -> AuditEventRow {
    AuditEventRow(
      id: row["id"], at: row["at"], operatorName: row["operator"], action: row["action"],
      entity: row["entity"], entityId: row["entity_id"], detailsJSON: row["details_json"],
      prevHash: row["prev_hash"], hash: row["hash"])
  }
}
