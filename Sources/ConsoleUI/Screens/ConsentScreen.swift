import Compliance
import Foundation
import Store
import Terminal

// MARK: - 4 Consent

/// Finds accounts by id or pseudonym prefix, shows their consent per service and the full
/// history, and records changes a user asked support for (confirmed, with a reason, audited).
final class ConsentScreen: ConsoleScreen {
  enum Action: Sendable, Equatable {
    case search, down, up, top, bottom, open, back, pane, pageDown, pageUp
    case record(ConsentState)
  }

  let title = "Consent"
  private let keys = KeyTable<Action>(
    "Consent",
    [
      KeyBinding(
        [.character("/")], .search, "Search by account id or pseudonym prefix", hint: true),
      KeyBinding([.character("j"), .down], .down, "Next account (next service when open)"),
      KeyBinding([.character("k"), .up], .up, "Previous account (previous service when open)"),
      KeyBinding([.character("g"), .home], .top, "First account or service"),
      KeyBinding([.character("G"), .end], .bottom, "Last account or service"),
      KeyBinding([.enter], .open, "Open the account", hint: true),
      KeyBinding([.escape], .back, "Close the account"),
      KeyBinding([.tab], .pane, "Switch between the accounts and the open account"),
      KeyBinding([.pageDown], .pageDown, "Scroll the history down (older)"),
      KeyBinding([.pageUp], .pageUp, "Scroll the history up (newer)"),
      KeyBinding([.character("a")], .record(.granted), "Support request: user grants consent"),
      KeyBinding([.character("r")], .record(.refused), "Support request: user refuses consent"),
      KeyBinding(
        [.character("w")], .record(.withdrawn), "Support request: user withdraws consent"),
    ])
  private(set) var query = ""
  private(set) var results: [AccountSummary] = []
  private var cursor = ListCursor()
  private var visibleRows = 10
  /// The open account's current state per service, and its history (oldest first).
  private(set) var states: [ServiceConsent] = []
  private(set) var history: [ConsentEventRow] = []
  /// Accounts whose id is the open account's in another Unicode form (see ``TwinNotice``).
  private(set) var twins: [AccountSummary] = []
  /// Every account that has a twin, marked in the list (there are few, if any).
  private var twinIds: Set<Int64> = []
  /// Services where the open account granted consent but a twin did not: uploads there are
  /// blocked all the same (the gate's answer), so the table says `blocked`.
  private(set) var blockedByTwin: Set<Int64> = []
  private var serviceCursor = ListCursor()
  private var serviceRows = 12
  private var historyScroll = 0
  private var historyRows = 10
  private(set) var isOpen = false
  /// While an account is open: whether keys move in the account list rather than its services.
  private var listFocused = false
  /// Accounts are read a page at a time; moving near the end of the list reads the next.
  static let resultLimit = 200
  /// The last page read was full: more accounts match.
  private(set) var hasMore = false

  var helpSection: HelpSection { keys.helpSection }
  var hints: [(String, String)] { keys.hints }

  var selectedAccount: AccountSummary? {
    cursor.selected < results.count ? results[cursor.selected] : nil
  }

  var selectedService: ServiceConsent? {
    serviceCursor.selected < states.count ? states[serviceCursor.selected] : nil
  }

  func reload(_ context: ConsoleContext) throws {
    let open = isOpen ? selectedAccount?.id : nil
    // As many as were shown, so a live refresh never loses a place past the first page.
    let limit = max(Self.resultLimit, results.count)
    results = try context.database.searchAccounts(prefix: query, limit: limit)
    hasMore = results.count >= limit
    twinIds = try context.database.twinAccountIds()
    cursor.clamp(count: results.count, visible: visibleRows)
    if let open, selectedAccount?.id != open,
      let index = results.firstIndex(where: { $0.id == open })
    {
      cursor = ListCursor()
      cursor.move(by: index, count: results.count, visible: visibleRows)
    }
    if isOpen { try loadAccount(context) }
  }

  private func loadAccount(_ context: ConsoleContext) throws {
    guard let account = selectedAccount else {
      states = []
      history = []
      twins = []
      blockedByTwin = []
      isOpen = false
      return
    }
    twins = try context.database.twins(ofAccount: account.id)
    // Services with a recorded decision first (by code), then those never asked.
    func key(_ s: ServiceConsent) -> (Int, String) { (s.updatedAt == nil ? 1 : 0, s.serviceCode) }
    let selectedServiceId = selectedService?.serviceId
    let weighed = try context.database.consentWithTwins(accountId: account.id)
    states = weighed.map(\.own).sorted { key($0) < key($1) }
    blockedByTwin = Set(
      weighed.filter { $0.own.state == .granted && !$0.mayShareVisualContentAndURLs }
        .map(\.own.serviceId))
    history = try context.database.consentHistory(accountId: account.id)
    serviceCursor.clamp(count: states.count, visible: serviceRows)
    // A change re-sorts the services (a first decision moves one up): the cursor follows it.
    if let selectedServiceId,
      let index = states.firstIndex(where: { $0.serviceId == selectedServiceId })
    {
      serviceCursor.move(
        by: index - serviceCursor.selected, count: states.count, visible: serviceRows)
    }
  }

  /// Reads the next page of matching accounts after the last one listed.
  private func loadMore(_ context: ConsoleContext) throws {
    guard hasMore, let last = results.last else { return }
    let page = try context.database.searchAccounts(
      prefix: query, limit: Self.resultLimit, after: last.externalId)
    results += page
    hasMore = page.count >= Self.resultLimit
  }

  // MARK: Keys

  func handle(_ key: Key, context: ConsoleContext) -> ScreenResponse {
    guard let action = keys.action(for: key) else { return .unhandled }
    do {
      switch action {
      case .search:
        return .overlay(.prompt(searchPrompt(context)))
      case .down: try move(context) { $0.move(by: 1, count: $1, visible: $2) }
      case .up: try move(context) { $0.move(by: -1, count: $1, visible: $2) }
      case .top: try move(context) { $0.jump(toEnd: false, count: $1, visible: $2) }
      case .bottom: try move(context) { $0.jump(toEnd: true, count: $1, visible: $2) }
      case .pageDown, .pageUp:
        guard isOpen else { return .handled }
        let page = max(1, historyRows - 1)
        historyScroll = max(0, historyScroll + (action == .pageDown ? page : -page))
      case .open:
        guard selectedAccount != nil else { return .status(.error("No account selected")) }
        isOpen = true
        listFocused = false
        serviceCursor = ListCursor()
        historyScroll = 0
        try loadAccount(context)
      case .back:
        guard isOpen else { return .unhandled }
        isOpen = false
      case .pane:
        guard isOpen else { return .unhandled }
        listFocused.toggle()
      case .record(let state):
        return recordChange(to: state, context: context)
      }
    } catch {
      return .status(.error("Could not read consent: \(error)"))
    }
    return .handled
  }

  /// Moves the service cursor of an open account, else the account cursor (then an open
  /// account follows it).
  private func move(
    _ context: ConsoleContext, _ body: (inout ListCursor, Int, Int) -> Void
  ) throws {
    if isOpen, !listFocused {
      body(&serviceCursor, states.count, serviceRows)
      return
    }
    let before = selectedAccount?.id
    // Within a screen of the end of what is read, read on (j, G and paging never stop at a
    // page boundary).
    if hasMore, cursor.selected + visibleRows >= results.count - 1 { try loadMore(context) }
    body(&cursor, results.count, visibleRows)
    if isOpen, selectedAccount?.id != before {
      historyScroll = 0
      try loadAccount(context)
    }
  }

  private func searchPrompt(_ context: ConsoleContext) -> Prompt {
    Prompt(
      label: "Search account (id or pseudonym prefix): ", initial: query,
      onEdit: { [weak self] text in self?.search(text, context: context) },
      submit: { [weak self] text in
        guard let self else { return nil }
        self.search(text, context: context)
        let more = self.hasMore ? "+" : ""
        let n = self.results.count
        // One match: the same Enter opens it.
        if n == 1 {
          self.isOpen = true
          self.listFocused = false
          self.serviceCursor = ListCursor()
          self.historyScroll = 0
          try? self.loadAccount(context)
          return .info("1 account matches \"\(self.query)\": open")
        }
        let matches = n == 1 ? "account matches" : "accounts match"
        return .info("\(n)\(more) \(matches) \"\(self.query)\"")
      })
  }

  private func search(_ text: String, context: ConsoleContext) {
    query = text.trimmingCharacters(in: .whitespaces)
    cursor = ListCursor()
    isOpen = false
    results = (try? context.database.searchAccounts(prefix: query, limit: Self.resultLimit)) ?? []
    hasMore = results.count >= Self.resultLimit
  }

  // MARK: Support changes

  /// Checks the change against the state machine and opens the confirmation dialog, or says
  /// why the change is not possible.
  private func recordChange(to next: ConsentState, context: ConsoleContext) -> ScreenResponse {
    guard isOpen, let account = selectedAccount, let service = selectedService else {
      return .status(.error("Open an account with Enter and pick a service first"))
    }
    do {
      _ = try service.state.transition(to: next)
    } catch {
      return .status(.error(Self.explain(error, on: service.serviceName)))
    }
    let terms: String
    do {
      terms = try context.database.latestTermsVersion(serviceId: service.serviceId) ?? "unknown"
    } catch {
      return .status(.error("Could not read the terms version: \(error)"))
    }
    let database = context.database
    let operatorName = context.operatorName
    let twin = TwinNotice.dialogLines(of: account, twins: twins)
    let dialog = Confirmation(
      title: "Record a change requested through support",
      lines: ["Account  \(account.externalId) (\(account.pseudonym))"] + twin + [
        "Service  \(service.serviceName) (\(service.serviceCode))",
        "Change   \(service.state.rawValue) → \(next.rawValue)",
        "Terms    \(terms) · source support · by \(operatorName)",
        "Recorded in the audit log.",
      ],
      reasonRequired: true,
      perform: { reason in
        try database.recordConsentChange(
          accountId: account.id, serviceId: service.serviceId, to: next, source: .support,
          termsVersion: terms, reason: reason, by: operatorName)
        return .info(
          "Recorded: \(account.externalId) \(service.serviceCode) is now \(next.rawValue)")
      })
    return .overlay(.confirm(dialog))
  }

  /// A status-bar sized reason: `Café Chat: not_asked cannot become withdrawn; only granted
  /// or refused`.
  static func explain(_ error: ConsentTransitionError, on service: String) -> String {
    if error.from == error.to {
      return "Not recorded: \(service) is already \(error.from.rawValue)"
    }
    let allowed = error.from.allowedNextStates.map(\.rawValue).sorted()
      .joined(separator: " or ")
    return "Not recorded: on \(service) \(error.from.rawValue) cannot become "
      + "\(error.to.rawValue); only \(allowed)"
  }

  // MARK: Drawing

  func draw(in area: Rect, on screen: inout Screen, context: ConsoleContext) {
    let theme = context.theme
    let listArea: Rect
    var detailArea: Rect?
    if !isOpen {
      listArea = area
    } else if area.width >= 110 {
      let split = area.splitLeft(max(40, area.width * 2 / 5))
      (listArea, detailArea) = (split.left, split.rest)
    } else {
      // Stacked: the list shrinks to the open account's row.
      let split = area.splitTop(area.height >= 34 ? 8 : 4)
      (listArea, detailArea) = (split.top, split.rest)
    }
    drawAccounts(in: listArea, on: &screen, theme: theme)
    if let detailArea { drawDetail(in: detailArea, on: &screen, theme: theme) }
  }

  private func drawAccounts(in rect: Rect, on screen: inout Screen, theme: Theme) {
    let more = hasMore ? "+" : ""
    let title =
      query.isEmpty
      ? "Accounts · \(results.count)\(more) · / to search"
      : "Accounts matching \"\(query)\" · \(results.count)\(more)"
    let focused = !isOpen || listFocused
    let inner = screen.box(rect, title: title, theme: theme, focused: focused)
    visibleRows = max(1, inner.height - 1)
    cursor.clamp(count: results.count, visible: visibleRows)
    let columns = [
      TableColumn("Account", .flex(min: 10)), TableColumn("Pseudonym", .fixed(14)),
      TableColumn("Since", .fixed(10)),
    ]
    let rows = results.map {
      TableRow(
        [
          twinIds.contains($0.id) ? $0.externalId + " (twin)" : $0.externalId, $0.pseudonym,
          CalendarDate(unixSeconds: $0.createdAt).description,
        ], role: twinIds.contains($0.id) ? .warning : .text)
    }
    if rows.isEmpty {
      screen.put("No account matches.", in: inner, row: 1, column: 1, style: theme[.muted])
    }
    TableView.draw(
      columns: columns, rows: rows, selected: cursor.selected, firstRow: cursor.top, in: inner,
      on: &screen, theme: theme, focused: focused)
  }

  private func drawDetail(in rect: Rect, on screen: inout Screen, theme: Theme) {
    guard let account = selectedAccount else { return }
    var inner = screen.box(
      rect, title: "Consent of \(account.externalId) · \(account.pseudonym)", theme: theme,
      focused: !listFocused)
    // A twin is said first, above the states, in words (not by colour alone).
    if let notice = TwinNotice.text(of: account, twins: twins), inner.height > 2 {
      let lines = TextWrap.lines(
        TwinNotice.label + ": " + notice, width: max(10, inner.width - 2)
      ).prefix(max(1, min(3, inner.height / 3)))
      for (row, line) in lines.enumerated() {
        screen.put(line, in: inner, row: row, column: 1, style: theme[.warning])
      }
      inner = inner.splitTop(lines.count + 1).rest
    }
    // The services table takes what the history (title, gap, lines) leaves, at least half.
    let historyWanted = history.count + 2
    let servicesHeight = max(inner.height / 2, inner.height - historyWanted)
    let (top, rest) = inner.splitTop(min(states.count + 1, max(3, servicesHeight)))
    serviceRows = max(1, top.height - 1)
    serviceCursor.clamp(count: states.count, visible: serviceRows)
    let columns = [
      TableColumn("Service", .flex(min: 10)), TableColumn("State", .fixed(10)),
      TableColumn("Since", .fixed(16)), TableColumn("Media/URLs", .fixed(10)),
    ]
    let rows = states.map { state in
      let may = state.state.mayShareVisualContentAndURLs
        && !blockedByTwin.contains(state.serviceId)
      return TableRow(
        [
          state.serviceName, state.state.label,
          state.updatedAt.map(Format.timestamp) ?? "—", may ? "may share" : "blocked",
        ], role: may ? .success : .warning)
    }
    TableView.draw(
      columns: columns, rows: rows, selected: serviceCursor.selected,
      firstRow: serviceCursor.top, in: top, on: &screen, theme: theme, focused: !listFocused)
    drawHistory(in: rest.splitTop(1).rest, on: &screen, theme: theme)
  }

  /// The history, newest first, each line `time  service  from → to  source · terms · by`.
  private func drawHistory(in rect: Rect, on screen: inout Screen, theme: Theme) {
    let lines = ConsentHistoryLine.lines(history, width: rect.width - 2)
    historyRows = max(1, rect.height - 1)
    historyScroll = min(historyScroll, max(0, lines.count - historyRows))
    let shown = lines.isEmpty ? "" : " · \(historyScroll + 1)–"
      + "\(min(lines.count, historyScroll + historyRows)) · PgDn/PgUp"
    let events = "\(history.count) event\(history.count == 1 ? "" : "s")"
    screen.put(
      "History · \(events), newest first\(shown)", in: rect, row: 0, column: 1,
      style: theme[.title])
    if lines.isEmpty {
      screen.put("Never asked on any service.", in: rect, row: 1, column: 1, style: theme[.muted])
    }
    let selectedId = selectedService?.serviceId
    for row in 0..<historyRows {
      let index = historyScroll + row
      guard index < lines.count else { break }
      let line = lines[index]
      let role: ThemeRole = line.serviceId == selectedId ? .text : .muted
      screen.put(line.text, in: rect, row: row + 1, column: 1, style: theme[role])
    }
  }
}

/// One line of the consent history timeline.
struct ConsentHistoryLine {
  let serviceId: Int64
  let text: String

  /// The history (oldest first) as lines, newest first, each with the state it came from and
  /// its reason wrapped to `width` columns under it.
  static func lines(_ history: [ConsentEventRow], width: Int = 80) -> [ConsentHistoryLine] {
    var previous: [Int64: ConsentState] = [:]
    var lines: [ConsentHistoryLine] = []
    lines.reserveCapacity(history.count)
    for event in history {
      let from = previous[event.serviceId] ?? .notAsked
      previous[event.serviceId] = event.state
      let text =
        "\(Format.timestamp(event.occurredAt))  \(event.serviceCode)  "
        + "\(from.rawValue) → \(event.state.rawValue)  \(event.source.rawValue)"
        + " · \(event.termsVersion)"
      // Who and why on their own lines under the change (newest first once reversed), so a
      // narrow pane never cuts them off.
      var who: [String] = []
      if let by = event.operatorName { who.append("by \(by)") }
      if let reason = event.reason, !reason.isEmpty { who.append("reason: " + reason) }
      if !who.isEmpty {
        let wrapped = TextWrap.lines(who.joined(separator: " · "), width: max(10, width - 4))
        for line in wrapped.reversed() {
          lines.append(ConsentHistoryLine(serviceId: event.serviceId, text: "    " + line))
        }
      }
      lines.append(ConsentHistoryLine(serviceId: event.serviceId, text: text))
    }
    return lines.reversed()
  }
}
