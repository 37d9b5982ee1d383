import Foundation
import GRDB

// MARK: - Values

/// A file of a watched drop folder, as the sync checkpoint knows it: the same name, size and
/// SHA-256 is the same file.
public struct BankSyncFile: Hashable, Sendable {
  /// The folder's absolute path (symlinks resolved).
  public var folder: String
  /// The file's name in it.
  public var name: String
  /// Bytes.
  public var size: Int
  /// SHA-256 of its bytes, lowercase hex.
  public var sha256: String

  /// Creates a value.
  public init(folder: String, name: String, size: Int, sha256: String) {
    self.folder = folder
    self.name = name
    self.size = size
    self.sha256 = sha256
  }
}

/// What a drop folder's files are: hashes to import into one bank, or retraction lists.
public enum BankSyncTarget: Hashable, Sendable {
  /// Import each file into this bank (created when new).
  case bank(String)
  /// Delete each file's hashes from every bank.
  case retract

  /// `bank:NAME` or `retract`, as the checkpoint records it.
  public var code: String {
    switch self {
    case .bank(let name): "bank:" + name
    case .retract: "retract"
    }
  }
}

/// What syncing one file did.
public enum BankSyncResult: Hashable, Sendable {
  /// The checkpoint holds the file already (taken at these Unix seconds): nothing done.
  case alreadyTaken(at: Int64)
  /// Imported into a bank.
  case imported(BankImportSummary)
  /// Applied as a retraction list.
  case retracted(RetractionSummary)
}

// MARK: - The checkpoint

extension AppDatabase {
  /// When the checkpoint took `file`, or nil when it never did.
  public func syncTakenAt(_ file: BankSyncFile) throws -> Int64? {
    try read { db in try Self.takenAt(db, file) }
  }

  /// Imports (or retracts) one drop-folder file and records it in the checkpoint: a file the
  /// checkpoint already holds is left alone (so two syncs running at once never take a file
  /// twice). An import runs as `bank import` does (`importBank`: short batches, staged until
  /// its last transaction), and its last transaction also
  /// records the checkpoint; when another sync took the file meanwhile, that transaction
  /// is rolled back and the file counts as taken. A retraction list is one transaction.
  /// Audited (`bank.sync`, besides the import's or the retraction's own events); a
  /// retraction folder needs a lead or an admin. An import removes `withdrawals` from its
  /// bank; a retraction list retracts them too.
  public func takeSyncFile(
    _ file: BankSyncFile, target: BankSyncTarget, entries: [BankHashEntry],
    withdrawals: BankWithdrawals = BankWithdrawals(), format: String?, by operatorName: String,
    observer: (any LongRunObserver)? = nil
  ) throws -> BankSyncResult {
    try takeSyncFile(
      file, target: target, entries: entries, withdrawals: withdrawals, format: format,
      by: operatorName, options: BankImportOptions(observer: observer))
  }

  func takeSyncFile(
    _ file: BankSyncFile, target: BankSyncTarget, entries: [BankHashEntry],
    withdrawals: BankWithdrawals, format: String?, by operatorName: String,
    options: BankImportOptions
  ) throws -> BankSyncResult {
    let source = BankSource(file: file.name, format: format)
    switch target {
    case .bank(let name):
      if let at = try syncTakenAt(file) { return .alreadyTaken(at: at) }
      var options = options
      options.lastTransaction = { db, audit, summary in
        if let at = try Self.takenAt(db, file) { throw SyncTakenMeanwhile(at: at) }
        try Self.recordSyncFile(
          db, audit: audit, file, target: target, version: summary.version?.id,
          entries: entries.count)
      }
      do {
        return .imported(
          try importBank(
            name: name, entries: entries, threshold: nil, skipped: 0, source: source,
            withdrawals: withdrawals, by: operatorName, options: options))
      } catch let taken as SyncTakenMeanwhile {
        return .alreadyTaken(at: taken.at)
      }
    case .retract:
      let listed = Self.inIndexOrder(entries + withdrawals.entries)
      return try withImportTuning(.forBanks, large: listed.count > ImportTuning.minimumHashes) {
        try audited(by: operatorName) { db, audit in
          if let at = try Self.takenAt(db, file) { return .alreadyTaken(at: at) }
          let summary = try Self.retract(db, audit: audit, entries: listed, source: source)
          try Self.recordSyncFile(
            db, audit: audit, file, target: target, version: summary.versions.last?.id,
            entries: listed.count)
          return .retracted(summary)
        }
      }
    }
  }

  /// Another sync took the file while this one was importing it.
  struct SyncTakenMeanwhile: Error {
    var at: Int64
  }

  /// Records `file` in the checkpoint (`bank.sync`).
  static func recordSyncFile(
    _ db: Database, audit: AuditTrail, _ file: BankSyncFile, target: BankSyncTarget,
    version: Int64?, entries: Int
  ) throws {
    try db.execute(
      sql: """
        INSERT INTO bank_sync_file (folder, name, size, sha256, target, version_id, taken_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        file.folder, file.name, file.size, file.sha256, target.code, version, audit.at,
      ])
    try audit.record(
      action: "bank.sync", entity: "file", entityId: file.name,
      after: [
        "folder": .string(file.folder), "size": .int(Int64(file.size)),
        "sha256": .string(file.sha256), "target": .string(target.code),
        "entries": .int(Int64(entries)),
      ])
  }

  static func takenAt(_ db: Database, _ file: BankSyncFile) throws -> Int64? {
    try Int64.fetchOne(
      db.cachedStatement(
        sql: """
          SELECT taken_at FROM bank_sync_file
          WHERE folder = ? AND name = ? AND size = ? AND sha256 = ?
          """), arguments: [file.folder, file.name, file.size, file.sha256])
  }
}
