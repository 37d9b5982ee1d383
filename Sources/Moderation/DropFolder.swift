// `csar bank sync DIR`: take the new files of a drop folder a fetcher writes into, once each.

import Detection
import Foundation
import Imaging
import Store

/// A watched drop folder: each new regular file is imported into a bank (or applied as a
/// retraction list) once, and remembered in the database's checkpoint by name, size and
/// SHA-256. Safe to run from cron: runs of one database take turns (a lock file beside it),
/// and the checkpoint is written in the transaction that imports, so no file is taken twice.
public enum DropFolder {
  /// A file that was not taken, and why.
  public struct Failure: Sendable, CustomStringConvertible {
    /// The file's name.
    public var name: String
    /// Why (the parser's or the store's error).
    public var reason: String
    /// Its bad lines, if that was the reason.
    public var problems: [LineProblem]

    public var description: String { "\(name): \(reason)" }
  }

  /// What one sync did.
  public struct Report: Sendable {
    /// Files taken now, in name order, with what each did.
    public var taken: [(name: String, result: BankSyncResult)] = []
    /// Files the checkpoint held already.
    public var alreadyTaken: [String] = []
    /// Files left for a later run: being written (`.*`, `*.tmp`, `*.part`, `*~`).
    public var ignored: [String] = []
    /// Files refused (symlinks, non-regular files, bad lines, unreadable): named, not taken;
    /// the next run tries them again.
    public var failed: [Failure] = []
  }

  /// Why a folder cannot be synced at all.
  public enum FolderError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The folder is missing or not a folder.
    case notAFolder(String)
    /// Anyone may write into it: anyone could add (or retract) hashes.
    case worldWritable(String)
    /// It cannot be listed.
    case unreadable(String, String)

    public var description: String {
      switch self {
      case .notAFolder(let path): "\(path): not a folder"
      case .worldWritable(let path):
        "\(path): any account can write into this drop folder, and so add or retract "
          + "hashes; fix with: chmod o-w \(path)"
      case .unreadable(let path, let reason): "\(path): cannot list: \(reason)"
      }
    }
  }

  /// Whether a name is a file still being written by the fetcher (left for a later run).
  static func isPartial(_ name: String) -> Bool {
    name.hasPrefix(".") || name.hasSuffix(".tmp") || name.hasSuffix(".part")
      || name.hasSuffix("~")
  }

  /// Takes every new file of `folder` for `target`, in name order. Throws only when the
  /// folder itself cannot be used; bad files are reported in ``Report/failed``.
  ///
  /// `observer` hears after each file (files done, of the folder's) and may stop the sync
  /// between files (``LongRunStopped``): a file's checkpoint is written by the last
  /// transaction of its import, so a second run takes the files left.
  public static func sync(
    folder: String, target: BankSyncTarget, database: AppDatabase, by operatorName: String,
    observer: (any LongRunObserver)? = nil
  ) throws -> Report {
    let resolved = try check(folder)
    let body = {
      try syncUnlocked(
        resolved, target: target, database: database, by: operatorName, observer: observer)
    }
    guard database.hasFile else { return try body() }
    return try PrivateFiles.withLock(database.path + "-bank-sync.lock", body)
  }

  static func syncUnlocked(
    _ folder: String, target: BankSyncTarget, database: AppDatabase, by operatorName: String,
    observer: (any LongRunObserver)? = nil
  ) throws -> Report {
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    } catch {
      throw FolderError.unreadable(folder, "\(error.localizedDescription)")
    }
    var report = Report()
    for (index, name) in names.enumerated() {
      try observer?.checkStop(
        task: "bank sync", committed: index, total: names.count, unit: "files",
        resume: "run the same command again: files already taken are skipped")
      defer { observer?.committed(index + 1, of: names.count) }
      if isPartial(name) {
        report.ignored.append(name)
        continue
      }
      do {
        try take(
          name, in: folder, target: target, database: database, by: operatorName,
          into: &report)
      } catch let error as ModerationError {
        report.failed.append(
          Failure(
            name: name, reason: DisplayText.escapingControls(error.description),
            problems: error.problems))
      } catch {
        report.failed.append(
          Failure(
            name: name, reason: DisplayText.escapingControls("\(error)"), problems: []))
      }
    }
    return report
  }

  /// Reads one file (a regular file, never through a symlink), skips it when the checkpoint
  /// has it, else parses it whole and takes it.
  static func take(
    _ name: String, in folder: String, target: BankSyncTarget, database: AppDatabase,
    by operatorName: String, into report: inout Report
  ) throws {
    let path = folder + "/" + name
    let bytes = try MediaFile(path: path).readAll()
    let file = BankSyncFile(
      folder: folder, name: name, size: bytes.count, sha256: FileDigests(of: bytes).sha256)
    if try database.syncTakenAt(file) != nil {
      report.alreadyTaken.append(name)
      return
    }
    let list = try BankFile.parse(fileBytes: bytes, path: path)
    try Curation.check(list, path: path)
    let result = try database.takeSyncFile(
      file, target: target, entries: list.entriesNotWithdrawn, withdrawals: list.withdrawals,
      format: list.formatName, by: operatorName)
    if case .alreadyTaken = result {
      report.alreadyTaken.append(name)
    } else {
      report.taken.append((name, result))
    }
  }

  /// The folder's absolute path with symlinks resolved; refuses a missing folder, a file and
  /// a folder any account may write into.
  static func check(_ folder: String) throws -> String {
    let absolute =
      folder.hasPrefix("/") ? folder : FileManager.default.currentDirectoryPath + "/" + folder
    let resolved = URL(fileURLWithPath: absolute).resolvingSymlinksInPath().path
    var info = stat()
    guard stat(resolved, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
      throw FolderError.notAFolder(folder)
    }
    if info.st_mode & 0o002 != 0 { throw FolderError.worldWritable(folder) }
    return resolved
  }
}
