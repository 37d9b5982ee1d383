// Shared by the moderation commands (bank, url import/match, scan, flags): database and
// operator options, and reporting of bad import lines.

import ArgumentParser
import ConsoleUI
import Foundation
import Moderation
import Store
import Video

/// `--db` and `--operator`, as every audited moderation command takes them.
struct ModerationOptions: ParsableArguments {
  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  @Option(name: .long, help: CallerIdentity.optionHelp)
  var `operator`: String?

  /// The database (created when `create` and missing) and the operator acting (see
  /// ``CallerIdentity``).
  func open(create: Bool = false) throws -> (database: AppDatabase, operatorName: String) {
    let setup = try setup(create: create)
    return (setup.database, try setup.operatorName(`operator`))
  }

  /// The database and configuration (for what else a command needs, e.g. the media roots).
  func setup(create: Bool = false) throws -> RiskCommandSetup {
    try RiskCommandSetup(db: db, today: nil, createIfMissing: create)
  }
}

/// The video caps of the config file (`video_max_*`), as decoder limits.
enum VideoSettings {
  static func limits() throws -> VideoLimits {
    let environment = ProcessInfo.processInfo.environment
    return try Configuration.load(path: Configuration.defaultPath(environment: environment))
      .video.limits
  }
}

/// What every import command takes besides its file: `--skip-invalid`, `--json`, `--db` and
/// `--operator`.
struct ImportOptions: ParsableArguments {
  @Flag(name: .long, help: "Import the good lines even when some lines are bad.")
  var skipInvalid = false

  @Flag(name: .long, help: "Print the summary as JSON.")
  var json = false

  @OptionGroup var moderation: ModerationOptions
}

/// Runs imports and prints their bad lines (`FILE:LINE: reason`) on stderr.
enum ImportReporting {
  /// Runs `body`. Bad lines that stopped the import are printed, then the error is thrown
  /// (nothing was imported); bad lines left out with `--skip-invalid` are printed as skipped.
  static func run<Summary>(
    _ command: String, _ body: () throws -> Imports.Outcome<Summary>
  ) throws -> Imports.Outcome<Summary> {
    do {
      let outcome = try body()
      printBadLines(
        outcome.problems.map { "skipped: " + DisplayText.escapingControls($0.description) })
      return outcome
    } catch let error as ModerationError {
      printBadLines(error.problems.map { DisplayText.escapingControls($0.description) })
      throw RiskCommandError("\(command): " + DisplayText.escapingControls(error.description))
    }
  }

  /// The most bad lines an import prints; the rest are counted (a file of a million bad
  /// lines must not flood the terminal).
  static let maxBadLinesShown = 20

  /// Prints `lines` to stderr, at most ``maxBadLinesShown``, then how many more there were.
  static func printBadLines(_ lines: [String]) {
    for line in lines.prefix(maxBadLinesShown) { Output.error(line) }
    if lines.count > maxBadLinesShown {
      Output.error(
        "… and \(plural(lines.count - maxBadLinesShown, "more bad line")) (not shown; "
          + "\(plural(lines.count, "bad line")) in all)")
    }
  }

  /// "1 bad line" / "2 bad lines".
  static func plural(_ n: Int, _ noun: String, _ nouns: String? = nil) -> String {
    "\(n) " + (n == 1 ? noun : nouns ?? noun + "s")
  }
}
