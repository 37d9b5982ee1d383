import Compliance
import Foundation
import GRDB

// MARK: - Scan values

/// Who is uploading where, and whether they consented to detection before transmission.
public struct ScanSubject: Hashable, Sendable {
  /// `account.id`; nil for an account the console has never seen (it has consented to
  /// nothing, so its uploads are blocked).
  public var accountId: Int64?
  /// The account's external id.
  public var accountExternalId: String
  /// `service.id`.
  public var serviceId: Int64
  /// The service's code.
  public var serviceCode: String
  /// The account's current consent on that service (`not_asked` when no row).
  public var consent: ConsentState
  /// The account's pseudonym (nil for an account the console has never seen).
  public var pseudonym: String?
  /// Twin accounts holding the same id in other Unicode forms (see ``AccountTwins``) with
  /// their consent on the service; empty for almost every account.
  public var twins: [TwinConsent] = []

  /// Whether the upload may be read: consent granted by the account and by every twin
  /// (``ConsentState/mayShareVisualContentAndURLs(twins:)``).
  public var isAdmitted: Bool {
    consent.mayShareVisualContentAndURLs(twins: twins.map(\.consent))
  }

  /// The account granted consent but a twin did not: blocked for the twin's sake.
  public var isBlockedByTwin: Bool { consent == .granted && !isAdmitted }

  /// Why an upload blocked for a twin's sake is (the `reason` its answer and event give).
  public static let twinReason = "a twin account has not granted consent"
}

/// A twin account (one id in another Unicode form) and its consent on one service.
public struct TwinConsent: Hashable, Sendable {
  /// The twin.
  public var account: AccountSummary
  /// Its current consent on the service (`not_asked` when no row).
  public var consent: ConsentState

  /// Creates a value with every field given.
  public init(account: AccountSummary, consent: ConsentState) {
    self.account = account
    self.consent = consent
  }
}

/// An account on a service (row ids).
public struct AccountService: Hashable, Sendable {
  /// `account.id`.
  public var accountId: Int64
  /// `service.id`.
  public var serviceId: Int64

  /// Creates a pair.
  public init(accountId: Int64, serviceId: Int64) {
    self.accountId = accountId
    self.serviceId = serviceId
  }
}

/// A flagged item to put in the review queue (state `pending`).
public struct NewFlaggedItem: Hashable, Sendable {
  /// Why it is flagged.
  public var kind: FlagKind
  /// 1 (most urgent) ... 5.
  public var priority: Int
  /// The service it was uploaded to.
  public var serviceId: Int64
  /// The uploading account.
  public var accountId: Int64?
  /// File path of the media, if any.
  public var mediaPath: String?
  /// The URL, for URL matches.
  public var url: String?
  /// SHA-256 of the media.
  public var sha256: String?
  /// MD5 of the media.
  public var md5: String?
  /// PDQ of the media.
  public var pdq: String?
  /// The bank (or URL list) that matched.
  public var bank: String?
  /// The matched entry's label.
  public var label: String?
  /// PDQ Hamming distance (0 for exact matches).
  public var distance: Int?
  /// Classifier model, for new material.
  public var model: String?
  /// Classifier score, for new material.
  public var score: Double?
  /// For a video upload: what it matched (recorded with the item, in `flagged_item_video`).
  public var video: FlaggedVideoMatch?
  /// The `bank_version` row of the list that matched (see ``BankHashHit/versionId``).
  public var bankVersionId: Int64?
  /// The bank reports its matches at once (``BankMatchAction/report``): the item is confirmed
  /// and a report created in the same transaction, without waiting for review.
  public var reportOnMatch = false

  /// Creates an item.
  public init(
    kind: FlagKind, priority: Int, serviceId: Int64, accountId: Int64?,
    mediaPath: String? = nil, url: String? = nil, sha256: String? = nil, md5: String? = nil,
    pdq: String? = nil, bank: String? = nil, label: String? = nil, distance: Int? = nil,
    model: String? = nil, score: Double? = nil, bankVersionId: Int64? = nil,
    reportOnMatch: Bool = false
  ) {
    self.bankVersionId = bankVersionId
    self.reportOnMatch = reportOnMatch
    self.kind = kind
    self.priority = priority
    self.serviceId = serviceId
    self.accountId = accountId
    self.mediaPath = mediaPath
    self.url = url
    self.sha256 = sha256
    self.md5 = md5
    self.pdq = pdq
    self.bank = bank
    self.label = label
    self.distance = distance
    self.model = model
    self.score = score
  }
}

/// One classifier event to import: queued (`item` set) or only counted (below threshold).
public struct ClassifierImport: Hashable, Sendable {
  /// The detector's event id (makes re-import idempotent), if any.
  public var externalRef: String?
  /// The item to queue, or nil when the score is below the threshold.
  public var item: NewFlaggedItem?

  /// Creates an import record.
  public init(externalRef: String?, item: NewFlaggedItem?) {
    self.externalRef = externalRef
    self.item = item
  }
}

/// What a classifier import did.
public struct FlagImportSummary: Hashable, Sendable {
  /// Items put in the queue, by id.
  public var queued: [Int64]
  /// Events below the threshold (counted, not queued).
  public var belowThreshold: Int
  /// Events whose id had been imported before.
  public var alreadyImported: Int
  /// Bad lines left out.
  public var skipped: Int
}

// MARK: - Queries and writes

extension AppDatabase {
  /// The account (by external id: see ``account(_:externalId:)``) and service (by code) of
  /// an upload, with the consent state (`not_asked` for an account without a
  /// `consent_current` row, or not known at all) and the account's twins with theirs.
  /// Throws ``StoreError/notFound(entity:id:)`` for an unknown service.
  public func scanSubject(accountExternalId: String, serviceCode: String) throws -> ScanSubject {
    try read { db in
      guard let serviceId = try Self.serviceId(db, code: serviceCode) else {
        throw StoreError.notFound(entity: "service", id: serviceCode)
      }
      let account = try Self.account(db, externalId: accountExternalId)
      let consent = try db.cachedStatement(
        sql: "SELECT state FROM consent_current WHERE account_id = ? AND service_id = ?")
      func state(_ accountId: Int64) throws -> ConsentState {
        try Row.fetchOne(consent, arguments: [accountId, serviceId])?
          .code(ConsentState.self, "state", table: "consent_current") ?? .notAsked
      }
      var subject = ScanSubject(
        accountId: account?.id, accountExternalId: accountExternalId, serviceId: serviceId,
        serviceCode: serviceCode, consent: try account.map { try state($0.id) } ?? .notAsked,
        pseudonym: account?.pseudonym)
      // Ids without non-ASCII characters have one spelling: no twin to look for.
      if !accountExternalId.utf8.allSatisfy({ $0 < 0x80 }) {
        subject.twins = try Self.accounts(
          db, spelling: Identifier.normalized(accountExternalId), besides: account?.id
        ).map { TwinConsent(account: $0, consent: try state($0.id)) }
      }
      return subject
    }
  }

  /// Current consent states of (account id, service id) pairs, in one read (`not_asked` where
  /// there is no row).
  public func consentStates(_ pairs: some Sequence<AccountService>) throws
    -> [AccountService: ConsentState]
  {
    try read { db in
      let statement = try db.cachedStatement(
        sql: "SELECT state FROM consent_current WHERE account_id = ? AND service_id = ?")
      var out: [AccountService: ConsentState] = [:]
      for pair in Set(pairs) {
        out[pair] =
          try Row.fetchOne(statement, arguments: [pair.accountId, pair.serviceId])?
          .code(ConsentState.self, "state", table: "consent_current") ?? .notAsked
      }
      return out
    }
  }

  /// Every service code, sorted.
  public func serviceCodes() throws -> [String] {
    try read { db in try String.fetchAll(db, sql: "SELECT code FROM service ORDER BY code") }
  }

  /// Account ids by external id (unknown ones are absent).
  public func accountIds(externalIds: some Sequence<String>) throws -> [String: Int64] {
    try read { db in
      var out: [String: Int64] = [:]
      for external in Set(externalIds) {
        if let id = try Self.accountId(db, externalId: external) { out[external] = id }
      }
      return out
    }
  }

  /// Service ids by code (unknown ones are absent).
  public func serviceIds(codes: some Sequence<String>) throws -> [String: Int64] {
    try read { db in
      var out: [String: Int64] = [:]
      for code in Set(codes) {
        if let id = try Self.serviceId(db, code: code) { out[code] = id }
      }
      return out
    }
  }

  /// Records that uploads were blocked for lack of consent: one `scan.blocked` event with the
  /// number of inputs (neither paths nor URLs are stored: they may not be processed). An
  /// account the console does not know is recorded as `unknown` (its provider id is not kept).
  public func recordBlockedScan(_ subject: ScanSubject, inputs: Int, by operatorName: String)
    throws
  {
    _ = try audited(by: operatorName) { _, audit in
      try Self.recordBlocked(subject, inputs: inputs, audit: audit)
    }
  }

  static func recordBlocked(_ subject: ScanSubject, inputs: Int, audit: AuditTrail) throws {
    try audit.record(
      action: "scan.blocked", entity: "account",
      entityId: subject.accountId.map { String($0) } ?? "unknown",
      after: .object(blockedEvent(subject, inputs: inputs)))
  }

  /// What a `scan.blocked` event records: the service, the account's consent, the number of
  /// inputs and why; for an account with twins, each twin (row id) and its consent.
  static func blockedEvent(_ subject: ScanSubject, inputs: Int) -> [String: JSONValue] {
    var after: [String: JSONValue] = [
      "service": .string(subject.serviceCode), "consent": .string(subject.consent.rawValue),
      "inputs": .int(Int64(inputs)),
      "reason": .string(subject.isBlockedByTwin ? ScanSubject.twinReason : "no consent"),
    ]
    if !subject.twins.isEmpty {
      after["twins"] = .array(
        subject.twins.map {
          ["account": .int($0.account.id), "consent": .string($0.consent.rawValue)]
        })
    }
    return after
  }

  /// Puts items in the review queue (state `pending`), each with a `flag.create` event whose
  /// `source` says what created it (`scan`, `flags.import`). Returns their ids in order.
  @discardableResult
  public func createFlaggedItems(
    _ items: [NewFlaggedItem], source: String, by operatorName: String
  ) throws -> [Int64] {
    guard !items.isEmpty else { return [] }
    return try audited(by: operatorName) { db, audit in
      try items.map { try Self.insertFlag(db, $0, source: source, audit: audit) }
    }
  }

  /// Imports classifier events in transactions of `batchSize` events: events whose
  /// `externalRef` was imported before are skipped; the others are recorded and their items
  /// queued. Audited per item (`flag.create`) and per batch (`flags.import`, with its number).
  ///
  /// `observer` hears of each committed batch (events done, of all) and may stop the run
  /// between batches (``LongRunStopped``); importing the same events again skips the ones
  /// committed, so a stopped import is finished by running it again.
  public func importClassifierFlags(
    _ records: [ClassifierImport], skipped: Int = 0, file: String, by operatorName: String,
    batchSize: Int = 10_000, observer: (any LongRunObserver)? = nil
  ) throws -> FlagImportSummary {
    var summary = FlagImportSummary(
      queued: [], belowThreshold: 0, alreadyImported: 0, skipped: skipped)
    try auditedBatches(
      count: records.count, batchSize: batchSize, by: operatorName, observer: observer,
      task: LongRunTask(
        name: "flags import", unit: "events",
        resume: "run the same command again: events imported before are skipped")
    ) { db, audit, range, batch in
      let part = try Self.importFlagBatch(
        db, records[range], batch: batch, skipped: skipped, file: file, audit: audit)
      summary.queued += part.queued
      summary.belowThreshold += part.belowThreshold
      summary.alreadyImported += part.alreadyImported
    }
    return summary
  }

  /// One batch of ``importClassifierFlags(_:skipped:file:by:batchSize:observer:)`` in the
  /// caller's transaction.
  static func importFlagBatch(
    _ db: Database, _ records: ArraySlice<ClassifierImport>, batch: Int, skipped: Int,
    file: String, audit: AuditTrail
  ) throws -> FlagImportSummary {
    var summary = FlagImportSummary(
      queued: [], belowThreshold: 0, alreadyImported: 0, skipped: skipped)
    var remembered = 0
    let seen = try db.cachedStatement(sql: "SELECT 1 FROM flag_import WHERE external_ref = ?")
    let remember = try db.cachedStatement(
      sql: "INSERT INTO flag_import (external_ref, item_id, imported_at) VALUES (?, ?, ?)")
    for record in records {
      if let ref = record.externalRef,
        try Bool.fetchOne(seen, arguments: [ref]) == true
      {
        summary.alreadyImported += 1
        continue
      }
      var itemId: Int64?
      if let item = record.item {
        itemId = try insertFlag(db, item, source: "flags.import", audit: audit)
        summary.queued.append(itemId!)
      } else {
        summary.belowThreshold += 1
      }
      if let ref = record.externalRef {
        try remember.execute(arguments: [ref, itemId, audit.at])
        remembered += 1
      }
    }
    if !summary.queued.isEmpty || remembered > 0 {
      try audit.record(
        action: "flags.import", entity: "file", entityId: file,
        after: [
          "batch": .int(Int64(batch)),
          "queued": .int(Int64(summary.queued.count)),
          "below_threshold": .int(Int64(summary.belowThreshold)),
          "already_imported": .int(Int64(summary.alreadyImported)),
          "skipped_lines": .int(Int64(skipped)),
        ])
    }
    return summary
  }

  // MARK: - Helpers

  static func insertFlag(
    _ db: Database, _ item: NewFlaggedItem, source: String, audit: AuditTrail
  ) throws -> Int64 {
    guard (1...5).contains(item.priority) else {
      throw StoreError.invalidValue(
        field: "priority", value: String(item.priority), reason: "use 1...5")
    }
    // Only a known match (a verified list) may skip review; new material never does.
    let reportNow = item.reportOnMatch && item.kind == .knownMatch
    let statement = try db.cachedStatement(
      sql: """
        INSERT INTO flagged_item (kind, state, priority, service_id, account_id, media_path,
          url, sha256, md5, pdq, bank, label, distance, model, score, created_at,
          bank_version_id, decided_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    try statement.execute(arguments: [
      item.kind.rawValue, reportNow ? "confirmed" : "pending", item.priority, item.serviceId,
      item.accountId, item.mediaPath, item.url, item.sha256, item.md5, item.pdq, item.bank,
      item.label, item.distance, item.model, item.score, audit.at, item.bankVersionId,
      reportNow ? audit.at : nil,
    ])
    let id = db.lastInsertedRowID
    var after: [String: JSONValue] = [
      "kind": .string(item.kind.rawValue), "state": "pending",
      "priority": .int(Int64(item.priority)), "service": .int(item.serviceId),
      "account": item.accountId.map { .int($0) } ?? .null, "source": .string(source),
      "media": .text(item.mediaPath), "url": .text(item.url), "bank": .text(item.bank),
      "label": .text(item.label), "sha256": .text(item.sha256), "pdq": .text(item.pdq),
      "distance": item.distance.map { .int(Int64($0)) } ?? .null,
      "model": .text(item.model),
    ]
    if let score = item.score { after["score"] = .double(score) }
    if let video = item.video {
      try insertVideoMatch(db, itemId: id, video)
      after["video"] = video.json
    }
    if let version = item.bankVersionId { after["bank_version_id"] = .int(version) }
    if reportNow { after["state"] = "confirmed" }
    try audit.record(
      action: "flag.create", entity: "flagged_item", entityId: String(id),
      after: .object(after))
    if reportNow {
      let report = try createReport(
        db, audit: audit, kind: item.kind, accountId: item.accountId, itemIds: [id])
      try audit.record(
        action: "item.report_on_match", entity: "flagged_item", entityId: String(id),
        before: ["state": "pending"],
        after: [
          "state": "confirmed", "report": .string(report.caseRef), "bank": .text(item.bank),
        ])
    }
    return id
  }

  static func accountId(_ db: Database, externalId: String) throws -> Int64? {
    try account(db, externalId: externalId)?.id
  }

  static func serviceId(_ db: Database, code: String) throws -> Int64? {
    try Int64.fetchOne(
      db.cachedStatement(sql: "SELECT id FROM service WHERE code = ?"), arguments: [code])
  }
}
