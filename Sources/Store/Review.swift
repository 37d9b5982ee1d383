import Compliance
import Foundation
import GRDB

// MARK: - Errors

/// Outcome of a claim attempt (or of a decision on an item the caller does not hold).
public enum ClaimError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Another operator holds a live lease on the item until `until` (Unix seconds).
  case claimedByOther(name: String, until: Int64)
  /// The item is no longer open (decided, held for a second hit, purged).
  case alreadyDecided(state: FlagState)
  /// No item has this id.
  case notFound(id: Int64)
  /// The caller's lease lapsed (or was never taken): open the item again to claim it.
  case notHeld(id: Int64)
  /// The item was escalated: only a lead (or admin) may open and decide it.
  case leadsOnly(id: Int64)

  public var description: String {
    switch self {
    case .claimedByOther(let name, let until):
      return "item is claimed by \(name) until \(Self.utc(until))"
    case .alreadyDecided(let state):
      return "item was already decided (state \(state.rawValue))"
    case .notFound(let id):
      return "flagged item \(id) does not exist"
    case .notHeld(let id):
      return "you no longer hold item \(id) (the claim lapsed); open it again"
    case .leadsOnly(let id):
      return "item \(id) was escalated: only a lead can open and decide it"
    }
  }

  static func utc(_ seconds: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
  }
}

/// Why a decision cannot be undone.
public enum UndoError: Error, Equatable, Sendable, CustomStringConvertible {
  /// No decision has this id.
  case notFound(decisionId: Int64)
  /// Only the operator who made a decision may undo it.
  case notYours(decisionId: Int64, madeBy: String)
  /// The undo window has passed.
  case tooLate(decisionId: Int64, windowSeconds: Int64)
  /// The decision was undone already.
  case alreadyUndone(decisionId: Int64)
  /// A later decision on the item, or a change by someone else, depends on it.
  case superseded(decisionId: Int64)
  /// The report it created has left the building (exported, or further along).
  case reportNotReady(caseRef: String, state: ReportState)
  /// An authority's legal hold is on the report it created.
  case reportHeld(caseRef: String)
  /// The report it created or its item holds a state its audit trail does not give it
  /// (changed outside csar): `csar audit verify` names it.
  case disagreesWithAudit(decisionId: Int64, AuditMismatch)

  public var description: String {
    switch self {
    case .notFound(let id):
      return "decision \(id) does not exist"
    case .notYours(let id, let name):
      return "decision \(id) was made by \(name); only they can undo it"
    case .tooLate(let id, let window):
      return "decision \(id) is older than \(window) s and can no longer be undone"
    case .alreadyUndone(let id):
      return "decision \(id) was already undone"
    case .superseded(let id):
      return "decision \(id) cannot be undone: the item changed after it"
    case .reportNotReady(let ref, let state):
      return "decision cannot be undone: report \(ref) is already \(state.rawValue)"
    case .reportHeld(let ref):
      return "decision cannot be undone: report \(ref) is under a legal hold"
    case .disagreesWithAudit(let id, let mismatch):
      return "decision \(id) cannot be undone: \(mismatch) (changed outside csar); nothing "
        + "was changed; run `csar audit verify`"
    }
  }
}

// MARK: - Outcomes

/// What a decision did.
public struct DecisionOutcome: Hashable, Sendable {
  /// The `review_decision` row (pass it to ``AppDatabase/undoDecision(_:by:windowSeconds:)``).
  public var decisionId: Int64
  /// The item's state after the decision.
  public var newState: FlagState
  /// The case reference of the report the decision created, if any.
  public var reportCaseRef: String?
  /// True when confirmed new material waits for a second hit on the same account.
  public var heldForSecondHit: Bool

  /// Creates a value with every field given.
  public init(
    decisionId: Int64, newState: FlagState, reportCaseRef: String?, heldForSecondHit: Bool
  ) {
    self.decisionId = decisionId
    self.newState = newState
    self.reportCaseRef = reportCaseRef
    self.heldForSecondHit = heldForSecondHit
  }
}

// MARK: - Claims

extension AppDatabase {
  /// Default claim lease: ten minutes.
  public static let defaultLeaseSeconds: Int64 = 600
  /// Longest note kept with a decision, in characters (longer notes are cut).
  public static let maxNoteLength = 2000

  /// Claims an open item (pending/escalated) for `operatorName` with a lease (default 600 s);
  /// re-claiming your own renews it; a lapsed lease of another operator can be taken over.
  /// Audited ("item.claim").
  @discardableResult
  public func claimItem(id: Int64, by operatorName: String, leaseSeconds: Int64 = 600) throws
    -> QueueItem
  {
    try audited(by: operatorName) { db, audit in
      let operatorId = try Self.operatorId(db, name: operatorName)
      let current = try Self.claimState(db, itemId: id)
      try Self.checkClaimable(current, itemId: id, operatorId: operatorId, now: audit.at)
      try Self.checkRole(db, current, itemId: id, operatorName: operatorName)
      let until = audit.at + max(1, leaseSeconds)
      try db.execute(
        sql: """
          UPDATE flagged_item SET claimed_by = ?, claim_expires_at = ?
          WHERE id = ? AND state IN ('pending', 'escalated')
            AND (claimed_by IS NULL OR claimed_by = ? OR claim_expires_at <= ?)
          """, arguments: [operatorId, until, id, operatorId, audit.at])
      guard db.changesCount == 1 else { throw ClaimError.notHeld(id: id) }
      try audit.record(
        action: "item.claim", entity: "flagged_item", entityId: String(id),
        before: [
          "claimed_by": .text(current.holderName), "until": current.until.map { .int($0) } ?? nil,
        ],
        after: ["claimed_by": .string(operatorName), "until": .int(until)])
      guard
        let row = try Row.fetchOne(
          db.cachedStatement(sql: Self.itemSelect + " WHERE f.id = ?"), arguments: [id])
      else { throw ClaimError.notFound(id: id) }
      return try Self.queueItem(row)
    }
  }

  /// Extends the caller's lease; throws ClaimError if it was lost. Audited
  /// ("item.claim_renew"); renew at about half the lease, not on every keypress.
  public func renewClaim(id: Int64, by operatorName: String, leaseSeconds: Int64 = 600) throws {
    try audited(by: operatorName) { db, audit in
      let operatorId = try Self.operatorId(db, name: operatorName)
      let current = try Self.claimState(db, itemId: id)
      try Self.checkHeld(current, itemId: id, operatorId: operatorId, now: audit.at)
      let until = audit.at + max(1, leaseSeconds)
      try db.execute(
        sql: "UPDATE flagged_item SET claim_expires_at = ? WHERE id = ? AND claimed_by = ?",
        arguments: [until, id, operatorId])
      try audit.record(
        action: "item.claim_renew", entity: "flagged_item", entityId: String(id),
        before: ["until": current.until.map { .int($0) } ?? nil], after: ["until": .int(until)])
    }
  }

  /// Gives the item back (e.g. on skip or when moving away). No-op if not held by the caller.
  /// Audited ("item.release") when it released anything.
  public func releaseClaim(id: Int64, by operatorName: String) throws {
    try audited(by: operatorName) { db, audit in
      guard let operatorId = try Self.operatorRow(db, name: operatorName)?.id else { return }
      try db.execute(
        sql: """
          UPDATE flagged_item SET claimed_by = NULL, claim_expires_at = NULL
          WHERE id = ? AND claimed_by = ?
          """, arguments: [id, operatorId])
      if db.changesCount > 0 {
        try audit.record(
          action: "item.release", entity: "flagged_item", entityId: String(id),
          before: ["claimed_by": .string(operatorName)], after: ["claimed_by": nil])
      }
    }
  }

  // MARK: - Claim helpers

  struct ClaimState {
    var state: FlagState
    var holderId: Int64?
    var holderName: String?
    var until: Int64?
    var decidedAt: Int64?
    var kind: FlagKind
    var accountId: Int64?
  }

  static func claimState(_ db: Database, itemId: Int64) throws -> ClaimState {
    guard
      let row = try Row.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT f.state, f.kind, f.account_id, f.claimed_by, f.claim_expires_at,
              f.decided_at, o.name AS holder
            FROM flagged_item f LEFT JOIN operator o ON o.id = f.claimed_by WHERE f.id = ?
            """), arguments: [itemId])
    else { throw ClaimError.notFound(id: itemId) }
    return ClaimState(
      state: try row.code(FlagState.self, "state", table: "flagged_item"),
      holderId: row["claimed_by"], holderName: row["holder"], until: row["claim_expires_at"],
      decidedAt: row["decided_at"],
      kind: try row.code(FlagKind.self, "kind", table: "flagged_item"),
      accountId: row["account_id"])
  }

  static func checkClaimable(
    _ current: ClaimState, itemId: Int64, operatorId: Int64, now: Int64
  ) throws {
    guard current.state.isOpen else { throw ClaimError.alreadyDecided(state: current.state) }
    if let holder = current.holderId, holder != operatorId, let until = current.until,
      until > now
    {
      throw ClaimError.claimedByOther(name: current.holderName ?? "#\(holder)", until: until)
    }
  }

  /// Escalated items go to leads: a reviewer may neither claim nor decide one (the role as
  /// stored in the `operator` table; every role above reviewer may).
  static func checkRole(_ db: Database, _ current: ClaimState, itemId: Int64, operatorName: String)
    throws
  {
    guard current.state == .escalated else { return }
    guard let role = try operatorRow(db, name: operatorName)?.role else {
      throw StoreError.unknownOperator(name: operatorName)
    }
    if role == .reviewer { throw ClaimError.leadsOnly(id: itemId) }
  }

  static func checkHeld(_ current: ClaimState, itemId: Int64, operatorId: Int64, now: Int64)
    throws
  {
    try checkClaimable(current, itemId: itemId, operatorId: operatorId, now: now)
    guard current.holderId == operatorId, let until = current.until, until > now else {
      throw ClaimError.notHeld(id: itemId)
    }
  }
}

// MARK: - Decisions

extension AppDatabase {
  /// Decides an item the caller holds a live claim on. The guard is in SQL (`UPDATE … WHERE
  /// id = ? AND claimed_by = ? AND claim_expires_at > now AND state IN open states`), so two
  /// consoles can never decide one item twice.
  ///
  /// - confirm: known_match / url_match → confirmed and a report (state ready) at once;
  ///   new_material → awaiting_second_hit until a second confirmed new-material hit for the
  ///   same account within `secondHitWindowDays` (counted between the two confirmations),
  ///   then both → confirmed and ONE report covering both items.
  /// - dismiss → dismissed (false positive).
  /// - escalate → escalated (stays open, claim released).
  /// - skip → claim released, no state change (a `skip` decision row is still recorded).
  ///
  /// `note` is sanitised (control characters become spaces, trimmed, cut to 2000
  /// characters). Audited ("item.decide" with before/after; "report.create" and
  /// "item.second_hit" when they happen).
  @discardableResult
  public func decide(
    itemId: Int64, decision: ReviewDecisionKind, note: String?, by operatorName: String,
    secondHitWindowDays: Int = 30
  ) throws -> DecisionOutcome {
    let note = Self.sanitiseNote(note)
    return try audited(by: operatorName) { db, audit in
      let now = audit.at
      let operatorId = try Self.operatorId(db, name: operatorName)
      let current = try Self.claimState(db, itemId: itemId)
      try Self.checkHeld(current, itemId: itemId, operatorId: operatorId, now: now)
      try Self.checkRole(db, current, itemId: itemId, operatorName: operatorName)

      var newState = current.state
      var pairedItem: Int64?
      var reportItems: [Int64] = []
      switch decision {
      case .confirm:
        if current.kind == .newMaterial {
          pairedItem = try Self.firstHit(
            db, accountId: current.accountId, excluding: itemId,
            since: now - Int64(max(0, secondHitWindowDays)) * 86_400)
          if let pairedItem {
            newState = .confirmed
            reportItems = [pairedItem, itemId]
          } else {
            newState = .awaitingSecondHit
          }
        } else {
          newState = .confirmed
          reportItems = [itemId]
        }
      case .dismiss: newState = .dismissed
      case .escalate: newState = .escalated
      case .skip: break
      }
      let decidedAt: Int64? = newState.isOpen ? current.decidedAt : now

      // The guard: only a live claim of the caller on an open item changes anything.
      try db.execute(
        sql: """
          UPDATE flagged_item
          SET state = ?, decided_at = ?, claimed_by = NULL, claim_expires_at = NULL
          WHERE id = ? AND claimed_by = ? AND claim_expires_at > ?
            AND state IN ('pending', 'escalated')
          """, arguments: [newState.rawValue, decidedAt, itemId, operatorId, now])
      guard db.changesCount == 1 else { throw ClaimError.notHeld(id: itemId) }

      var report: (id: Int64, caseRef: String)?
      if let pairedItem {
        try db.execute(
          sql: """
            UPDATE flagged_item SET state = 'confirmed'
            WHERE id = ? AND state = 'awaiting_second_hit'
            """, arguments: [pairedItem])
        try audit.record(
          action: "item.second_hit", entity: "flagged_item", entityId: String(pairedItem),
          before: ["state": "awaiting_second_hit"],
          after: ["state": "confirmed", "second_hit": .int(itemId)])
      }
      if !reportItems.isEmpty {
        report = try Self.createReport(
          db, audit: audit, kind: current.kind, accountId: current.accountId,
          itemIds: reportItems)
      }
      try db.execute(
        sql: """
          INSERT INTO review_decision (item_id, operator_id, decision, note, decided_at,
            prev_state, prev_decided_at, new_state, report_id, paired_item_id)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          itemId, operatorId, decision.rawValue, note, now, current.state.rawValue,
          current.decidedAt, newState.rawValue, report?.id, pairedItem,
        ])
      let decisionId = db.lastInsertedRowID
      try audit.record(
        action: "item.decide", entity: "flagged_item", entityId: String(itemId),
        before: ["state": .string(current.state.rawValue)],
        after: [
          "decision": .string(decision.rawValue), "state": .string(newState.rawValue),
          "note": .string(note), "decision_id": .int(decisionId),
          "report": .text(report?.caseRef),
          "second_hit_of": pairedItem.map { .int($0) } ?? nil,
        ])
      return DecisionOutcome(
        decisionId: decisionId, newState: newState, reportCaseRef: report?.caseRef,
        heldForSecondHit: newState == .awaitingSecondHit)
    }
  }

  /// Why free text (a reason, a note, a label) is too long for field `field`; nil when it fits
  /// ``maxNoteLength`` characters. Imports and audited writes refuse such text rather than
  /// store megabytes of it.
  public static func freeTextProblem(_ text: String?, field: String) -> String? {
    guard let text, text.utf8.count > maxNoteLength else { return nil }
    let count = text.count
    guard count > maxNoteLength else { return nil }
    return "\(field): \(count) characters; at most \(maxNoteLength)"
  }

  /// Throws ``StoreError/invalidValue(field:value:reason:)`` when `text` is longer than
  /// ``maxNoteLength`` characters.
  static func checkFreeText(_ text: String?, field: String) throws {
    guard let text, freeTextProblem(text, field: field) != nil else { return }
    throw StoreError.invalidValue(
      field: field, value: String(text.prefix(40)) + "…",
      reason: "\(text.count) characters; at most \(maxNoteLength)")
  }

  /// Control characters (escape sequences included) become spaces; trimmed; at most 2000
  /// characters.
  static func sanitiseNote(_ note: String?) -> String {
    guard let note else { return "" }
    var scalars = String.UnicodeScalarView()
    for scalar in note.unicodeScalars {
      let control =
        scalar.properties.generalCategory == .control
        || scalar.properties.generalCategory == .format && scalar.value != 0x200D
      scalars.append(control ? " " : scalar)
    }
    let text = String(scalars).trimmingCharacters(in: .whitespaces)
    return String(text.prefix(maxNoteLength))
  }

  /// The earliest new-material item of the account held for a second hit, confirmed at or
  /// after `since`.
  static func firstHit(_ db: Database, accountId: Int64?, excluding itemId: Int64, since: Int64)
    throws -> Int64?
  {
    guard let accountId else { return nil }
    return try Int64.fetchOne(
      db.cachedStatement(
        sql: """
          SELECT id FROM flagged_item
          WHERE account_id = ? AND state = 'awaiting_second_hit' AND kind = 'new_material'
            AND decided_at >= ? AND id <> ?
          ORDER BY decided_at, id LIMIT 1
          """), arguments: [accountId, since, itemId])
  }

  // MARK: - Undo

  /// Undoes the caller's own last decision within `windowSeconds` (default 30) if nothing
  /// depends on it yet (its report not yet exported, no later decision on the item): restores
  /// the previous state (and a paired first hit to awaiting_second_hit), removes the report
  /// created by it, marks the decision undone and gives the item back to the caller with a
  /// fresh lease when it is open again. Audited ("item.undo"). Throws ``UndoError``.
  public func undoDecision(_ decisionId: Int64, by operatorName: String, windowSeconds: Int64 = 30)
    throws
  {
    try audited(by: operatorName) { db, audit in
      let now = audit.at
      let operatorId = try Self.operatorId(db, name: operatorName)
      guard
        let row = try Row.fetchOne(
          db,
          sql: """
            SELECT d.*, o.name AS operator_name FROM review_decision d
            JOIN operator o ON o.id = d.operator_id WHERE d.id = ?
            """, arguments: [decisionId])
      else { throw UndoError.notFound(decisionId: decisionId) }
      let itemId: Int64 = row["item_id"]
      guard row["operator_id"] as Int64 == operatorId else {
        throw UndoError.notYours(decisionId: decisionId, madeBy: row["operator_name"])
      }
      if row["undone_at"] as Int64? != nil {
        throw UndoError.alreadyUndone(decisionId: decisionId)
      }
      guard now - (row["decided_at"] as Int64) <= windowSeconds else {
        throw UndoError.tooLate(decisionId: decisionId, windowSeconds: windowSeconds)
      }
      let reportId: Int64? = row["report_id"]
      let pairedId: Int64? = row["paired_item_id"]
      if let mismatch = try Self.firstMismatch(
        db, reports: [reportId].compactMap { $0 }, items: [itemId, pairedId].compactMap { $0 })
      {
        throw UndoError.disagreesWithAudit(decisionId: decisionId, mismatch)
      }
      let later = try Bool.fetchOne(
        db,
        sql: """
          SELECT 1 FROM review_decision
          WHERE item_id = ? AND id > ? AND undone_at IS NULL LIMIT 1
          """, arguments: [itemId, decisionId]) ?? false
      let current = try Self.claimState(db, itemId: itemId)
      let prevRaw: String? = row["prev_state"]
      let newRaw: String? = row["new_state"]
      guard let prevRaw, let newRaw, !later, current.state.rawValue == newRaw else {
        throw UndoError.superseded(decisionId: decisionId)
      }
      let previous = try FlagState(code: prevRaw, field: "review_decision.prev_state")
      if current.state.isOpen, let holder = current.holderId, holder != operatorId,
        let until = current.until, until > now
      {
        throw UndoError.superseded(decisionId: decisionId)
      }

      var removedReport: String?
      if let reportId {
        guard
          let report = try Row.fetchOne(
            db, sql: "SELECT case_ref, state FROM report WHERE id = ?", arguments: [reportId])
        else { throw UndoError.superseded(decisionId: decisionId) }
        let state = try report.code(ReportState.self, "state", table: "report")
        let caseRef: String = report["case_ref"]
        guard state == .ready else {
          throw UndoError.reportNotReady(caseRef: caseRef, state: state)
        }
        let held = try Bool.fetchOne(
          db,
          sql: """
            SELECT 1 FROM legal_hold
            WHERE entity = 'report' AND entity_id = ? AND released_at IS NULL LIMIT 1
            """, arguments: [reportId]) ?? false
        if held { throw UndoError.reportHeld(caseRef: caseRef) }
        try db.execute(sql: "DELETE FROM report_item WHERE report_id = ?", arguments: [reportId])
        try db.execute(sql: "DELETE FROM reveal_request WHERE report_id = ?", arguments: [reportId])
        try db.execute(sql: "DELETE FROM report WHERE id = ?", arguments: [reportId])
        try audit.record(
          action: "report.void", entity: "report", entityId: String(reportId),
          before: ["case": .string(caseRef), "state": "ready"], after: nil)
        removedReport = caseRef
      }
      if let paired = pairedId {
        try db.execute(
          sql: "UPDATE flagged_item SET state = 'awaiting_second_hit' WHERE id = ?",
          arguments: [paired])
        try audit.record(
          action: "item.second_hit_undo", entity: "flagged_item", entityId: String(paired),
          before: ["state": "confirmed"], after: ["state": "awaiting_second_hit"])
      }
      let reclaim = previous.isOpen
      try db.execute(
        sql: """
          UPDATE flagged_item SET state = ?, decided_at = ?, claimed_by = ?, claim_expires_at = ?
          WHERE id = ?
          """,
        arguments: [
          previous.rawValue, row["prev_decided_at"] as Int64?, reclaim ? operatorId : nil,
          reclaim ? now + Self.defaultLeaseSeconds : nil, itemId,
        ])
      try db.execute(
        sql: "UPDATE review_decision SET undone_at = ? WHERE id = ?", arguments: [now, decisionId])
      try audit.record(
        action: "item.undo", entity: "flagged_item", entityId: String(itemId),
        before: ["state": .string(newRaw), "decision_id": .int(decisionId)],
        after: ["state": .string(previous.rawValue), "report_removed": .text(removedReport)])
    }
  }

  /// The caller's most recent decision that has not been undone, if any (for `u`).
  public func lastDecision(by operatorName: String) throws -> (id: Int64, itemId: Int64, at: Int64)?
  {
    try read { db in
      guard let operatorId = try Self.operatorRow(db, name: operatorName)?.id else { return nil }
      return try Row.fetchOne(
        db,
        sql: """
          SELECT id, item_id, decided_at FROM review_decision
          WHERE operator_id = ? AND undone_at IS NULL ORDER BY decided_at DESC, id DESC LIMIT 1
          """, arguments: [operatorId]
      ).map { ($0["id"], $0["item_id"], $0["decided_at"]) }
    }
  }

  // MARK: - Previews

  /// Audits that the operator reduced the blur of an item's preview (level 0 = clear … 4 =
  /// fully blurred) or turned colour on, or stepped to another frame of a video shown so
  /// (`frame`: its number in the file; "sheet" for the contact sheet). ("preview.unblur")
  public func recordPreviewExposure(
    itemId: Int64, blurLevel: Int, colour: Bool, frame: Int? = nil, sheet: Bool = false,
    by operatorName: String
  ) throws {
    guard (0...4).contains(blurLevel) else {
      throw StoreError.invalidValue(
        field: "blur level", value: String(blurLevel), reason: "must be 0 (clear) … 4 (full)")
    }
    var fields: [String: JSONValue] = ["blur": .int(Int64(blurLevel)), "colour": .bool(colour)]
    if let frame { fields["frame"] = .int(Int64(frame)) } else if sheet { fields["frame"] = "sheet" }
    let after = JSONValue.object(fields)
    try audited(by: operatorName) { db, audit in
      _ = try Self.operatorId(db, name: operatorName)
      guard
        try Bool.fetchOne(
          db.cachedStatement(sql: "SELECT 1 FROM flagged_item WHERE id = ?"),
          arguments: [itemId]) == true
      else { throw ClaimError.notFound(id: itemId) }
      try audit.record(
        action: "preview.unblur", entity: "flagged_item", entityId: String(itemId),
        after: after)
    }
  }

  /// Audits that an item's media file was not shown because its SHA-256 differs from the one
  /// recorded at scan or import time (the file was replaced). ("preview.media_mismatch")
  public func recordMediaMismatch(
    itemId: Int64, path: String, recorded: String, found: String, by operatorName: String
  ) throws {
    try audited(by: operatorName) { db, audit in
      _ = try Self.operatorId(db, name: operatorName)
      try audit.record(
        action: "preview.media_mismatch", entity: "flagged_item", entityId: String(itemId),
        before: ["media": .string(path), "sha256": .string(recorded)],
        after: ["sha256": .string(found)])
    }
  }

  /// Records the SHA-256 of an item's media file the first time it is shown, for items
  /// imported before digests were recorded; later views are checked against it. Does nothing
  /// when the item already has one. ("preview.media_digest")
  public func recordFirstMediaDigest(
    itemId: Int64, sha256: String, by operatorName: String
  ) throws {
    try audited(by: operatorName) { db, audit in
      _ = try Self.operatorId(db, name: operatorName)
      try db.execute(
        sql: "UPDATE flagged_item SET sha256 = ? WHERE id = ? AND sha256 IS NULL",
        arguments: [sha256, itemId])
      guard db.changesCount > 0 else { return }
      try audit.record(
        action: "preview.media_digest", entity: "flagged_item", entityId: String(itemId),
        before: ["sha256": nil], after: ["sha256": .string(sha256)])
    }
  }
}
