// `csar purge [--dry-run]`: the retention purge of decided items and reports.

import ArgumentParser
import Foundation
import Store

/// Removes media references and personal data of items and reports past the retention period;
/// the audit trail stays whole.
struct PurgeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "purge",
    abstract: "Purge decided items and reports past the retention period (legal holds exempt).",
    discussion: """
      Due: reports no longer ready whose last activity (created, sent, verdict, reveal) is \
      older than the retention period, and decided items older than it whose reports are due \
      too. Open items are never purged. A legal hold (csar hold place) keeps a report with its \
      items, or an item with its reports. Purging clears media references, URLs, accounts, \
      notes and account details; hashes and the audit trail stay. With --json, one object \
      per line: {"entity","id","label","state","last_activity","action"} where action is \
      purge (or would_purge) or held.
      """)

  @Flag(name: .long, help: "List what would be purged; change nothing.")
  var dryRun = false

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  @Option(name: .long, help: "Retention period in months (default: config, then 12).")
  var retentionMonths: Int?

  @OptionGroup var options: ReportOptions

  func run() throws {
    let setup = try ReportSetup(options)
    let months = retentionMonths ?? setup.risk.configuration.retentionMonths
    guard (1...120).contains(months) else {
      throw RiskCommandError("--retention-months: expected 1-120, got \(months)")
    }
    let plan: PurgePlan
    if dryRun {
      plan = try setup.database.purgePlan(retentionMonths: months)
    } else {
      let name = try setup.operatorName(options.operator)
      plan = try LongRunCommand.run(task: "purge", unit: "reports and items", json: json) {
        try setup.database.purge(retentionMonths: months, by: name, observer: $0)
      }
    }
    let verb = dryRun ? "would_purge" : "purged"
    for (entries, action) in [(plan.reports, verb), (plan.items, verb), (plan.held, "held")] {
      for entry in entries {
        if json {
          guard case .object(var object) = entry.json else { continue }
          object["action"] = .string(action)
          print(JSONValue.object(object).description)
        } else {
          print(
            [action, entry.entity, entry.label, entry.state,
             ReportListCommand.day(entry.lastActivity)].joined(separator: "\t"))
        }
      }
    }
    if !json {
      let summary =
        "\(plan.reports.count) report(s) and \(plan.items.count) item(s) "
        + (dryRun ? "due for purging" : "purged") + "; \(plan.held.count) kept by legal holds "
        + "(retention \(months) months, cutoff \(ReportListCommand.day(plan.cutoff)))"
      Output.error(summary)
    }
  }
}
