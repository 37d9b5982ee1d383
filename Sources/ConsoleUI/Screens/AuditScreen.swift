import Compliance
import Store
import Terminal

// MARK: - 5 Reports & audit log

/// Reports by state above, the append-only audit log below (newest first, paged by keyset).
final class AuditScreen: ConsoleScreen {
  enum Action: Sendable { case down, up, pageDown, pageUp, top, details, filter, verify }

  let title = "Reports & audit"
  private let keys = KeyTable<Action>(
    "Reports & audit",
    [
      KeyBinding([.character("j"), .down], .down, "Older event"),
      KeyBinding([.character("k"), .up], .up, "Newer event"),
      KeyBinding([.control("d"), .pageDown], .pageDown, "Page down"),
      KeyBinding([.control("u"), .pageUp], .pageUp, "Page up"),
      KeyBinding([.character("g"), .home], .top, "Newest event"),
      KeyBinding([.enter], .details, "Show or hide the event's details", hint: true),
      KeyBinding([.character("/")], .filter, "Filter by action prefix (e.g. item.)"),
      KeyBinding([.character("V")], .verify, "Verify the hash chain of the whole log"),
    ])
  private var showDetails = false
  private var reports: [ReportRow] = []
  private var events = KeysetWindow<AuditEventRow>(pageSize: 100, capacity: 400)
  private var visibleRows = 10
  private var actionPrefix: String?

  var helpSection: HelpSection {
    HelpSection(
      title: keys.helpSection.title,
      entries: keys.helpSection.entries + [
        (":filter ACTION", "Show audit events whose action starts with ACTION")
      ])
  }
  var hints: [(String, String)] { keys.hints }

  func reload(_ context: ConsoleContext) throws {
    reports = try context.database.reports(limit: 50)
    events.reset(
      firstPage: try context.database.auditPage(
        beforeId: nil, limit: events.pageSize, actionPrefix: actionPrefix))
  }

  /// New events arrive at the top: read them only while the cursor is there, so reading an
  /// older event is never interrupted (the log is append-only, older rows never change).
  func liveRefresh(_ context: ConsoleContext) throws -> StatusMessage? {
    if events.selectedPosition == 0 { try reload(context) }
    return nil
  }

  func handle(_ key: Key, context: ConsoleContext) -> ScreenResponse {
    guard let action = keys.action(for: key) else { return .unhandled }
    let database = context.database
    let prefix = actionPrefix
    let older = { (row: AuditEventRow) in
      try database.auditPage(beforeId: row.id, limit: 100, actionPrefix: prefix)
    }
    let newer = { (row: AuditEventRow) in
      try database.auditPage(afterId: row.id, limit: 100, actionPrefix: prefix)
    }
    do {
      switch action {
      case .down: try events.move(by: 1, visible: visibleRows, after: older, before: newer)
      case .up: try events.move(by: -1, visible: visibleRows, after: older, before: newer)
      case .pageDown:
        try events.move(by: visibleRows, visible: visibleRows, after: older, before: newer)
      case .pageUp:
        try events.move(by: -visibleRows, visible: visibleRows, after: older, before: newer)
      case .top: try reload(context)
      case .details:
        showDetails.toggle()
      case .filter:
        return .overlay(
          .prompt(
            Prompt(label: "Action prefix (empty shows all)", initial: actionPrefix ?? "") {
              [weak self] text in
              guard let self else { return nil }
              let words = ["filter"] + text.split(separator: " ").map(String.init).prefix(1)
              if case .status(let message)? = self.command(words, context: context) {
                return message
              }
              return nil
            }))
      case .verify:
        let result = try database.verifyAuditChain()
        return .status(result.isOK ? .info(result.description) : .error(result.description))
      }
    } catch {
      return .status(.error("Could not read the audit log: \(error)"))
    }
    return .handled
  }

  func command(_ words: [String], context: ConsoleContext) -> ScreenResponse? {
    guard words.first == "filter" else { return nil }
    actionPrefix = words.count > 1 ? words[1] : nil
    do {
      try reload(context)
    } catch {
      return .status(.error("Could not filter: \(error)"))
    }
    return .status(.info(actionPrefix.map { "Audit events \($0)…" } ?? "All audit events"))
  }

  // MARK: Drawing

  func draw(in area: Rect, on screen: inout Screen, context: ConsoleContext) {
    let theme = context.theme
    let reportHeight = min(max(4, reports.count + 3), area.height / 3)
    let (top, bottom) = area.splitTop(reportHeight)
    let reportInner = screen.box(top, title: "Reports · \(reports.count)", theme: theme)
    let reportColumns = [
      TableColumn("Case", .fixed(16)), TableColumn("State", .fixed(9)),
      TableColumn("Kind", .fixed(12)), TableColumn("Account", .flex(min: 10)),
      TableColumn("Created", .fixed(16)),
    ]
    let reportRows = reports.map {
      TableRow(
        [
          $0.caseRef, $0.state.rawValue, $0.kind.rawValue, $0.accountPseudonym ?? "—",
          Format.timestamp($0.createdAt),
        ])
    }
    TableView.draw(
      columns: reportColumns, rows: reportRows, selected: nil, in: reportInner, on: &screen,
      theme: theme, focused: false)
    let filterText = actionPrefix.map { " · \($0)…" } ?? ""
    let inner = screen.box(
      bottom, title: "Audit log (append-only, hash-chained)\(filterText)", theme: theme,
      focused: true)
    let columns = [
      TableColumn("#", .fixed(7), alignRight: true), TableColumn("When", .fixed(16)),
      TableColumn("Who", .fixed(8)), TableColumn("Action", .fixed(22)),
      TableColumn("Entity", .flex(min: 12)),
    ]
    let rows = events.rows.map {
      TableRow(
        [
          String($0.id), Format.timestamp($0.at), $0.operatorName, $0.action,
          "\($0.entity) \($0.entityId)",
        ])
    }
    var listArea = inner
    if showDetails, let event = events.selectedRow, inner.height > 8 {
      let split = inner.splitTop(inner.height - 6)
      listArea = split.top
      drawDetails(event, in: split.rest, on: &screen, theme: theme)
    }
    visibleRows = max(1, listArea.height - 1)
    events.keepVisible(visibleRows)
    TableView.draw(
      columns: columns, rows: rows, selected: events.selected, firstRow: events.top,
      in: listArea, on: &screen, theme: theme)
  }

  /// The selected event's before/after and its place in the hash chain.
  private func drawDetails(
    _ event: AuditEventRow, in rect: Rect, on screen: inout Screen, theme: Theme
  ) {
    let inner = screen.box(rect, title: "Event \(event.id)", theme: theme)
    // Details wrap over the rows the hashes leave free.
    let width = max(10, inner.width - 12)
    var details: [String] = []
    var rest = Substring(event.detailsJSON)
    while !rest.isEmpty, details.count < max(1, inner.height - 2) {
      details.append(String(rest.prefix(width)))
      rest = rest.dropFirst(width)
    }
    let lines: [(String, String)] =
      details.enumerated().map { ($0.offset == 0 ? "Details" : "", $0.element) }
      + [("Hash", event.hash), ("Previous", event.prevHash)]
    for (row, line) in lines.enumerated() where row < inner.height {
      screen.put(line.0, in: inner, row: row, column: 1, style: theme[.muted])
      screen.put(line.1, in: inner, row: row, column: 11, style: theme[.text])
    }
  }
}
