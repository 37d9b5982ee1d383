import Foundation
import GRDB

// MARK: - Hash bank values

/// The kind of a hash in a bank.
public enum BankHashType: String, Sendable, CaseIterable, Hashable {
  /// PDQ perceptual hash: 64 hex digits.
  case pdq
  /// MD5 of the file bytes: 32 hex digits.
  case md5
  /// SHA-256 of the file bytes: 64 hex digits.
  case sha256
  /// SHA-1 of the file bytes: 40 hex digits (NCMEC fingerprint lists use it).
  case sha1

  /// How many hex digits a hash of this type has.
  public var hexLength: Int {
    switch self {
    case .md5: 32
    case .sha1: 40
    case .pdq, .sha256: 64
    }
  }

  /// Whether this is a digest of the file bytes (matched exactly), not a perceptual hash.
  public var isDigest: Bool { self != .pdq }
}

/// One hash to import into a bank (`hash` lowercase hex, already validated).
public struct BankHashEntry: Hashable, Sendable {
  /// The hash type.
  public var type: BankHashType
  /// Lowercase hex digits.
  public var hash: String
  /// What the list says the hash is (optional).
  public var label: String?
  /// The list's own identifier of the hash (optional).
  public var sourceId: String?
  /// The list's other columns or fields, as a JSON object of text values (optional).
  public var metadata: String?

  /// Creates an entry.
  public init(
    type: BankHashType, hash: String, label: String? = nil, sourceId: String? = nil,
    metadata: String? = nil
  ) {
    self.type = type
    self.hash = hash
    self.label = label
    self.sourceId = sourceId
    self.metadata = metadata
  }
}

/// A bank with its settings and how many hashes of each type it holds.
public struct BankRow: Hashable, Sendable {
  /// Row id.
  public var id: Int64
  /// Unique name.
  public var name: String
  /// Whether scans match against it.
  public var enabled: Bool
  /// Largest PDQ Hamming distance that counts as a match.
  public var pdqThreshold: Int
  /// Unix seconds.
  public var createdAt: Int64
  /// Hash counts per type.
  public var pdqCount: Int
  /// MD5 hashes.
  public var md5Count: Int
  /// SHA-256 hashes.
  public var sha256Count: Int
  /// SHA-1 hashes.
  public var sha1Count: Int = 0
  /// What a match does: wait for review, or be reported at once.
  public var onMatch: BankMatchAction = .review
  /// The list's current version (nil only for a bank written outside csar).
  public var version: BankVersion?
  /// The source of the newest version that came from a file (a rename has none).
  public var lastSource: BankSource?
  /// An import still writing into the bank, or stopped before its end (its hashes are not
  /// counted above).
  public var pendingImport: BankPendingImport? = nil

  /// Every hash of the bank.
  public var total: Int { pdqCount + md5Count + sha256Count + sha1Count }
}

/// What a match against a bank does.
public enum BankMatchAction: String, Sendable, CaseIterable, Hashable {
  /// The match waits in the review queue for a reviewer (the default).
  case review
  /// The match is confirmed and a report created at once (for lists of verified material).
  case report
}


/// A bank hash matched by exact lookup (or looked up by id after a PDQ match).
public struct BankHashHit: Hashable, Sendable {
  /// `bank_hash` row id.
  public var hashId: Int64
  /// The bank's name.
  public var bank: String
  /// The bank's PDQ threshold.
  public var pdqThreshold: Int
  /// The hash type.
  public var type: BankHashType
  /// Lowercase hex.
  public var hash: String
  /// The list's label, if any.
  public var label: String?
  /// The list's identifier, if any.
  public var sourceId: String?
  /// What a match does.
  public var onMatch: BankMatchAction = .review
  /// The bank's version when the hit was read (`bank_version` row id and number).
  public var versionId: Int64?
  /// The version number.
  public var version: Int?
}

/// The highest PDQ threshold a bank may have; beyond it unrelated images start matching.
public let maximumBankPDQThreshold = 64

// MARK: - Writes

extension AppDatabase {
  /// Orders entries as the `(type, hash)` index does, nearly: the type, then the hash's first
  /// 15 hex digits (ties, about one in 10^18, stay in file order).
  static func indexKey(_ entry: BankHashEntry) -> UInt64 {
    // The index orders types by name: md5, pdq, sha1, sha256.
    let rank: UInt64 =
      switch entry.type {
      case .md5: 0
      case .pdq: 1
      case .sha1: 2
      case .sha256: 3
      }
    var key = rank
    for digit in entry.hash.utf8.prefix(15) {
      let value = digit <= 0x39 ? digit &- 0x30 : digit &- 0x57
      key = key << 4 | UInt64(value & 0xF)
    }
    return key
  }

  /// Enables or disables a bank; returns the bank. No event when nothing changes.
  @discardableResult
  public func setBankEnabled(name: String, enabled: Bool, by operatorName: String) throws
    -> BankRow
  {
    try audited(by: operatorName) { db, audit in
      let bank = try Self.bankRow(db, name: name)
      if bank.enabled != enabled {
        try db.execute(
          sql: "UPDATE bank SET enabled = ? WHERE id = ?", arguments: [enabled, bank.id])
        try audit.record(
          action: enabled ? "bank.enable" : "bank.disable", entity: "bank",
          entityId: String(bank.id), before: ["enabled": .bool(bank.enabled)],
          after: ["enabled": .bool(enabled)])
      }
      return try Self.bankRow(db, name: name)
    }
  }

  /// Sets a bank's PDQ threshold (0...64); returns the bank. No event when nothing changes.
  @discardableResult
  public func setBankThreshold(name: String, threshold: Int, by operatorName: String) throws
    -> BankRow
  {
    try Self.checkThreshold(threshold)
    return try audited(by: operatorName) { db, audit in
      let bank = try Self.bankRow(db, name: name)
      if bank.pdqThreshold != threshold {
        try db.execute(
          sql: "UPDATE bank SET pdq_threshold = ? WHERE id = ?",
          arguments: [threshold, bank.id])
        try audit.record(
          action: "bank.threshold", entity: "bank", entityId: String(bank.id),
          before: ["pdq_threshold": .int(Int64(bank.pdqThreshold))],
          after: ["pdq_threshold": .int(Int64(threshold))])
      }
      return try Self.bankRow(db, name: name)
    }
  }

  // MARK: - Reads

  /// Every bank by name, with its hash counts.
  public func hashBanks() throws -> [BankRow] {
    try read { db in
      let names = try String.fetchAll(db, sql: "SELECT name FROM bank ORDER BY name")
      return try names.map { try Self.bankRow(db, name: $0) }
    }
  }

  /// One bank by name; throws ``StoreError/notFound(entity:id:)``.
  public func hashBank(name: String) throws -> BankRow {
    try read { db in try Self.bankRow(db, name: name) }
  }

  /// A value that changes whenever what the banks match changes: a bank created, enabled,
  /// disabled, deleted, renamed or given new settings, or hashes imported, removed or
  /// retracted (each of those makes a new version, so the bank's current version tells; the
  /// batches of a running import change nothing visible, so they do not change it).
  /// Every column of the bank table counts, so settings added by later migrations count
  /// too. Cheap (the small bank table and one index lookup): a long-running matcher polls
  /// it to know when to rebuild.
  public func bankStamp() throws -> String {
    try read { db in
      let banks = try Row.fetchAll(db, sql: "SELECT * FROM bank ORDER BY id").map { row in
        row.databaseValues.map(\.description).joined(separator: ":")
      }.joined(separator: ",")
      // Not the newest hash row: a running import's batches add rows nobody sees yet.
      let top = try Int64.fetchOne(db, sql: "SELECT max(id) FROM bank_version") ?? 0
      return banks + "/" + String(top)
    }
  }

  /// The largest PDQ threshold among the enabled banks (nil when none is enabled).
  public func maxEnabledPDQThreshold() throws -> Int? {
    try read { db in
      try Int.fetchOne(db, sql: "SELECT max(pdq_threshold) FROM bank WHERE enabled = 1")
    }
  }

  /// Enabled banks, and their hashes of each type (counted through the `(bank_id, type)`
  /// index: a range count per bank and type). `countingPDQ: false` leaves PDQ hashes at 0
  /// for a caller whose PDQ index already knows how many there are (a count walks the
  /// index: half a second at 10M).
  public func enabledBankCounts(countingPDQ: Bool = true) throws
    -> (banks: Int, pdq: Int, digests: Int)
  {
    try read { db in
      let ids = try Int64.fetchAll(db, sql: "SELECT id FROM bank WHERE enabled = 1")
      let statement = try db.cachedStatement(
        sql: "SELECT count(*) FROM bank_hash WHERE bank_id = ? AND type = ?")
      var pdq = 0
      var digests = 0
      let types = BankHashType.allCases.filter { countingPDQ || $0.isDigest }
      for id in ids {
        let staged = try Self.pendingStaged(db, bankId: id)
        for type in types {
          let n = try (Int.fetchOne(statement, arguments: [id, type.rawValue]) ?? 0)
            - (staged[type] ?? 0)
          if type.isDigest { digests += n } else { pdq += n }
        }
      }
      return (ids.count, pdq, digests)
    }
  }

  /// Calls `body` with every PDQ hash of the enabled banks (row id, lowercase hex), in one
  /// read snapshot, streaming.
  public func forEachEnabledPDQHash(_ body: (Int64, String) throws -> Void) throws {
    try read { db in
      let rows = try Row.fetchCursor(
        db,
        sql: """
          SELECT h.id, h.hash FROM bank_hash h JOIN bank b ON b.id = h.bank_id
          WHERE b.enabled = 1 AND h.type = 'pdq' AND \(Self.visibleHash)
          """)
      while let row = try rows.next() { try body(row[0], row[1]) }
    }
  }

  /// The enabled banks' hashes equal to `hash` (lowercase hex) of type `type`.
  public func exactBankHits(type: BankHashType, hash: String) throws -> [BankHashHit] {
    try read { db in
      try Row.fetchAll(
        db.cachedStatement(
          sql: Self.hitSelect
            + " WHERE h.type = ? AND h.hash = ? AND b.enabled = 1 AND \(Self.visibleHash)"
            + " ORDER BY b.name"),
        arguments: [type.rawValue, hash.lowercased()]
      ).map(Self.hit)
    }
  }

  /// Bank hashes by row id (for PDQ index hits), in id order; any number of ids (they are
  /// looked up 500 at a time, below SQLite's limit on statement arguments).
  public func bankHashes(ids: [Int64]) throws -> [BankHashHit] {
    guard !ids.isEmpty else { return [] }
    return try read { db in try Self.bankHashes(ids: ids, db) }
  }

  /// ``bankHashes(ids:)`` in `db` (one statement up to 500 ids).
  static func bankHashes(ids: [Int64], _ db: Database) throws -> [BankHashHit] {
    let sorted = ids.sorted()
    var hits: [BankHashHit] = []
    for start in stride(from: 0, to: sorted.count, by: 500) {
      let chunk = Array(sorted[start..<min(start + 500, sorted.count)])
      let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
      let sql =
        Self.hitSelect + " WHERE h.id IN (\(marks)) AND \(Self.visibleHash) ORDER BY h.id"
      // A service looks up one or two ids a request: those few statements stay prepared.
      let statement =
        chunk.count <= 8 ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
      hits += try Row.fetchAll(statement, arguments: StatementArguments(chunk)).map(Self.hit)
    }
    return hits
  }

  // MARK: - Helpers

  static let hitSelect = """
    SELECT h.id, b.name, b.pdq_threshold, h.type, h.hash, h.label, h.source_id, b.on_match,
      b.current_version_id, v.version
    FROM bank_hash h JOIN bank b ON b.id = h.bank_id
    LEFT JOIN bank_version v ON v.id = b.current_version_id
    """

  static func hit(_ row: Row) throws -> BankHashHit {
    let typeText: String = row[3]
    guard let type = BankHashType(rawValue: typeText) else {
      throw StoreError.invalidValue(
        field: "bank_hash.type", value: typeText, reason: "unknown hash type")
    }
    return BankHashHit(
      hashId: row[0], bank: row[1], pdqThreshold: row[2], type: type, hash: row[4],
      label: row[5], sourceId: row[6],
      onMatch: BankMatchAction(rawValue: row[7] as String) ?? .review, versionId: row[8],
      version: row[9])
  }

  static func bankRow(_ db: Database, name: String) throws -> BankRow {
    guard
      let row = try Row.fetchOne(
        db,
        sql: """
          SELECT id, name, enabled, pdq_threshold, created_at, on_match, current_version_id
          FROM bank WHERE name = ?
          """,
        arguments: [name])
    else { throw StoreError.notFound(entity: "bank", id: name) }
    let id: Int64 = row[0]
    var counts: [String: Int] = [:]
    for count in try Row.fetchAll(
      db, sql: "SELECT type, count(*) FROM bank_hash WHERE bank_id = ? GROUP BY type",
      arguments: [id])
    {
      counts[count[0]] = count[1]
    }
    for (type, staged) in try pendingStaged(db, bankId: id) {
      counts[type.rawValue, default: 0] -= staged
    }
    var bank = BankRow(
      id: id, name: row[1], enabled: row[2], pdqThreshold: row[3], createdAt: row[4],
      pdqCount: counts["pdq"] ?? 0, md5Count: counts["md5"] ?? 0,
      sha256Count: counts["sha256"] ?? 0, sha1Count: counts["sha1"] ?? 0,
      onMatch: BankMatchAction(rawValue: row[5] as String) ?? .review,
      version: try (row[6] as Int64?).flatMap { try bankVersion(db, id: $0) },
      lastSource: try Row.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT source_file, source_format FROM bank_version
            WHERE bank_id = ? AND source_file IS NOT NULL ORDER BY version DESC LIMIT 1
            """), arguments: [id]
      ).map { source in
        var found = BankSource(file: nil, format: source[1])
        found.file = source[0]
        return found
      })
    bank.pendingImport = try pendingImport(db, bankId: id)
    return bank
  }

  static func checkThreshold(_ threshold: Int) throws {
    guard (0...maximumBankPDQThreshold).contains(threshold) else {
      throw StoreError.invalidValue(
        field: "PDQ threshold", value: String(threshold),
        reason: "use 0...\(maximumBankPDQThreshold) (31 of 256 bits is the recommended "
          + "value; beyond \(maximumBankPDQThreshold) unrelated images start to match)")
    }
  }

  static func checkListName(_ name: String, field: String) throws {
    let ok = !name.isEmpty && name.count <= 64
      && name.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
          || $0 == "-" || $0 == "_" || $0 == "."
      }
    guard ok else {
      throw StoreError.invalidValue(
        field: field, value: name,
        reason: "use 1 to 64 letters, digits, '-', '_' or '.'")
    }
  }
}
