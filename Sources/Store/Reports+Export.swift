import Compliance
import Crypto
import Foundation
import GRDB

// MARK: - Listing reports

extension AppDatabase {
  /// Reports by id (oldest first), optionally only those in `state`.
  public func reportListings(state: ReportState? = nil) throws -> [ReportListing] {
    try read { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT r.id, r.case_ref, r.state, r.kind, r.account_id, r.created_at, r.sent_at,
            r.verdict, r.verdict_at, r.notify_due_at, r.notified_at, r.revealed_at, r.purged_at,
            (SELECT group_concat(item_id) FROM report_item WHERE report_id = r.id) AS items
          FROM report r WHERE ?1 IS NULL OR r.state = ?1 ORDER BY r.id
          """, arguments: [state?.rawValue])
      return try rows.map(Self.reportListing)
    }
  }

  /// The contents of the report with `caseRef` (clear text; pseudonymise before sending).
  public func reportContents(caseRef: String, provider: String) throws -> ReportContents {
    try read { db in
      let reportId = try Self.reportId(db, caseRef: caseRef)
      return try Self.reportContents(db, reportId: reportId, provider: provider)
    }
  }

  static func reportId(_ db: Database, caseRef: String) throws -> Int64 {
    guard
      let id = try Int64.fetchOne(
        db.cachedStatement(sql: "SELECT id FROM report WHERE case_ref = ?"),
        arguments: [caseRef])
    else { throw ReportError.unknownCase(caseRef) }
    return id
  }
}

// MARK: - Export

/// A report written to the outbox by
/// ``AppDatabase/exportReadyReports(to:provider:key:by:batchSize:)``.
public struct ExportedReport: Hashable, Sendable {
  public var caseRef: String
  /// The file written.
  public var path: String
  /// SHA-256 of the file's bytes (recorded in the audit event too).
  public var sha256: String
}

extension AppDatabase {
  /// Writes every `ready` report to `outbox` as `<case ref>.json` (pseudonymised under `key`)
  /// and marks it `sent`, audited ("report.export" with the file name and its SHA-256).
  ///
  /// Works in batches: the contents are read from a snapshot, the files written atomically
  /// and flushed (``Outbox/write(_:)``), and only then a short write transaction marks the
  /// reports that are still `ready` (consoles never wait for the disk). Exports of one
  /// database run one at a time (a lock file beside it): a concurrent one waits, then finds
  /// the reports sent, so each report is written once. A crash in between
  /// leaves files whose reports are still `ready`: the next run writes the same names again
  /// (replacing them) and marks them, so a report is never in the outbox twice and never
  /// marked sent without its file. A report voided meanwhile (its decision undone) has its
  /// file removed again; one that another export marked first keeps it.
  ///
  /// `observer` hears of each marked batch (reports exported so far, of those ready at the
  /// start) and may stop the export between batches (``LongRunStopped``): the reports marked
  /// are sent, the others stay `ready` for the next run.
  @discardableResult
  public func exportReadyReports(
    to outbox: Outbox, provider: String, key: ProviderKey, by operatorName: String,
    batchSize: Int = 100, observer: (any LongRunObserver)? = nil
  ) throws -> [ExportedReport] {
    try exportReadyReports(
      to: outbox, provider: provider, key: key, by: operatorName, batchSize: batchSize,
      observer: observer, beforeMarking: {})
  }

  /// The export, with a hook run after each batch's files are written and before they are
  /// marked (tests use it to change the reports in between, as another console could).
  func exportReadyReports(
    to outbox: Outbox, provider: String, key: ProviderKey, by operatorName: String,
    batchSize: Int, observer: (any LongRunObserver)? = nil, beforeMarking: () throws -> Void
  ) throws -> [ExportedReport] {
    _ = try read { db in try Self.operatorId(db, name: operatorName) }
    // One export at a time per database: a second one waits, then finds the reports sent,
    // so no report is written twice. The lock is a file beside the database, not SQLite's:
    // consoles keep writing meanwhile.
    return try withExportLock {
      try exportUnlocked(
        to: outbox, provider: provider, key: key, by: operatorName, batchSize: batchSize,
        observer: observer, beforeMarking: beforeMarking)
    }
  }

  /// The lock file that serialises exports of this database (`csar.sqlite-export.lock`);
  /// an in-memory database has one process only and needs none.
  private func withExportLock<T>(_ body: () throws -> T) throws -> T {
    if !hasFile { return try body() }
    do {
      return try PrivateFiles.withLock(path + "-export.lock", body)
    } catch let error as PrivateFileError {
      throw ReportError.unsafeFile(error)
    }
  }

  private func exportUnlocked(
    to outbox: Outbox, provider: String, key: ProviderKey, by operatorName: String,
    batchSize: Int, observer: (any LongRunObserver)?, beforeMarking: () throws -> Void
  ) throws -> [ExportedReport] {
    var exported: [ExportedReport] = []
    var after: Int64 = 0
    // Before any file is written: every ready report must agree with its audit trail.
    let ready = try read { db in
      let ids = try Int64.fetchAll(
        db, sql: "SELECT id FROM report WHERE state = 'ready' AND purged_at IS NULL")
      try Self.refuseDisagreeing(db, ids: ids)
      return ids.count
    }
    while true {
      let files = try read { db -> [(id: Int64, name: String, text: String)] in
        let ids = try Int64.fetchAll(
          db,
          sql: """
            SELECT id FROM report WHERE state = 'ready' AND purged_at IS NULL AND id > ?
            ORDER BY id LIMIT ?
            """, arguments: [after, max(1, batchSize)])
        try Self.refuseDisagreeing(db, ids: ids)
        let head = try Self.auditHead(db)
        return try ids.map { id in
          let contents = try Self.reportContents(db, reportId: id, provider: provider)
            .pseudonymised(key.pseudonym)
          let document = Self.carryingHead(contents.json, head)
          return (id, contents.caseRef + ".json", document.description + "\n")
        }
      }
      guard let last = files.last else { return exported }
      try observer?.checkStop(
        task: "report export", committed: exported.count, total: ready, unit: "reports",
        resume: "run the same command again: reports already sent are not exported twice")
      after = last.id
      let paths = try outbox.write(files.map { ($0.name, $0.text) })
      try beforeMarking()
      var voided: [String] = []
      exported += try audited(by: operatorName) { db, audit -> [ExportedReport] in
        var done: [ExportedReport] = []
        for (index, file) in files.enumerated() {
          try db.execute(
            sql: "UPDATE report SET state = 'sent', sent_at = ? WHERE id = ? AND state = 'ready'",
            arguments: [audit.at, file.id])
          guard db.changesCount == 1 else {
            let exists = try Bool.fetchOne(
              db, sql: "SELECT 1 FROM report WHERE id = ?", arguments: [file.id]) ?? false
            if !exists { voided.append(file.name) }
            continue
          }
          let caseRef = String(file.name.dropLast(5))
          let digest = AuditChain.hex(SHA256.hash(data: Data(file.text.utf8)))
          try audit.record(
            action: "report.export", entity: "report", entityId: String(file.id),
            before: ["case": .string(caseRef), "state": "ready"],
            after: ["state": "sent", "file": .string(file.name), "sha256": .string(digest)])
          done.append(ExportedReport(caseRef: caseRef, path: paths[index], sha256: digest))
        }
        return done
      }
      for name in voided { outbox.remove(name) }
      observer?.committed(exported.count, of: ready)
    }
  }
}

// MARK: - Exports agree with the audit log

extension AppDatabase {
  /// Throws ``ReportError/disagreesWithAudit(_:)`` for the first of the reports `ids` whose
  /// state disagrees with its audit trail: such a report is neither exported nor revealed.
  static func refuseDisagreeing(_ db: Database, ids: [Int64]) throws {
    if let mismatch = try reportMismatches(db, ids: ids).first {
      throw ReportError.disagreesWithAudit(mismatch)
    }
  }

  /// `document` (a JSON object) with `audit_head`: the audit log's head (events and MAC) when
  /// the export was made, so the package can later be checked against the log
  /// (`csar audit verify --expect-head EVENTS:MAC`).
  static func carryingHead(_ document: JSONValue, _ head: AuditHead?) -> JSONValue {
    guard case .object(var fields) = document else { return document }
    fields["audit_head"] = head?.json ?? .null
    return .object(fields)
  }
}

// MARK: - Closed cases: the user notification

extension AppDatabase {
  /// Records that the user of a case closed as manifestly unfounded was notified. Audited
  /// ("report.user_notified"); recording it twice changes nothing. Returns false when it was
  /// recorded already.
  @discardableResult
  public func markUserNotified(caseRef: String, by operatorName: String) throws -> Bool {
    try audited(by: operatorName) { db, audit in
      _ = try Self.operatorId(db, name: operatorName)
      let reportId = try Self.reportId(db, caseRef: caseRef)
      guard
        try Bool.fetchOne(
          db, sql: "SELECT notify_due_at IS NOT NULL FROM report WHERE id = ?",
          arguments: [reportId]) == true
      else { throw ReportError.noNotificationDue(caseRef: caseRef) }
      try db.execute(
        sql: "UPDATE report SET notified_at = ? WHERE id = ? AND notified_at IS NULL",
        arguments: [audit.at, reportId])
      guard db.changesCount > 0 else { return false }
      try audit.record(
        action: "report.user_notified", entity: "report", entityId: String(reportId),
        after: ["case": .string(caseRef), "notified_at": .int(audit.at)])
      return true
    }
  }
}

// MARK: - Four eyes: request, approve, reveal

extension AppDatabase {
  /// Asks for the metadata of a founded case to be revealed in the clear. Audited
  /// ("report.request_reveal"); asking twice changes nothing (returns false).
  @discardableResult
  public func requestReveal(caseRef: String, by operatorName: String) throws -> Bool {
    try audited(by: operatorName) { db, audit in
      let operatorId = try Self.operatorId(db, name: operatorName)
      let reportId = try Self.foundedReport(db, caseRef: caseRef)
      try db.execute(
        sql: """
          INSERT INTO reveal_request (report_id, operator_id, requested_at) VALUES (?, ?, ?)
          ON CONFLICT DO NOTHING
          """, arguments: [reportId, operatorId, audit.at])
      guard db.changesCount > 0 else { return false }
      try audit.record(
        action: "report.request_reveal", entity: "report", entityId: String(reportId),
        after: ["case": .string(caseRef), "requested_by": .string(operatorName)])
      return true
    }
  }

  /// A lead (or an admin) approves a requested reveal: the second pair of eyes, which means a
  /// second OS account. The approver must be enabled and bound to a uid, and that uid must
  /// differ from the uid of every operator who requested the reveal, whatever the names
  /// (one account may hold several operator names). A request by an operator not bound to an
  /// OS account cannot be approved. Audited ("report.approve_reveal"); approving twice
  /// changes nothing (returns false).
  @discardableResult
  public func approveReveal(caseRef: String, by operatorName: String) throws -> Bool {
    try audited(by: operatorName) { db, audit in
      guard let approver = try Self.operatorRow(db, name: operatorName) else {
        throw StoreError.unknownOperator(name: operatorName)
      }
      guard approver.isEnabled else { throw IdentityError.disabled(name: operatorName) }
      guard approver.role.approvesReveals else {
        throw ReportError.notALead(operatorName: operatorName)
      }
      guard let approverUid = approver.uid else {
        throw IdentityError.unbound(name: operatorName)
      }
      let reportId = try Self.foundedReport(db, caseRef: caseRef)
      let requesters = try Row.fetchAll(
        db,
        sql: """
          SELECT o.name, o.uid FROM reveal_request r JOIN operator o ON o.id = r.operator_id
          WHERE r.report_id = ? ORDER BY r.requested_at, o.name
          """, arguments: [reportId]
      ).map { (name: $0["name"] as String, uid: $0["uid"] as UInt32?) }
      guard !requesters.isEmpty else { throw ReportError.noRevealRequest(caseRef: caseRef) }
      if requesters.contains(where: { $0.name == operatorName }) {
        throw ReportError.sameOperator(caseRef: caseRef, operatorName: operatorName)
      }
      for requester in requesters {
        guard let uid = requester.uid else {
          throw ReportError.requesterUnbound(caseRef: caseRef, requester: requester.name)
        }
        if uid == approverUid {
          throw ReportError.sameAccount(
            caseRef: caseRef, operatorName: operatorName, requester: requester.name, uid: uid)
        }
      }
      try db.execute(
        sql: """
          INSERT INTO reveal_approval (report_id, approver_id, approved_at) VALUES (?, ?, ?)
          ON CONFLICT DO NOTHING
          """, arguments: [reportId, approver.id, audit.at])
      guard db.changesCount > 0 else { return false }
      try audit.record(
        action: "report.approve_reveal", entity: "report", entityId: String(reportId),
        after: [
          "case": .string(caseRef), "approved_by": .string(operatorName),
          "approver_uid": .int(Int64(approverUid)),
          "requested_by": .array(requesters.map { .string($0.name) }),
        ])
      return true
    }
  }

  /// Writes the clear-text metadata package of a founded case to `outbox` as
  /// `<case ref>-reveal.json` and marks the report `revealed`. Only after an enabled lead or
  /// admin of another OS account (uid) than the revealing operator's approved it (four
  /// eyes). Audited ("report.reveal" with the file name and its SHA-256); the file is written
  /// inside the transaction, so a refused or failed reveal records nothing and a recorded one
  /// has its file.
  @discardableResult
  public func reveal(
    caseRef: String, to outbox: Outbox, provider: String, key: ProviderKey,
    by operatorName: String
  ) throws -> ExportedReport {
    try audited(by: operatorName) { db, audit in
      let operatorId = try Self.operatorId(db, name: operatorName)
      guard let uid = try Self.operatorRow(db, name: operatorName)?.uid else {
        throw IdentityError.unbound(name: operatorName)
      }
      let reportId = try Self.foundedReport(db, caseRef: caseRef)
      // Approvals count from enabled leads and admins of another OS account than the reveal's.
      let approvers = try String.fetchAll(
        db,
        sql: """
          SELECT o.name FROM reveal_approval a JOIN operator o ON o.id = a.approver_id
          WHERE a.report_id = ? AND a.approver_id <> ? AND o.role IN ('lead', 'admin')
            AND o.disabled_at IS NULL AND o.uid IS NOT NULL AND o.uid <> ?
          ORDER BY a.approved_at, o.name
          """, arguments: [reportId, operatorId, uid])
      guard !approvers.isEmpty else {
        let requested = try Bool.fetchOne(
          db, sql: "SELECT 1 FROM reveal_request WHERE report_id = ?", arguments: [reportId])
        if requested != true { throw ReportError.noRevealRequest(caseRef: caseRef) }
        throw ReportError.awaitingApproval(caseRef: caseRef)
      }
      let clear = try Self.reportContents(db, reportId: reportId, provider: provider)
      let sent = clear.pseudonymised(key.pseudonym)
      let head = try Self.auditHead(db)
      let package: JSONValue = [
        "format": "csar-reveal/1", "case_ref": .string(caseRef), "provider": .string(provider),
        "revealed_at": .string(ClaimError.utc(audit.at)),
        "revealed_by": .string(operatorName),
        "approved_by": .array(approvers.map { .string($0) }),
        "report": clear.json,
        "pseudonyms": Self.pseudonymTable(clear: clear.account, sent: sent.account),
        "audit_head": head?.json ?? .null,
      ]
      let text = package.description + "\n"
      let name = caseRef + "-reveal.json"
      let path = try outbox.write(text, as: name)
      let digest = AuditChain.hex(SHA256.hash(data: Data(text.utf8)))
      try db.execute(
        sql: "UPDATE report SET state = 'revealed', revealed_at = ? WHERE id = ?",
        arguments: [audit.at, reportId])
      try audit.record(
        action: "report.reveal", entity: "report", entityId: String(reportId),
        before: ["case": .string(caseRef), "state": "founded"],
        after: [
          "state": "revealed", "file": .string(name), "sha256": .string(digest),
          "approved_by": .array(approvers.map { .string($0) }),
        ])
      return ExportedReport(caseRef: caseRef, path: path, sha256: digest)
    }
  }

  /// Each pseudonym sent with the report mapped to its clear value, so that the EU Centre can
  /// join the revealed package to the report it holds.
  static func pseudonymTable(clear: ReportAccount, sent: ReportAccount) -> JSONValue {
    var table: [String: JSONValue] = [:]
    if let pseudonym = sent.accountId, let value = clear.accountId {
      table[pseudonym] = .string(value)
    }
    for (pseudonyms, values) in [
      (sent.ipAddresses, clear.ipAddresses), (sent.deviceIds, clear.deviceIds),
      (sent.names, clear.names),
    ] {
      for (pseudonym, value) in zip(pseudonyms, values) { table[pseudonym] = .string(value) }
    }
    return .object(table)
  }

  /// The id of the report `caseRef`, which must be founded (verdict: not manifestly
  /// unfounded) and not purged.
  static func foundedReport(_ db: Database, caseRef: String) throws -> Int64 {
    guard
      let row = try Row.fetchOne(
        db, sql: "SELECT id, state, purged_at FROM report WHERE case_ref = ?",
        arguments: [caseRef])
    else { throw ReportError.unknownCase(caseRef) }
    if row["purged_at"] as Int64? != nil { throw ReportError.purged(caseRef: caseRef) }
    let state = try row.code(ReportState.self, "state", table: "report")
    guard state == .founded else {
      throw ReportError.wrongState(caseRef: caseRef, state: state, needed: .founded)
    }
    try refuseDisagreeing(db, ids: [row["id"]])
    return row["id"]
  }
}
