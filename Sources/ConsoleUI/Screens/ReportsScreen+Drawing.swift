import Compliance
import Store
import Terminal

// MARK: - Drawing the Reports & audit screen

extension ReportsScreen {
  func draw(in area: Rect, on screen: inout Screen, context: ConsoleContext) {
    let theme = context.theme
    let wanted = max(5, reports.rows.count + 3)
    let (top, bottom) = area.splitTop(min(wanted, max(5, area.height * 2 / 5)))
    drawReports(in: top, on: &screen, theme: theme)
    if showDetails, pane == .reports, let report = reports.selectedRow {
      drawReportDetails(report, in: bottom, on: &screen, context: context)
    } else {
      drawAuditLog(in: bottom, on: &screen, theme: theme)
    }
  }

  private func drawReports(in rect: Rect, on screen: inout Screen, theme: Theme) {
    let position = reportTotal == 0 ? "0" : Format.count(reports.selectedPosition + 1)
    let ready = readyCount > 0 ? " · \(Format.count(readyCount)) ready (x exports)" : ""
    let inner = screen.box(
      rect, title: "Reports · \(position) of \(Format.count(reportTotal))\(ready)", theme: theme,
      focused: pane == .reports)
    visibleReports = max(1, inner.height - 1)
    reports.keepVisible(visibleReports)
    let columns = [
      TableColumn("Case", .fixed(16)), TableColumn("State", .fixed(8)),
      TableColumn("Kind", .fixed(12)), TableColumn("Created", .fixed(10)),
      TableColumn("Next step", .flex(min: 12)),
    ]
    let rows = reports.rows.map { summary in
      let report = summary.listing
      let next = Self.nextStep(report)
      return TableRow(
        [
          report.caseRef, report.state.rawValue, report.kind.rawValue,
          CalendarDate(unixSeconds: report.createdAt).description, next.text,
        ], role: next.role)
    }
    if rows.isEmpty {
      screen.put(
        "No report yet: confirming an item in Review makes one.", in: inner, row: 1, column: 1,
        style: theme[.muted])
    }
    TableView.draw(
      columns: columns, rows: rows, selected: reports.selected, firstRow: reports.top,
      in: inner, on: &screen, theme: theme, focused: pane == .reports)
  }

  /// What the report waits for, with the key that does it.
  static func nextStep(_ report: ReportListing) -> (text: String, role: ThemeRole) {
    if report.purgedAt != nil { return ("purged (retention)", .muted) }
    switch report.state {
    case .ready: return ("export (x)", .warning)
    case .sent: return ("awaiting the verdict (v)", .text)
    case .founded: return ("reveal: request r · approve a · o", .accent)
    case .revealed: return ("revealed", .muted)
    case .closed:
      if report.notifyDueAt != nil, report.notifiedAt == nil {
        return ("notify the user (u)", .warning)
      }
      return ("closed", .muted)
    }
  }

  private func drawReportDetails(
    _ summary: ReportSummary, in rect: Rect, on screen: inout Screen, context: ConsoleContext
  ) {
    let theme = context.theme
    let report = summary.listing
    let inner = screen.box(
      rect, title: "Report \(report.caseRef) · Esc closes", theme: theme, focused: false)
    func time(_ at: Int64?) -> String { at.map(Format.timestamp) ?? "—" }
    var lines: [(String, String, ThemeRole)] = [
      ("Case", "\(report.caseRef) · \(report.state.rawValue) · \(report.kind.rawValue)", .text),
      ("Account", summary.accountPseudonym ?? "—", .text),
      ("Items", report.itemIds.map(String.init).joined(separator: ", "), .text),
      ("Created", time(report.createdAt) + " · sent " + time(report.sentAt), .text),
      ("Verdict", (report.verdict?.rawValue ?? "—") + " · " + time(report.verdictAt), .text),
    ]
    if let followUp {
      let requests = followUp.requests.map { "\($0.operatorName) \(Format.timestamp($0.at))" }
      let approvals = followUp.approvals.map { "\($0.operatorName) \(Format.timestamp($0.at))" }
      if !requests.isEmpty || !approvals.isEmpty || report.state == .founded {
        lines.append(
          ("Reveal", "requested by " + (requests.isEmpty ? "—" : requests.joined(separator: ", "))
            + " · approved by " + (approvals.isEmpty ? "—" : approvals.joined(separator: ", ")),
            .text))
      }
    }
    if report.revealedAt != nil { lines.append(("Revealed", time(report.revealedAt), .text)) }
    if report.notifyDueAt != nil {
      lines.append(
        ("Notify", "due " + time(report.notifyDueAt) + " · notified " + time(report.notifiedAt),
          report.notifiedAt == nil ? .warning : .text))
    }
    let next = Self.nextStep(report)
    lines.append(("Next", next.text, next.role))
    var row = 0
    for line in lines where row < inner.height {
      screen.put(line.0, in: inner, row: row, column: 1, style: theme[.muted])
      screen.put(line.1, in: inner, row: row, column: 11, style: theme[line.2])
      row += 1
    }
    guard let followUp, row + 2 < inner.height else { return }
    row += 1
    screen.put("Audit events of this case", in: inner, row: row, column: 1, style: theme[.title])
    row += 1
    let room = inner.height - row
    for event in followUp.events.suffix(room) {
      let text = "\(Format.timestamp(event.at))  \(event.operatorName)  \(event.action)"
      screen.put(text, in: inner, row: row, column: 1, style: theme[.text])
      row += 1
    }
  }

  private func drawAuditLog(in rect: Rect, on screen: inout Screen, theme: Theme) {
    let filterText = actionPrefix.map { " · \($0)…" } ?? ""
    let inner = screen.box(
      rect, title: "Audit log (append-only, hash-chained)\(filterText)", theme: theme,
      focused: pane == .audit)
    let columns = [
      TableColumn("#", .fixed(6), alignRight: true), TableColumn("When", .fixed(16)),
      TableColumn("Who", .fixed(8)), TableColumn("Action", .fixed(21)),
      TableColumn("Entity", .flex(min: 12)),
    ]
    let rows = events.rows.map {
      TableRow(
        [String($0.id), Format.timestamp($0.at), $0.operatorName, $0.action, Self.entity($0)])
    }
    var listArea = inner
    if showDetails, pane == .audit, let event = events.selectedRow, inner.height > 8 {
      let split = inner.splitTop(inner.height - 7)
      listArea = split.top
      drawEventDetails(event, in: split.rest, on: &screen, theme: theme)
    }
    if rows.isEmpty {
      screen.put("No audit event matches.", in: listArea, row: 1, column: 1, style: theme[.muted])
    }
    visibleEvents = max(1, listArea.height - 1)
    events.keepVisible(visibleEvents)
    TableView.draw(
      columns: columns, rows: rows, selected: events.selected, firstRow: events.top,
      in: listArea, on: &screen, theme: theme, focused: pane == .audit)
  }

  /// `CSAR-2026-100006` for a report's events, `item 114 · CSAR-2026-100009` for an item
  /// that is part of a report, otherwise the entity and its id.
  static func entity(_ event: AuditEventRow) -> String {
    let name = event.entity == "flagged_item" ? "item" : event.entity
    guard let ref = event.caseRef else { return "\(name) \(event.entityId)" }
    return event.entity == "report" ? ref : "\(name) \(event.entityId) · \(ref)"
  }

  /// The selected event's entity, before/after and its place in the hash chain.
  private func drawEventDetails(
    _ event: AuditEventRow, in rect: Rect, on screen: inout Screen, theme: Theme
  ) {
    let inner = screen.box(rect, title: "Event \(event.id)", theme: theme)
    // Details wrap over the rows the entity and the hashes leave free.
    let width = max(10, inner.width - 12)
    var details: [String] = []
    var rest = Substring(event.detailsJSON)
    while !rest.isEmpty, details.count < max(1, inner.height - 3) {
      details.append(String(rest.prefix(width)))
      rest = rest.dropFirst(width)
    }
    let lines: [(String, String)] =
      [("Entity", Self.entity(event))]
      + details.enumerated().map { ($0.offset == 0 ? "Details" : "", $0.element) }
      + [("Hash", event.hash), ("Previous", event.prevHash)]
    for (row, line) in lines.enumerated() where row < inner.height {
      screen.put(line.0, in: inner, row: row, column: 1, style: theme[.muted])
      screen.put(line.1, in: inner, row: row, column: 11, style: theme[.text])
    }
  }
}
