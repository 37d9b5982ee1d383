import Compliance
import Foundation
import GRDB

// MARK: - Report rows

/// A report with its review-side fields, as listed by `csar report list`.
public struct ReportListing: Hashable, Sendable {
  public var id: Int64
  public var caseRef: String
  public var state: ReportState
  public var kind: FlagKind
  public var accountId: Int64?
  public var createdAt: Int64
  public var sentAt: Int64?
  public var verdict: ReportVerdict?
  public var verdictAt: Int64?
  /// Set when a manifestly unfounded verdict made a user notification due.
  public var notifyDueAt: Int64?
  /// When the user of a closed case was notified
  /// (``AppDatabase/markUserNotified(caseRef:by:)``).
  public var notifiedAt: Int64?
  public var revealedAt: Int64?
  public var purgedAt: Int64?
  /// The flagged items the report covers (two for a two-hit new-material case).
  public var itemIds: [Int64]

  /// Creates a value with every field given.
  public init(
    id: Int64, caseRef: String, state: ReportState, kind: FlagKind, accountId: Int64?,
    createdAt: Int64, sentAt: Int64?, verdict: ReportVerdict?, verdictAt: Int64?,
    notifyDueAt: Int64?, notifiedAt: Int64? = nil, revealedAt: Int64?, purgedAt: Int64?,
    itemIds: [Int64]
  ) {
    self.id = id
    self.caseRef = caseRef
    self.state = state
    self.kind = kind
    self.accountId = accountId
    self.createdAt = createdAt
    self.sentAt = sentAt
    self.verdict = verdict
    self.verdictAt = verdictAt
    self.notifyDueAt = notifyDueAt
    self.notifiedAt = notifiedAt
    self.revealedAt = revealedAt
    self.purgedAt = purgedAt
    self.itemIds = itemIds
  }

  /// One JSON object (for `--json`).
  public var json: JSONValue {
    func int(_ v: Int64?) -> JSONValue { v.map { .int($0) } ?? .null }
    return [
      "id": .int(id), "case_ref": .string(caseRef), "state": .string(state.rawValue),
      "kind": .string(kind.rawValue), "created_at": .int(createdAt), "sent_at": int(sentAt),
      "verdict": .text(verdict?.rawValue), "verdict_at": int(verdictAt),
      "notify_due_at": int(notifyDueAt), "notified_at": int(notifiedAt),
      "revealed_at": int(revealedAt),
      "purged_at": int(purgedAt), "items": .array(itemIds.map { .int($0) }),
    ]
  }
}

/// A report failure an operator can act on.
public enum ReportError: Error, Equatable, Sendable, CustomStringConvertible {
  /// No report has this case reference.
  case unknownCase(String)
  /// The report is not in a state that allows the step.
  case wrongState(caseRef: String, state: ReportState, needed: ReportState)
  /// The operator lacks the `lead` role for an approval.
  case notALead(operatorName: String)
  /// The requester tried to approve their own reveal, or to reveal what they approved.
  case sameOperator(caseRef: String, operatorName: String)
  /// The approver is bound to the same OS account (uid) as a requester: four eyes are two
  /// accounts, whatever the names.
  case sameAccount(caseRef: String, operatorName: String, requester: String, uid: UInt32)
  /// A requester is bound to no OS account, so no approver can be shown to be another one.
  case requesterUnbound(caseRef: String, requester: String)
  /// No lead other than the revealing operator approved the reveal yet.
  case awaitingApproval(caseRef: String)
  /// Nobody asked for the case to be revealed yet.
  case noRevealRequest(caseRef: String)
  /// Writing the outbox failed.
  case cannotWrite(path: String, reason: String)
  /// The outbox or a file in it is unsafe to write (a symlink, another account's, a folder
  /// others can write to).
  case unsafeFile(PrivateFileError)
  /// The report was purged after the retention period.
  case purged(caseRef: String)
  /// No user notification is due for the case (not closed as manifestly unfounded).
  case noNotificationDue(caseRef: String)
  /// The report's state disagrees with its audit trail (changed outside csar, say set back
  /// to `ready` with sqlite3): it is neither exported nor revealed.
  case disagreesWithAudit(AuditMismatch)

  public var description: String {
    switch self {
    case .unknownCase(let ref):
      return "no report with case reference \"\(ref)\""
    case .wrongState(let ref, let state, let needed):
      return "report \(ref) is \(state.rawValue); this needs it to be \(needed.rawValue)"
    case .notALead(let name):
      return "operator \"\(name)\" is not a lead: only a lead (or an admin) can approve a "
        + "reveal"
    case .sameOperator(let ref, let name):
      return "\(name) cannot be both eyes on \(ref): a different lead must approve the reveal"
    case .sameAccount(let ref, let name, let requester, let uid):
      return "\(name) and \(requester) are the same OS account (uid \(uid)): one person "
        + "cannot be both eyes on \(ref); a lead logged in as another OS account must approve"
    case .requesterUnbound(let ref, let requester):
      return "the reveal of \(ref) was requested by \"\(requester)\", who is bound to no OS "
        + "account: an admin binds it (csar operator add \(requester) --role reviewer) "
        + "before a lead can approve"
    case .awaitingApproval(let ref):
      return "reveal of \(ref) requested; it needs the approval of a lead other than you, "
        + "logged in as another OS account (csar report approve \(ref))"
    case .noRevealRequest(let ref):
      return "nobody requested the reveal of \(ref) yet (csar report request-reveal \(ref))"
    case .cannotWrite(let path, let reason):
      return "\(path): cannot write: \(reason)"
    case .unsafeFile(let error):
      return error.description
    case .purged(let ref):
      return "report \(ref) was purged after the retention period"
    case .noNotificationDue(let ref):
      return "no user notification is due for \(ref): only a case closed as manifestly "
        + "unfounded notifies the user"
    case .disagreesWithAudit(let mismatch):
      return "refused: \(mismatch) (changed outside csar); nothing was written for it; "
        + "run `csar audit verify`"
    }
  }
}

// MARK: - Creating reports (inside a decision)

extension AppDatabase {
  /// Inserts a `ready` report covering `itemIds` with a never-reused case reference
  /// `CSAR-<year>-<number>`, and its clear-text snapshot in `payload_json`.
  static func createReport(
    _ db: Database, audit: AuditTrail, kind: FlagKind, accountId: Int64?, itemIds: [Int64]
  ) throws -> (id: Int64, caseRef: String) {
    var number = try Int64.fetchOne(
      db,
      sql: """
        SELECT max(coalesce((SELECT next FROM review_sequence WHERE name = 'case'), 1),
          (SELECT coalesce(max(id), 0) + 1 FROM report))
        """) ?? 1
    let year = CalendarDate(unixSeconds: audit.at).year
    var caseRef = ""
    repeat {
      caseRef = "CSAR-\(year)-\(100_000 + number)"
      number += 1
    } while try Bool.fetchOne(
      db, sql: "SELECT 1 FROM report WHERE case_ref = ?", arguments: [caseRef]) == true
    try db.execute(
      sql: """
        INSERT INTO review_sequence(name, next) VALUES ('case', ?)
        ON CONFLICT(name) DO UPDATE SET next = excluded.next
        """, arguments: [number])
    try db.execute(
      sql: """
        INSERT INTO report (case_ref, state, kind, account_id, created_at)
        VALUES (?, 'ready', ?, ?, ?)
        """, arguments: [caseRef, kind.rawValue, accountId, audit.at])
    let reportId = db.lastInsertedRowID
    for item in itemIds {
      try db.execute(
        sql: "INSERT INTO report_item (report_id, item_id) VALUES (?, ?)",
        arguments: [reportId, item])
    }
    let contents = try reportContents(db, reportId: reportId, provider: "")
    try db.execute(
      sql: "UPDATE report SET payload_json = ? WHERE id = ?",
      arguments: [contents.json.description, reportId])
    try audit.record(
      action: "report.create", entity: "report", entityId: String(reportId),
      after: [
        "case": .string(caseRef), "state": "ready", "kind": .string(kind.rawValue),
        "items": .array(itemIds.map { .int($0) }),
      ])
    return (reportId, caseRef)
  }

  /// Builds a report's contents from the current rows (clear text: pseudonymise before
  /// sending). Confirmed content is taken down on confirmation, so `removed` is true. The
  /// account id is the one stored before ids were spelled in NFC, where it was respelled
  /// (see ``Schema/v6NFCIds(_:)``), so its pseudonym stays the one already sent.
  static func reportContents(_ db: Database, reportId: Int64, provider: String) throws
    -> ReportContents
  {
    guard
      let report = try Row.fetchOne(
        db,
        sql: """
          SELECT r.*, coalesce(s.stored, a.external_id) AS external_id FROM report r
          LEFT JOIN account a ON a.id = r.account_id
          LEFT JOIN id_respelling s ON s.account_id = a.id AND s.kept = 0
          WHERE r.id = ?
          """, arguments: [reportId])
    else { throw StoreError.notFound(entity: "report", id: String(reportId)) }
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT f.*, s.code AS service_code, s.name AS service_name,
          (SELECT v.version FROM bank_version v WHERE v.id = f.bank_version_id)
            AS bank_version,
          (SELECT max(d.decided_at) FROM review_decision d
            WHERE d.item_id = f.id AND d.decision = 'confirm' AND d.undone_at IS NULL)
            AS confirmed_at
        FROM report_item ri JOIN flagged_item f ON f.id = ri.item_id
        JOIN service s ON s.id = f.service_id
        WHERE ri.report_id = ? ORDER BY f.id
        """, arguments: [reportId])
    var items: [ReportedItem] = []
    var priorities: [Int] = []
    var confirmedAt: Int64 = report["created_at"]
    for row in rows {
      items.append(
        ReportedItem(
          itemId: row["id"], kind: try row.code(FlagKind.self, "kind", table: "flagged_item"),
          flaggedAt: row["created_at"], sha256: row["sha256"], md5: row["md5"],
          pdq: row["pdq"], url: row["url"], bank: row["bank"], label: row["label"],
          distance: row["distance"], model: row["model"], score: row["score"],
          bankVersion: row["bank_version"]))
      priorities.append(row["priority"])
      if let at = row["confirmed_at"] as Int64? ?? row["decided_at"] as Int64? {
        confirmedAt = items.count == 1 ? at : max(confirmedAt, at)
      }
    }
    var account = ReportAccount(accountId: report["external_id"])
    if let accountId = report["account_id"] as Int64? {
      let details = try Row.fetchAll(
        db.cachedStatement(
          sql: "SELECT field, value FROM account_detail WHERE account_id = ? ORDER BY seen_at, id"
        ), arguments: [accountId])
      for detail in details {
        let value: String = detail["value"]
        switch detail["field"] as String {
        case "ip_address": account.ipAddresses.append(value)
        case "device_id": account.deviceIds.append(value)
        default: account.names.append(value)
        }
      }
    }
    return ReportContents(
      caseRef: report["case_ref"], provider: provider, createdAt: report["created_at"],
      confirmedAt: confirmedAt, kind: try report.code(FlagKind.self, "kind", table: "report"),
      serviceCode: rows.first?["service_code"] ?? "",
      serviceName: rows.first?["service_name"] ?? "", items: items,
      account: account, removed: true,
      urgency: ReportContents.urgency(priorities: priorities))
  }
}

// MARK: - JSON form of the contents

extension ReportContents {
  /// The canonical JSON document (sorted keys) written to the outbox.
  public var json: JSONValue {
    func opt(_ s: String?) -> JSONValue { .text(s) }
    let itemValues: [JSONValue] = items.map { item in
      [
        "item_id": .int(item.itemId), "kind": .string(item.kind.rawValue),
        "flagged_at": .string(ClaimError.utc(item.flaggedAt)), "sha256": opt(item.sha256),
        "md5": opt(item.md5), "pdq": opt(item.pdq), "url": opt(item.url),
        "bank": opt(item.bank), "label": opt(item.label),
        "distance": item.distance.map { .int(Int64($0)) } ?? .null,
        "model": opt(item.model), "score": item.score.map { .double($0) } ?? .null,
        "bank_version": item.bankVersion.map { .int(Int64($0)) } ?? .null,
      ]
    }
    return [
      "format": "csar-report/1", "case_ref": .string(caseRef), "provider": .string(provider),
      "created_at": .string(ClaimError.utc(createdAt)),
      "confirmed_at": .string(ClaimError.utc(confirmedAt)),
      "kind": .string(kind.label), "service": ["code": .string(serviceCode),
        "name": .string(serviceName)],
      "items": .array(itemValues),
      "account": [
        "account_id": opt(account.accountId),
        "ip_addresses": .array(account.ipAddresses.map { .string($0) }),
        "device_ids": .array(account.deviceIds.map { .string($0) }),
        "names": .array(account.names.map { .string($0) }),
      ],
      "content_removed": .bool(removed), "urgency": .string(urgency.rawValue),
      "pseudonymised": .bool(isPseudonymised),
    ]
  }
}
