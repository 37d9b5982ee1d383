import Compliance
import Foundation
import Store
import Terminal

// MARK: - 3 Review queue

/// The review queue: open flagged items by priority then age, paged by keyset.
final class QueueScreen: ConsoleScreen {
  enum Action: Sendable { case down, up, pageDown, pageUp, top, bottom, open, back, kind }

  let title = "Review"
  private let keys = KeyTable<Action>(
    "Review queue",
    [
      KeyBinding([.character("j"), .down], .down, "Next item"),
      KeyBinding([.character("k"), .up], .up, "Previous item"),
      KeyBinding([.control("d"), .pageDown], .pageDown, "Page down"),
      KeyBinding([.control("u"), .pageUp], .pageUp, "Page up"),
      KeyBinding([.character("g"), .home], .top, "First item"),
      KeyBinding([.character("G"), .end], .bottom, "Last item"),
      KeyBinding([.enter], .open, "Open the item", hint: true),
      KeyBinding([.escape], .back, "Close the item"),
      KeyBinding([.character("f")], .kind, "Filter by kind: all → known → new → url", hint: true),
    ])
  private var window = KeysetWindow<QueueItem>(pageSize: 100, capacity: 400)
  private var filter = QueueFilter()
  private var total = 0
  private var visibleRows = 10
  private var openItem: QueueItem?
  private var now: Int64 = 0
  private var serviceIds: [String: Int64] = [:]

  var helpSection: HelpSection {
    var section = keys.helpSection
    section = HelpSection(
      title: section.title,
      entries: section.entries + [(":filter kind=K service=CODE", "Filter; :filter clears")])
    return section
  }
  var hints: [(String, String)] { keys.hints }

  func reload(_ context: ConsoleContext) throws {
    now = context.database.clock()
    let database = context.database
    total = try database.queueCount(filter: filter)
    let services = try database.services(today: context.today)
    serviceIds = Dictionary(services.map { ($0.code, $0.id) }, uniquingKeysWith: { a, _ in a })
    let position = window.selectedPosition
    window.reset(firstPage: try database.queuePage(filter: filter, after: nil, limit: 100))
    if position > 0 {
      try window.move(
        by: min(position, total - 1), visible: visibleRows,
        after: { try database.queuePage(filter: filter, after: $0.cursor, limit: 100) },
        before: { try database.queuePage(filter: filter, before: $0.cursor, limit: 100) })
    }
  }

  func handle(_ key: Key, context: ConsoleContext) -> ScreenResponse {
    guard let action = keys.action(for: key) else { return .unhandled }
    let database = context.database
    let filter = self.filter
    let after = { (row: QueueItem) in
      try database.queuePage(filter: filter, after: row.cursor, limit: 100)
    }
    let before = { (row: QueueItem) in
      try database.queuePage(filter: filter, before: row.cursor, limit: 100)
    }
    do {
      switch action {
      case .down: try window.move(by: 1, visible: visibleRows, after: after, before: before)
      case .up: try window.move(by: -1, visible: visibleRows, after: after, before: before)
      case .pageDown:
        try window.move(by: visibleRows, visible: visibleRows, after: after, before: before)
      case .pageUp:
        try window.move(by: -visibleRows, visible: visibleRows, after: after, before: before)
      case .top:
        window.reset(firstPage: try database.queuePage(filter: filter, after: nil, limit: 100))
      case .bottom:
        let end = QueueCursor(priority: .max, createdAt: .max, id: .max)
        let last = try database.queuePage(filter: filter, before: end, limit: 100)
        window.reset(lastPage: last, total: total)
        window.keepVisible(visibleRows)
      case .open:
        openItem = window.selectedRow
        return .handled
      case .back:
        if openItem == nil { return .unhandled }
        openItem = nil
        return .handled
      case .kind:
        let order: [FlagKind?] = [nil, .knownMatch, .newMaterial, .urlMatch]
        let index = order.firstIndex(of: self.filter.kind) ?? 0
        self.filter.kind = order[(index + 1) % order.count]
        try reload(context)
        return .status(.info("Showing \(self.filter.kind?.rawValue ?? "all kinds")"))
      }
    } catch {
      return .status(.error("Could not read the queue: \(error)"))
    }
    if openItem != nil { openItem = window.selectedRow }
    return .handled
  }

  func command(_ words: [String], context: ConsoleContext) -> ScreenResponse? {
    guard words.first == "filter" else { return nil }
    var next = QueueFilter()
    for word in words.dropFirst() {
      let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
      guard parts.count == 2 else { return .status(.error("filter: expected key=value")) }
      switch parts[0] {
      case "kind":
        guard let kind = try? FlagKind(code: parts[1]) else {
          return .status(.error("filter: kind is known_match, new_material or url_match"))
        }
        next.kind = kind
      case "service":
        guard let id = serviceIds[parts[1]] else {
          return .status(.error("filter: no service with code \(parts[1])"))
        }
        next.serviceId = id
      case "bank":
        next.bank = parts[1]
      default:
        return .status(.error("filter: unknown key \(parts[0]); use kind, service or bank"))
      }
    }
    filter = next
    do {
      try reload(context)
    } catch {
      return .status(.error("Could not filter: \(error)"))
    }
    return .status(.info("\(Format.count(total)) items match"))
  }

  // MARK: Drawing

  func draw(in area: Rect, on screen: inout Screen, context: ConsoleContext) {
    let theme = context.theme
    var listArea = area
    var detailArea: Rect?
    if openItem != nil {
      if area.width >= 110 {
        let split = area.splitLeft(area.width * 3 / 5)
        listArea = split.left
        detailArea = split.rest
      } else {
        let split = area.splitTop(max(6, area.height / 2))
        listArea = split.top
        detailArea = split.rest
      }
    }
    let position = total == 0 ? "0" : "\(Format.count(window.selectedPosition + 1))"
    let filterText = filter.kind.map { " · \($0.rawValue)" } ?? ""
    let title = "Review queue\(filterText) · \(position) of \(Format.count(total))"
    let inner = screen.box(listArea, title: title, theme: theme, focused: openItem == nil)
    visibleRows = max(1, inner.height - 1)
    window.keepVisible(visibleRows)
    let columns = [
      TableColumn("P", .fixed(1)), TableColumn("Kind", .fixed(5)),
      TableColumn("Evidence", .flex(min: 14)), TableColumn("Service", .flex(min: 8)),
      TableColumn("Account", .fixed(14)), TableColumn("Age", .fixed(4), alignRight: true),
      TableColumn("State", .fixed(9)),
    ]
    let rows = window.rows.map { item in
      TableRow(
        [
          String(item.priority), item.kind.label, Self.evidence(item), item.serviceName,
          item.accountPseudonym ?? "—", Format.age(seconds: now - item.createdAt),
          Self.stateLabel(item, now: now),
        ], role: item.priority == 1 ? .warning : .text)
    }
    if rows.isEmpty {
      screen.put("The queue is empty.", in: inner, row: 1, column: 1, style: theme[.muted])
    }
    TableView.draw(
      columns: columns, rows: rows, selected: window.selected, firstRow: window.top, in: inner,
      on: &screen, theme: theme, focused: openItem == nil)
    if let openItem, let detailArea {
      drawItem(openItem, in: detailArea, on: &screen, theme: theme)
    }
  }

  /// `escalated`, `@alice` while another operator's claim is live, or `open`.
  static func stateLabel(_ item: QueueItem, now: Int64) -> String {
    if item.state == .escalated { return "escalated" }
    if let owner = item.claimedBy, let expiry = item.claimExpiresAt, expiry > now {
      return "@\(owner)"
    }
    return "open"
  }

  static func evidence(_ item: QueueItem) -> String {
    switch item.kind {
    case .knownMatch:
      let distance = item.distance.map { " d=\($0)" } ?? ""
      return "\(item.bank ?? "?")\(distance) \(item.label ?? "")"
    case .newMaterial:
      let score = item.score.map { String(format: "%.2f", $0) } ?? "?"
      return "\(item.model ?? "model") \(score)"
    case .urlMatch:
      return item.url ?? ""
    }
  }

  private func drawItem(_ item: QueueItem, in rect: Rect, on screen: inout Screen, theme: Theme) {
    let inner = screen.box(rect, title: "Item \(item.id)", theme: theme, focused: true)
    let lines: [(String, String)] = [
      ("Kind", item.kind.rawValue), ("State", item.state.rawValue),
      ("Priority", String(item.priority)), ("Service", item.serviceName),
      ("Account", item.accountPseudonym ?? "—"), ("Evidence", Self.evidence(item)),
      ("Flagged", Format.timestamp(item.createdAt)),
      ("Media", item.mediaPath ?? "—"),
    ]
    for (row, line) in lines.enumerated() where row < inner.height {
      screen.put(line.0, in: inner, row: row, column: 1, style: theme[.muted])
      screen.put(line.1, in: inner, row: row, column: 11, style: theme[.text])
    }
  }
}
