import Compliance
import Foundation
import GRDB

#if canImport(Glibc)
  import Glibc
#endif

// MARK: - Importing consent events from the provider's backend

/// How a consent import runs.
public struct ConsentImportOptions: Sendable {
  /// Import the valid lines of a file that has invalid ones (which are reported); without it
  /// a file with any invalid line imports nothing.
  public var skipInvalid = false
  /// Accepted events per transaction (a pair of account and service is never split).
  public var batchSize = 10_000
  /// Who the audit events are attributed to.
  public var operatorName = "system"
  /// Stops after this many committed batches, as if the process had been killed (tests).
  var stopAfterBatches: Int?
  /// Runs after the file was checked and before the first write (tests: another import of
  /// the same file runs here, as a concurrent process would).
  var beforeWriting: (@Sendable () throws -> Void)?

  public init(skipInvalid: Bool = false, batchSize: Int = 10_000, operatorName: String = "system")
  {
    self.skipInvalid = skipInvalid
    self.batchSize = max(1, batchSize)
    self.operatorName = operatorName
  }
}

/// What a consent import did.
public struct ConsentImportReport: Sendable {
  public var format: ConsentImportFormat
  /// Non-blank lines read, the CSV header included.
  public var lines = 0
  /// Events written.
  public var accepted = 0
  /// Events already recorded (same event id and content), or repeated in the file.
  public var duplicates = 0
  /// Lines not imported, with why, in line order.
  public var rejected: [ConsentImportIssue] = []
  /// Accounts created for provider ids seen for the first time.
  public var accountsCreated = 0
  /// Transactions committed.
  public var batches = 0
  /// False when the file had invalid lines and `skipInvalid` was off: nothing was written.
  public var committed = true
}

extension AppDatabase {
  /// Imports consent events (CSV or JSON Lines, see ``ConsentImportParser``).
  ///
  /// - Idempotent: an event whose `event_id` is already recorded with the same content is a
  ///   duplicate and is skipped (same id, different content: rejected). So re-running an
  ///   import that was killed half-way converges: committed batches are duplicates, the rest
  ///   is applied.
  /// - Order: the events of each account and service are sorted by time (file line breaking
  ///   ties) and merged with the stored history by ``ConsentTimeline``: an event is accepted
  ///   only if the merged history still replays legally from `not_asked`. An event that is
  ///   an illegal transition at its time, or that would make a later recorded change illegal,
  ///   is rejected with its line and the reason. The current state becomes the state of the
  ///   last change by time.
  /// - Accounts the console has not seen are created, with a random pseudonym (`u-` and 12
  ///   hex digits, like the demo's): the backend is the authority on accounts, and consent
  ///   usually arrives before anything else about an account, so refusing it would leave
  ///   users wrongly "not asked". A random pseudonym is unlinkable to the provider id without
  ///   this database, and needs no key. Unknown service codes are rejected.
  /// - All or nothing: the whole file is checked before anything is written; with any invalid
  ///   line nothing is imported unless `skipInvalid`. Writes go in transactions of about
  ///   `batchSize` events, each audited by one `consent.import` event with its counts.
  ///
  /// `observer` hears of each committed batch (events accepted so far, of those the plan
  /// accepts) and may stop the run between batches: ``LongRunStopped`` then says how many
  /// events are committed; running the same import again skips them as duplicates.
  public func importConsent(
    bytes: [UInt8], fileName: String, format: ConsentImportFormat? = nil,
    options: ConsentImportOptions = ConsentImportOptions(),
    observer: (any LongRunObserver)? = nil
  ) throws -> ConsentImportReport {
    let format = format ?? ConsentImportFormat.detect(path: fileName, bytes: bytes)
    var report = ConsentImportReport(format: format)
    var records: [ConsentImportRecord] = []
    records.reserveCapacity(bytes.count / 64)
    ConsentImportParser.parse(
      bytes, format: format, onRecord: { records.append($0) },
      onIssue: { report.rejected.append($0) })
    report.lines = records.count + report.rejected.count + (format == .csv ? 1 : 0)

    var plan = try read { db in try ConsentImportPlan(db, records: records) }
    report.duplicates = plan.duplicates
    report.rejected += plan.issues
    report.rejected.sort { $0.line < $1.line }
    if !report.rejected.isEmpty, !options.skipInvalid {
      report.committed = false
      return report
    }

    try options.beforeWriting?()
    let planned = plan.pairs.reduce(0) { $0 + $1.accepted.count }
    return try withImportTuning(large: planned >= ImportTuning.minimumEvents) {
      try writeConsent(
        &plan, records: records, report: report, fileName: fileName, options: options,
        observer: observer)
    }
  }

  /// Writes the plan in audited batches of about `options.batchSize` events (see
  /// ``importConsent(bytes:fileName:format:options:observer:)``).
  private func writeConsent(
    _ plan: inout ConsentImportPlan, records: [ConsentImportRecord],
    report: ConsentImportReport, fileName: String, options: ConsentImportOptions,
    observer: (any LongRunObserver)?
  ) throws -> ConsentImportReport {
    var report = report
    let planned = plan.pairs.reduce(0) { $0 + $1.accepted.count }
    func checkStop() throws {
      try observer?.checkStop(
        task: "consent import", committed: report.accepted, total: planned, unit: "events",
        resume: "run the same command again: events already recorded are skipped")
    }
    var start = 0
    while start < plan.pairs.count {
      if let stop = options.stopAfterBatches, report.batches >= stop { break }
      try checkStop()
      var end = start
      var events = 0
      while end < plan.pairs.count, events < options.batchSize {
        events += plan.pairs[end].accepted.count
        end += 1
      }
      let batchNumber = report.batches + 1
      let outcome = try audited(by: options.operatorName) { db, audit in
        try plan.write(
          db, pairs: start..<end, records: records, audit: audit, fileName: fileName,
          batch: batchNumber, fileDuplicates: report.duplicates,
          fileRejected: report.rejected.count)
      }
      report.accepted += outcome.accepted
      report.duplicates += outcome.duplicates
      report.accountsCreated += outcome.accountsCreated
      report.rejected += outcome.issues
      if outcome.accepted > 0 { report.batches += 1 }
      start = end
      observer?.committed(report.accepted, of: planned)
    }
    report.rejected.sort { $0.line < $1.line }
    return report
  }
}

// MARK: - The plan: checked against the database before any write

/// The events of a file grouped per account and service, checked against a snapshot.
struct ConsentImportPlan {
  struct Pair {
    /// Index into `accounts`.
    let account: Int32
    let serviceId: Int64
    /// Record indices in file order, then sorted by time.
    var records = IndexList()
    /// Record indices accepted, in time order.
    var accepted = IndexList()
    /// The stored current state seen when planning (nil: never asked).
    var seen: (state: ConsentState, at: Int64)?
    var finalState: ConsentState = .notAsked
    var finalAt: Int64 = 0
    /// The account's next pair (index into `pairs`, -1: none): an account's pairs are a
    /// short chain from `firstPair`, found without hashing.
    var next: Int32 = -1
  }

  var pairs: [Pair] = []
  var issues: [ConsentImportIssue] = []
  var duplicates = 0
  /// The provider account ids of the file, each once, and their database ids (nil: not in
  /// the database when planning; filled while writing as accounts are created).
  var accounts: [String] = []
  var accountIds: [Int64?] = []
  /// Index into `accounts` by provider id.
  var accountIndex: [String: Int32] = [:]
  /// Each account's first pair (index into `pairs`).
  var firstPair: [Int32] = []
  /// The call of ``write(_:pairs:records:audit:fileName:batch:fileDuplicates:fileRejected:)``
  /// that created each account (0: none did), and the number of those calls.
  var createdIn: [Int32] = []
  var writes: Int32 = 0

  init(_ db: Database, records: [ConsentImportRecord]) throws {
    let services = try ServiceCodes(db)
    let findAccount = try db.cachedStatement(sql: "SELECT id FROM account WHERE external_id = ?")
    // A first import into an empty database needs no look-ups.
    let hasEvents = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM consent_event)")
      ?? true
    let recorded =
      hasEvents
      ? try Self.recorded(db, records: records, indices: Array(0..<Int32(records.count))) : []
    let hasAccounts = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM account)") ?? true
    var seenIds: [String: Int32] = [:]
    seenIds.reserveCapacity(records.count)
    pairs.reserveCapacity(records.count)
    accountIndex.reserveCapacity(records.count)

    for index in records.indices {
      let record = records[index]
      guard let serviceId = services.id(record.service) else {
        issues.append(
          ConsentImportIssue(
            line: record.line,
            reason: "service: \"\(ConsentImportParser.printable(record.service))\" is not a "
              + "known service code"))
        continue
      }
      // One hash look-up for the usual case (a new id); a repeated id puts back the first.
      if let first = seenIds.updateValue(Int32(index), forKey: record.eventId) {
        seenIds[record.eventId] = first
        let other = records[Int(first)]
        if Self.sameEvent(other, record) {
          duplicates += 1
        } else {
          issues.append(
            ConsentImportIssue(
              line: record.line,
              reason: "event_id \(record.eventId) is also on line \(other.line) "
                + "with different content"))
        }
        continue
      }
      if hasEvents, recorded[index] != .absent {
        if recorded[index] == .same {
          duplicates += 1
        } else {
          issues.append(Self.conflict(record))
        }
        continue
      }
      let newAccount = Int32(accounts.count)
      let account = Self.entry(&accountIndex[record.account, default: newAccount])
      if account == newAccount {
        accounts.append(record.account)
        accountIds.append(
          hasAccounts ? try Int64.fetchOne(findAccount, arguments: [record.account]) : nil)
        firstPair.append(-1)
      }
      var p = firstPair[Int(account)]
      while p >= 0, pairs[Int(p)].serviceId != serviceId { p = pairs[Int(p)].next }
      if p < 0 {
        p = Int32(pairs.count)
        pairs.append(Pair(account: account, serviceId: serviceId, next: firstPair[Int(account)]))
        firstPair[Int(account)] = p
      }
      pairs[Int(p)].records.append(Int32(index))
    }
    createdIn = Array(repeating: 0, count: accounts.count)
    for p in pairs.indices {
      if pairs[p].records.count > 1 { Self.sortByTime(&pairs[p].records, records) }
      let accountId = accountIds[Int(pairs[p].account)]
      try Self.check(&pairs[p], db, accountId: accountId, records: records, issues: &issues)
    }
  }

  /// The value of a dictionary entry passed `inout` (`dict[key, default: new]` inserts
  /// `new` when the key is absent: one hash look-up either way).
  private static func entry(_ value: inout Int32) -> Int32 { value }

  /// Sorts record indices by time, the file's line breaking ties.
  static func sortByTime(_ indices: inout IndexList, _ records: [ConsentImportRecord]) {
    indices.sort {
      let a = records[Int($0)].occurredAt, b = records[Int($1)].occurredAt
      return a != b ? a < b : records[Int($0)].line < records[Int($1)].line
    }
  }

  static func sameEvent(_ a: ConsentImportRecord, _ b: ConsentImportRecord) -> Bool {
    a.account == b.account && a.service == b.service && a.state == b.state
      && a.occurredAt == b.occurredAt && a.source == b.source && a.termsVersion == b.termsVersion
  }

  /// Checks a pair's events against the stored state (and history when an event is older
  /// than the last stored change); fills `accepted`, the final state and the issues.
  static func check(
    _ pair: inout Pair, _ db: Database, accountId: Int64?, records: [ConsentImportRecord],
    issues: inout [ConsentImportIssue]
  ) throws {
    pair.accepted.removeAll()
    pair.seen = nil
    if let accountId {
      let current = try db.cachedStatement(
        sql: """
          SELECT state, updated_at FROM consent_current WHERE account_id = ? AND service_id = ?
          """)
      if let row = try Row.fetchOne(current, arguments: [accountId, pair.serviceId]) {
        pair.seen = (
          try row.code(ConsentState.self, "state", table: "consent_current"), row["updated_at"]
        )
      }
    }
    var timeline = ConsentTimeline(current: pair.seen?.state ?? .notAsked, at: pair.seen?.at)
    let earliest = records[Int(pair.records[0])].occurredAt
    if let accountId, let seen = pair.seen, earliest < seen.at {
      let history = try db.cachedStatement(
        sql: """
          SELECT state, occurred_at FROM consent_event
          WHERE account_id = ? AND service_id = ? ORDER BY occurred_at, rowid
          """)
      var stored: [(state: ConsentState, occurredAt: Int64)] = []
      for row in try Row.fetchAll(history, arguments: [accountId, pair.serviceId]) {
        stored.append(
          (try row.code(ConsentState.self, "state", table: "consent_event"), row["occurred_at"]))
      }
      timeline = ConsentTimeline(stored: stored)
    }
    for index in pair.records {
      let record = records[Int(index)]
      do {
        try timeline.insert(record.state, at: record.occurredAt, ordinal: record.line)
        pair.accepted.append(index)
      } catch {
        issues.append(ConsentImportIssue(line: record.line, reason: error.description))
      }
    }
    if pair.accepted.count > 1 { sortByTime(&pair.accepted, records) }
    pair.finalState = timeline.current
    pair.finalAt = timeline.lastChange ?? 0
  }

  struct BatchOutcome {
    var accepted = 0
    /// Events another import recorded after this one was planned.
    var duplicates = 0
    var accountsCreated = 0
    var issues: [ConsentImportIssue] = []
  }

  // MARK: - Writing one batch

  /// Creates the accounts this batch needs that were not in the database when planning, 256
  /// per statement, fills their `accountIds` and marks them created by `batch` (see
  /// `createdIn`); returns how many it created. Accounts that the insert ignored (created
  /// meanwhile elsewhere, or a pseudonym collision) stay nil for the one-by-one path.
  mutating func createAccounts(
    _ db: Database, pairs range: Range<Int>, records: [ConsentImportRecord], batch: Int32,
    random: inout RandomPool
  ) throws -> Int {
    // Accounts to create, each once (an account's pairs may follow one another).
    var wanted: [(account: Int32, createdAt: Int64)] = []
    for p in range where !pairs[p].accepted.isEmpty && accountIds[Int(pairs[p].account)] == nil {
      let account = pairs[p].account
      if createdIn[Int(account)] != -batch {
        createdIn[Int(account)] = -batch
        wanted.append((account, records[Int(pairs[p].accepted[0])].occurredAt))
      }
    }
    var created = 0
    let group = 256
    var start = 0
    while start < wanted.count {
      let chunk = wanted[start..<min(start + group, wanted.count)]
      start += group
      let statement = try BulkStatement(
        db,
        sql: "INSERT OR IGNORE INTO account (external_id, pseudonym, created_at) VALUES "
          + Array(repeating: "(?, ?, ?)", count: chunk.count).joined(separator: ", ")
          + " RETURNING id, external_id", cached: chunk.count == group)
      var k: Int32 = 1
      for (account, createdAt) in chunk {
        statement.bind(k, accounts[Int(account)])
        statement.bind(k + 1, Self.pseudonym(random.next()))
        statement.bind(k + 2, createdAt)
        k += 3
      }
      // Rows come back in the order inserted (SQLite does not promise it): each is matched
      // against the next accounts of the chunk first, by its external id, and looked up by
      // that id only when it is not there.
      var next = chunk.startIndex
      try statement.execute { row in
        var k = next
        while k < chunk.endIndex, !row.text(1, equals: accounts[Int(chunk[k].account)]) {
          k += 1
        }
        let index: Int32
        if k < chunk.endIndex {
          index = chunk[k].account
          next = k + 1
        } else {
          guard let found = accountIndex[row.text(1)] else { return }
          index = found
        }
        accountIds[Int(index)] = row.int64(0)
        createdIn[Int(index)] = batch
        created += 1
      }
    }
    for (account, _) in wanted where createdIn[Int(account)] == -batch {
      createdIn[Int(account)] = 0
    }
    return created
  }

  /// Writes the accepted events of `range` in the caller's (audited) transaction. A pair
  /// whose stored state changed since planning (another console, another import) is checked
  /// again first.
  mutating func write(
    _ db: Database, pairs range: Range<Int>, records: [ConsentImportRecord], audit: AuditTrail,
    fileName: String, batch: Int, fileDuplicates: Int, fileRejected: Int
  ) throws -> BatchOutcome {
    var outcome = BatchOutcome()
    let findAccount = try db.cachedStatement(sql: "SELECT id FROM account WHERE external_id = ?")
    // The loop below runs once per event: it binds through the C API (see BulkStatement).
    let insertAccount = try BulkStatement(
      db,
      sql: """
        INSERT OR IGNORE INTO account (external_id, pseudonym, created_at) VALUES (?, ?, ?)
        """)
    let current = try db.cachedStatement(
      sql: "SELECT state, updated_at FROM consent_current WHERE account_id = ? AND service_id = ?")
    var insertEvents = BulkInserter(
      db,
      head: """
        INSERT INTO consent_event (event_id, account_id, service_id, state, occurred_at,
          source, terms_version, reason) VALUES
        """, columns: 8)
    var upsertCurrent = BulkInserter(
      db, head: "INSERT INTO consent_current (account_id, service_id, state, updated_at) VALUES",
      columns: 4,
      tail: """
        ON CONFLICT (account_id, service_id)
        DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
        """)
    var random = RandomPool()
    var firstLine = Int.max
    var lastLine = 0
    writes += 1
    let batchMark = writes
    outcome.accountsCreated += try createAccounts(
      db, pairs: range, records: records, batch: batchMark, random: &random)
    for p in range {
      guard !pairs[p].accepted.isEmpty else { continue }
      let account = accounts[Int(pairs[p].account)]
      var accountId = accountIds[Int(pairs[p].account)]
      var created = createdIn[Int(pairs[p].account)] == batchMark
      if accountId == nil {
        let createdAt = records[Int(pairs[p].accepted[0])].occurredAt
        while accountId == nil {
          // A pseudonym collision is ignored by the insert; try another one.
          insertAccount.bind(1, account)
          insertAccount.bind(2, Self.pseudonym(random.next()))
          insertAccount.bind(3, createdAt)
          try insertAccount.execute()
          if db.changesCount == 1 {
            accountId = db.lastInsertedRowID
            createdIn[Int(pairs[p].account)] = batchMark
            created = true
          } else {
            accountId = try Int64.fetchOne(findAccount, arguments: [account])
          }
        }
        if created { outcome.accountsCreated += 1 }
      }
      guard let accountId else { continue }
      accountIds[Int(pairs[p].account)] = accountId
      // Changed since planning? Check the pair again inside this transaction (an account
      // created just now has no consent yet).
      if !created {
        let row = try Row.fetchOne(current, arguments: [accountId, pairs[p].serviceId])
        let now: (ConsentState, Int64)? = try row.map {
          (try $0.code(ConsentState.self, "state", table: "consent_current"), $0["updated_at"])
        }
        if now?.0 != pairs[p].seen?.state || now?.1 != pairs[p].seen?.at {
          try Self.dropRecordedMeanwhile(
            &pairs[p], db, records: records, outcome: &outcome)
          guard !pairs[p].records.isEmpty else {
            pairs[p].accepted.removeAll()
            continue
          }
          try Self.check(
            &pairs[p], db, accountId: accountId, records: records, issues: &outcome.issues)
        }
      }
      for index in pairs[p].accepted {
        let r = records[Int(index)]
        try insertEvents.add(.text(r.eventId))
        try insertEvents.add(.int(accountId))
        try insertEvents.add(.int(pairs[p].serviceId))
        try insertEvents.add(.text(r.state.rawValue))
        try insertEvents.add(.int(r.occurredAt))
        try insertEvents.add(.text(r.source.rawValue))
        try insertEvents.add(.text(r.termsVersion))
        try insertEvents.add(BulkValue(r.reason))
        outcome.accepted += 1
        firstLine = min(firstLine, r.line)
        lastLine = max(lastLine, r.line)
      }
      if !pairs[p].accepted.isEmpty {
        try upsertCurrent.add(.int(accountId))
        try upsertCurrent.add(.int(pairs[p].serviceId))
        try upsertCurrent.add(.text(pairs[p].finalState.rawValue))
        try upsertCurrent.add(.int(pairs[p].finalAt))
      }
    }
    try insertEvents.flush()
    try upsertCurrent.flush()
    if outcome.accepted > 0 || outcome.accountsCreated > 0 {
      try audit.record(
        action: "consent.import", entity: "import", entityId: fileName,
        after: [
          "file": .string(fileName), "batch": .int(Int64(batch)),
          "accepted": .int(Int64(outcome.accepted)),
          "accounts_created": .int(Int64(outcome.accountsCreated)),
          "first_line": .int(Int64(firstLine == Int.max ? 0 : firstLine)),
          "last_line": .int(Int64(lastLine)),
          "file_duplicates": .int(Int64(fileDuplicates)),
          "file_rejected": .int(Int64(fileRejected)),
        ])
    }
    return outcome
  }

  /// Removes from a pair the events recorded since planning (another import of the same
  /// events, running at the same time): the same content counts as a duplicate, other content
  /// under the same event id is rejected, as when planning.
  static func dropRecordedMeanwhile(
    _ pair: inout Pair, _ db: Database, records: [ConsentImportRecord],
    outcome: inout BatchOutcome
  ) throws {
    let indices = Array(pair.records)
    let recorded = try Self.recorded(db, records: records, indices: indices)
    var kept = IndexList()
    for (index, found) in zip(indices, recorded) {
      switch found {
      case .absent: kept.append(index)
      case .same: outcome.duplicates += 1
      case .different: outcome.issues.append(Self.conflict(records[Int(index)]))
      }
    }
    pair.records = kept
  }

  static let hexDigits = Array("0123456789abcdef".utf8)

  /// `u-` and 12 hex digits of `random` (48 of its bits), written in place (a pseudonym is
  /// made for every new account).
  static func pseudonym(_ random: UInt64) -> String {
    String(unsafeUninitializedCapacity: 14) { buffer in
      var x = random & ((1 << 48) - 1)
      buffer[0] = UInt8(ascii: "u")
      buffer[1] = UInt8(ascii: "-")
      for k in stride(from: 13, through: 2, by: -1) {
        buffer[k] = hexDigits[Int(x & 0xF)]
        x >>= 4
      }
      return 14
    }
  }
}

// MARK: - Service codes

/// The services by code, for the plan's look-up per event: a short list is searched in
/// order (most providers run a handful of services; comparing short codes is cheaper than
/// hashing them), a long one through a dictionary.
struct ServiceCodes {
  private var list: [(code: String, id: Int64)] = []
  private var byCode: [String: Int64] = [:]

  init(_ db: Database) throws {
    for row in try Row.fetchAll(db, sql: "SELECT id, code FROM service ORDER BY id") {
      list.append((row["code"], row["id"]))
    }
    if list.count > 16 {
      for (code, id) in list { byCode[code] = id }
    }
  }

  func id(_ code: String) -> Int64? {
    if !byCode.isEmpty { return byCode[code] }
    for entry in list where entry.code == code { return entry.id }
    return nil
  }
}

// MARK: - Random values in bulk

/// Random 64-bit values from the system's generator (`/dev/urandom`), read 512 at a time
/// (one read instead of one system call per new account).
struct RandomPool {
  private var buffer = [UInt64](repeating: 0, count: 512)
  private var position = 512

  mutating func next() -> UInt64 {
    if position == buffer.count {
      refill()
      position = 0
    }
    defer { position += 1 }
    return buffer[position]
  }

  private mutating func refill() {
    #if canImport(Glibc)
      let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
      if fd >= 0 {
        defer { close(fd) }
        let done = buffer.withUnsafeMutableBytes { raw -> Bool in
          var filled = 0
          while filled < raw.count {
            let n = read(fd, raw.baseAddress! + filled, raw.count - filled)
            if n <= 0 { return false }
            filled += n
          }
          return true
        }
        if done { return }
      }
    #endif
    var generator = SystemRandomNumberGenerator()
    for k in buffer.indices { buffer[k] = generator.next() }
  }
}
