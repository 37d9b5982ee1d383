import Compliance
import Foundation
import GRDB

// MARK: - Errors and summaries

/// Why a change to a bank was refused.
public enum BankCurationError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Only leads and admins curate banks.
  case leadsOnly(operatorName: String, action: String)
  /// Another bank has the name already.
  case nameTaken(String)
  /// The bank was deleted while an import was writing into it in batches.
  case deletedDuringImport(bank: String)

  public var description: String {
    switch self {
    case .leadsOnly(let name, let action):
      return "\(name) is a reviewer: only a lead or an admin may \(action)"
    case .nameTaken(let name):
      return "a bank named \"\(name)\" exists already: choose another name or delete it first"
    case .deletedDuringImport(let bank):
      return "bank \(bank) was deleted while the import was writing into it: the import "
        + "stopped (import the file again to make a new bank)"
    }
  }
}

/// What removing hashes from one bank did.
public struct BankRemovalSummary: Hashable, Sendable {
  /// The bank.
  public var bank: String
  /// Hashes removed.
  public var removed: Int
  /// Hashes of the list the bank did not hold.
  public var notPresent: Int
  /// The version the removal made (nil when it removed nothing).
  public var version: BankVersion?
}

/// What a retraction list did across every bank.
public struct RetractionSummary: Hashable, Sendable {
  /// Distinct hashes in the list.
  public var requested: Int
  /// Bank entries deleted (a hash held by two banks counts twice).
  public var removed: Int
  /// Hashes of the list no bank held.
  public var notPresent: Int
  /// The new version of each bank it changed, by bank name.
  public var versions: [BankVersion]
}

// MARK: - Removal, retraction, deletion, renaming

extension AppDatabase {
  /// Removes the listed hashes from bank `name` in one transaction; hashes the bank does not
  /// hold are counted. Makes a new version and a `bank.remove` event when anything was
  /// removed. Leads and admins only.
  @discardableResult
  public func removeBankHashes(
    name: String, entries: [BankHashEntry], source: BankSource?, by operatorName: String
  ) throws -> BankRemovalSummary {
    let sorted = Self.inIndexOrder(entries)
    return try withImportTuning(.forBanks, large: entries.count > ImportTuning.minimumHashes) {
      try audited(by: operatorName) { db, audit in
        try Self.requireLead(db, operatorName, "remove hashes from a bank")
        let bank = try Self.bankRow(db, name: name)
        let removed = try Self.withdraw(
          BankWithdrawals(entries: sorted), from: bank.id, db)
        var summary = BankRemovalSummary(
          bank: name, removed: removed, notPresent: sorted.count - removed, version: nil)
        guard removed > 0 else { return summary }
        let version = try Self.recordBankVersion(
          db, bankId: bank.id, name: name, change: .remove, added: 0, removed: removed,
          source: source, audit: audit)
        summary.version = version
        try audit.record(
          action: "bank.remove", entity: "bank", entityId: String(bank.id),
          before: ["total": .int(Int64(bank.total))],
          after: .object(
            Self.versionDetails(version).merging([
              "name": .string(name), "not_present": .int(Int64(summary.notPresent)),
            ]) { a, _ in a }))
        return summary
      }
    }
  }

  /// Deletes the listed hashes from every bank in one transaction (a retraction: the source
  /// says they should never have been listed). Each bank it changed gets a new version and a
  /// `bank.retract` event. Leads and admins only.
  @discardableResult
  public func retractHashes(
    entries: [BankHashEntry], source: BankSource?, by operatorName: String
  ) throws -> RetractionSummary {
    let sorted = Self.inIndexOrder(entries)
    return try withImportTuning(.forBanks, large: entries.count > ImportTuning.minimumHashes) {
      try audited(by: operatorName) { db, audit in
        try Self.retract(db, audit: audit, entries: sorted, source: source)
      }
    }
  }

  /// The retraction's writes inside a caller's audited transaction (entries without
  /// duplicates, in index order). Leads and admins only.
  static func retract(
    _ db: Database, audit: AuditTrail, entries sorted: [BankHashEntry], source: BankSource?
  ) throws -> RetractionSummary {
    try requireLead(db, audit.operatorName, "apply a retraction list")
    // Rows a running import has staged are not in their bank yet: left alone.
    let delete = try db.cachedStatement(
      sql: """
        DELETE FROM bank_hash AS h WHERE type = ? AND hash = ?
          AND (import_id IS NULL
            OR import_id IS NOT (SELECT pending_import_id FROM bank WHERE id = h.bank_id))
        RETURNING bank_id
        """)
    var perBank: [Int64: Int] = [:]
    var found = 0
    for entry in sorted {
      let banks = try Int64.fetchAll(
        delete, arguments: [entry.type.rawValue, entry.hash])
      if !banks.isEmpty { found += 1 }
      for bank in banks { perBank[bank, default: 0] += 1 }
    }
    var summary = RetractionSummary(
      requested: sorted.count, removed: perBank.values.reduce(0, +),
      notPresent: sorted.count - found, versions: [])
    for (bankId, removed) in perBank.sorted(by: { $0.key < $1.key }) {
      guard
        let name = try String.fetchOne(
          db, sql: "SELECT name FROM bank WHERE id = ?", arguments: [bankId])
      else { continue }
      let version = try Self.recordBankVersion(
        db, bankId: bankId, name: name, change: .retract, added: 0, removed: removed,
        source: source, audit: audit)
      summary.versions.append(version)
      try audit.record(
        action: "bank.retract", entity: "bank", entityId: String(bankId),
        after: .object(
          Self.versionDetails(version).merging([
            "name": .string(name), "listed": .int(Int64(sorted.count)),
          ]) { a, _ in a }))
    }
    return summary
  }

  /// Deletes bank `name` with its hashes and known videos; its versions stay (review items
  /// point at them), the last one a `delete` version with everything removed. A video
  /// review item that matched one of its videos keeps the bank version that matched; its
  /// pointer to the deleted video is cleared, and the `bank.delete` event names the deleted
  /// videos (up to 1,000) and how many items pointed at them. Audited (`bank.delete`). Leads
  /// and admins only.
  @discardableResult
  public func deleteBank(name: String, by operatorName: String) throws -> BankVersion {
    try audited(by: operatorName) { db, audit in
      try Self.requireLead(db, operatorName, "delete a bank")
      let bank = try Self.bankRow(db, name: name)
      let videos = try Row.fetchAll(
        db, sql: "SELECT id, name FROM bank_video WHERE bank_id = ? ORDER BY id",
        arguments: [bank.id])
      let videoIds = "SELECT id FROM bank_video WHERE bank_id = ?"
      try db.execute(
        sql: """
          UPDATE flagged_item_video SET bank_video_id = NULL
          WHERE bank_video_id IN (\(videoIds))
          """, arguments: [bank.id])
      let detached = db.changesCount
      try db.execute(
        sql: "DELETE FROM bank_video_frame WHERE video_id IN (\(videoIds))", arguments: [bank.id])
      try db.execute(sql: "DELETE FROM bank_video WHERE bank_id = ?", arguments: [bank.id])
      try db.execute(sql: "DELETE FROM bank_vpdq WHERE bank_id = ?", arguments: [bank.id])
      try db.execute(sql: "DELETE FROM bank_hash WHERE bank_id = ?", arguments: [bank.id])
      // An import still writing into it stops at its next batch (the bank is gone).
      try db.execute(
        sql: "UPDATE bank_import SET finished_at = ? WHERE id = ?",
        arguments: [audit.at, bank.pendingImport?.id])
      let version = try Self.recordBankVersion(
        db, bankId: bank.id, name: name, change: .delete, added: 0,
        removed: bank.total + videos.count, total: 0, source: nil, audit: audit)
      try db.execute(sql: "DELETE FROM bank WHERE id = ?", arguments: [bank.id])
      try audit.record(
        action: "bank.delete", entity: "bank", entityId: String(bank.id),
        before: [
          "name": .string(name), "total": .int(Int64(bank.total)),
          "enabled": .bool(bank.enabled), "pdq_threshold": .int(Int64(bank.pdqThreshold)),
          "videos": .int(Int64(videos.count)),
          "video_names": .array(
            videos.prefix(1_000).map { .object(["id": .int($0[0]), "name": .string($0[1])]) }),
        ],
        after: .object(
          Self.versionDetails(version).merging([
            "video_items_detached": .int(Int64(detached))
          ]) { a, _ in a }))
      return version
    }
  }

  /// Renames bank `old` to `new` (a new version, the list unchanged). Review items keep the
  /// name they matched under; their version says which bank it was. Audited (`bank.rename`).
  /// Leads and admins only.
  @discardableResult
  public func renameBank(from old: String, to new: String, by operatorName: String) throws
    -> BankVersion
  {
    try Self.checkListName(new, field: "bank name")
    return try audited(by: operatorName) { db, audit in
      try Self.requireLead(db, operatorName, "rename a bank")
      let bank = try Self.bankRow(db, name: old)
      if old != new,
        try Bool.fetchOne(db, sql: "SELECT 1 FROM bank WHERE name = ?", arguments: [new]) == true
      {
        throw BankCurationError.nameTaken(new)
      }
      try db.execute(sql: "UPDATE bank SET name = ? WHERE id = ?", arguments: [new, bank.id])
      let version = try Self.recordBankVersion(
        db, bankId: bank.id, name: new, change: .rename, added: 0, removed: 0, source: nil,
        audit: audit)
      try audit.record(
        action: "bank.rename", entity: "bank", entityId: String(bank.id),
        before: ["name": .string(old)],
        after: .object(Self.versionDetails(version).merging(["name": .string(new)]) { a, _ in a }))
      return version
    }
  }

  // MARK: - Helpers

  /// Entries without duplicates, ordered as the `(type, hash)` index is (deletes then walk
  /// the index in one direction).
  static func inIndexOrder(_ entries: [BankHashEntry]) -> [BankHashEntry] {
    var seen = Set<String>()
    var unique: [BankHashEntry] = []
    unique.reserveCapacity(entries.count)
    for entry in entries where seen.insert(entry.type.rawValue + entry.hash).inserted {
      unique.append(entry)
    }
    return unique.map { (indexKey($0), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
  }

  /// Throws unless `name` is a lead or an admin.
  static func requireLead(_ db: Database, _ name: String, _ action: String) throws {
    guard let row = try operatorRow(db, name: name) else {
      throw StoreError.unknownOperator(name: name)
    }
    guard row.role != .reviewer else {
      throw BankCurationError.leadsOnly(operatorName: name, action: action)
    }
  }
}
