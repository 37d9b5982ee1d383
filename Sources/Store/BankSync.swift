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

  /// Imports (or retracts) one drop-folder file and records it in the checkpoint, in one
  /// transaction: a file the checkpoint already holds is left alone (so two syncs running at
  /// once never take a file twice). Audited (`bank.sync`, besides the import's or the
  /// retraction's own events); a retraction folder needs a lead or an admin. An import
  /// removes `withdrawals` from its bank; a retraction list retracts them too.
  public func takeSyncFile(
    _ file: BankSyncFile, target: BankSyncTarget, entries: [BankHashEntry],
    withdrawals: BankWithdrawals = BankWithdrawals(), format: String?, by operatorName: String
  ) throws -> BankSyncResult {
    let sorted = Self.inIndexOrder(entries)
    let source = BankSource(file: file.name, format: format)
    return try withImportCache(large: entries.count > 10_000) {
      try audited(by: operatorName) { db, audit in
        if let at = try Self.takenAt(db, file) { return .alreadyTaken(at: at) }
        let result: BankSyncResult
        let version: Int64?
        switch target {
        case .bank(let name):
          try Self.checkListName(name, field: "bank name")
          let summary = try Self.importSorted(
            db, audit: audit, name: name, entries: sorted, threshold: nil, skipped: 0,
            source: source, withdrawals: withdrawals)
          result = .imported(summary)
          version = summary.version?.id
        case .retract:
          let listed = withdrawals.entries.isEmpty
            ? sorted : Self.inIndexOrder(entries + withdrawals.entries)
          let summary = try Self.retract(db, audit: audit, entries: listed, source: source)
          result = .retracted(summary)
          version = summary.versions.last?.id
        }
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
            "entries": .int(Int64(sorted.count)),
          ])
        return result
      }
    }
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
