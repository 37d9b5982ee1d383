import Compliance
import Foundation
import GRDB

// MARK: - Retention: what is kept how long

/// What the retention purge would remove (or removed): decided items and reports whose last
/// activity is older than the retention period and that no legal hold keeps.
public struct PurgePlan: Hashable, Sendable {
  /// Items and reports whose last activity is before this time (Unix seconds) are due.
  public var cutoff: Int64
  /// Reports due for purging, by id.
  public var reports: [Entry]
  /// Decided items due for purging, by id.
  public var items: [Entry]
  /// Due reports and items that a legal hold keeps.
  public var held: [Entry]

  /// One report or item in the plan.
  public struct Entry: Hashable, Sendable {
    /// `report` or `flagged_item`.
    public var entity: String
    public var id: Int64
    /// The case reference of a report, the item id of an item.
    public var label: String
    public var state: String
    /// Unix seconds of the last change that counts for retention.
    public var lastActivity: Int64

    /// One JSON object (for `--json`).
    public var json: JSONValue {
      [
        "entity": .string(entity), "id": .int(id), "label": .string(label),
        "state": .string(state), "last_activity": .string(ClaimError.utc(lastActivity)),
      ]
    }
  }
}

/// A legal hold: an authority asked to keep a report or an item beyond the retention period.
public struct LegalHold: Hashable, Sendable {
  public var id: Int64
  /// `report` or `flagged_item`.
  public var entity: String
  public var entityId: Int64
  /// The case reference of a report, the item id of an item.
  public var label: String
  public var reason: String
  public var placedBy: String
  public var placedAt: Int64
  public var releasedAt: Int64?
}

extension AppDatabase {
  /// Default retention period: 12 months (Commission proposal; longer only on request of an
  /// authority, which is a legal hold).
  public static let defaultRetentionMonths = 12

  /// The start of the retention window: `now` minus `months` calendar months.
  public static func retentionCutoff(now: Int64, months: Int) -> Int64 {
    let day = CalendarDate(unixSeconds: now).adding(months: -max(0, months))
    let secondOfDay = ((now % 86_400) + 86_400) % 86_400
    return Int64(day.daysSinceEpoch) * 86_400 + secondOfDay
  }

  /// What `purge` would remove now; changes nothing.
  ///
  /// - A report is due when it is no longer `ready` (exported or further along) and its last
  ///   activity (created, sent, verdict, reveal) is before the cutoff.
  /// - A decided item (confirmed, dismissed, or held for a second hit that never came) is due
  ///   when it was decided before the cutoff and every report covering it is due too; open
  ///   items are never purged.
  /// - A legal hold on a report keeps it and its items; one on an item keeps the item and the
  ///   reports covering it.
  public func purgePlan(retentionMonths: Int = defaultRetentionMonths) throws -> PurgePlan {
    let cutoff = Self.retentionCutoff(now: clock(), months: retentionMonths)
    return try read { db in try Self.purgePlan(db, cutoff: cutoff) }
  }

  static let heldItemsSQL = """
    SELECT entity_id FROM legal_hold WHERE entity = 'flagged_item' AND released_at IS NULL
    UNION SELECT ri.item_id FROM legal_hold h JOIN report_item ri ON ri.report_id = h.entity_id
      WHERE h.entity = 'report' AND h.released_at IS NULL
    """

  static let heldReportsSQL = """
    SELECT entity_id FROM legal_hold WHERE entity = 'report' AND released_at IS NULL
    UNION SELECT ri.report_id FROM legal_hold h JOIN report_item ri ON ri.item_id = h.entity_id
      WHERE h.entity = 'flagged_item' AND h.released_at IS NULL
    """

  static func purgePlan(_ db: Database, cutoff: Int64) throws -> PurgePlan {
    let heldReports = Set(try Int64.fetchAll(db, sql: heldReportsSQL))
    let heldItems = Set(try Int64.fetchAll(db, sql: heldItemsSQL))
    var plan = PurgePlan(cutoff: cutoff, reports: [], items: [], held: [])
    let reports = try Row.fetchAll(
      db,
      sql: """
        SELECT id, case_ref, state, max(created_at, coalesce(sent_at, 0),
          coalesce(verdict_at, 0), coalesce(revealed_at, 0)) AS last
        FROM report WHERE purged_at IS NULL AND state <> 'ready' AND last < ?
        ORDER BY id
        """, arguments: [cutoff])
    for row in reports {
      let entry = PurgePlan.Entry(
        entity: "report", id: row["id"], label: row["case_ref"], state: row["state"],
        lastActivity: row["last"])
      if heldReports.contains(entry.id) { plan.held.append(entry) } else {
        plan.reports.append(entry)
      }
    }
    let dueReports = Set(plan.reports.map(\.id))
    let items = try Row.fetchAll(
      db,
      sql: """
        SELECT f.id, f.state, f.decided_at,
          (SELECT group_concat(ri.report_id) FROM report_item ri
            JOIN report r ON r.id = ri.report_id
            WHERE ri.item_id = f.id AND r.purged_at IS NULL) AS reports
        FROM flagged_item f
        WHERE f.state IN ('confirmed', 'dismissed', 'awaiting_second_hit')
          AND f.decided_at < ?
        ORDER BY f.id
        """, arguments: [cutoff])
    for row in items {
      let entry = PurgePlan.Entry(
        entity: "flagged_item", id: row["id"], label: String(row["id"] as Int64),
        state: row["state"], lastActivity: row["decided_at"])
      let covering = (row["reports"] as String? ?? "").split(separator: ",")
        .compactMap { Int64($0) }
      if heldItems.contains(entry.id) {
        plan.held.append(entry)
      } else if covering.allSatisfy(dueReports.contains) {
        plan.items.append(entry)
      }
    }
    return plan
  }

  /// Purges what ``purgePlan(retentionMonths:)`` lists, reports first, in transactions of
  /// `batchSize` entries: items lose their media reference, URL, account and notes (hashes
  /// and evidence stay for statistics) and become `purged`; reports lose their account and
  /// stored contents and get `purged_at`; account details no longer needed by any kept item
  /// or report are deleted. The audit trail is kept whole; each purged report and item is an
  /// audit event ("report.purge", "item.purge"). Leads and admins only
  /// (``IdentityError/notALead(name:action:)``); the plan itself
  /// (``purgePlan(retentionMonths:)``) anyone may read. Returns what was purged.
  ///
  /// Each batch checks its entries again in its own transaction, so an item reopened or a
  /// legal hold placed while the purge runs is respected. `observer` hears of each committed
  /// batch (entries done, of the plan's) and may stop the purge between batches
  /// (``LongRunStopped``): what is purged stays purged and a second run purges the rest.
  @discardableResult
  public func purge(
    retentionMonths: Int = defaultRetentionMonths, by operatorName: String,
    batchSize: Int = 5_000, observer: (any LongRunObserver)? = nil
  ) throws -> PurgePlan {
    let cutoff = Self.retentionCutoff(now: clock(), months: retentionMonths)
    let plan = try read { db in
      try Self.requireLead(db, name: operatorName, action: "purge data")
      return try Self.purgePlan(db, cutoff: cutoff)
    }
    let entries = plan.reports + plan.items
    var purged = PurgePlan(cutoff: cutoff, reports: [], items: [], held: plan.held)
    try auditedBatches(
      count: entries.count, batchSize: batchSize, by: operatorName, observer: observer,
      task: LongRunTask(
        name: "purge", unit: "reports and items",
        resume: "run the same command again: what is purged stays purged, the rest follows")
    ) { db, audit, range, _ in
      try Self.requireLead(db, name: operatorName, action: "purge data")
      let done = try Self.purgeBatch(
        db, entries[range], cutoff: cutoff, retentionMonths: retentionMonths, audit: audit)
      purged.reports += done.filter { $0.entity == "report" }
      purged.items += done.filter { $0.entity != "report" }
    }
    return purged
  }

  /// Purges the entries of one batch that are still due (checked in this transaction);
  /// returns those purged.
  static func purgeBatch(
    _ db: Database, _ entries: ArraySlice<PurgePlan.Entry>, cutoff: Int64,
    retentionMonths: Int, audit: AuditTrail
  ) throws -> [PurgePlan.Entry] {
    let heldReports = Set(try Int64.fetchAll(db, sql: heldReportsSQL))
    let heldItems = Set(try Int64.fetchAll(db, sql: heldItemsSQL))
    let reportDue = try db.cachedStatement(
      sql: """
        SELECT account_id FROM report WHERE id = ? AND purged_at IS NULL AND state <> 'ready'
          AND max(created_at, coalesce(sent_at, 0), coalesce(verdict_at, 0),
            coalesce(revealed_at, 0)) < ?
        """)
    let clearReport = try db.cachedStatement(
      sql: "UPDATE report SET account_id = NULL, payload_json = '{}', purged_at = ? WHERE id = ?")
    // Reports go first (the plan lists them first): an item is due when no report covering
    // it is left unpurged.
    let itemDue = try db.cachedStatement(
      sql: """
        SELECT account_id FROM flagged_item f
        WHERE id = ?1 AND state IN ('confirmed', 'dismissed', 'awaiting_second_hit')
          AND decided_at < ?2
          AND NOT EXISTS (SELECT 1 FROM report_item ri JOIN report r ON r.id = ri.report_id
            WHERE ri.item_id = f.id AND r.purged_at IS NULL)
        """)
    let clearItem = try db.cachedStatement(
      sql: """
        UPDATE flagged_item SET state = 'purged', media_path = NULL, url = NULL,
          account_id = NULL, claimed_by = NULL, claim_expires_at = NULL
        WHERE id = ?
        """)
    let clearNotes = try db.cachedStatement(
      sql: "UPDATE review_decision SET note = '' WHERE item_id = ? AND note <> ''")
    var accounts = Set<Int64>()
    var purged: [PurgePlan.Entry] = []
    for entry in entries {
      if entry.entity == "report" {
        guard !heldReports.contains(entry.id),
          let row = try Row.fetchOne(reportDue, arguments: [entry.id, cutoff])
        else { continue }
        if let account = row[0] as Int64? { accounts.insert(account) }
        try clearReport.execute(arguments: [audit.at, entry.id])
        try audit.record(
          action: "report.purge", entity: "report", entityId: String(entry.id),
          before: ["case": .string(entry.label), "state": .string(entry.state)],
          after: ["purged": true, "retention_months": .int(Int64(retentionMonths))])
      } else {
        guard !heldItems.contains(entry.id),
          let row = try Row.fetchOne(itemDue, arguments: [entry.id, cutoff])
        else { continue }
        if let account = row[0] as Int64? { accounts.insert(account) }
        try clearItem.execute(arguments: [entry.id])
        try clearNotes.execute(arguments: [entry.id])
        try audit.record(
          action: "item.purge", entity: "flagged_item", entityId: String(entry.id),
          before: ["state": .string(entry.state)],
          after: ["state": "purged", "retention_months": .int(Int64(retentionMonths))])
      }
      purged.append(entry)
    }
    for account in accounts.sorted() {
      let stillNeeded = try Bool.fetchOne(
        db,
        sql: """
          SELECT EXISTS (SELECT 1 FROM flagged_item WHERE account_id = ?1)
            OR EXISTS (SELECT 1 FROM report WHERE account_id = ?1)
          """, arguments: [account]) ?? false
      if !stillNeeded {
        try db.execute(
          sql: "DELETE FROM account_detail WHERE account_id = ?", arguments: [account])
      }
    }
    return purged
  }

  // MARK: - Legal holds

  /// Places a legal hold on a report (by case reference) or an item, audited ("hold.place").
  /// Leads and admins only (``IdentityError/notALead(name:action:)``).
  @discardableResult
  public func placeLegalHold(
    caseRef: String? = nil, itemId: Int64? = nil, reason: String, by operatorName: String
  ) throws -> LegalHold {
    try Self.checkFreeText(reason, field: "reason")
    let reason = Self.sanitiseNote(reason)
    guard !reason.isEmpty else {
      throw StoreError.invalidValue(
        field: "reason", value: "", reason: "a legal hold needs the authority's request")
    }
    return try audited(by: operatorName) { db, audit in
      try Self.requireLead(db, name: operatorName, action: "place a legal hold")
      let operatorId = try Self.operatorId(db, name: operatorName)
      let entity: String
      let entityId: Int64
      if let caseRef {
        entity = "report"
        entityId = try Self.reportId(db, caseRef: caseRef)
      } else if let itemId {
        guard
          try Bool.fetchOne(db, sql: "SELECT 1 FROM flagged_item WHERE id = ?", arguments: [itemId])
            == true
        else { throw ClaimError.notFound(id: itemId) }
        entity = "flagged_item"
        entityId = itemId
      } else {
        throw StoreError.invalidValue(
          field: "hold", value: "", reason: "name a report (case reference) or an item")
      }
      try db.execute(
        sql: """
          INSERT INTO legal_hold (entity, entity_id, reason, placed_by, placed_at)
          VALUES (?, ?, ?, ?, ?)
          """, arguments: [entity, entityId, reason, operatorId, audit.at])
      let id = db.lastInsertedRowID
      try audit.record(
        action: "hold.place", entity: entity, entityId: String(entityId),
        after: ["hold": .int(id), "reason": .string(reason)])
      return LegalHold(
        id: id, entity: entity, entityId: entityId, label: caseRef ?? String(entityId),
        reason: reason, placedBy: operatorName,
        placedAt: audit.at, releasedAt: nil)
    }
  }

  /// Releases a legal hold, audited ("hold.release"); the hold's row is kept. Leads and
  /// admins only.
  public func releaseLegalHold(id: Int64, by operatorName: String) throws {
    try audited(by: operatorName) { db, audit in
      try Self.requireLead(db, name: operatorName, action: "release a legal hold")
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT entity, entity_id FROM legal_hold WHERE id = ? AND released_at IS NULL",
          arguments: [id])
      else { throw StoreError.notFound(entity: "active legal hold", id: String(id)) }
      try db.execute(
        sql: "UPDATE legal_hold SET released_at = ? WHERE id = ?", arguments: [audit.at, id])
      try audit.record(
        action: "hold.release", entity: row["entity"], entityId: String(row["entity_id"] as Int64),
        before: ["hold": .int(id)], after: ["released": true])
    }
  }

  /// Every legal hold, active first.
  public func legalHolds() throws -> [LegalHold] {
    try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT h.*, o.name,
            CASE h.entity WHEN 'report' THEN (SELECT case_ref FROM report WHERE id = h.entity_id)
              ELSE CAST(h.entity_id AS TEXT) END AS label
          FROM legal_hold h JOIN operator o ON o.id = h.placed_by
          ORDER BY h.released_at IS NOT NULL, h.id
          """
      ).map {
        LegalHold(
          id: $0["id"], entity: $0["entity"], entityId: $0["entity_id"],
          label: $0["label"] ?? String($0["entity_id"] as Int64), reason: $0["reason"],
          placedBy: $0["name"], placedAt: $0["placed_at"], releasedAt: $0["released_at"])
      }
    }
  }
}
