import ArgumentParser
import Compliance
import ConsoleUI
import Foundation
import Moderation
import Store

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `csar consent import|show|stats|twins`: consent to detection before transmission.
struct ConsentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "consent",
    abstract: "Import, show and count consent to detection before transmission.",
    subcommands: [Import.self, Show.self, Stats.self, Twins.self]
  )

  /// Opens the database named by `--db` (or the default one), mapping store errors.
  static func open(_ path: String?) throws -> AppDatabase {
    do {
      return try DatabaseAccess.open(path: path ?? AppDatabase.defaultPath())
    } catch let error as StoreError {
      throw ConsentCommandError(error.description)
    }
  }

  static func timestamp(_ seconds: Int64) -> String { ConsentDocument.timestamp(seconds) }

  static func printError(_ line: String) { Output.error(line) }

  // MARK: - import

  /// `csar consent import FILE`.
  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "import",
      abstract: "Import consent events (CSV or JSON Lines) from the provider's backend.",
      discussion: """
        Columns / keys: event_id, account, service, state, occurred_at, source, \
        terms_version, and optionally reason. occurred_at is ISO-8601 UTC \
        (2026-11-25T10:00:00Z) or Unix seconds. The format follows the extension (.csv, \
        .jsonl) or the content. Re-importing is harmless: known event ids are counted as \
        duplicates. A file with any invalid line imports nothing unless --skip-invalid; \
        invalid lines are printed as FILE:LINE: reason on stderr (exit 1).
        """
    )

    @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
    var db: String?

    @Flag(name: .long, help: "Import the valid lines even when some lines are invalid.")
    var skipInvalid = false

    @Option(name: .long, help: "Events per transaction.")
    var batch = 10_000

    @Option(name: .long, help: CallerIdentity.optionHelp)
    var `operator`: String?

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

    @Argument(help: "The file to import.")
    var file: String

    func validate() throws {
      if batch < 1 { throw ValidationError("--batch must be at least 1, not \(batch)") }
    }

    func run() throws {
      guard let data = FileManager.default.contents(atPath: file) else {
        throw ConsentCommandError("\(file): cannot read the file")
      }
      let database = try ConsentCommand.open(db)
      let acting = try CallerIdentity.resolve(database, flag: `operator`)
      let started = Date()
      let report: ConsentImportReport
      do {
        report = try LongRunCommand.run(task: "consent import", unit: "events", json: json) {
          try database.importConsent(
            bytes: [UInt8](data), fileName: (file as NSString).lastPathComponent,
            options: ConsentImportOptions(
              skipInvalid: skipInvalid, batchSize: batch, operatorName: acting.name),
            observer: $0)
        }
      } catch let error as StoreError {
        throw ConsentCommandError("\(file): \(error.description)")
      }
      let seconds = Date().timeIntervalSince(started)
      ImportReporting.printBadLines(report.rejected.map { "\(file):\($0.line): \($0.reason)" })
      if json {
        let summary: JSONValue = [
          "file": .string(file), "format": .string(report.format.rawValue),
          "lines": .int(Int64(report.lines)), "accepted": .int(Int64(report.accepted)),
          "duplicate": .int(Int64(report.duplicates)),
          "rejected": .int(Int64(report.rejected.count)),
          "accounts_created": .int(Int64(report.accountsCreated)),
          "batches": .int(Int64(report.batches)), "committed": .bool(report.committed),
          "seconds": .double((seconds * 1000).rounded() / 1000),
        ]
        print(summary.description)
      } else {
        let verb = report.committed ? "imported" : "imported nothing"
        print(
          "\(file): \(verb): \(report.accepted) accepted, \(report.duplicates) duplicate, "
            + "\(report.rejected.count) rejected; \(report.accountsCreated) accounts created, "
            + "\(report.batches) batches, \(String(format: "%.2f", seconds)) s")
        if !report.committed {
          print("fix the lines above or pass --skip-invalid to import the valid ones")
        }
      }
      if !report.rejected.isEmpty { throw ExitCode(1) }
    }
  }

  // MARK: - show

  /// `csar consent show ACCOUNT`.
  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "show",
      abstract: "An account's consent per service and its full history.",
      discussion: """
        An id spelt byte for byte as a stored account's names that account, any other \
        spelling the account holding it in NFC. An account whose id twin accounts hold in \
        another Unicode form (see `csar consent twins`) names them, and a service says \
        "may share ...: no (twin PSEUDONYM STATE)" where a twin has not granted consent: \
        uploads are scanned only when every twin granted it. With --json, the document of \
        the service's GET /v1/consent/{account}.
        """)

    @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
    var db: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Argument(help: "The provider's account id or the pseudonym.")
    var account: String

    func run() throws {
      let database = try ConsentCommand.open(db)
      guard let found = try database.account(externalIdOrPseudonym: account) else {
        throw ConsentCommandError("account \(account): not found (by id or pseudonym)")
      }
      if json {
        if let value = try ConsentDocument.json(database: database, account: account) {
          print(value.description)
        }
        return
      }
      let states = try database.consentWithTwins(accountId: found.id)
      let history = try database.consentHistory(accountId: found.id)
      print("account \(found.externalId) (pseudonym \(found.pseudonym))")
      let twins = try database.twins(ofAccount: found.id)
      for twin in twins {
        let forms = AccountTwins.differingCodePoints(found, twin)
        print(
          "twin: account \(twin.pseudonym) has this id in another Unicode form "
            + "(\(forms.account) here, \(forms.twin) there); see csar consent twins")
      }
      let width = max(8, states.map(\.own.serviceCode.count).max() ?? 8)
      for state in states {
        let code = state.own.serviceCode.padding(toLength: width, withPad: " ", startingAt: 0)
        let label = state.own.state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
        // The gate's answer: a twin that has not granted consent blocks this account too.
        var yes = state.mayShareVisualContentAndURLs ? "yes" : "no"
        let differing = state.differingTwins.map {
          "twin \($0.account.pseudonym) \($0.consent.rawValue)"
        }
        if !differing.isEmpty { yes += " (" + differing.joined(separator: ", ") + ")" }
        let since = state.own.updatedAt.map { " since \(ConsentCommand.timestamp($0))" } ?? ""
        print("  \(code)  \(label) may share visual content and URLs: \(yes)\(since)")
      }
      print("history (\(history.count) events, oldest first):")
      for event in history {
        let by = event.operatorName.map { " by \($0)" } ?? ""
        let why = event.reason.map { ": \($0)" } ?? ""
        print(
          "  \(ConsentCommand.timestamp(event.occurredAt))  \(event.serviceCode)  "
            + "→ \(event.state.rawValue)  (\(event.source.rawValue), terms "
            + "\(event.termsVersion)\(by))\(why)")
      }
    }
  }

  // MARK: - stats

  /// `csar consent stats`.
  struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "stats",
      abstract: "Consent per service: granted %, refused %, not asked, withdrawn, withdrawals "
        + "this month.")

    @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
    var db: String?

    @Flag(name: .long, help: "Print JSON Lines (one object per service).")
    var json = false

    @Option(name: .long, help: "Count withdrawals in the month of this day (YYYY-MM-DD).")
    var today: String?

    func run() throws {
      let database = try ConsentCommand.open(db)
      let day: CalendarDate
      do {
        day =
          try today.map { try CalendarDate(parsing: $0, field: "--today") }
          ?? CalendarDate(unixSeconds: AppDatabase.systemClock())
      } catch let error as DomainValueError {
        throw ConsentCommandError(error.description)
      }
      let stats = try database.consentStatistics(today: day)
      func pct(_ n: Int, _ total: Int) -> Double {
        total == 0 ? 0 : (Double(n) * 1000 / Double(total)).rounded() / 10
      }
      if json {
        for s in stats {
          let value: JSONValue = [
            "service": .string(s.code), "accounts": .int(Int64(s.total)),
            "granted": .int(Int64(s.granted)), "granted_pct": .double(pct(s.granted, s.total)),
            "refused": .int(Int64(s.refused)), "refused_pct": .double(pct(s.refused, s.total)),
            "not_asked": .int(Int64(s.notAsked)), "withdrawn": .int(Int64(s.withdrawn)),
            "withdrawals_this_month": .int(Int64(s.withdrawalsThisMonth)),
          ]
          print(value.description)
        }
        return
      }
      let width = max(7, stats.map(\.code.count).max() ?? 7)
      func col(_ text: String, _ n: Int) -> String {
        String(repeating: " ", count: max(0, n - text.count)) + text
      }
      print(
        "service".padding(toLength: width, withPad: " ", startingAt: 0)
          + col("granted", 9) + col("refused", 9) + col("not asked", 11)
          + col("withdrawn", 11) + col("withdrawn this month", 22))
      for s in stats {
        print(
          s.code.padding(toLength: width, withPad: " ", startingAt: 0)
            + col("\(pct(s.granted, s.total))%", 9) + col("\(pct(s.refused, s.total))%", 9)
            + col("\(s.notAsked)", 11) + col("\(s.withdrawn)", 11)
            + col("\(s.withdrawalsThisMonth)", 22))
      }
    }
  }
}

/// A `csar consent` failure, printed as `Error: <message>` with a non-zero exit.
struct ConsentCommandError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
