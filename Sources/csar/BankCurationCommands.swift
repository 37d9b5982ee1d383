// `csar bank remove|retract|delete|rename|on-match|versions`: curating banks.

import ArgumentParser
import Foundation
import Moderation
import Store

// MARK: - Output

/// How curation commands print banks' versions.
enum BankVersionText {
  /// `v3 import +120 -0 =4120 file.csv (csv) by ana 2026-11-30T04:00:00Z`.
  static func line(_ version: BankVersion) -> String {
    var parts = [
      "v\(version.version)", version.change.rawValue, "+\(version.added)", "-\(version.removed)",
      "=\(version.total)",
    ]
    if let file = version.source.file {
      parts.append(file + (version.source.format.map { " (\($0))" } ?? ""))
    }
    parts.append("by \(version.operatorName)")
    parts.append(utc(version.createdAt))
    return parts.joined(separator: " ")
  }

  /// `2026-11-30T04:00:00Z`.
  static func utc(_ seconds: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
  }

  /// The JSON fields of a version.
  static func fields(_ version: BankVersion) -> [(String, JSONValue)] {
    [
      ("bank", .string(version.bankName)), ("version", .int(Int64(version.version))),
      ("change", .string(version.change.rawValue)), ("added", .int(Int64(version.added))),
      ("removed", .int(Int64(version.removed))), ("total", .int(Int64(version.total))),
      ("source_file", .text(version.source.file)),
      ("source_format", .text(version.source.format)),
      ("operator", .string(version.operatorName)), ("created_at", .int(version.createdAt)),
    ]
  }

  static func json(_ version: BankVersion) -> String { OrderedJSON.object(fields(version)) }

  /// Runs a curation step; bad lines are printed as FILE:LINE: reason before the error.
  static func run<T>(_ command: String, _ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as ModerationError {
      for problem in error.problems {
        DetectText.printError(DisplayText.escapingControls(problem.description))
      }
      throw RiskCommandError("\(command): " + DisplayText.escapingControls(error.description))
    }
  }
}

// MARK: - remove / retract

/// `csar bank remove NAME FILE`.
struct BankRemoveCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "remove",
    abstract: "Remove the hashes a file lists from a bank (leads and admins; audited).",
    discussion: """
      FILE is in any format `bank import` reads. A file with any bad line changes nothing \
      (each is printed as FILE:LINE: reason). Hashes the bank does not hold are counted. \
      Makes a new version of the bank when anything was removed.
      """)

  @Argument(help: "Bank name.")
  var name: String

  @Argument(help: "Hash list of the hashes to remove.")
  var file: String

  @Flag(name: .long, help: "Print the summary as JSON.")
  var json = false

  @OptionGroup var options: ModerationOptions

  func run() throws {
    let (database, operatorName) = try options.open()
    let summary = try BankVersionText.run("csar bank remove") {
      try Curation.remove(name: name, path: file, database: database, by: operatorName)
    }
    if json {
      print(
        OrderedJSON.object(
          [
            ("bank", .string(summary.bank)), ("removed", .int(Int64(summary.removed))),
            ("not_present", .int(Int64(summary.notPresent))),
          ] + (summary.version.map { [("version", .int(Int64($0.version))),
            ("total", .int(Int64($0.total)))] } ?? [])))
    } else {
      let version = summary.version.map { "; now " + BankVersionText.line($0) } ?? ""
      print(
        "bank \(summary.bank): \(summary.removed) removed, \(summary.notPresent) not in the "
          + "bank" + version)
    }
  }
}

/// `csar bank retract FILE`.
struct BankRetractCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "retract",
    abstract: "Delete the hashes of a retraction list from every bank (leads and admins).",
    discussion: """
      FILE is in any format `bank import` reads. A file with any bad line changes nothing. \
      Every bank that held a listed hash gets a new version (change `retract`) and a \
      bank.retract audit event; all in one transaction.
      """)

  @Argument(help: "Retraction list.")
  var file: String

  @Flag(name: .long, help: "Print JSON: the totals, then one line per bank changed.")
  var json = false

  @OptionGroup var options: ModerationOptions

  func run() throws {
    let (database, operatorName) = try options.open()
    let summary = try BankVersionText.run("csar bank retract") {
      try Curation.retract(path: file, database: database, by: operatorName)
    }
    BankRetractCommand.show(summary, json: json)
  }

  static func show(_ summary: RetractionSummary, json: Bool) {
    if json {
      print(
        OrderedJSON.object([
          ("listed", .int(Int64(summary.requested))), ("removed", .int(Int64(summary.removed))),
          ("not_present", .int(Int64(summary.notPresent))),
          ("banks", .int(Int64(summary.versions.count))),
        ]))
      for version in summary.versions { print(BankVersionText.json(version)) }
    } else {
      print(
        "retraction: \(summary.requested) listed, \(summary.removed) removed from "
          + "\(ImportReporting.plural(summary.versions.count, "bank")), "
          + "\(summary.notPresent) in no bank")
      for version in summary.versions {
        print("  \(version.bankName) " + BankVersionText.line(version))
      }
    }
  }
}

// MARK: - delete / rename

/// `csar bank delete NAME`.
struct BankDeleteCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete",
    abstract: "Delete a bank and its hashes (leads and admins; audited).",
    discussion: """
      The bank's versions are kept: review items and reports that matched it still say which \
      list it was. A new bank of the same name starts again at version 1.
      """)

  @Argument(help: "Bank name.")
  var name: String

  @OptionGroup var options: ModerationOptions

  func run() throws {
    let (database, operatorName) = try options.open()
    let version = try database.deleteBank(name: name, by: operatorName)
    print(
      "bank \(name) deleted (\(ImportReporting.plural(version.removed, "hash", "hashes"))); "
        + "last " + BankVersionText.line(version))
  }
}

/// `csar bank rename OLD NEW`.
struct BankRenameCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rename",
    abstract: "Rename a bank (leads and admins; audited; a new version, same hashes).")

  @Argument(help: "Current name.")
  var old: String

  @Argument(help: "New name (letters, digits, '-', '_', '.').")
  var new: String

  @OptionGroup var options: ModerationOptions

  func run() throws {
    let (database, operatorName) = try options.open()
    let version = try database.renameBank(from: old, to: new, by: operatorName)
    print("bank \(old) is now \(new): " + BankVersionText.line(version))
  }
}

// MARK: - settings and history

/// `csar bank on-match NAME review|report`.
struct BankOnMatchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "on-match",
    abstract: "Set what a match against a bank does: review first, or report at once.",
    discussion: """
      review (the default): the match waits in the review queue. report: a known match is \
      confirmed and a report created in the same transaction, for lists of verified \
      material; the item and report record the bank version. Leads and admins; audited.
      """)

  @Argument(help: "Bank name.")
  var name: String

  @Argument(help: "review or report.")
  var action: String

  @OptionGroup var options: ModerationOptions

  func run() throws {
    guard let choice = BankMatchAction(rawValue: action) else {
      throw ValidationError("on-match: use review or report, not \"\(action)\"")
    }
    let (database, operatorName) = try options.open()
    let bank = try database.setBankOnMatch(name: name, action: choice, by: operatorName)
    print(BankCommand.line(bank))
  }
}

/// `csar bank versions NAME`.
struct BankVersionsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "versions",
    abstract: "List a bank's versions: what changed it, counts and source, oldest first.",
    discussion: """
      Plain: vN CHANGE +ADDED -REMOVED =TOTAL [FILE (FORMAT)] by OPERATOR TIME. With --json, \
      one object per line: {"bank","version","change","added","removed","total",\
      "source_file","source_format","operator","created_at"}.
      """)

  @Argument(help: "Bank name.")
  var name: String

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  func run() throws {
    let setup = try RiskCommandSetup(db: db, today: nil, createIfMissing: false)
    for version in try setup.database.bankVersions(name: name) {
      print(json ? BankVersionText.json(version) : BankVersionText.line(version))
    }
  }
}

// MARK: - sync

/// `csar bank sync DIR --bank NAME | --retract`.
struct BankSyncCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sync",
    abstract: "Take the new files of a drop folder once: import them, or apply retractions.",
    discussion: """
      A provider's fetcher writes hash lists into DIR (best: write NAME.part, then rename). \
      Each new regular file is imported into the bank --bank names (created when new), or \
      with --retract applied as a retraction list to every bank, and remembered in the \
      database by name, size and SHA-256: a file is taken once, a changed file again. Names \
      starting with '.' or ending in .tmp, .part or ~ are left for a later run. Symlinks, \
      non-regular files and files with a bad line are named (FILE:LINE: reason) and not \
      taken; the others are, and the exit status is 1. Safe from cron: runs on one \
      database take turns (<db>-bank-sync.lock) and never take a file twice. A folder any \
      account can write into is refused.
      """)

  @Argument(help: "The drop folder.")
  var folder: String

  @Option(name: .long, help: "Import the files into this bank.")
  var bank: String?

  @Flag(name: .long, help: "Apply the files as retraction lists (leads and admins).")
  var retract = false

  @Flag(name: .long, help: "Print only problems (for cron).")
  var quiet = false

  @Flag(name: .long, help: "Print one JSON line per file taken or refused, then a summary.")
  var json = false

  @OptionGroup var options: ModerationOptions

  func validate() throws {
    guard (bank != nil) != retract else {
      throw ValidationError("give exactly one of --bank NAME and --retract")
    }
  }

  func run() throws {
    let target: BankSyncTarget = bank.map { .bank($0) } ?? .retract
    let (database, operatorName) = try options.open(create: true)
    let report: DropFolder.Report
    do {
      report = try LongRunCommand.run(task: "bank sync", unit: "files", json: json || quiet) {
        try DropFolder.sync(
          folder: folder, target: target, database: database, by: operatorName, observer: $0)
      }
    } catch let error as DropFolder.FolderError {
      throw RiskCommandError("csar bank sync: " + DisplayText.escapingControls(error.description))
    }
    for failure in report.failed {
      for problem in failure.problems {
        DetectText.printError(DisplayText.escapingControls(problem.description))
      }
      DetectText.printError("not taken: " + failure.description)
    }
    for (name, result) in report.taken where !quiet {
      print(json ? Self.json(name, result) : Self.line(name, result))
    }
    if json {
      for failure in report.failed {
        print(
          OrderedJSON.object([
            ("file", .string(failure.name)), ("taken", .bool(false)),
            ("error", .string(failure.reason)),
          ]))
      }
    }
    if !quiet {
      let summary: [(String, JSONValue)] = [
        ("folder", .string(folder)), ("taken", .int(Int64(report.taken.count))),
        ("already_taken", .int(Int64(report.alreadyTaken.count))),
        ("ignored", .int(Int64(report.ignored.count))),
        ("failed", .int(Int64(report.failed.count))),
      ]
      print(
        json
          ? OrderedJSON.object(summary)
          : "sync \(folder): \(report.taken.count) taken, \(report.alreadyTaken.count) taken "
            + "before, \(report.ignored.count) being written, \(report.failed.count) refused")
    }
    if !report.failed.isEmpty { throw ExitCode(1) }
  }

  static func line(_ name: String, _ result: BankSyncResult) -> String {
    switch result {
    case .alreadyTaken: "\(name): taken before"
    case .imported(let summary):
      "\(name): bank \(summary.bank) +\(summary.added) (\(summary.alreadyPresent) already)"
        + (summary.version.map { " v\($0.version) =\($0.total)" } ?? ", no change")
    case .retracted(let summary):
      "\(name): retraction, \(summary.removed) removed from "
        + ImportReporting.plural(summary.versions.count, "bank")
    }
  }

  static func json(_ name: String, _ result: BankSyncResult) -> String {
    var pairs: [(String, JSONValue)] = [("file", .string(name)), ("taken", .bool(true))]
    switch result {
    case .alreadyTaken: break
    case .imported(let summary):
      pairs += [
        ("bank", .string(summary.bank)), ("added", .int(Int64(summary.added))),
        ("already_present", .int(Int64(summary.alreadyPresent))),
        ("version", summary.version.map { .int(Int64($0.version)) } ?? .null),
      ]
    case .retracted(let summary):
      pairs += [
        ("retracted", .int(Int64(summary.removed))),
        ("banks", .array(summary.versions.map { .string($0.label) })),
      ]
    }
    return OrderedJSON.object(pairs)
  }
}
