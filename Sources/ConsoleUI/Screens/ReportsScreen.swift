import Compliance
import Foundation
import Store
import Terminal

// MARK: - 5 Reports & audit log

/// Reports to the EU Centre above (newest first, with their details, export, verdicts and the
/// four-eyes reveal), the append-only audit log below (newest first, naming case references).
/// Tab moves between the two lists; both are paged by keyset.
final class ReportsScreen: ConsoleScreen {
  enum Action: Sendable, Equatable {
    case down, up, pageDown, pageUp, top, pane, details, close, filter, verify
    case export, verdicts, requestReveal, approveReveal, reveal, notified
  }

  /// Which list the keys move in.
  enum Pane: Equatable { case reports, audit }

  let title = "Reports & audit"
  let keys = KeyTable<Action>(
    "Reports & audit",
    [
      KeyBinding([.character("j"), .down], .down, "Next report / older event"),
      KeyBinding([.character("k"), .up], .up, "Previous report / newer event"),
      KeyBinding([.control("d"), .pageDown], .pageDown, "Page down"),
      KeyBinding([.control("u"), .pageUp], .pageUp, "Page up"),
      KeyBinding([.character("g"), .home], .top, "Newest report or event"),
      KeyBinding([.tab], .pane, "Switch between reports and the audit log"),
      KeyBinding([.enter], .details, "Show or hide the details"),
      KeyBinding([.escape], .close, "Close the details"),
      KeyBinding([.character("x")], .export, "Export ready reports to the outbox"),
      KeyBinding([.character("v")], .verdicts, "Import the EU Centre's verdicts"),
      KeyBinding([.character("r")], .requestReveal, "Request the reveal of a founded case"),
      KeyBinding([.character("a")], .approveReveal, "Approve a reveal (a lead, another account)"),
      KeyBinding([.character("o")], .reveal, "Reveal an approved case to the outbox"),
      KeyBinding([.character("u")], .notified, "Record that the user was notified"),
      KeyBinding([.character("/")], .filter, "Filter the audit log by action prefix"),
      KeyBinding(
        [.character("V")], .verify,
        "Verify the audit log in the background (all that csar audit verify checks)"),
    ])
  private(set) var pane = Pane.reports
  /// Details under the lists: of the selected report (reports pane) or event (audit pane).
  private(set) var showDetails = false
  var reports = KeysetWindow<ReportSummary>(pageSize: 100, capacity: 400)
  private(set) var reportTotal = 0
  private(set) var readyCount = 0
  /// The selected report's reveal steps and audit events, read when its details show.
  private(set) var followUp: ReportFollowUp?
  private var followUpId: Int64?
  var events = KeysetWindow<AuditEventRow>(pageSize: 100, capacity: 400)
  var visibleReports = 5
  var visibleEvents = 10
  private(set) var actionPrefix: String?

  var helpSection: HelpSection {
    HelpSection(
      title: keys.helpSection.title,
      entries: keys.helpSection.entries + [
        (":filter ACTION", "Show audit events whose action starts with ACTION")
      ])
  }
  /// Short hints, so the screen's main keys fit the status bar of an 80-column terminal.
  var hints: [(String, String)] {
    [("Tab", "pane"), ("Enter", "details"), ("x", "export"), ("v", "verdicts")]
      + (pane == .reports ? [("r/a/o", "reveal")] : [("/", "filter")])
  }

  var selectedReport: ReportListing? { reports.selectedRow?.listing }

  // MARK: Loading

  func reload(_ context: ConsoleContext) throws {
    let selectedId = reports.selectedRow?.listing.id
    try loadReports(context, keeping: selectedId)
    events.reset(
      firstPage: try context.database.auditPage(
        beforeId: nil, limit: events.pageSize, actionPrefix: actionPrefix))
  }

  private func loadReports(_ context: ConsoleContext, keeping selectedId: Int64?) throws {
    let database = context.database
    reports.reset(firstPage: try database.reportPage(limit: reports.pageSize))
    if let selectedId {
      reports.select(visible: visibleReports) { $0.listing.id == selectedId }
    }
    reportTotal = try database.reportCount()
    readyCount = try database.reportCount(state: .ready)
    try loadFollowUp(context)
  }

  private func loadFollowUp(_ context: ConsoleContext) throws {
    guard showDetails, pane == .reports, let report = selectedReport else {
      followUp = nil
      followUpId = nil
      return
    }
    followUp = try context.database.reportFollowUp(reportId: report.id)
    followUpId = report.id
  }

  /// Reports are re-read in place (the selected one stays selected). New audit events
  /// arrive at the top: they are read only while the cursor is there, so reading an older
  /// event is never interrupted (the log is append-only, older rows never change).
  func liveRefresh(_ context: ConsoleContext) throws -> StatusMessage? {
    if reports.selectedPosition < reports.pageSize {
      try loadReports(context, keeping: reports.selectedRow?.listing.id)
    }
    if events.selectedPosition == 0 {
      events.reset(
        firstPage: try context.database.auditPage(
          beforeId: nil, limit: events.pageSize, actionPrefix: actionPrefix))
    }
    return nil
  }

  // MARK: Keys

  func handle(_ key: Key, context: ConsoleContext) -> ScreenResponse {
    guard let action = keys.action(for: key) else { return .unhandled }
    do {
      switch action {
      case .down: try move(by: 1, context)
      case .up: try move(by: -1, context)
      case .pageDown: try move(by: pane == .reports ? visibleReports : visibleEvents, context)
      case .pageUp: try move(by: -(pane == .reports ? visibleReports : visibleEvents), context)
      case .top:
        if pane == .reports {
          try loadReports(context, keeping: nil)
        } else {
          events.reset(
            firstPage: try context.database.auditPage(
              beforeId: nil, limit: events.pageSize, actionPrefix: actionPrefix))
        }
      case .pane:
        pane = pane == .reports ? .audit : .reports
        try loadFollowUp(context)
      case .details:
        showDetails.toggle()
        try loadFollowUp(context)
      case .close:
        guard showDetails else { return .unhandled }
        showDetails = false
      case .filter:
        return .overlay(.prompt(filterPrompt(context)))
      case .verify:
        return .background(Self.verifyJob(context.database))
      case .export: return exportPrompt(context)
      case .verdicts: return verdictPrompt(context)
      case .requestReveal, .approveReveal, .reveal, .notified:
        return followUpDialog(action, context: context)
      }
    } catch {
      return .status(.error("Could not read reports or the audit log: \(error)"))
    }
    return .handled
  }

  /// `V`: everything `csar audit verify` checks, off the key loop (a log of a million items
  /// takes seconds); stopped without a word when the console quits (its query interrupted).
  static func verifyJob(_ database: AppDatabase) -> BackgroundJob {
    BackgroundJob(
      "verifying the audit log", lastStep: "chain checked, now reports and items",
      interrupt: { database.writer.interrupt() }
    ) { job in
      do {
        let check = try database.verifyAudit(observer: job)
        // Never in the way of the result: a log that fails may sit on a damaged database.
        let twins = (try? database.accountTwins()) ?? []
        return verifyStatus(check, twins: twins)
      } catch is LongRunStopped {
        return nil
      } catch {
        return .error("Could not verify the audit log: \(error)")
      }
    }
  }

  /// One status line for `V`: everything `csar audit verify` checks, not the chain alone (a
  /// report reset by hand leaves the chain intact but disagrees with its audited state), and
  /// verify's twins line in brief (before the head, so it shows at 80 columns). Twins never
  /// make the log fail: they are not tampering.
  static func verifyStatus(_ check: AuditCheck, twins: [AccountTwins] = []) -> StatusMessage {
    let twinsPart = AccountTwins.verifyNotice(twins, brief: true).map { " · " + $0 } ?? ""
    if check.isOK {
      let head = check.head.map { " · head \($0.events):\($0.mac.prefix(12))…" } ?? ""
      return .info(check.chain.description + twinsPart + head)
    }
    let problems = check.problems
    let more = problems.count > 1 ? " (+\(problems.count - 1) more: csar audit verify)" : ""
    return .error((problems.first ?? "audit log broken") + more + twinsPart)
  }

  private func move(by delta: Int, _ context: ConsoleContext) throws {
    let database = context.database
    switch pane {
    case .reports:
      try reports.move(
        by: delta, visible: visibleReports,
        after: { try database.reportPage(beforeId: $0.listing.id, limit: 100) },
        before: { try database.reportPage(afterId: $0.listing.id, limit: 100) })
      if showDetails, followUpId != selectedReport?.id { try loadFollowUp(context) }
    case .audit:
      let prefix = actionPrefix
      try events.move(
        by: delta, visible: visibleEvents,
        after: { try database.auditPage(beforeId: $0.id, limit: 100, actionPrefix: prefix) },
        before: { try database.auditPage(afterId: $0.id, limit: 100, actionPrefix: prefix) })
    }
  }

  private func filterPrompt(_ context: ConsoleContext) -> Prompt {
    Prompt(
      label: "Audit log: action prefix (e.g. report.; empty shows all) ",
      initial: actionPrefix ?? "", selectInitial: true
    ) { [weak self] text in
      guard let self else { return nil }
      let words = ["filter"] + text.split(separator: " ").map(String.init).prefix(1)
      if case .status(let message)? = self.command(words, context: context) {
        return message
      }
      return nil
    }
  }

  func command(_ words: [String], context: ConsoleContext) -> ScreenResponse? {
    guard words.first == "filter" else { return nil }
    actionPrefix = words.count > 1 ? words[1] : nil
    pane = .audit
    do {
      events.reset(
        firstPage: try context.database.auditPage(
          beforeId: nil, limit: events.pageSize, actionPrefix: actionPrefix))
    } catch {
      return .status(.error("Could not filter: \(error)"))
    }
    guard let prefix = actionPrefix else { return .status(.info("All audit events")) }
    if events.rows.isEmpty {
      return .status(.info("No match: no audit event's action starts with \(prefix)"))
    }
    return .status(.info("Audit events \(prefix)…"))
  }
}
