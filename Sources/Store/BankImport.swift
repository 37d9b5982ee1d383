import Foundation
import GRDB

// MARK: - Values

/// Hashes a list withdraws (StopNCII records marked Withdrawn or Deleted, NCMEC
/// `deletedImage`/`deletedVideo` ids): an import removes them from its bank.
public struct BankWithdrawals: Hashable, Sendable {
  /// Withdrawn hashes.
  public var entries: [BankHashEntry]
  /// The list's ids of withdrawn entries (matched against the bank's `source_id`).
  public var sourceIds: [String]

  /// Creates a value.
  public init(entries: [BankHashEntry] = [], sourceIds: [String] = []) {
    self.entries = entries
    self.sourceIds = sourceIds
  }

  /// Whether there is nothing to withdraw.
  public var isEmpty: Bool { entries.isEmpty && sourceIds.isEmpty }
}

/// What an import did.
public struct BankImportSummary: Hashable, Sendable {
  /// The bank imported into.
  public var bank: String
  /// Whether the import created the bank.
  public var created: Bool
  /// Hashes added (made part of the bank by this import, `resumed` included).
  public var added: Int
  /// Hashes the bank already held (not added again).
  public var alreadyPresent: Int
  /// Bad lines left out (with `--skip-invalid`).
  public var skipped: Int
  /// The version the import made (nil when it changed nothing).
  public var version: BankVersion?
  /// Hashes the list withdrew that the bank held, now removed.
  public var withdrawn: Int = 0
  /// Of `added`, hashes an interrupted run of the import had already staged.
  public var resumed: Int = 0
  /// Transactions that wrote hashes.
  public var batches: Int = 0
}

/// An import still writing into a bank, or stopped before its end: the hashes it staged
/// are not part of the bank yet (running the import again finishes it).
public struct BankPendingImport: Hashable, Sendable {
  /// `bank_import` row id.
  public var id: Int64
  /// Hashes staged so far.
  public var staged: Int
  /// The file it reads (name only), if known.
  public var sourceFile: String?
  /// Who started it.
  public var operatorName: String
  /// Unix seconds.
  public var startedAt: Int64
  /// Batches committed.
  public var batches: Int
}

/// How a bank import writes: batch size and (for tests) where it stops.
struct BankImportOptions: Sendable {
  /// Hashes per transaction.
  var batchSize = AppDatabase.bankImportBatchSize
  /// Reports committed batches and asks whether to stop between them.
  var observer: (any LongRunObserver)?
  /// Stops after this many committed batches, as Ctrl-C would (tests).
  var stopAfterBatches: Int?
  /// Runs after each committed batch but the last, outside any transaction, with the number
  /// of batches committed (tests: another connection writes here).
  var betweenBatches: (@Sendable (Int) throws -> Void)?
  /// After each batch but the last, the import waits this share of the batch's own time
  /// (at least 1 ms, at most 50 ms) before taking the lock again.
  var pause = 0.25
  /// Runs at the end of the last transaction, with what the import did (`bank sync` records
  /// its checkpoint here); throwing rolls that transaction back.
  var lastTransaction: (@Sendable (Database, AuditTrail, BankImportSummary) throws -> Void)?
}

// MARK: - Importing in short batches

extension AppDatabase {
  /// Hashes per transaction of a large import: about 35 ms of writing in a release build
  /// (20,000 took 145 ms, long enough for a console's keypress to wait visibly).
  public static let bankImportBatchSize = 5_000

  /// What a stopped import tells the operator to do.
  static let bankImportResume = "run the same command again: hashes already in the bank are "
    + "skipped"

  /// Imports hashes into bank `name` (created, enabled, when missing): hashes the bank
  /// already holds are counted, not duplicated; `withdrawals` (hashes and list ids the file
  /// withdraws) are removed from the bank. `threshold` sets the bank's PDQ threshold;
  /// `skipped` (bad lines left out) goes into the audit event `bank.import`, which is
  /// recorded only when the import changed something; it makes a new version
  /// ("+added -withdrawn").
  ///
  /// The caller has checked the whole file. The hashes are written in batches of
  /// ``bankImportBatchSize``, each its own short transaction, so the write lock is free
  /// between them (another console can claim an item, decide, import): after each batch the
  /// import waits a quarter of the batch's time (1 to 50 ms), so that a writer waiting in
  /// SQLite's busy handler (which retries 1 to 100 ms apart) gets its turn. A batch's rows are
  /// staged: they carry the import's id (`bank_hash.import_id`) while the bank names it as
  /// its pending import (`bank.pending_import_id`), and every read leaves such rows out.
  /// Batches but the last are audited as `bank.import_batch` with their counts; the last
  /// transaction writes the last batch, removes the withdrawn hashes, clears the pending
  /// import (all staged rows become part of the bank at once), records the version and the
  /// `bank.import` event. So a reader sees the bank before the import or after it, never
  /// half of it, and a run stopped or killed between batches leaves the bank as it was plus
  /// invisible staged rows: running the import again takes the pending import over (rows
  /// already staged are skipped) and finishes it, its version counting every staged hash.
  /// An import that fits in one batch is one transaction, as before.
  ///
  /// `observer` is told after each committed batch how many of the entries are done, and
  /// asked between batches whether to stop; a stop throws ``LongRunStopped``.
  @discardableResult
  public func importBank(
    name: String, entries: [BankHashEntry], threshold: Int? = nil, skipped: Int = 0,
    source: BankSource? = nil, withdrawals: BankWithdrawals = BankWithdrawals(),
    by operatorName: String, observer: (any LongRunObserver)? = nil
  ) throws -> BankImportSummary {
    try importBank(
      name: name, entries: entries, threshold: threshold, skipped: skipped, source: source,
      withdrawals: withdrawals, by: operatorName,
      options: BankImportOptions(observer: observer))
  }

  func importBank(
    name: String, entries: [BankHashEntry], threshold: Int?, skipped: Int,
    source: BankSource?, withdrawals: BankWithdrawals, by operatorName: String,
    options: BankImportOptions
  ) throws -> BankImportSummary {
    try Self.checkListName(name, field: "bank name")
    if let threshold { try Self.checkThreshold(threshold) }
    // In index order: inserts then touch the unique index at one place instead of all over.
    let order = entries.indices.map { (Self.indexKey(entries[$0]), $0) }.sorted { $0 < $1 }
    let withdrawn = BankWithdrawals(
      entries: Self.inIndexOrder(withdrawals.entries),
      sourceIds: Array(Set(withdrawals.sourceIds)).sorted())
    var run = BankImportRun(
      name: name, count: entries.count, threshold: threshold, skipped: skipped, source: source,
      withdrawals: withdrawn, listed: Self.countsByType(entries),
      lastTransaction: options.lastTransaction)
    let size = max(1, options.batchSize)
    let large = entries.count > ImportTuning.minimumHashes
    return try withImportTuning(.forBanks, large: large) {
      var start = 0
      while true {
        let end = min(start + size, order.count)
        let last = end == order.count
        let began = DispatchTime.now().uptimeNanoseconds
        let summary = try audited(by: operatorName) { db, audit in
          try run.write(
            db, audit: audit, entries: order[start..<end].lazy.map { entries[$0.1] }, last: last)
        }
        options.observer?.committed(end, of: order.count)
        if let summary { return summary }
        start = end
        Self.yieldLock(
          afterNanoseconds: DispatchTime.now().uptimeNanoseconds - began, share: options.pause)
        try options.betweenBatches?(run.batches)
        let task = "bank import into '\(name)'"
        if let stop = options.stopAfterBatches, run.batches >= stop {
          throw LongRunStopped(
            task: task, committed: start, total: order.count, unit: "hashes",
            resume: Self.bankImportResume)
        }
        try options.observer?.checkStop(
          task: task, committed: start, total: order.count, unit: "hashes",
          resume: Self.bankImportResume)
      }
    }
  }

  /// Leaves the write lock free for a while after a batch: SQLite wakes a waiting writer
  /// (another console's claim, a decision) on its own schedule, 1 to 100 ms apart, so an
  /// import that took the lock again at once would keep it from them until its end.
  static func yieldLock(afterNanoseconds spent: UInt64, share: Double) {
    guard share > 0 else { return }
    let wait = min(50_000_000, max(1_000_000, Double(spent) * share))
    usleep(UInt32(wait / 1_000))
  }
}

extension AppDatabase {
  /// Entries per type as audit details (`{"md5": 0, "pdq": 12, ...}`).
  static func countsByType(_ entries: [BankHashEntry]) -> [String: JSONValue] {
    var counts: [BankHashType: Int64] = [:]
    for entry in entries { counts[entry.type, default: 0] += 1 }
    var json: [String: JSONValue] = [:]
    for type in BankHashType.allCases { json[type.rawValue] = .int(counts[type] ?? 0) }
    return json
  }
}

// MARK: - One import's state across its transactions

/// The state of one run of a bank import between its transactions.
struct BankImportRun {
  let name: String
  let count: Int
  let threshold: Int?
  let skipped: Int
  let source: BankSource?
  let withdrawals: BankWithdrawals
  /// Entries of the run per type, for the audit.
  let listed: [String: JSONValue]
  /// Runs at the end of the last transaction.
  let lastTransaction: (@Sendable (Database, AuditTrail, BankImportSummary) throws -> Void)?
  /// Whether this run created the bank.
  var created = false
  /// Rows this run staged.
  var staged = 0
  /// Transactions of this run that staged rows.
  var batches = 0
  /// Rows an earlier, interrupted run had staged when this run took its import over.
  var resumed = 0
  /// Pending imports of other runs this run took over.
  var resumedImports = 0
  /// The pending import this run writes into, once known.
  var importId: Int64?
  /// The bank, once the first transaction found or created it (a rename does not stop the
  /// run; a deletion does).
  var bankId: Int64?

  /// Writes one batch; with `last`, finishes the import and returns its summary.
  mutating func write(
    _ db: Database, audit: AuditTrail, entries: some Sequence<BankHashEntry>, last: Bool
  ) throws -> BankImportSummary? {
    if let bankId, try Bool.fetchOne(
      db, sql: "SELECT 1 FROM bank WHERE id = ?", arguments: [bankId]) != true
    {
      throw BankCurationError.deletedDuringImport(bank: name)
    }
    let bank = try bankId.map { (id: $0, created: false) }
      ?? AppDatabase.findOrCreateList(
        db, .bank(threshold: threshold ?? 31), name: name, at: audit.at)
    if bank.created { created = true }
    let runsBefore = resumedImports
    let pending = try pendingImport(db, bankId: bank.id)
    let tookOver = resumedImports != runsBefore
    let id = try pending ?? Int64.fetchOne(
      db, sql: "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'bank_import'), 0)")!
      + 1
    let perType = try Self.insert(db, entries: entries, bankId: bank.id, importId: id)
    let batchStaged = perType.values.reduce(0, +)
    bankId = bank.id
    if pending == nil, batchStaged > 0 || (bank.created && !last) {
      try db.execute(
        sql: """
          INSERT INTO bank_import (id, bank_id, source_file, source_format, operator,
            started_at, created_bank) VALUES (?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          id, bank.id, source?.file, source?.format, audit.operatorName, audit.at, bank.created,
        ])
      try db.execute(
        sql: "UPDATE bank SET pending_import_id = ? WHERE id = ?", arguments: [id, bank.id])
      importId = id
    }
    if batchStaged > 0 {
      try db.execute(
        sql: """
          UPDATE bank_import SET staged_pdq = staged_pdq + ?, staged_md5 = staged_md5 + ?,
            staged_sha256 = staged_sha256 + ?, staged_sha1 = staged_sha1 + ?,
            batches = batches + 1 WHERE id = ?
          """,
        arguments: [
          perType[.pdq] ?? 0, perType[.md5] ?? 0, perType[.sha256] ?? 0, perType[.sha1] ?? 0, id,
        ])
      staged += batchStaged
      batches += 1
    }
    if last {
      let summary = try finish(db, audit: audit, bankId: bank.id)
      try lastTransaction?(db, audit, summary)
      return summary
    }
    if batchStaged > 0 || bank.created || tookOver {
      try audit.record(
        action: "bank.import_batch", entity: "bank", entityId: String(bank.id),
        after: [
          "name": .string(name), "import": .int(id), "batch": .int(Int64(batches)),
          "staged": .int(Int64(batchStaged)), "staged_by_run": .int(Int64(staged)),
          "listed": .int(Int64(count)), "created": .bool(bank.created),
        ])
    }
    return nil
  }

  /// Inserts `entries` into bank `bankId`, staged by import `importId`, 256 rows per
  /// statement; returns how many rows of each type it added (hashes the bank holds already
  /// are left out by the insert, not counted). The entries come in index order, so those of
  /// one type follow one another: the rows are written whenever the type changes, and the
  /// changes counted since are that type's.
  static func insert(
    _ db: Database, entries: some Sequence<BankHashEntry>, bankId: Int64, importId: Int64
  ) throws -> [BankHashType: Int] {
    var insert = BulkInserter(
      db,
      head: """
        INSERT OR IGNORE INTO bank_hash (bank_id, type, hash, label, source_id, metadata,
          import_id) VALUES
        """, columns: 7)
    var perType: [BankHashType: Int] = [:]
    var type: BankHashType?
    var counted = 0
    func count() throws {
      guard let type else { return }
      try insert.flush()
      perType[type, default: 0] += insert.changes - counted
      counted = insert.changes
    }
    for entry in entries {
      if entry.type != type {
        try count()
        type = entry.type
      }
      try insert.add(.int(bankId))
      try insert.add(.text(entry.type.rawValue))
      try insert.add(.text(entry.hash))
      try insert.add(BulkValue(entry.label))
      try insert.add(BulkValue(entry.sourceId))
      try insert.add(BulkValue(entry.metadata))
      try insert.add(.int(importId))
    }
    try count()
    return perType
  }

  /// The bank's pending import (taken over when an earlier run left it), or nil.
  mutating func pendingImport(_ db: Database, bankId: Int64) throws -> Int64? {
    guard
      let row = try Row.fetchOne(
        db,
        sql: """
          SELECT i.id, i.staged_pdq + i.staged_md5 + i.staged_sha256 + i.staged_sha1
          FROM bank b JOIN bank_import i ON i.id = b.pending_import_id
          WHERE b.id = ? AND i.finished_at IS NULL
          """, arguments: [bankId])
    else { return nil }
    let id: Int64 = row[0]
    if importId != id {
      // Another run's import (interrupted, or writing at this moment): this run joins it.
      resumed += row[1] as Int
      resumedImports += 1
      importId = id
      try db.execute(sql: "UPDATE bank_import SET runs = runs + 1 WHERE id = ?", arguments: [id])
    }
    return id
  }

  /// The last transaction's work: the pending import made part of the bank, withdrawals
  /// removed, the threshold set, the version and the `bank.import` event recorded.
  func finish(_ db: Database, audit: AuditTrail, bankId: Int64) throws -> BankImportSummary {
    let old = try Row.fetchOne(
      db, sql: "SELECT pdq_threshold, pending_import_id FROM bank WHERE id = ?",
      arguments: [bankId])!
    let oldThreshold: Int = old[0]
    let pending: Int64? = old[1]
    var added = 0
    var createdBank = created
    var runBatches = batches
    if let pending {
      let row = try Row.fetchOne(
        db,
        sql: """
          SELECT staged_pdq + staged_md5 + staged_sha256 + staged_sha1, created_bank, batches
          FROM bank_import WHERE id = ?
          """, arguments: [pending])!
      added = row[0]
      createdBank = createdBank || row[1] as Bool
      runBatches = row[2]
      try db.execute(
        sql: "UPDATE bank SET pending_import_id = NULL WHERE id = ?", arguments: [bankId])
    }
    let removed = try AppDatabase.withdraw(withdrawals, from: bankId, db)
    let retuned = threshold != nil && threshold != oldThreshold && !created
    if retuned {
      try db.execute(
        sql: "UPDATE bank SET pdq_threshold = ? WHERE id = ?", arguments: [threshold, bankId])
    }
    var summary = BankImportSummary(
      bank: name, created: createdBank, added: added, alreadyPresent: max(0, count - added),
      skipped: skipped, withdrawn: removed, resumed: resumed, batches: runBatches)
    let changed = created || added > 0 || removed > 0
    guard changed || retuned || pending != nil else { return summary }
    var versionFields: [String: JSONValue] = [:]
    if changed || pending != nil {
      let version = try AppDatabase.recordBankVersion(
        db, bankId: bankId, name: name, change: .import, added: added, removed: removed,
        source: source, audit: audit)
      summary.version = version
      versionFields = AppDatabase.versionDetails(version)
      if let pending {
        try db.execute(
          sql: "UPDATE bank_import SET finished_at = ?, version_id = ? WHERE id = ?",
          arguments: [audit.at, version.id, pending])
      }
    }
    var after: [String: JSONValue] = [
      "name": .string(name), "created": .bool(created), "added": .int(Int64(added)),
      "already_present": .int(Int64(summary.alreadyPresent)),
      "skipped_lines": .int(Int64(skipped)), "by_type": .object(listed),
      "pdq_threshold": .int(Int64(threshold ?? oldThreshold)),
      "withdrawn": .int(Int64(removed)),
    ]
    if let pending {
      after["import"] = .int(pending)
      after["batches"] = .int(Int64(runBatches))
      after["resumed"] = .int(Int64(resumed))
    }
    try audit.record(
      action: "bank.import", entity: "bank", entityId: String(bankId),
      before: created ? nil : ["pdq_threshold": .int(Int64(oldThreshold))],
      after: .object(after.merging(versionFields) { a, _ in a }))
    return summary
  }
}

// MARK: - Withdrawals and visibility

extension AppDatabase {
  /// Whether bank hash `h` (of bank `b`) is part of its bank: not staged by the bank's
  /// pending import.
  static let visibleHash = "(h.import_id IS NULL OR h.import_id IS NOT b.pending_import_id)"

  /// Removes the withdrawn hashes and list ids from bank `bankId` (rows of its pending import
  /// left alone); returns how many rows went.
  static func withdraw(_ withdrawals: BankWithdrawals, from bankId: Int64, _ db: Database)
    throws -> Int
  {
    guard !withdrawals.isEmpty else { return 0 }
    let pending = try Int64.fetchOne(
      db, sql: "SELECT pending_import_id FROM bank WHERE id = ?", arguments: [bankId])
    var removed = 0
    let delete = try db.cachedStatement(
      sql: """
        DELETE FROM bank_hash WHERE type = ? AND hash = ? AND bank_id = ?
          AND (import_id IS NULL OR import_id IS NOT ?)
        """)
    for entry in withdrawals.entries {
      try delete.execute(arguments: [entry.type.rawValue, entry.hash, bankId, pending])
      removed += db.changesCount
    }
    if !withdrawals.sourceIds.isEmpty {
      // One pass over the bank's rows (there is no index by the list's ids).
      try db.execute(
        sql: """
          DELETE FROM bank_hash WHERE bank_id = ? AND (import_id IS NULL OR import_id IS NOT ?)
            AND source_id IN (SELECT value FROM json_each(?))
          """,
        arguments: [
          bankId, pending, JSONValue.array(withdrawals.sourceIds.map { .string($0) }).description,
        ])
      removed += db.changesCount
    }
    return removed
  }

  /// Entries of bank `bankId` as its versions count them: hashes (its pending import's
  /// staged rows left out) and known videos.
  static func visibleCount(_ db: Database, bankId: Int64) throws -> Int {
    let rows =
      try Int.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT (SELECT count(*) FROM bank_hash WHERE bank_id = ?1)
              + (SELECT count(*) FROM bank_video WHERE bank_id = ?1)
            """),
        arguments: [bankId]) ?? 0
    return rows - (try pendingStaged(db, bankId: bankId).values.reduce(0, +))
  }

  /// The import still writing into bank `bankId` (or stopped before its end), or nil.
  static func pendingImport(_ db: Database, bankId: Int64) throws -> BankPendingImport? {
    try Row.fetchOne(
      db.cachedStatement(
        sql: """
          SELECT i.id, i.staged_pdq + i.staged_md5 + i.staged_sha256 + i.staged_sha1,
            i.source_file, i.operator, i.started_at, i.batches
          FROM bank b JOIN bank_import i ON i.id = b.pending_import_id WHERE b.id = ?
          """), arguments: [bankId]
    ).map {
      BankPendingImport(
        id: $0[0], staged: $0[1], sourceFile: $0[2], operatorName: $0[3], startedAt: $0[4],
        batches: $0[5])
    }
  }

  /// Hashes staged by bank `bankId`'s pending import, per type (empty when none is pending).
  static func pendingStaged(_ db: Database, bankId: Int64) throws -> [BankHashType: Int] {
    guard
      let row = try Row.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT i.staged_pdq, i.staged_md5, i.staged_sha256, i.staged_sha1
            FROM bank b JOIN bank_import i ON i.id = b.pending_import_id WHERE b.id = ?
            """), arguments: [bankId])
    else { return [:] }
    return [.pdq: row[0], .md5: row[1], .sha256: row[2], .sha1: row[3]]
  }
}
