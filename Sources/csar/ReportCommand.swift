// `csar report list|export|verdict|request-reveal|approve|reveal`: reports to the EU Centre.

import ArgumentParser
import Compliance
import Foundation
import Moderation
import Store

/// Reports to the EU Centre: list, export pseudonymised, import verdicts, reveal (four eyes).
struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "List, export and follow up reports to the EU Centre.",
    subcommands: [
      ReportListCommand.self, ReportExportCommand.self, ReportVerdictCommand.self,
      ReportRequestRevealCommand.self, ReportApproveCommand.self, ReportRevealCommand.self,
      ReportNotifiedCommand.self,
    ]
  )
}

/// `csar report list`: every report with its state.
struct ReportListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract: "List reports by id.",
    discussion: """
      With --json, one object per line: {"id","case_ref","state","kind","created_at",\
      "sent_at","verdict","verdict_at","notify_due_at","notified_at","revealed_at",\
      "purged_at","items"} \
      (times in Unix seconds). A closed case (manifestly unfounded) shows "notify user" \
      until `csar report notified` records the notification.
      """)

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  @Option(
    name: .long, help: "Only reports in this state (ready, sent, founded, revealed, closed).")
  var state: String?

  @OptionGroup var options: ReportOptions

  func run() throws {
    let setup = try ReportSetup(options)
    let filter = try state.map { try ReportState(code: $0, field: "--state") }
    for report in try setup.database.reportListings(state: filter) {
      if json {
        print(report.json.description)
        continue
      }
      var notes: [String] = []
      if report.notifyDueAt != nil {
        notes.append(report.notifiedAt == nil ? "notify user" : "user notified")
      }
      if report.purgedAt != nil { notes.append("purged") }
      print(
        [
          DisplayText.escapingControls(report.caseRef), report.state.rawValue, report.kind.label,
          Self.day(report.createdAt), report.verdict?.rawValue ?? "-",
          "items " + report.itemIds.map(String.init).joined(separator: ","),
          notes.joined(separator: ", "),
        ].joined(separator: "\t"))
    }
  }

  static func day(_ seconds: Int64) -> String { CalendarDate(unixSeconds: seconds).description }
}

/// `csar report export --outbox DIR`: each ready report as one pseudonymised JSON file.
struct ReportExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Write each ready report to the outbox (pseudonymised) and mark it sent.",
    discussion: """
      Each report becomes <case ref>.json in the outbox, written atomically (temporary file, \
      fsync, rename), then marked sent in the database and audited with the file's SHA-256. \
      Personal data (account id, IP addresses, device ids, names) is replaced by HMAC-SHA-256 \
      under the provider key (config provider_key, default $XDG_CONFIG_HOME/csar/provider.key; \
      created with mode 0600 on first use). Running it again, or two at once, exports each \
      report once. The outbox must be a real folder of yours (or of your team group) that \
      others cannot write to; it is created 0700, its files 0600.
      """)

  @Option(name: .long, help: "Folder the files are written to (created if missing).")
  var outbox: String

  @Flag(name: .long, help: "Print one JSON object per exported report.")
  var json = false

  @OptionGroup var options: ReportOptions

  func run() throws {
    let setup = try ReportSetup(options)
    let name = try setup.operatorName(options.operator)
    let key = try setup.providerKey()
    let exported = try LongRunCommand.run(task: "report export", unit: "reports", json: json) {
      try setup.database.exportReadyReports(
        to: try Outbox(directory: outbox), provider: setup.provider, key: key, by: name,
        observer: $0)
    }
    for report in exported {
      if json {
        print(
          OrderedJSON.object([
            ("case_ref", .string(report.caseRef)), ("file", .string(report.path)),
            ("sha256", .string(report.sha256)),
          ]))
      } else {
        print("\(report.caseRef)\t\(report.path)")
      }
    }
    if !json {
      Output.error("\(exported.count) report(s) exported")
    }
  }
}

/// `csar report verdict FILE`: the EU Centre's answers, all or nothing.
struct ReportVerdictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verdict",
    abstract: "Import the EU Centre's verdicts (JSON Lines or CSV), all or nothing.",
    discussion: """
      Each line names a case and its verdict: {"case_ref":"CSAR-2026-100001",\
      "verdict":"not_manifestly_unfounded"} or CSV with the header case_ref,verdict. \
      not_manifestly_unfounded: the case may be revealed (request-reveal, approve, reveal). \
      manifestly_unfounded: the case closes and the user notification falls due. Unknown \
      cases, reports not yet sent and bad lines are all listed with their line numbers and \
      nothing is imported. Repeating a verdict already recorded changes nothing.
      """)

  @Argument(help: "The verdict file (.jsonl or .csv; otherwise detected from its content).")
  var file: String

  @OptionGroup var options: ReportOptions

  func run() throws {
    guard let data = FileManager.default.contents(atPath: file) else {
      throw RiskCommandError("\(file): cannot read the verdict file")
    }
    let bytes = [UInt8](data)
    let setup = try ReportSetup(options)
    let name = try setup.operatorName(options.operator)
    let summary: VerdictImportSummary
    do {
      summary = try setup.database.importVerdicts(
        bytes, format: ConsentImportFormat.detect(path: file, bytes: bytes),
        file: (file as NSString).lastPathComponent, by: name)
    } catch let error as VerdictImportError {
      ImportReporting.printBadLines(error.issues.map { "\(error.file):\($0.line): \($0.reason)" })
      throw RiskCommandError(
        "\(error.file): \(ImportReporting.plural(error.issues.count, "problem")); "
          + "nothing was imported")
    }
    for ref in summary.founded { print("\(ref)\tfounded: may be revealed (four eyes)") }
    for ref in summary.closed { print("\(ref)\tclosed: manifestly unfounded; notify the user") }
    print("\(summary.applied) verdict(s) recorded, \(summary.unchanged) already known")
  }
}

/// `csar report notified ID`: the user of a closed case was told.
struct ReportNotifiedCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "notified",
    abstract: "Record that the user of a case closed as manifestly unfounded was notified.")

  @Argument(help: "Case reference (CSAR-YYYY-NNNNNN).")
  var caseRef: String

  @OptionGroup var options: ReportOptions

  func run() throws {
    let setup = try ReportSetup(options)
    let name = try setup.operatorName(options.operator)
    guard try setup.database.markUserNotified(caseRef: caseRef, by: name) else {
      print("\(caseRef): already recorded: the user notification was recorded before")
      return
    }
    print("\(caseRef): user notification recorded by \(name)")
  }
}
