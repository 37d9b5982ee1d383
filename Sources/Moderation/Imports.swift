// The all-or-nothing import rule shared by bank, URL list and classifier imports.

import Compliance
import Detection
import Imaging
import Store

/// Imports of hash banks, URL lists and classifier scores from files: every bad line is
/// reported; a file with any bad line imports nothing unless `skipInvalid`.
public enum Imports {
  /// Result of an import: what the store did and the bad lines left out.
  public struct Outcome<Summary: Sendable>: Sendable {
    /// What the store did.
    public var summary: Summary
    /// Bad lines (left out with `skipInvalid`).
    public var problems: [LineProblem]
    /// For hash lists: the format read and what was not imported besides bad lines.
    public var list: HashListReport? = nil
  }

  /// Imports a hash list in any format csar reads (``BankFile/load(path:maximumBytes:)``) into
  /// bank `name`: the whole file is checked before anything is written, then the hashes go in
  /// in short batches (see `AppDatabase.importBank`); the hashes and ids the list withdraws
  /// (StopNCII Withdrawn/Deleted records, NCMEC deleted entries) are removed from the bank by
  /// the import's last transaction.
  public static func bank(
    name: String, path: String, skipInvalid: Bool, threshold: Int?, database: AppDatabase,
    by operatorName: String, observer: (any LongRunObserver)? = nil
  ) throws -> Outcome<BankImportSummary> {
    let file = try BankFile.load(path: path)
    try check(
      file.problems, file: path, entries: file.entries.count + file.withdrawalCount,
      skipInvalid: skipInvalid)
    let summary = try database.importBank(
      name: name, entries: file.entriesNotWithdrawn, threshold: threshold,
      skipped: file.problems.count, source: file.source(path: path),
      withdrawals: file.withdrawals, by: operatorName, observer: observer)
    return Outcome(summary: summary, problems: file.problems, list: file.report)
  }

  /// Imports a URL list file into list `name`.
  public static func urlList(
    name: String, path: String, skipInvalid: Bool, database: AppDatabase,
    by operatorName: String
  ) throws -> Outcome<URLListImportSummary> {
    let file = try URLListFile.load(path: path)
    try check(file.problems, file: path, entries: file.entries.count, skipInvalid: skipInvalid)
    let summary = try database.importURLList(
      name: name, entries: file.entries, skipped: file.problems.count, by: operatorName)
    return Outcome(summary: summary, problems: file.problems)
  }

  /// The default lowest classifier score that is queued.
  public static let defaultFlagThreshold = 0.8

  /// Imports classifier scores (JSON Lines): scores at or above `threshold` become
  /// `new_material` items (priority 1 from 0.97, else 2); lower ones are only counted. An
  /// event for an account that has not granted consent on the service is a bad line: detection
  /// before transmission is for consenting users only. Media paths must lie inside
  /// `mediaRoots` (default: `media/` beside the database) and a queued item's file must be
  /// readable: its SHA-256 and MD5 are recorded, so a file replaced later is noticed.
  ///
  /// `observer` hears of each committed batch and may stop the import between batches
  /// (``LongRunStopped``; see ``AppDatabase/importClassifierFlags``).
  public static func flags(
    path: String, skipInvalid: Bool, threshold: Double, database: AppDatabase,
    mediaRoots: MediaRoots? = nil, by operatorName: String,
    observer: (any LongRunObserver)? = nil
  ) throws -> Outcome<FlagImportSummary> {
    guard threshold.isFinite, (0...1).contains(threshold) else {
      throw ModerationError.badThreshold("--threshold \(threshold): use a score in 0...1")
    }
    return try flags(
      FlagsFile.load(path: path), name: path, skipInvalid: skipInvalid, threshold: threshold,
      database: database, mediaRoots: mediaRoots, by: operatorName, observer: observer)
  }

  /// Imports parsed classifier events (`name` is the file, or what sent them), as
  /// ``flags(path:skipInvalid:threshold:database:by:)``.
  public static func flags(
    _ parsed: FlagsFile, name path: String, skipInvalid: Bool, threshold: Double,
    database: AppDatabase, mediaRoots: MediaRoots? = nil, by operatorName: String,
    observer: (any LongRunObserver)? = nil
  ) throws -> Outcome<FlagImportSummary> {
    let roots = mediaRoots ?? MediaRoots(databasePath: database.path)
    var file = parsed
    let accounts = try database.accountIds(externalIds: file.events.map(\.account))
    let services = try database.serviceIds(codes: file.events.map(\.service))
    let pairs = file.events.compactMap { event -> AccountService? in
      guard let account = accounts[event.account], let service = services[event.service]
      else { return nil }
      return AccountService(accountId: account, serviceId: service)
    }
    let consent = try database.consentStates(pairs)
    // Accounts whose id a twin holds in another Unicode form (few, if any): their uploads are
    // scanned only when every twin granted consent, as at the upload gate.
    let twinned = try database.twinAccountIds()
    var records: [ClassifierImport] = []
    for event in file.events {
      guard let accountId = accounts[event.account] else {
        file.problems.append(
          LineProblem(
            file: path, line: event.line,
            reason: "unknown account \"\(DisplayText.clean(event.account))\""))
        continue
      }
      guard let serviceId = services[event.service] else {
        file.problems.append(
          LineProblem(
            file: path, line: event.line,
            reason: "unknown service \"\(DisplayText.clean(event.service))\""))
        continue
      }
      let state = consent[AccountService(accountId: accountId, serviceId: serviceId)]
      if state == .granted, twinned.contains(accountId),
        !(try database.scanSubject(accountExternalId: event.account, serviceCode: event.service)
          .isAdmitted)
      {
        file.problems.append(
          LineProblem(
            file: path, line: event.line,
            reason: "account \"\(DisplayText.clean(event.account))\" granted consent on "
              + "\(DisplayText.clean(event.service)), but a twin account (its id in another "
              + "Unicode form; see csar consent twins) has not: its uploads may not be scanned"))
        continue
      }
      guard state == .granted else {
        file.problems.append(
          LineProblem(
            file: path, line: event.line,
            reason: "account \"\(DisplayText.clean(event.account))\" has not granted consent "
              + "on \(DisplayText.clean(event.service)) (\(state?.rawValue ?? "not_asked")): "
              + "its uploads may not be scanned"))
        continue
      }
      let digests: FileDigests?
      do {
        let located = try roots.resolve(event.media)
        digests =
          event.score >= threshold
          ? FileDigests(of: try MediaFile(path: located).readAll()) : nil
      } catch {
        file.problems.append(
          LineProblem(
            file: path, line: event.line, reason: DisplayText.escapingControls("\(error)")))
        continue
      }
      let item = digests.map {
        NewFlaggedItem(
          kind: .newMaterial, priority: event.score >= 0.97 ? 1 : 2, serviceId: serviceId,
          accountId: accountId, mediaPath: event.media, sha256: $0.sha256, md5: $0.md5,
          model: event.model, score: event.score)
      }
      records.append(ClassifierImport(externalRef: reference(of: event), item: item))
    }
    file.problems.sort { $0.line < $1.line }
    try check(file.problems, file: path, entries: records.count, skipInvalid: skipInvalid)
    let summary = try database.importClassifierFlags(
      records, skipped: file.problems.count, file: path, by: operatorName, observer: observer)
    return Outcome(summary: summary, problems: file.problems)
  }

  /// What makes re-importing an event harmless: the detector's id, or (without one) a digest
  /// of the event's fields, so the same line imported twice queues one item.
  static func reference(of event: ClassifierEvent) -> String {
    if let id = event.id { return id }
    let fields = [event.account, event.service, event.media, event.model, "\(event.score)"]
    let digest = FileDigests(of: Array(fields.joined(separator: "\u{1F}").utf8)).sha256
    return "content:" + digest
  }

  static func check(
    _ problems: [LineProblem], file: String, entries: Int, skipInvalid: Bool
  ) throws(ModerationError) {
    if !problems.isEmpty && (!skipInvalid || entries == 0) {
      throw ModerationError.invalidLines(file: file, problems: problems)
    }
    if entries == 0 && problems.isEmpty { throw ModerationError.empty(file: file) }
  }
}
