import Foundation
import GRDB

// MARK: - Values

/// What made a new version of a bank's list.
public enum BankChange: String, Sendable, CaseIterable, Hashable {
  /// The list as it stood when versions began (a bank imported before them).
  case baseline
  /// Hashes imported.
  case `import`
  /// Hashes removed from this bank (`csar bank remove`).
  case remove
  /// Hashes deleted from every bank by a retraction list (`csar bank retract`).
  case retract
  /// The bank got a new name; the list is unchanged.
  case rename
  /// The bank and its hashes were deleted.
  case delete
}

/// Where a version's hashes came from: the file's name and the format it was read as.
public struct BankSource: Hashable, Sendable {
  /// The file name (without its folder), if any.
  public var file: String?
  /// The format the file was read as (`csv`, `tsv`, `te-csv`, `hma-json`, ...), if known.
  public var format: String?

  /// Creates a source; `file` keeps only the last path component.
  public init(file: String?, format: String?) {
    self.file = file.map { path in
      path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
    }
    self.format = format
  }
}

/// One version of a bank's list: what changed it, what it added and removed, and how many
/// hashes the bank held after it.
public struct BankVersion: Hashable, Sendable {
  /// `bank_version` row id (what review items point at).
  public var id: Int64
  /// The bank's row id (kept after the bank is deleted).
  public var bankId: Int64
  /// The bank's name at this version.
  public var bankName: String
  /// 1, 2, ... per bank.
  public var version: Int
  /// What made it.
  public var change: BankChange
  /// Hashes (or known videos) added.
  public var added: Int
  /// Hashes (or known videos) removed.
  public var removed: Int
  /// Hashes and known videos in the bank after it.
  public var total: Int
  /// The file and format it came from.
  public var source: BankSource
  /// Who made it.
  public var operatorName: String
  /// Unix seconds.
  public var createdAt: Int64

  /// `NAME@vN`, as review items and reports name the list that matched.
  public var label: String { "\(bankName)@v\(version)" }
}

// MARK: - Recording

extension AppDatabase {
  /// Records a new version of bank `bankId` (numbered after its last one), points the bank at
  /// it (unless the bank was deleted) and returns it. `total` is counted from the bank's
  /// hashes unless given.
  static func recordBankVersion(
    _ db: Database, bankId: Int64, name: String, change: BankChange, added: Int, removed: Int,
    total: Int? = nil, source: BankSource?, audit: AuditTrail
  ) throws -> BankVersion {
    let last =
      try Int.fetchOne(
        db.cachedStatement(sql: "SELECT max(version) FROM bank_version WHERE bank_id = ?"),
        arguments: [bankId]) ?? 0
    let count = try total ?? visibleCount(db, bankId: bankId)
    try db.execute(
      sql: """
        INSERT INTO bank_version (bank_id, bank_name, version, change, added, removed, total,
          source_file, source_format, operator, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        bankId, name, last + 1, change.rawValue, added, removed, count, source?.file,
        source?.format, audit.operatorName, audit.at,
      ])
    let id = db.lastInsertedRowID
    try db.execute(
      sql: "UPDATE bank SET current_version_id = ? WHERE id = ?", arguments: [id, bankId])
    return BankVersion(
      id: id, bankId: bankId, bankName: name, version: last + 1, change: change, added: added,
      removed: removed, total: count, source: source ?? BankSource(file: nil, format: nil),
      operatorName: audit.operatorName, createdAt: audit.at)
  }

  /// The audit fields of a version (`version`, `added`, `removed`, `total`, `source_file`,
  /// `source_format`).
  static func versionDetails(_ version: BankVersion) -> [String: JSONValue] {
    [
      "version": .int(Int64(version.version)), "version_id": .int(version.id),
      "added": .int(Int64(version.added)), "removed": .int(Int64(version.removed)),
      "total": .int(Int64(version.total)), "source_file": .text(version.source.file),
      "source_format": .text(version.source.format),
    ]
  }

  // MARK: - Reads

  /// Every version of bank `name` (the current bank of that name), oldest first; throws
  /// ``StoreError/notFound(entity:id:)`` for an unknown bank.
  public func bankVersions(name: String) throws -> [BankVersion] {
    try read { db in
      let bank = try Self.bankRow(db, name: name)
      return try Row.fetchAll(
        db, sql: Self.versionSelect + " WHERE bank_id = ? ORDER BY version",
        arguments: [bank.id]
      ).map(Self.bankVersion)
    }
  }

  /// One version by row id (also of a deleted bank), or nil.
  public func bankVersion(id: Int64) throws -> BankVersion? {
    try read { db in try Self.bankVersion(db, id: id) }
  }

  static func bankVersion(_ db: Database, id: Int64) throws -> BankVersion? {
    try Row.fetchOne(
      db.cachedStatement(sql: versionSelect + " WHERE id = ?"), arguments: [id]
    ).map(bankVersion)
  }

  static let versionSelect = """
    SELECT id, bank_id, bank_name, version, change, added, removed, total, source_file,
      source_format, operator, created_at FROM bank_version
    """

  static func bankVersion(_ row: Row) throws -> BankVersion {
    let change: String = row[4]
    guard let kind = BankChange(rawValue: change) else {
      throw StoreError.invalidValue(
        field: "bank_version.change", value: change, reason: "unknown change")
    }
    var source = BankSource(file: nil, format: row[9])
    source.file = row[8]
    return BankVersion(
      id: row[0], bankId: row[1], bankName: row[2], version: row[3], change: kind,
      added: row[5], removed: row[6], total: row[7], source: source, operatorName: row[10],
      createdAt: row[11])
  }
}
