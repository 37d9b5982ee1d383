import Compliance
import Crypto
import Foundation
import GRDB
import PathText

// MARK: - Public entry point

/// What ``DemoGenerator/generate(into:items:accounts:today:now:)`` made.
public struct DemoSummary: Hashable, Sendable {
  public var services = 0
  public var operators = 0
  public var assessments = 0
  public var measures = 0
  public var orders = 0
  public var accounts = 0
  public var consentEvents = 0
  public var items = 0
  public var decisions = 0
  public var reports = 0
  public var auditEvents = 0
}

/// Fills an empty database with realistic synthetic data, the same for the same seed: a dozen
/// services covering every risk category and deadline state on `today`, detection orders,
/// operators `alice` (reviewer), `bahar` (lead) and `chen` (reviewer), accounts with consent
/// histories in every state, a review queue of every kind with evidence, decisions, reports in
/// every state, and a hash-chained audit log of all the operator actions.
///
/// Fast: rows go in through cached prepared statements, one transaction per batch; 1,000,000
/// items take well under a minute in a release build.
///
/// Demo operators follow the same identity rules as real ones: they are all bound to the OS
/// account that creates the demo (`ownerUid`), which is also its admin. So one account can
/// act as any of them, but a reveal needs the approval of a lead of a second account.
public struct DemoGenerator: Sendable {
  public let seed: UInt64
  /// The OS account (uid) the demo operators are bound to: the creator's.
  public let ownerUid: UInt32
  /// SHA-256 of the demo's media files by media path (`media/N.png`): items pointing at a
  /// file record its real digest, so previews can check it. Others get random digests.
  public var mediaDigests: [String: String] = [:]

  /// Items made when none are asked for.
  public static let defaultItems = 2_000

  public init(seed: UInt64 = 1, ownerUid: UInt32 = OSAccount.effectiveUid) {
    self.seed = seed
    self.ownerUid = ownerUid
  }

  /// Accounts made for a number of items when none are asked for: 5,000, or a quarter of
  /// the items when that is more.
  public static func defaultAccounts(items: Int) -> Int { max(5_000, items / 4) }

  /// Generates into `database`, which must hold no services yet. `now` (Unix seconds) defaults
  /// to 14:00 UTC on `today`; every generated time is at or before it.
  ///
  /// `observer` hears of each committed batch, counted in rows (accounts, items, then audit
  /// events chained; the total grows by the audit events once they are known) and may stop
  /// the build between batches (``LongRunStopped``): the database is then partly filled.
  @discardableResult
  public func generate(
    into database: AppDatabase, items: Int, accounts: Int? = nil, today: CalendarDate,
    now: Int64? = nil, observer: (any LongRunObserver)? = nil
  ) throws -> DemoSummary {
    guard items >= 0 else {
      throw StoreError.invalidValue(
        field: "items", value: String(items), reason: "must not be negative")
    }
    let accountCount = accounts ?? Self.defaultAccounts(items: items)
    guard accountCount >= 1 else {
      throw StoreError.invalidValue(
        field: "accounts", value: String(accountCount), reason: "must be at least 1")
    }
    let hasData = try database.read { db in
      try Bool.fetchOne(db, sql: "SELECT 1 FROM service LIMIT 1") == true
    }
    if hasData {
      throw StoreError.invalidValue(
        field: "database", value: database.path,
        reason: "already holds services; the demo fills only an empty database")
    }
    let run = DemoRun(
      seed: seed, today: today, now: now ?? (today.unixSeconds + 14 * 3600),
      accounts: accountCount, items: items, owner: ownerUid, mediaDigests: mediaDigests)
    run.observer = observer
    return try run.generate(into: database)
  }
}

// MARK: - One generation run

/// An audit event waiting to be chained (events are appended in time order at the end).
private struct PendingAudit {
  var at: Int64
  var operatorName: String
  var action: String
  var entity: String
  var entityId: String
  var details: String
}

/// A confirmed item that may become a report.
private struct ReportCandidate {
  var itemId: Int64
  var accountId: Int64
  var kind: FlagKind
  var decidedAt: Int64
  var decidedBy: String
  var serviceCode: String
  var sha256: String?
}

private final class DemoRun {
  var rng: SplitMix64
  let seed: UInt64
  let today: CalendarDate
  let now: Int64
  let accountCount: Int
  let itemCount: Int
  let ownerUid: UInt32
  var summary = DemoSummary()
  var audits: [PendingAudit] = []
  var reportCandidates: [ReportCandidate] = []
  var operatorIds: [String: Int64] = [:]
  var serviceIds: [Int64] = []
  var serviceCodes: [String] = []
  var serviceWeights: [Double] = []

  static let batchSize = 50_000
  /// Tables whose secondary indexes are rebuilt after loading.
  static let bulkTables =
    "'flagged_item', 'consent_event', 'review_decision', 'audit_event', 'report', 'bank_hash'"
  static let day: Int64 = 86_400

  let mediaDigests: [String: String]
  /// The demo's hash banks by name (the names its known-match items show): bank and version.
  var banks: [String: (id: Int64, version: Int64, at: Int64, hashes: Int)] = [:]
  /// The demo's URL lists by name (the names its URL-match items carry).
  var urlLists: [String: (id: Int64, at: Int64, entries: Int)] = [:]
  var observer: (any LongRunObserver)?
  /// Rows committed so far (accounts, items, audit events), for the observer.
  var rowsDone = 0
  /// Rows the run will commit: accounts and items, then the audit events once known.
  var rowsPlanned: Int { accountCount + itemCount + audits.count + summary.auditEvents }

  /// Tells the observer `rows` more are committed, then stops if asked to (between batches).
  func committed(_ rows: Int) throws {
    guard let observer else { return }
    rowsDone += rows
    observer.committed(rowsDone, of: rowsPlanned)
    try observer.checkStop(
      task: "demo", committed: rowsDone, total: rowsPlanned, unit: "rows",
      resume: "run the same command again: the demo is built anew")
  }

  init(
    seed: UInt64, today: CalendarDate, now: Int64, accounts: Int, items: Int, owner: UInt32,
    mediaDigests: [String: String]
  ) {
    self.seed = seed
    self.ownerUid = owner
    self.mediaDigests = mediaDigests
    self.rng = SplitMix64(seed: seed)
    self.today = today
    self.now = now
    self.accountCount = accounts
    self.itemCount = items
  }

  func generate(into database: AppDatabase) throws -> DemoSummary {
    try database.writer.writeWithoutTransaction { db in
      try db.execute(sql: "PRAGMA cache_size = -262144")  // 256 MiB while generating
    }
    defer {
      try? database.writer.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA cache_size = -2000")
      }
    }
    // Bulk loading is much faster without secondary indexes: drop them (as the schema
    // defined them) and build each once at the end, from sorted data.
    let indexes = try database.writeImmediate { db in
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT name, sql FROM sqlite_master
          WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (\(Self.bulkTables))
          """)
      for row in rows {
        try db.execute(sql: "DROP INDEX \(String.fromDatabaseValue(row["name"])!)")
      }
      return rows.map { $0["sql"] as String }
    }
    try database.writeImmediate { db in try setup(db) }
    try committed(0)
    var first = 1
    while first <= accountCount {
      let last = min(accountCount, first + Self.batchSize - 1)
      try database.writeImmediate { db in try makeAccounts(db, first...last) }
      try committed(last - first + 1)
      first = last + 1
    }
    first = 1
    while first <= itemCount {
      let last = min(itemCount, first + Self.batchSize - 1)
      try database.writeImmediate { db in try makeItems(db, first...last) }
      try committed(last - first + 1)
      first = last + 1
    }
    try database.writeImmediate { db in
      try finishBanks(db)
      try makeReports(db)
    }
    try appendAudits(database)
    try database.writeImmediate { db in
      for sql in indexes { try db.execute(sql: sql) }
    }
    if database.writer is DatabasePool {
      try database.writer.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
      }
    }
    return summary
  }

  // MARK: - Audit helpers

  func audit(
    _ at: Int64, _ operatorName: String, _ action: String, _ entity: String,
    _ entityId: Int64, before: JSONValue = .null, after: JSONValue = .null
  ) {
    let details: JSONValue = ["before": before, "after": after]
    audits.append(
      PendingAudit(
        at: min(at, now), operatorName: operatorName, action: action, entity: entity,
        entityId: String(entityId), details: details.description))
  }

  /// Chains every pending event in time order, in batches.
  func appendAudits(_ database: AppDatabase) throws {
    let ordered = audits.enumerated().sorted {
      ($0.element.at, $0.offset) < ($1.element.at, $1.offset)
    }.map(\.element)
    audits = []
    summary.auditEvents = ordered.count
    var start = 0
    while start < ordered.count {
      let end = min(ordered.count, start + Self.batchSize)
      guard let key = database.auditKey else {
        throw AuditError.noAuditKey(path: database.path)
      }
      let last = try database.writeImmediate { db -> (id: Int64, link: AuditLink)? in
        var prev = try AuditChain.head(db, key: key, path: database.path)
        var last: (id: Int64, link: AuditLink)?
        for event in ordered[start..<end] {
          last = try AuditChain.append(
            db, key: key, prev: prev, at: event.at, operatorName: event.operatorName,
            action: event.action, entity: event.entity, entityId: event.entityId,
            detailsJSON: event.details)
          prev = last!.link
        }
        return last
      }
      if let last { database.anchor(head: last, changeStart: last.id - Int64(end - start) + 1) }
      try committed(end - start)
      start = end
    }
  }

  // MARK: - Services, assessments, measures, orders

  func setup(_ db: Database) throws {
    let origin = now - 6 * 365 * Self.day
    // The creating account is the admin (an hour before the others); every demo operator is
    // bound to it.
    let admin = OSAccount.withUid(ownerUid).map { ($0.name, OperatorRole.admin) }
    let demo = DemoCatalog.operators.filter { $0.0 != admin?.0 }
    for (i, (name, role)) in (demo + (admin.map { [$0] } ?? [])).enumerated() {
      let at = i < demo.count ? origin + Int64(i) * 3600 : origin - 3600
      try db.execute(
        sql: "INSERT INTO operator (name, role, created_at, uid) VALUES (?, ?, ?, ?)",
        arguments: [name, role.rawValue, at, ownerUid])
      let id = db.lastInsertedRowID
      operatorIds[name] = id
      audit(
        at, admin?.0 ?? name, "operator.create", "operator", id,
        after: [
          "name": .string(name), "role": .string(role.rawValue), "uid": .int(Int64(ownerUid)),
          "disabled": false,
        ])
      summary.operators += 1
    }
    let checksum = AuditChain.hex(SHA256.hash(data: Data(DemoCatalog.questionnaireId.utf8)))
    try db.execute(
      sql: """
        INSERT INTO questionnaire_version (id, title, checksum, loaded_at) VALUES (?, ?, ?, ?)
        """,
      arguments: [
        DemoCatalog.questionnaireId, "Demo methodology 2024 (synthetic weights)", checksum,
        origin,
      ])

    for (index, service) in DemoCatalog.services.enumerated() {
      try makeService(db, index: index, service, origin: origin)
    }
    try makeOrders(db)
    try makeBanks(db, at: now - 200 * Self.day)
  }

  // MARK: - Hash banks and URL lists

  /// The banks and URL lists the queue's items name, so `csar bank list` and `csar url list`
  /// list what the Review screen shows. Each bank gets one version (an import by bahar from
  /// a CSV file); the hashes its items matched are added as the items are made. No random
  /// numbers are drawn here: the same seed gives the same items as before.
  func makeBanks(_ db: Database, at: Int64) throws {
    for (i, bank) in DemoCatalog.hashBanks.enumerated() {
      let t = at + Int64(i) * 3600
      try db.execute(
        sql: "INSERT INTO bank (name, enabled, pdq_threshold, created_at) VALUES (?, 1, 31, ?)",
        arguments: [bank.name, t])
      let id = db.lastInsertedRowID
      try db.execute(
        sql: """
          INSERT INTO bank_version (bank_id, bank_name, version, change, added, removed, total,
            source_file, source_format, operator, created_at)
          VALUES (?, ?, 1, 'import', 0, 0, 0, ?, 'csv', 'bahar', ?)
          """, arguments: [id, bank.name, Self.sourceFile(of: bank.name), t])
      let version = db.lastInsertedRowID
      try db.execute(
        sql: "UPDATE bank SET current_version_id = ? WHERE id = ?", arguments: [version, id])
      banks[bank.name] = (id, version, t, 0)
    }
    for (i, list) in DemoCatalog.urlLists.enumerated() {
      let t = at + Int64(DemoCatalog.hashBanks.count + i) * 3600
      try db.execute(
        sql: "INSERT INTO url_list (name, enabled, created_at) VALUES (?, 1, ?)",
        arguments: [list.name, t])
      urlLists[list.name] = (db.lastInsertedRowID, t, 0)
    }
  }

  /// Adds the bank hash a known-match item matched (its PDQ with `distance` bits flipped, so
  /// the item's distance is true) or the URL list entry a URL item matched; returns the
  /// bank version the item records.
  func addMatched(
    _ db: Database, bank name: String, pdq: String?, distance: Int?, url: String?,
    label: String
  ) throws -> Int64? {
    if let pdq, let bank = banks[name] {
      let statement = try db.cachedStatement(
        sql: """
          INSERT OR IGNORE INTO bank_hash (bank_id, type, hash, label) VALUES (?, 'pdq', ?, ?)
          """)
      try statement.execute(
        arguments: [bank.id, DemoGenerator.flipping(distance ?? 0, bitsOf: pdq), label])
      banks[name]?.hashes += db.changesCount
      return bank.version
    }
    if let url, let list = urlLists[name] {
      // The list's expression: host and path, without scheme and query.
      let expression = String(url.drop { $0 != "/" }.dropFirst(2).prefix { $0 != "?" })
      let statement = try db.cachedStatement(
        sql: "INSERT OR IGNORE INTO url_entry (list_id, expression, label) VALUES (?, ?, ?)")
      try statement.execute(arguments: [list.id, expression, label])
      urlLists[name]?.entries += db.changesCount
    }
    return nil
  }

  /// The file a demo bank's hashes came from ("ncmec-hashes.csv").
  static func sourceFile(of bank: String) -> String {
    (DemoCatalog.hashBanks.first { $0.name == bank }?.labelPrefix ?? "bank") + "-hashes.csv"
  }

  /// Sets each bank version's counts and records the imports in the audit log.
  func finishBanks(_ db: Database) throws {
    for (name, bank) in banks.sorted(by: { $0.value.id < $1.value.id }) {
      try db.execute(
        sql: "UPDATE bank_version SET added = ?, total = ? WHERE id = ?",
        arguments: [bank.hashes, bank.hashes, bank.version])
      audit(
        bank.at, "bahar", "bank.import", "bank", bank.id,
        after: [
          "name": .string(name), "created": true, "added": .int(Int64(bank.hashes)),
          "version": 1, "source_file": .string(Self.sourceFile(of: name)),
          "source_format": "csv",
        ])
    }
    for (name, list) in urlLists.sorted(by: { $0.value.id < $1.value.id }) {
      audit(
        list.at, "bahar", "url_list.import", "url_list", list.id,
        after: ["name": .string(name), "created": true, "added": .int(Int64(list.entries))])
    }
  }

  /// Completion days for a plan: newest last.
  func assessmentDays(_ category: RiskCategory, _ state: DeadlineState) -> [CalendarDate] {
    let months = category.recategorisationMonths
    var latest: CalendarDate
    switch state {
    case .overdue:
      latest = today.adding(months: -months).adding(days: -rng.int(20...110))
    case .dueSoon:
      latest = today.adding(months: -months).adding(days: rng.int(15...45))
    case .ok, .neverAssessed:
      latest = today.adding(days: -rng.int(30...150))
    }
    // Month-end clamping can move a due date by a few days: nudge until the state is right.
    var guardCount = 0
    while Deadline(lastAssessed: latest, category: category, today: today).state != state,
      guardCount < 100
    {
      latest = latest.adding(days: state == .overdue ? -1 : 1)
      guardCount += 1
    }
    var days = [latest]
    for _ in 0..<rng.int(1...2) {
      days.insert(days[0].adding(months: -months).adding(days: -rng.int(0...40)), at: 0)
    }
    return days
  }

  func makeService(
    _ db: Database, index: Int, _ service: DemoCatalog.Service, origin: Int64
  ) throws {
    var completions: [(CalendarDate, RiskCategory)] = []
    var draft = false
    switch service.plan {
    case .assessed(let category, let state):
      let days = assessmentDays(category, state)
      for (i, day) in days.enumerated() {
        // Older assessments sometimes landed one category lower.
        let older = i < days.count - 1 && rng.chance(0.4)
        let cat: RiskCategory =
          older ? (category == .high ? .medium : category == .medium ? .low : .low) : category
        completions.append((day, cat))
      }
      draft = state == .overdue && index == 0
    case .neverAssessed(let hasDraft):
      draft = hasDraft
    }
    let firstDay = completions.first?.0 ?? today.adding(days: -rng.int(200...400))
    let createdAt = max(origin + 7 * Self.day, firstDay.unixSeconds - 45 * Self.day)
    try db.execute(
      sql: """
        INSERT INTO service (code, name, kind, description, created_at) VALUES (?, ?, ?, ?, ?)
        """,
      arguments: [
        service.code, service.name, service.kind.rawValue, service.description, createdAt,
      ])
    let serviceId = db.lastInsertedRowID
    serviceIds.append(serviceId)
    serviceCodes.append(service.code)
    serviceWeights.append(service.weight)
    summary.services += 1
    audit(
      createdAt, "bahar", "service.create", "service", serviceId,
      after: [
        "code": .string(service.code), "name": .string(service.name),
        "kind": .string(service.kind.rawValue),
      ])

    for (day, category) in completions {
      try makeAssessment(db, serviceId: serviceId, service, day: day, category: category)
    }
    if draft {
      let started = now - Int64(rng.int(2...6)) * Self.day
      try db.execute(
        sql: """
          INSERT INTO assessment (service_id, questionnaire_id, status, started_at,
            answers_json, breakdown_json, operator_id)
          VALUES (?, ?, 'draft', ?, ?, '{}', ?)
          """,
        arguments: [
          serviceId, DemoCatalog.questionnaireId, started,
          answers(service.kind, category: .medium, partial: true).description,
          operatorIds["alice"],
        ])
      audit(
        started, "alice", "assessment.draft", "assessment", db.lastInsertedRowID,
        after: ["service": .string(service.code), "status": "draft"])
      summary.assessments += 1
    }
    if let (latest, category) = completions.last {
      try makeMeasures(db, serviceId: serviceId, index: index, from: latest, category)
    }
  }

  func makeAssessment(
    _ db: Database, serviceId: Int64, _ service: DemoCatalog.Service, day: CalendarDate,
    category: RiskCategory
  ) throws {
    let score: Double
    switch category {
    case .high: score = Double(rng.int(620...880)) / 10
    case .medium: score = Double(rng.int(380...590)) / 10
    case .low: score = Double(rng.int(120...340)) / 10
    }
    let architecture = (score * 0.45).rounded()
    let size = (score * 0.2).rounded()
    let tendencies = (score * 0.15).rounded()
    let policies = score - architecture - size - tendencies
    let breakdown: JSONValue = [
      "size": .double(size), "architecture": .double(architecture),
      "policies": .double((policies * 10).rounded() / 10), "tendencies": .double(tendencies),
    ]
    let by = rng.chance(0.5) ? "alice" : "bahar"
    let started = day.unixSeconds - 3 * Self.day + 9 * 3600
    let completedAt = day.unixSeconds + 15 * 3600
    try db.execute(
      sql: """
        INSERT INTO assessment (service_id, questionnaire_id, status, started_at, completed_on,
          category, total_score, answers_json, breakdown_json, operator_id)
        VALUES (?, ?, 'completed', ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        serviceId, DemoCatalog.questionnaireId, started, day.description, category.rawValue,
        score, answers(service.kind, category: category, partial: false).description,
        breakdown.description, operatorIds[by],
      ])
    audit(
      completedAt, by, "assessment.complete", "assessment", db.lastInsertedRowID,
      before: ["status": "draft"],
      after: [
        "service": .string(service.code), "category": .string(category.rawValue),
        "score": .double(score), "completed_on": .string(day.description),
      ])
    summary.assessments += 1
  }

  func answers(_ kind: ServiceKind, category: RiskCategory, partial: Bool) -> JSONValue {
    let realtime = kind == .messaging || kind == .livestreaming || kind == .gaming
    var answers: [String: JSONValue] = [
      "users": .string(
        category == .high ? "over_10m" : category == .medium ? "1m_10m" : "under_1m"),
      "children_can_access": .bool(kind != .dating),
      "service_type": .string(kind.rawValue),
      "realtime_messaging": .bool(realtime),
      "livestreaming": .bool(kind == .livestreaming),
      "e2ee": .bool(kind == .messaging || kind == .hosting),
    ]
    if !partial {
      answers["anonymous_use"] = .bool(category != .low)
      answers["vpn_tor"] = .bool(rng.chance(0.3))
      answers["p2p"] = .bool(false)
      answers["crypto_payments"] = .bool(kind == .livestreaming)
      answers["screenshots"] = .bool(true)
      answers["clear_rules"] = .bool(true)
      answers["reporting_tools"] = .bool(category != .high || rng.chance(0.5))
      answers["age_assurance"] = .bool(kind == .dating)
      answers["parental_controls"] = .bool(rng.chance(0.4))
      answers["law_enforcement_cooperation"] = .bool(true)
      answers["report_history"] = .string(category == .high ? "many" : "few")
    }
    return .object(answers)
  }

  func makeMeasures(
    _ db: Database, serviceId: Int64, index: Int, from latest: CalendarDate,
    _ category: RiskCategory
  ) throws {
    let requirement = category.obligations.mitigation
    let statuses: [MeasureStatus] = [.planned, .inProgress, .done]
    let pool = DemoCatalog.measures
    for k in 0..<4 {
      let measure = pool[(index + k * 2) % pool.count]
      let status = rng.pick(statuses)
      let due = latest.adding(months: rng.int(3...9))
      let owner = rng.pick(DemoCatalog.owners)
      try db.execute(
        sql: """
          INSERT INTO mitigation_measure (service_id, code, title, requirement, owner, status,
            due_on) VALUES (?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          serviceId, measure.code, measure.title, requirement.rawValue, owner,
          status.rawValue, due.description,
        ])
      audit(
        latest.unixSeconds + 16 * 3600, "bahar", "measure.create", "mitigation_measure",
        db.lastInsertedRowID,
        after: [
          "code": .string(measure.code), "status": .string(status.rawValue),
          "requirement": .string(requirement.rawValue), "due_on": .string(due.description),
        ])
      summary.measures += 1
    }
  }

  func makeOrders(_ db: Database) throws {
    let orders: [(service: Int, authority: String, reference: String, start: Int, end: Int,
      scope: DetectionScope, e2ee: Bool)] = [
        (0, "Coordinating Authority (IE)", "CA-IE/DO/%d/0042", -600, -130,
         [.knownMaterial, .images], false),
        (0, "Coordinating Authority (IE)", "CA-IE/DO/%d/0117", -120, 245,
         [.knownMaterial, .newMaterial, .grooming, .images, .videos, .urls], true),
        (1, "Coördinerende autoriteit (NL)", "CA-NL/%d/DO-7", -320, 40,
         [.knownMaterial, .images, .videos], false),
      ]
    for order in orders {
      let starts = today.adding(days: order.start)
      let ends = today.adding(days: order.end)
      let reference = order.reference.replacingOccurrences(
        of: "%d", with: String(starts.year))
      try db.execute(
        sql: """
          INSERT INTO detection_order (service_id, authority, reference, starts_on, ends_on,
            scope, e2ee) VALUES (?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          serviceIds[order.service], order.authority, reference, starts.description,
          ends.description, order.scope.codes, order.e2ee,
        ])
      audit(
        starts.unixSeconds - 2 * Self.day + 10 * 3600, "bahar", "order.register",
        "detection_order", db.lastInsertedRowID,
        after: [
          "service": .string(serviceCodes[order.service]),
          "reference": .string(reference), "starts_on": .string(starts.description),
          "ends_on": .string(ends.description), "scope": .string(order.scope.codes),
          "e2ee": .bool(order.e2ee),
        ])
      summary.orders += 1
    }
  }

  // MARK: - Accounts and consent

  /// A 48-bit bijection of the account number, so pseudonyms are unique without checking.
  func pseudonym(_ n: Int) -> String {
    let mask: UInt64 = (1 << 48) - 1
    var x = (UInt64(n) ^ (SplitMix64.mix(seed) & mask)) & mask
    x = (x &* 0x9E37_79B9_7F4B) & mask
    x ^= x >> 23
    x = (x &* 0x5851_F42D_4C95) & mask
    x ^= x >> 21
    var buffer: [UInt8] = [UInt8(ascii: "u"), UInt8(ascii: "-")]
    for shift in stride(from: 44, through: 0, by: -4) {
      buffer.append(hexDigits[Int((x >> UInt64(shift)) & 0xF)])
    }
    return String(decoding: buffer, as: UTF8.self)
  }

  /// Legal consent paths from `not_asked`, with their weights.
  static let consentPaths: [([ConsentState], Double)] = [
    ([.granted], 40), ([.refused], 15), ([.granted, .withdrawn], 12),
    ([.refused, .granted], 10), ([.granted, .withdrawn, .granted], 8),
    ([.refused, .granted, .withdrawn], 8), ([.granted, .withdrawn, .granted, .withdrawn], 7),
  ]

  func makeAccounts(_ db: Database, _ range: ClosedRange<Int>) throws {
    let insertAccount = try db.cachedStatement(
      sql: "INSERT INTO account (id, external_id, pseudonym, created_at) VALUES (?, ?, ?, ?)")
    let insertEvent = try db.cachedStatement(
      sql: """
        INSERT INTO consent_event (event_id, account_id, service_id, state, occurred_at, source,
          terms_version, operator_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    let insertCurrent = try db.cachedStatement(
      sql: """
        INSERT INTO consent_current (account_id, service_id, state, updated_at)
        VALUES (?, ?, ?, ?)
        """)
    let pathWeights = Self.consentPaths.map(\.1)
    let monthStart = try CalendarDate(year: today.year, month: today.month, day: 1).unixSeconds
    let newTerms = now - 300 * Self.day
    var imported = 0
    var fromApp = 0
    for n in range {
      let id = Int64(n)
      let created = now - rng.int64(Self.day...(1000 * Self.day))
      insertAccount.setUncheckedArguments([
        id, "A" + String(100_000_000 + n), pseudonym(n), created,
      ])
      try insertAccount.execute()

      let services = rng.weighted([10, 45, 30, 15])
      var chosen: [Int] = []
      while chosen.count < services {
        let s = rng.int(0...(serviceIds.count - 1))
        if !chosen.contains(s) { chosen.append(s) }
      }
      for s in chosen {
        let path = Self.consentPaths[rng.weighted(pathWeights)].0
        var t = created + rng.int64(60...(30 * Self.day))
        for (step, state) in path.enumerated() {
          if step > 0 { t += rng.int64(3600...(200 * Self.day)) }
          if step == path.count - 1, state == .withdrawn, rng.chance(0.1) {
            t = max(t, monthStart + rng.int64(0...max(0, now - monthStart - 60)))
          }
          t = min(t, now - Int64(path.count - step) * 60)
          let sourceRoll = rng.unit()
          let source: ConsentSource =
            sourceRoll < 0.86 ? .app : sourceRoll < 0.96 ? .import : .support
          summary.consentEvents += 1
          let eventId = "demo-" + String(summary.consentEvents)
          var operatorId: Int64?
          var reason: String?
          if source == .support {
            let by = rng.chance(0.5) ? "alice" : "chen"
            operatorId = operatorIds[by]
            reason = rng.pick(DemoCatalog.supportReasons)
            audit(
              t, by, "consent.change", "account", id,
              before: [
                "service": .int(serviceIds[s]),
                "state": .string(step == 0 ? "not_asked" : path[step - 1].rawValue),
              ],
              after: [
                "service": .int(serviceIds[s]), "state": .string(state.rawValue),
                "source": "support", "reason": .text(reason), "event": .string(eventId),
              ])
          } else if source == .import {
            imported += 1
          } else {
            fromApp += 1
          }
          insertEvent.setUncheckedArguments([
            eventId, id, serviceIds[s], state.rawValue, t, source.rawValue,
            t < newTerms ? "tos-2024-03" : "tos-2025-01", operatorId, reason,
          ])
          try insertEvent.execute()
        }
        insertCurrent.setUncheckedArguments([id, serviceIds[s], path.last!.rawValue, t])
        try insertCurrent.execute()
      }
      summary.accounts += 1
    }
    audit(
      now - 3 * Self.day, "system", "consent.import", "account", Int64(range.lowerBound),
      after: [
        "accounts": .string("\(range.lowerBound)-\(range.upperBound)"),
        "imported_events": .int(Int64(imported)), "app_events": .int(Int64(fromApp)),
      ])
  }

  // MARK: - Flagged items and decisions

  func makeItems(_ db: Database, _ range: ClosedRange<Int>) throws {
    let insertItem = try db.cachedStatement(
      sql: """
        INSERT INTO flagged_item (id, kind, state, priority, service_id, account_id,
          media_path, url, sha256, md5, pdq, bank, label, distance, model, score, created_at,
          claimed_by, claim_expires_at, decided_at, bank_version_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    let insertDecision = try db.cachedStatement(
      sql: """
        INSERT INTO review_decision (item_id, operator_id, decision, note, decided_at)
        VALUES (?, ?, ?, ?, ?)
        """)
    let reviewers = ["alice", "chen"]
    let repeatAccounts = max(1, accountCount / 50)
    var hex: [UInt8] = []
    hex.reserveCapacity(64)
    for n in range {
      let id = Int64(n)
      let kindRoll = rng.unit()
      let kind: FlagKind =
        kindRoll < 0.5 ? .knownMatch : kindRoll < 0.8 ? .newMaterial : .urlMatch
      let stateRoll = rng.unit()
      var state: FlagState =
        stateRoll < 0.74
        ? .pending
        : stateRoll < 0.79
          ? .escalated
          : stateRoll < 0.88 ? .confirmed : stateRoll < 0.98 ? .dismissed : .awaitingSecondHit
      if state == .awaitingSecondHit, kind != .newMaterial { state = .confirmed }
      let service = rng.weighted(serviceWeights)
      let account: Int64 =
        rng.chance(0.3)
        ? Int64(rng.int(1...repeatAccounts)) : Int64(rng.int(1...accountCount))
      // Ages from a minute to about three weeks, most of them recent.
      let age = Int64(60 * pow(10, rng.unit() * 4.5))
      let created = now - age - (state.isOpen ? 0 : rng.int64(3600...(3 * Self.day)))

      var media: String?
      var url: String?
      var sha: String?
      var md5: String?
      var pdq: String?
      var bank: String
      var label: String
      var distance: Int?
      var model: String?
      var score: Double?
      var priority: Int
      switch kind {
      case .knownMatch:
        let b = DemoCatalog.hashBanks[rng.weighted([35, 30, 20, 15])]
        bank = b.name
        label = b.labelPrefix + "-" + String(rng.int(100_000...999_999))
        hex.removeAll(keepingCapacity: true)
        rng.appendHex(64, to: &hex)
        sha = String(decoding: hex, as: UTF8.self)
        hex.removeAll(keepingCapacity: true)
        rng.appendHex(32, to: &hex)
        md5 = String(decoding: hex, as: UTF8.self)
        hex.removeAll(keepingCapacity: true)
        rng.appendHex(64, to: &hex)
        pdq = String(decoding: hex, as: UTF8.self)
        distance = rng.chance(0.4) ? 0 : rng.int(1...31)
        media = "media/\(n % DemoCatalog.mediaCount).png"
        priority = distance == 0 ? 1 : rng.chance(0.6) ? 1 : 2
      case .newMaterial:
        model = DemoCatalog.models[rng.int(0...1)]
        let s = 0.80 + Double(rng.int(0...1900)) / 10_000
        score = s
        bank = "classifier"
        label = s >= 0.95 ? "score ≥ 0.95" : s >= 0.88 ? "score ≥ 0.88" : "score ≥ 0.80"
        hex.removeAll(keepingCapacity: true)
        rng.appendHex(64, to: &hex)
        sha = String(decoding: hex, as: UTF8.self)
        media = "media/\(n % DemoCatalog.mediaCount).png"
        priority = s >= 0.95 ? 2 : s >= 0.88 ? 3 : 4
      case .urlMatch:
        let list = DemoCatalog.urlLists[rng.weighted([70, 30])]
        bank = list.name
        label = list.labelPrefix + "-" + String(rng.int(10_000...99_999))
        hex.removeAll(keepingCapacity: true)
        rng.appendHex(10, to: &hex)
        url =
          "https://" + rng.pick(DemoCatalog.urlHosts) + "/"
          + (rng.chance(0.5) ? "a/" : "share/") + String(decoding: hex, as: UTF8.self)
          + (rng.chance(0.3) ? "?ref=" + String(rng.int(1...999)) : "")
        priority = rng.int(3...5)
      }
      if let media, let digest = mediaDigests[media] { sha = digest }
      if state == .escalated { priority = max(1, priority - 1) }
      if kind == .knownMatch { bank = bank.isEmpty ? "in-house" : bank }

      var claimedBy: Int64?
      var claimExpires: Int64?
      var decidedAt: Int64?
      var decisionArguments: StatementArguments?
      if state.isOpen, rng.chance(0.01) {
        claimedBy = operatorIds[rng.pick(reviewers)]
        claimExpires = rng.chance(0.5) ? now + 300 : now - 1800
      }
      if !state.isOpen || state == .escalated || rng.chance(0.01) {
        let when = min(now - 60, created + rng.int64(300...(2 * Self.day)))
        let decision: ReviewDecisionKind
        switch state {
        case .pending: decision = .skip
        case .escalated: decision = .escalate
        case .dismissed: decision = .dismiss
        default: decision = .confirm
        }
        if state != .pending && state != .escalated { decidedAt = when }
        let by = state == .confirmed && rng.chance(0.2) ? "bahar" : rng.pick(reviewers)
        let note = rng.pick(DemoCatalog.decisionNotes)
        decisionArguments = [id, operatorIds[by], decision.rawValue, note, when]
        summary.decisions += 1
        audit(
          when, by, "item.decide", "flagged_item", id,
          before: ["state": "pending"],
          after: [
            "decision": .string(decision.rawValue), "state": .string(state.rawValue),
            "note": .string(note),
          ])
        if state == .confirmed || state == .awaitingSecondHit, n % 10 == 0 || n < 200 {
          reportCandidates.append(
            ReportCandidate(
              itemId: id, accountId: account, kind: kind, decidedAt: when, decidedBy: by,
              serviceCode: serviceCodes[service], sha256: sha))
        }
      }
      let bankVersion = try addMatched(
        db, bank: bank, pdq: kind == .knownMatch ? pdq : nil, distance: distance, url: url,
        label: label)
      insertItem.setUncheckedArguments([
        id, kind.rawValue, state.rawValue, priority, serviceIds[service], account, media, url,
        sha, md5, pdq, bank, label, distance, model, score, created, claimedBy, claimExpires,
        decidedAt, bankVersion,
      ])
      try insertItem.execute()
      if let decisionArguments {
        insertDecision.setUncheckedArguments(decisionArguments)
        try insertDecision.execute()
      }
      summary.items += 1
    }
    audit(
      now - 120, "system", "items.ingest", "flagged_item", Int64(range.lowerBound),
      after: [
        "first": .int(Int64(range.lowerBound)), "last": .int(Int64(range.upperBound)),
        "source": "demo",
      ])
  }

  // MARK: - Reports

  func makeReports(_ db: Database) throws {
    let insertReport = try db.cachedStatement(
      sql: """
        INSERT INTO report (case_ref, state, kind, account_id, created_at, sent_at, verdict,
          verdict_at, payload_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    let insertLink = try db.cachedStatement(
      sql: "INSERT INTO report_item (report_id, item_id) VALUES (?, ?)")
    let pseudonyms = try db.cachedStatement(sql: "SELECT pseudonym FROM account WHERE id = ?")
    // Account data for the reports, derived from the account id (the random sequence, and so
    // the rest of the demo, stays as it was): documentation-range IPs, a device, a handle.
    let insertDetail = try db.cachedStatement(
      sql: """
        INSERT OR IGNORE INTO account_detail (account_id, field, value, seen_at)
        VALUES (?, ?, ?, ?)
        """)
    let states: [ReportState] = [.ready, .sent, .founded, .revealed, .closed]
    for (i, candidate) in reportCandidates.prefix(20_000).enumerated() {
      let state = i < states.count ? states[i] : states[rng.weighted([30, 30, 15, 10, 15])]
      let created = candidate.decidedAt + 60
      let span = max(0, now - created)
      let sent: Int64? = state == .ready ? nil : created + span * 3 / 10
      let verdictAt: Int64? =
        state == .ready || state == .sent ? nil : created + span * 6 / 10
      let verdict: ReportVerdict? =
        verdictAt == nil
        ? nil : state == .closed ? .manifestlyUnfounded : .notManifestlyUnfounded
      let pseudonym = try String.fetchOne(pseudonyms, arguments: [candidate.accountId])
      let a = candidate.accountId
      for (field, value) in [
        ("ip_address", "203.0.113.\(a % 254 + 1)"), ("ip_address", "2001:db8::\(a % 9000 + 1)"),
        ("device_id", "device-" + String(a &* 2_654_435_761 % 1_000_000_007, radix: 16)),
        ("name", "user\(a)"),
      ] {
        try insertDetail.execute(arguments: [a, field, value, candidate.decidedAt])
      }
      let caseRef =
        "CSAR-" + String(CalendarDate(unixSeconds: created).year) + "-"
        + String(100_000 + i + 1)
      let payload: JSONValue = [
        "provider": "Demo Provider GmbH", "case": .string(caseRef),
        "kind": .string(candidate.kind.rawValue), "service": .string(candidate.serviceCode),
        "account": .text(pseudonym), "items": [.int(candidate.itemId)],
        "sha256": .text(candidate.sha256), "removed": true,
        "urgent": .bool(candidate.kind == .knownMatch && i % 7 == 0),
        "pseudonymised": true,
      ]
      insertReport.setUncheckedArguments([
        caseRef, state.rawValue, candidate.kind.rawValue, candidate.accountId, created, sent,
        verdict?.rawValue, verdictAt, payload.description,
      ])
      try insertReport.execute()
      let reportId = db.lastInsertedRowID
      insertLink.setUncheckedArguments([reportId, candidate.itemId])
      try insertLink.execute()
      summary.reports += 1
      audit(
        created, candidate.decidedBy, "report.create", "report", reportId,
        after: ["case": .string(caseRef), "state": "ready", "item": .int(candidate.itemId)])
      if let sent {
        audit(
          sent, "bahar", "report.export", "report", reportId, before: ["state": "ready"],
          after: ["state": "sent", "outbox": .string("outbox/\(caseRef).json")])
      }
      if let verdictAt, let verdict {
        audit(
          verdictAt, "system", "report.verdict", "report", reportId, before: ["state": "sent"],
          after: [
            "state": .string(state == .closed ? "closed" : "founded"),
            "verdict": .string(verdict.rawValue),
          ])
      }
      if state == .revealed, let verdictAt {
        let at = verdictAt + (now - verdictAt) / 2
        audit(
          at, "bahar", "report.approve_reveal", "report", reportId,
          after: ["approved_by": "bahar", "requested_by": .string(candidate.decidedBy)])
        audit(
          at + 30, candidate.decidedBy, "report.reveal", "report", reportId,
          before: ["state": "founded"], after: ["state": "revealed"])
      }
    }
  }
}

// MARK: - Demo database files

extension DemoGenerator {
  /// Creates a demo database file at `path` (folder included) and fills it. Fails if a file is
  /// already there unless `replace` is true, which replaces it (and drops its `-wal` and
  /// `-shm`). Its audit chain is keyed with `auditKey`.
  ///
  /// The database is built in a hidden temporary file beside `path`
  /// (`.NAME.building-PID`) and renamed into place only when whole: an interrupted or failed
  /// run never leaves a half-built database at `path` (a failed one removes its temporary;
  /// one killed leaves only the hidden temporary, which the next run replaces).
  @discardableResult
  public static func makeDatabase(
    at path: String, auditKey: AuditKey, items: Int = DemoGenerator.defaultItems,
    accounts: Int? = nil, seed: UInt64 = 1, replace: Bool = false,
    now: Int64 = AppDatabase.systemClock(), mediaDigests: [String: String] = [:],
    observer: (any LongRunObserver)? = nil
  ) throws -> DemoSummary {
    let files = FileManager.default
    if files.fileExists(atPath: path), !replace {
      throw StoreError.duplicate(entity: "database file", field: "path", value: path)
    }
    let building = buildingPath(for: path)
    func removeBuilding() {
      for suffix in ["", "-wal", "-shm"] { try? files.removeItem(atPath: building + suffix) }
    }
    removeBuilding()
    // Create the folder and the schema the normal way, then fill the file through a single
    // unjournalled connection (twice as fast as WAL for a fresh file), then reopen it as WAL
    // and close it (which checkpoints and removes the -wal) before it is renamed.
    let summary: DemoSummary
    do {
      _ = try AppDatabase.open(path: building, auditKey: auditKey)
      let bulk = try AppDatabase.openForBulkLoad(path: building, auditKey: auditKey)
      var generator = DemoGenerator(seed: seed)
      generator.mediaDigests = mediaDigests
      summary = try generator.generate(
        into: bulk, items: items, accounts: accounts,
        today: CalendarDate(unixSeconds: now), now: now, observer: observer)
      let done = try AppDatabase.open(path: building, auditKey: auditKey)
      _ = try done.writer.writeWithoutTransaction { try $0.checkpoint(.truncate) }
    } catch {
      removeBuilding()
      throw error
    }
    try install(building, at: path, replace: replace)
    removeBuilding()
    return summary
  }

  /// `hex` (a PDQ hash) with its first `count` bits flipped.
  static func flipping(_ count: Int, bitsOf hex: String) -> String {
    let hexDigits = Array("0123456789abcdef".utf8)
    var digits = Array(hex.utf8)
    for bit in 0..<min(count, digits.count * 4) {
      let k = bit / 4
      let value = Int(digits[k] <= 57 ? digits[k] - 48 : digits[k] - 87) ^ (8 >> (bit % 4))
      digits[k] = hexDigits[value]
    }
    return String(decoding: digits, as: UTF8.self)
  }

  /// The hidden temporary file this process builds the demo for `path` in
  /// (`.NAME.building-PID` beside it; also with `-wal` and `-shm`).
  public static func buildingPath(for path: String) -> String {
    PrivateFiles.folder(of: path) + "/." + PathParts.name(of: path) + ".building-\(getpid())"
  }

  /// Moves the finished database `building` to `path`: without `replace` only when nothing
  /// is there (a hard link, which fails on an existing name, then the temporary's removal);
  /// with it by an atomic rename, after removing the old database's `-wal` and `-shm`, which
  /// must never be read with the new file.
  private static func install(_ building: String, at path: String, replace: Bool) throws {
    if replace {
      for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix)
      {
        do {
          try FileManager.default.removeItem(atPath: path + suffix)
        } catch {
          throw StoreError.cannotOpen(
            path: path + suffix, reason: "cannot remove it: \(error.localizedDescription)")
        }
      }
      guard rename(building, path) == 0 else {
        throw StoreError.cannotOpen(
          path: path, reason: "cannot rename the finished demo into place: "
            + String(cString: strerror(errno)))
      }
      return
    }
    guard link(building, path) == 0 else {
      let reason = errno == EEXIST
        ? "a database appeared there while the demo was built"
        : String(cString: strerror(errno))
      throw StoreError.cannotOpen(path: path, reason: reason)
    }
  }

  /// For first start: when no database file exists at `path`, creates a demo one with
  /// `items` items and returns true; returns false when a file is already there.
  @discardableResult
  public static func ensureDemoDatabase(
    at path: String, auditKey: AuditKey, items: Int = DemoGenerator.defaultItems,
    mediaDigests: [String: String] = [:]
  ) throws -> Bool {
    guard !FileManager.default.fileExists(atPath: path) else { return false }
    try makeDatabase(at: path, auditKey: auditKey, items: items, mediaDigests: mediaDigests)
    return true
  }
}
