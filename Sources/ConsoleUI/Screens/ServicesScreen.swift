import Compliance
import Store
import Terminal

// MARK: - 2 Services & risk assessments

/// Every service with its category and deadline; Enter opens its assessments, orders, measures.
final class ServicesScreen: ConsoleScreen {
  enum Action: Sendable { case down, up, top, bottom, open, back }

  let title = "Services"
  private let keys = KeyTable<Action>(
    "Services",
    [
      KeyBinding([.character("j"), .down], .down, "Next service"),
      KeyBinding([.character("k"), .up], .up, "Previous service"),
      KeyBinding([.character("g"), .home], .top, "First service"),
      KeyBinding([.character("G"), .end], .bottom, "Last service"),
      KeyBinding([.enter], .open, "Open the service's details", hint: true),
      KeyBinding([.escape], .back, "Close the details", hint: true),
    ])
  private var services: [ServiceOverview] = []
  private var cursor = ListCursor()
  private var visibleRows = 10
  private var detail: ServiceDetail?

  var helpSection: HelpSection { keys.helpSection }
  var hints: [(String, String)] { keys.hints }

  func reload(_ context: ConsoleContext) throws {
    services = try context.database.services(today: context.today)
    cursor.clamp(count: services.count, visible: visibleRows)
    if let open = detail?.service.id {
      detail = try context.database.serviceDetail(id: open)
    }
  }

  func handle(_ key: Key, context: ConsoleContext) -> ScreenResponse {
    guard let action = keys.action(for: key) else { return .unhandled }
    switch action {
    case .down: cursor.move(by: 1, count: services.count, visible: visibleRows)
    case .up: cursor.move(by: -1, count: services.count, visible: visibleRows)
    case .top: cursor.jump(toEnd: false, count: services.count, visible: visibleRows)
    case .bottom: cursor.jump(toEnd: true, count: services.count, visible: visibleRows)
    case .open:
      guard cursor.selected < services.count else { return .handled }
      do {
        detail = try context.database.serviceDetail(id: services[cursor.selected].id)
      } catch {
        return .status(.error("Could not open the service: \(error)"))
      }
    case .back:
      if detail == nil { return .unhandled }
      detail = nil
    }
    if detail != nil, action != .open, action != .back, cursor.selected < services.count {
      detail = try? context.database.serviceDetail(id: services[cursor.selected].id)
    }
    return .handled
  }

  // MARK: Drawing

  func draw(in area: Rect, on screen: inout Screen, context: ConsoleContext) {
    let theme = context.theme
    let listArea: Rect
    let detailArea: Rect?
    if detail != nil {
      if area.width >= 110 {
        let split = area.splitLeft(area.width / 2)
        (listArea, detailArea) = (split.left, split.rest)
      } else {
        let split = area.splitTop(max(6, area.height / 3))
        (listArea, detailArea) = (split.top, split.rest)
      }
    } else {
      (listArea, detailArea) = (area, nil)
    }
    let inner = screen.box(
      listArea, title: "Services · \(services.count)", theme: theme, focused: detail == nil)
    let columns = [
      TableColumn("", .fixed(2)), TableColumn("Service", .flex(min: 11)),
      TableColumn("Kind", .flex(min: 7)), TableColumn("Risk", .fixed(6)),
      TableColumn("Score", .fixed(5), alignRight: true), TableColumn("Assessed", .fixed(10)),
      TableColumn("Due", .fixed(10)), TableColumn("State", .fixed(14)),
      TableColumn("Open", .fixed(5), alignRight: true),
    ]
    let rows = services.map { service -> TableRow in
      let deadline = service.deadline
      let role: ThemeRole = deadline.state == .overdue ? .danger : .text
      return TableRow(
        [
          deadline.state.marker, service.name, service.kind.label,
          deadline.category?.label ?? "—", service.latestScore.map { String(Int($0.rounded())) } ?? "—",
          deadline.lastAssessed?.description ?? "—", deadline.due?.description ?? "—",
          DashboardScreen.stateText(deadline), Format.count(service.openItemCount),
        ], role: role)
    }
    visibleRows = max(1, inner.height - 1)
    cursor.clamp(count: rows.count, visible: visibleRows)
    TableView.draw(
      columns: columns, rows: rows, selected: cursor.selected, firstRow: cursor.top, in: inner,
      on: &screen, theme: theme, focused: detail == nil)
    if let detail, let detailArea {
      drawDetail(detail, in: detailArea, on: &screen, theme: theme)
    }
  }

  private func drawDetail(
    _ detail: ServiceDetail, in rect: Rect, on screen: inout Screen, theme: Theme
  ) {
    let inner = screen.box(rect, title: detail.service.name, theme: theme, focused: true)
    var lines: [(String, ThemeRole)] = []
    lines.append(("\(detail.service.code) · \(detail.service.kind.label)", .muted))
    if !detail.service.description.isEmpty { lines.append((detail.service.description, .text)) }
    lines.append(("", .text))
    lines.append(("Assessments", .title))
    if detail.assessments.isEmpty { lines.append(("  never assessed", .warning)) }
    for assessment in detail.assessments.prefix(5) {
      let category = assessment.category?.label ?? "—"
      let day = assessment.completedOn?.description ?? "draft"
      let score = assessment.totalScore.map { String(Int($0.rounded())) } ?? "—"
      lines.append(("  \(day)  \(category)  score \(score)  \(assessment.questionnaireId)", .text))
    }
    if let category = detail.assessments.first(where: { $0.category != nil })?.category {
      let obligations = category.obligations
      lines.append(("", .text))
      lines.append(("Obligations (\(category.label))", .title))
      lines.append((
        "  detection order: " + (obligations.detectionOrderPossible ? "possible" : "none"),
        .text))
      lines.append(("  mitigation measures: \(obligations.mitigation.rawValue)", .text))
      lines.append(("  sanctions: \(obligations.sanctionLabel)", .text))
    }
    lines.append(("", .text))
    lines.append(("Detection orders", .title))
    if detail.orders.isEmpty { lines.append(("  none", .muted)) }
    for order in detail.orders.map(\.terms) {
      lines.append((
        "  \(order.reference) · \(order.authority) · \(order.starts) → \(order.ends)", .text))
      let e2ee = order.includesEndToEndEncrypted ? " · E2EE included" : ""
      lines.append(("    scope: \(order.scope.codes)\(e2ee)", .muted))
    }
    for (row, line) in lines.enumerated() where row < inner.height {
      screen.put(line.0, in: inner, row: row, column: 1, style: theme[line.1])
    }
  }
}
