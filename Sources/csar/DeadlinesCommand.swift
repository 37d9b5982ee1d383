// `csar deadlines [--json] [--today YYYY-MM-DD] [--db PATH]`: re-categorisation deadlines.

import ArgumentParser
import Compliance
import ConsoleUI
import Foundation
import Imaging
import Moderation
import Store

/// Prints every service's re-categorisation deadline, overdue first.
struct DeadlinesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "deadlines",
    abstract: "Print each service's risk category, last assessment, due date and state.",
    discussion: """
      Due = completion + 12/24/36 calendar months (HIGH/MEDIUM/LOW), clamped to the month's \
      end. States: overdue, never_assessed, due_soon (within --due-soon-days), ok; printed in \
      that order. With --json, one object per line: {"service","name","category",\
      "last_assessed","due","state","days_left"} (null where there is none).
      """
  )

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  @Option(name: .long, help: "Evaluate as of this day (YYYY-MM-DD; default: today, UTC).")
  var today: String?

  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  @Option(name: .long, help: "Days before the due date that count as due soon (default 60).")
  var dueSoonDays: Int?

  func validate() throws {
    if let dueSoonDays, dueSoonDays < 0 {
      throw ValidationError("--due-soon-days must be 0 or more, not \(dueSoonDays)")
    }
  }

  func run() throws {
    let setup = try RiskCommandSetup(db: db, today: today, createIfMissing: false)
    let rows = try setup.database.deadlines(
      today: setup.today, dueSoonDays: dueSoonDays ?? setup.configuration.dueSoonDays)
    for row in rows {
      let d = row.deadline
      if json {
        print(
          OrderedJSON.object([
            ("service", .string(row.code)), ("name", .string(row.name)),
            ("category", .text(d.category?.rawValue)),
            ("last_assessed", .text(d.lastAssessed?.description)),
            ("due", .text(d.due?.description)), ("state", .string(d.state.rawValue)),
            ("days_left", d.daysLeft.map { .int(Int64($0)) } ?? .null),
          ]))
      } else {
        let fields = [
          d.state.marker, row.code, DisplayText.escapingControls(row.name),
          d.category?.label ?? "-", d.lastAssessed?.description ?? "-",
          d.due?.description ?? "-", d.state.rawValue, d.daysLeft.map(String.init) ?? "-",
        ]
        print(fields.joined(separator: "\t"))
      }
    }
  }
}

// MARK: - Shared by the risk commands

/// Database, day, operator and questionnaire resolved from flags, config and environment.
struct RiskCommandSetup {
  let configuration: Configuration
  let database: AppDatabase
  /// The provider key the database was opened with (its audit key derives from it).
  let providerKey: ProviderKey
  let today: CalendarDate

  init(db: String?, today: String?, createIfMissing: Bool) throws {
    let environment = ProcessInfo.processInfo.environment
    configuration = try Configuration.load(
      path: Configuration.defaultPath(environment: environment))
    let path =
      db ?? configuration.databasePath ?? AppDatabase.defaultPath(environment: environment)
    if !createIfMissing, !FileManager.default.fileExists(atPath: path) {
      throw RiskCommandError("\(path): no database there (create one with `csar demo`)")
    }
    (database, providerKey) = try DatabaseAccess.openWithKey(
      path: path, configuration: configuration)
    if let today {
      self.today = try CalendarDate(parsing: today, field: "--today")
    } else {
      self.today = CalendarDate(unixSeconds: AppDatabase.systemClock())
    }
  }

  /// The folders media may be read from: config `media_roots`, else `media/` beside the
  /// database.
  var mediaRoots: MediaRoots {
    MediaRoots(configured: configuration.mediaRoots, databasePath: database.path)
  }

  /// The operator this command acts as (bound to the caller's OS account; see
  /// ``CallerIdentity``).
  func actingOperator(_ flag: String?) throws -> ActingOperator {
    try CallerIdentity.resolve(database, flag: flag, configuration: configuration)
  }

  /// The name of the operator this command acts as, for the audit log.
  func operatorName(_ flag: String?) throws -> String { try actingOperator(flag).name }

  /// The shipped questionnaire, or the one at `path`; with the text it was read from.
  static func questionnaire(path: String?) throws -> (Questionnaire, String) {
    guard let path else {
      return (try BuiltinQuestionnaire.load(), BuiltinQuestionnaire.text + "\n")
    }
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw RiskCommandError("\(path): cannot read the questionnaire")
    }
    let name = (path as NSString).lastPathComponent
    do {
      return (try Questionnaire.parse(text, file: name), text)
    } catch {
      throw RiskCommandError(error.description)
    }
  }
}

/// A risk command failure, printed as `Error: <message>` with a non-zero exit.
struct RiskCommandError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
