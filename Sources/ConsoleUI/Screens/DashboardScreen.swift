import Compliance
import Store
import Terminal

// MARK: - 1 Dashboard

/// The first screen: deadlines (overdue first), the review queue, detection orders and consent.
final class DashboardScreen: ConsoleScreen {
  enum Action: Sendable { case down, up, top, bottom, open, banks }

  let title = "Dashboard"
  private let keys = KeyTable<Action>(
    "Dashboard",
    [
      KeyBinding([.character("j"), .down], .down, "Next deadline"),
      KeyBinding([.character("k"), .up], .up, "Previous deadline"),
      KeyBinding([.character("g"), .home], .top, "First deadline"),
      KeyBinding([.character("G"), .end], .bottom, "Last deadline"),
      KeyBinding([.enter], .open, "Open the service in Services", hint: true),
      KeyBinding(
        [.character("b")], .banks,
        "Hash banks: versions and sources"),
    ])
  private var summary: DashboardSummary?
  private var cursor = ListCursor()
  private var visibleRows = 10
  /// Set when Enter asks the console to show a service (read by the console).
  var serviceToOpen: Int64?
  /// The bank view, while it is open (`b`).
  private var bankPanel: BankPanel?

  /// While the bank view is open, its keys are the ones that work, so they are the ones shown.
  var helpSection: HelpSection {
    bankPanel == nil ? keys.helpSection : BankPanel.keys.helpSection
  }
  var hints: [(String, String)] { bankPanel == nil ? keys.hints : BankPanel.keys.hints }

  func reload(_ context: ConsoleContext) throws {
    summary = try context.database.dashboard(
      today: context.today, dueSoonDays: context.dueSoonDays)
    cursor.clamp(count: summary?.deadlines.count ?? 0, visible: visibleRows)
    try bankPanel?.load(context.database)
  }

  func handle(_ key: Key, context: ConsoleContext) -> ScreenResponse {
    if bankPanel != nil { return handleBankPanel(key, context: context) }
    guard let action = keys.action(for: key) else { return .unhandled }
    let count = summary?.deadlines.count ?? 0
    switch action {
    case .down: cursor.move(by: 1, count: count, visible: visibleRows)
    case .up: cursor.move(by: -1, count: count, visible: visibleRows)
    case .top: cursor.jump(toEnd: false, count: count, visible: visibleRows)
    case .bottom: cursor.jump(toEnd: true, count: count, visible: visibleRows)
    case .open:
      guard let summary, cursor.selected < summary.deadlines.count else { return .handled }
      serviceToOpen = summary.deadlines[cursor.selected].serviceId
    case .banks:
      var panel = BankPanel()
      do {
        try panel.load(context.database)
      } catch {
        return .status(.error("Cannot read the banks: \(error)"))
      }
      bankPanel = panel
    }
    return .handled
  }

  /// Keys while the bank view is open, from its own table (``BankPanel/keys``); the other
  /// keys (screens, help, quit) go to the console.
  private func handleBankPanel(_ key: Key, context: ConsoleContext) -> ScreenResponse {
    guard let action = BankPanel.keys.action(for: key) else { return .unhandled }
    do {
      switch action {
      case .close: bankPanel = nil
      case .down: try bankPanel?.move(by: 1, context.database)
      case .up: try bankPanel?.move(by: -1, context.database)
      case .top: try bankPanel?.move(by: nil, toEnd: false, context.database)
      case .bottom: try bankPanel?.move(by: nil, toEnd: true, context.database)
      }
    } catch {
      return .status(.error("Cannot read the bank's versions: \(error)"))
    }
    return .handled
  }

  // MARK: Drawing

  func draw(in area: Rect, on screen: inout Screen, context: ConsoleContext) {
    let theme = context.theme
    if bankPanel != nil {
      bankPanel?.draw(in: area, on: &screen, theme: theme)
      return
    }
    guard let summary else {
      screen.put("Loading…", in: area, row: 1, column: 2, style: theme[.muted])
      return
    }
    let rightWidth = area.width >= 100 ? 44 : 30
    let (left, right) = area.splitLeft(area.width - rightWidth)
    let consentHeight = min(summary.consent.count + 3, max(5, left.height / 3))
    let (deadlineBox, consentBox) = left.splitTop(left.height - consentHeight)
    drawDeadlines(summary, in: deadlineBox, on: &screen, theme: theme)
    drawConsent(summary, in: consentBox, on: &screen, theme: theme)
    let queueHeight = min(right.height / 2, 11)
    let (queueBox, ordersBox) = right.splitTop(queueHeight)
    drawQueue(summary, in: queueBox, on: &screen, theme: theme)
    drawOrders(summary, in: ordersBox, on: &screen, theme: theme)
  }

  private func drawDeadlines(
    _ summary: DashboardSummary, in rect: Rect, on screen: inout Screen, theme: Theme
  ) {
    let overdue = summary.deadlines.filter { $0.deadline.state == .overdue }.count
    let title = "Re-categorisation deadlines · \(overdue) overdue"
    let inner = screen.box(rect, title: title, theme: theme, focused: true)
    let columns = [
      TableColumn("", .fixed(2)), TableColumn("Service", .flex(min: 10)),
      TableColumn("Risk", .fixed(6)), TableColumn("Due", .fixed(10)),
      TableColumn("State", .fixed(14)),
    ]
    let rows = summary.deadlines.map { row -> TableRow in
      let deadline = row.deadline
      let role: ThemeRole =
        switch deadline.state {
        case .overdue: .danger
        case .dueSoon, .neverAssessed: .warning
        case .ok: .text
        }
      return TableRow(
        [
          deadline.state.marker, row.name, deadline.category?.label ?? "—",
          deadline.due?.description ?? "—", Self.stateText(deadline),
        ], role: role)
    }
    visibleRows = max(1, inner.height - 1)
    cursor.clamp(count: rows.count, visible: visibleRows)
    TableView.draw(
      columns: columns, rows: rows, selected: cursor.selected, firstRow: cursor.top,
      in: inner, on: &screen, theme: theme)
  }

  static func stateText(_ deadline: Deadline) -> String {
    guard let days = deadline.daysLeft else { return deadline.state.label }
    switch deadline.state {
    case .overdue: return "overdue \(-days)d"
    case .dueSoon: return "due in \(days)d"
    default: return deadline.state.label
    }
  }

  private func drawQueue(
    _ summary: DashboardSummary, in rect: Rect, on screen: inout Screen, theme: Theme
  ) {
    let inner = screen.box(rect, title: "Review queue", theme: theme)
    var lines: [(String, String, ThemeRole)] = [
      ("Open items", Format.count(summary.openItems), .title)
    ]
    for kind in FlagKind.allCases {
      lines.append(("  \(kind.rawValue)", Format.count(summary.openItems(kind: kind)), .text))
    }
    lines.append(("Escalated", Format.count(summary.items(state: .escalated)), .warning))
    lines.append(("Awaiting 2nd hit", Format.count(summary.items(state: .awaitingSecondHit)), .text))
    for state in ReportState.allCases {
      let count = summary.reportCounts[state] ?? 0
      if count > 0 { lines.append(("Reports \(state.rawValue)", Format.count(count), .muted)) }
    }
    Self.drawPairs(lines, in: inner, on: &screen, theme: theme)
  }

  private func drawOrders(
    _ summary: DashboardSummary, in rect: Rect, on screen: inout Screen, theme: Theme
  ) {
    let inner = screen.box(rect, title: "Detection orders", theme: theme)
    guard !summary.activeOrders.isEmpty else {
      screen.put("none", in: inner, row: 0, column: 1, style: theme[.muted])
      return
    }
    var row = 0
    for order in summary.activeOrders where row < inner.height {
      let marker = order.endingSoon ? "! " : "  "
      let role: ThemeRole = order.endingSoon ? .warning : .text
      screen.put(marker + order.serviceName, in: inner, row: row, style: theme[role])
      row += 1
      screen.put("  \(order.terms.reference)", in: inner, row: row, style: theme[.muted])
      row += 1
      let left = order.endingSoon ? ", \(order.daysLeft)d left" : ""
      screen.put("  to \(order.terms.ends)\(left)", in: inner, row: row, style: theme[role])
      row += 1
    }
  }

  private func drawConsent(
    _ summary: DashboardSummary, in rect: Rect, on screen: inout Screen, theme: Theme
  ) {
    let inner = screen.box(rect, title: "Consent · withdrawals this month", theme: theme)
    let columns = [
      TableColumn("Service", .flex(min: 8)), TableColumn("Granted", .fixed(7), alignRight: true),
      TableColumn("Refused", .fixed(7), alignRight: true),
      TableColumn("Not asked", .fixed(9), alignRight: true),
      TableColumn("Withdrawn", .fixed(9), alignRight: true),
    ]
    var rows = summary.consent.map { stats in
      TableRow([
        stats.name, Format.percent(stats.granted, of: stats.total),
        Format.percent(stats.refused, of: stats.total), Format.count(stats.notAsked),
        Format.count(stats.withdrawalsThisMonth),
      ])
    }
    // Services that do not fit are said to exist, never silently left out.
    let room = inner.height - 1
    var hidden = 0
    if rows.count > room, room >= 2 {
      hidden = rows.count - (room - 1)
      rows = Array(rows.prefix(room - 1))
    }
    TableView.draw(
      columns: columns, rows: rows, selected: nil, in: inner, on: &screen, theme: theme)
    if hidden > 0 {
      screen.put(
        "+ \(hidden) more service\(hidden == 1 ? "" : "s") (a taller window shows all)",
        in: inner, row: room, style: theme[.muted])
    }
  }

  static func drawPairs(
    _ lines: [(String, String, ThemeRole)], in rect: Rect, on screen: inout Screen, theme: Theme
  ) {
    for (row, line) in lines.enumerated() where row < rect.height {
      screen.put(line.0, in: rect, row: row, column: 1, style: theme[line.2])
      let valueWidth = DisplayWidth.of(line.1)
      let column = max(0, rect.width - valueWidth - 1)
      screen.put(line.1, in: rect, row: row, column: column, style: theme[line.2])
    }
  }
}
