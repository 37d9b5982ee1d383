// Curating banks from files: removal lists for one bank, retraction lists for every bank.
// Both apply whole or not at all.

import Store

/// Removals and retractions read from hash-list files (any format `bank import` reads).
public enum Curation {
  /// Removes the hashes listed in the file at `path` (those it marks withdrawn included)
  /// from bank `name`. A file with any bad line changes nothing
  /// (``ModerationError/invalidRemovalLines(file:problems:)``).
  public static func remove(
    name: String, path: String, database: AppDatabase, by operatorName: String
  ) throws -> BankRemovalSummary {
    let file = try load(path)
    return try database.removeBankHashes(
      name: name, entries: file.entries + file.withdrawn, source: file.source(path: path),
      by: operatorName)
  }

  /// Deletes the hashes listed in the file at `path` (those it marks withdrawn included) from
  /// every bank (a retraction list).
  /// A file with any bad line changes nothing.
  public static func retract(path: String, database: AppDatabase, by operatorName: String)
    throws -> RetractionSummary
  {
    let file = try load(path)
    return try retract(file, path: path, database: database, by: operatorName)
  }

  /// Applies a parsed retraction list (`path` names it in the versions).
  static func retract(
    _ file: BankFile, path: String, database: AppDatabase, by operatorName: String
  ) throws -> RetractionSummary {
    try database.retractHashes(
      entries: file.entries + file.withdrawn, source: file.source(path: path), by: operatorName)
  }

  /// Reads a list and refuses it whole when any line is bad or it lists nothing.
  static func load(_ path: String) throws -> BankFile {
    let file = try BankFile.load(path: path)
    try check(file, path: path)
    return file
  }

  static func check(_ file: BankFile, path: String) throws(ModerationError) {
    guard file.problems.isEmpty else {
      throw ModerationError.invalidRemovalLines(file: path, problems: file.problems)
    }
    guard !file.entries.isEmpty || !file.withdrawn.isEmpty else {
      throw ModerationError.empty(file: path)
    }
  }
}

extension BankFile {
  /// The format's name as bank versions record it.
  public var formatName: String {
    if format != .text { return format.rawValue }
    return switch delimiter {
    case "\t": "tsv"
    case " ": "te-lines"
    default: "csv"
    }
  }

  /// The file name and format, for a bank version.
  func source(path: String) -> BankSource { BankSource(file: path, format: formatName) }
}

extension BankFile {
  /// What the list withdraws, for the import to remove from its bank.
  public var withdrawals: BankWithdrawals {
    BankWithdrawals(entries: withdrawn, sourceIds: withdrawnSourceIds)
  }

  /// Withdrawn hashes and ids.
  var withdrawalCount: Int { withdrawn.count + withdrawnSourceIds.count }

  /// The entries to import: those the same list also withdraws (by hash, or by the list's id)
  /// left out, so a list that adds and withdraws a hash leaves it out of the bank.
  public var entriesNotWithdrawn: [BankHashEntry] {
    guard withdrawalCount > 0 else { return entries }
    let hashes = Set(withdrawn.map { $0.type.rawValue + ":" + $0.hash })
    let ids = Set(withdrawnSourceIds)
    return entries.filter { entry in
      !hashes.contains(entry.type.rawValue + ":" + entry.hash)
        && !(entry.sourceId.map(ids.contains) ?? false)
    }
  }
}
