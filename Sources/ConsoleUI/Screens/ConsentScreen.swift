import Foundation
import Compliance
import Store
import Terminal

// MARK: - 4 Consent

/// Finds accounts by id or pseudonym prefix and shows their consent per service and history.
final class ConsentScreen: ConsoleScreen {
  enum Action: Sendable { case search, down, up, top, bottom, open, back }

  let title = "Consent"
  private let keys = KeyTable<Action>(
    "Consent",
    [
      KeyBinding(
        [.character("/")], .search, "Search accounts by id or pseudonym prefix", hint: true),
      KeyBinding([.character("j"), .down], .down, "Next account"),
      KeyBinding([.character("k"), .up], .up, "Previous account"),
      KeyBinding([.character("g"), .home], .top, "First account"),
      KeyBinding([.character("G"), .end], .bottom, "Last account"),
      KeyBinding([.enter], .open, "Show consent history", hint: true),
      KeyBinding([.escape], .back, "Close the history"),
    ])
  private var query = ""
  private var results: [AccountSummary] = []
  private var cursor = ListCursor()
  private var visibleRows = 10
  private var states: [ServiceConsent] = []
  private var history: [ConsentEventRow] = []
  private var showingHistory = false
  static let resultLimit = 200

  var helpSection: HelpSection { keys.helpSection }
  var hints: [(String, String)] { keys.hints }

  func reload(_ context: ConsoleContext) throws {
    results = try context.database.searchAccounts(prefix: query, limit: Self.resultLimit)
    cursor.clamp(count: results.count, visible: visibleRows)
    if showingHistory { try loadHistory(context) }
  }

  private func loadHistory(_ context: ConsoleContext) throws {
    guard cursor.selected < results.count else {
      states = []
      history = []
      return
    }
    let account = results[cursor.selected].id
    states = try context.database.consentStates(accountId: account)
    history = try context.database.consentHistory(accountId: account)
  }

  func handle(_ key: Key, context: ConsoleContext) -> ScreenResponse {
    guard let action = keys.action(for: key) else { return .unhandled }
    do {
      switch action {
      case .search:
        let prompt = Prompt(
          label: "Search account: ", initial: query,
          onEdit: { [weak self] text in self?.search(text, context: context) },
          submit: { [weak self] text in
            self?.search(text, context: context)
            return .info("\(self?.results.count ?? 0) accounts")
          })
        return .overlay(.prompt(prompt))
      case .down: cursor.move(by: 1, count: results.count, visible: visibleRows)
      case .up: cursor.move(by: -1, count: results.count, visible: visibleRows)
      case .top: cursor.jump(toEnd: false, count: results.count, visible: visibleRows)
      case .bottom: cursor.jump(toEnd: true, count: results.count, visible: visibleRows)
      case .open: showingHistory = true
      case .back:
        guard showingHistory else { return .unhandled }
        showingHistory = false
      }
      if showingHistory { try loadHistory(context) }
    } catch {
      return .status(.error("Could not read consent: \(error)"))
    }
    return .handled
  }

  private func search(_ text: String, context: ConsoleContext) {
    query = text.trimmingCharacters(in: .whitespaces)
    cursor = ListCursor()
    results = (try? context.database.searchAccounts(prefix: query, limit: Self.resultLimit)) ?? []
    if showingHistory { try? loadHistory(context) }
  }

  // MARK: Drawing

  func draw(in area: Rect, on screen: inout Screen, context: ConsoleContext) {
    let theme = context.theme
    let split = area.splitLeft(showingHistory ? max(30, area.width * 2 / 5) : area.width)
    let more = results.count >= Self.resultLimit ? "+" : ""
    let title =
      query.isEmpty
      ? "Accounts · \(results.count)\(more) · / to search"
      : "Accounts matching \"\(query)\" · \(results.count)\(more)"
    let inner = screen.box(split.left, title: title, theme: theme, focused: !showingHistory)
    visibleRows = max(1, inner.height - 1)
    cursor.clamp(count: results.count, visible: visibleRows)
    let columns = [
      TableColumn("Account", .flex(min: 10)), TableColumn("Pseudonym", .fixed(14)),
      TableColumn("Since", .fixed(10)),
    ]
    let rows = results.map {
      TableRow([$0.externalId, $0.pseudonym, CalendarDate(unixSeconds: $0.createdAt).description])
    }
    if rows.isEmpty {
      screen.put("No account matches.", in: inner, row: 1, column: 1, style: theme[.muted])
    }
    TableView.draw(
      columns: columns, rows: rows, selected: cursor.selected, firstRow: cursor.top, in: inner,
      on: &screen, theme: theme, focused: !showingHistory)
    if showingHistory { drawHistory(in: split.rest, on: &screen, theme: theme) }
  }

  private func drawHistory(in rect: Rect, on screen: inout Screen, theme: Theme) {
    let name = cursor.selected < results.count ? results[cursor.selected].externalId : ""
    let inner = screen.box(rect, title: "Consent of \(name)", theme: theme, focused: true)
    var row = 0
    for state in states where row < inner.height {
      let role: ThemeRole = state.state == .granted ? .success : .warning
      let sharing =
        state.state.mayShareVisualContentAndURLs ? "may share media/URLs" : "no media/URLs"
      screen.put(state.serviceName, in: inner, row: row, column: 1, style: theme[.text])
      screen.put(
        "\(state.state.label) · \(sharing)", in: inner, row: row,
        column: max(16, inner.width / 2), style: theme[role])
      row += 1
    }
    row += 1
    screen.put("History (newest first)", in: inner, row: row, column: 1, style: theme[.title])
    row += 1
    for event in history where row < inner.height {
      let by = event.operatorName.map { " by \($0)" } ?? ""
      let line =
        "\(Format.timestamp(event.occurredAt))  \(event.serviceName)  → \(event.state.rawValue)"
        + "  (\(event.source.rawValue), terms \(event.termsVersion)\(by))"
      screen.put(line, in: inner, row: row, column: 1, style: theme[.text])
      row += 1
    }
  }
}
