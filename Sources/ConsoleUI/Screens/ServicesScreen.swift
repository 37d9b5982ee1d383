import Compliance
import Store
import Terminal

// MARK: - 2 Services & risk assessments

/// Every service with its category and deadline. Enter opens a service's detail (deadline,
/// obligations, orders, measures); `a` starts or resumes its assessment in the wizard, `m`
/// edits its measures checklist and `f` records the provider's order-need decision.
final class ServicesScreen: ConsoleScreen {
  enum Action: Sendable { case down, up, top, bottom, open, back, assess, measures, flag }

  let title = "Services"
  private let keys = KeyTable<Action>(
    "Services",
    [
      KeyBinding([.character("j"), .down], .down, "Next service"),
      KeyBinding([.character("k"), .up], .up, "Previous service"),
      KeyBinding([.character("g"), .home], .top, "First service"),
      KeyBinding([.character("G"), .end], .bottom, "Last service"),
      KeyBinding([.enter], .open, "Open the service's details", hint: true),
      KeyBinding([.escape], .back, "Close the details"),
      KeyBinding([.character("a")], .assess, "Assess the service", hint: true),
      KeyBinding([.character("m")], .measures, "Edit the measures checklist"),
      KeyBinding(
        [.character("f")], .flag, "Flag (or withdraw) a possible need for a detection order"),
    ])
  private(set) var services: [ServiceOverview] = []
  private var cursor = ListCursor()
  private var visibleRows = 10
  private(set) var panel: ServicePanel?
  /// The open assessment, if any: it takes the whole screen.
  private(set) var wizard: AssessmentWizard?
  /// The highlighted measure while the checklist has the focus.
  var measureCursor: Int?

  var helpSection: HelpSection {
    if wizard != nil { return Self.wizardHelp }
    if measureCursor != nil { return Self.measureKeys.helpSection }
    return keys.helpSection
  }

  var hints: [(String, String)] {
    if wizard != nil { return Self.wizardKeys.hints }
    if measureCursor != nil { return Self.measureKeys.hints }
    return keys.hints
  }

  /// Answers of the open assessment changed since the last save.
  var unsavedWork: String? {
    guard let wizard, wizard.dirty else { return nil }
    return "Unsaved answers of \(wizard.service.name); s saves a draft."
  }

  /// The quit dialog's `s`: the open assessment as a draft.
  func saveWork(_ context: ConsoleContext) throws -> StatusMessage {
    guard let wizard else { return .info("Nothing to save") }
    let response = saveDraft(wizard, context: context)
    if case .status(let message) = response, message.role == .danger {
      throw SaveFailed(message: message.text)
    }
    if case .status(let message) = response { return message }
    return .info("Draft saved")
  }

  /// A save the quit dialog reports instead of quitting.
  struct SaveFailed: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
  }

  /// Digits go to a numeric question instead of switching screens.
  var capturesText: Bool { wizard?.capturesDigits ?? false }

  func reload(_ context: ConsoleContext) throws {
    services = try context.database.services(
      today: context.today, dueSoonDays: context.dueSoonDays)
    cursor.clamp(count: services.count, visible: visibleRows)
    if let open = panel?.service.id {
      panel = try ServicePanel.load(id: open, context: context)
      if let count = panel?.detail.measures.count, let at = measureCursor {
        measureCursor = count == 0 ? nil : min(at, count - 1)
      }
    }
  }

  /// The service under the cursor.
  private var selectedService: ServiceOverview? {
    cursor.selected < services.count ? services[cursor.selected] : nil
  }

  func handle(_ key: Key, context: ConsoleContext) -> ScreenResponse {
    if let wizard { return handleWizard(key, wizard, context: context) }
    if measureCursor != nil { return handleMeasures(key, context: context) }
    guard let action = keys.action(for: key) else { return .unhandled }
    switch action {
    case .down: cursor.move(by: 1, count: services.count, visible: visibleRows)
    case .up: cursor.move(by: -1, count: services.count, visible: visibleRows)
    case .top: cursor.jump(toEnd: false, count: services.count, visible: visibleRows)
    case .bottom: cursor.jump(toEnd: true, count: services.count, visible: visibleRows)
    case .open:
      return openPanel(context) ?? .handled
    case .back:
      if panel == nil { return .unhandled }
      panel = nil
      return .handled
    case .assess:
      return startAssessment(context)
    case .measures:
      if let failure = openPanel(context) { return failure }
      guard let panel, !panel.detail.measures.isEmpty else {
        return .status(.error("No measures yet: completing an assessment adds the checklist"))
      }
      measureCursor = 0
      return .handled
    case .flag:
      return flagDialog(context)
    }
    if panel != nil { return openPanel(context) ?? .handled }
    return .handled
  }

  /// Opens (or refreshes) the panel of the service under the cursor; a status on failure.
  @discardableResult
  func openPanel(_ context: ConsoleContext) -> ScreenResponse? {
    guard let service = selectedService else { return .status(.error("No service")) }
    do {
      panel = try ServicePanel.load(id: service.id, context: context)
      return nil
    } catch {
      return .status(.error("Could not open the service: \(error)"))
    }
  }

  /// Selects a service by id and opens its panel (the Dashboard's Enter).
  func show(serviceId: Int64, context: ConsoleContext) {
    guard let index = services.firstIndex(where: { $0.id == serviceId }) else { return }
    cursor.move(by: index - cursor.selected, count: services.count, visible: visibleRows)
    openPanel(context)
  }

  /// Closes the wizard, back to the service's panel.
  func closeWizard(_ context: ConsoleContext) {
    wizard = nil
    try? reload(context)
  }

  /// Opens the wizard for the selected service, resuming its draft if it has one.
  private func startAssessment(_ context: ConsoleContext) -> ScreenResponse {
    guard let service = selectedService else { return .status(.error("No service")) }
    do {
      let (questionnaire, source) = try context.methodology()
      guard let row = try context.database.serviceDetail(id: service.id)?.service else {
        return .status(.error("The service is gone"))
      }
      let draft = try context.database.assessmentDraft(
        serviceId: service.id, questionnaire: questionnaire)
      let wizard = AssessmentWizard(
        questionnaire: questionnaire, source: source, service: row,
        answers: draft?.answers ?? [:], resumeAt: draft?.currentQuestion)
      self.wizard = wizard
      openPanel(context)
      if let draft {
        return .status(.info(
          "Resumed the draft: \(draft.answers.count) of \(wizard.questions.count) answered"))
      }
      return .status(.info("New assessment with \(questionnaire.id)"))
    } catch {
      return .status(.error("Cannot start the assessment: \(error)"))
    }
  }

  // MARK: Drawing

  func draw(in area: Rect, on screen: inout Screen, context: ConsoleContext) {
    let theme = context.theme
    if let wizard {
      wizard.draw(in: area, on: &screen, theme: theme)
      return
    }
    let listArea: Rect
    let detailArea: Rect?
    if panel != nil {
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
      listArea, title: "Services · \(services.count)", theme: theme, focused: panel == nil)
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
          deadline.category?.label ?? "—",
          service.latestScore.map { String(Int($0.rounded())) } ?? "—",
          deadline.lastAssessed?.description ?? "—", deadline.due?.description ?? "—",
          DashboardScreen.stateText(deadline), Format.count(service.openItemCount),
        ], role: role)
    }
    visibleRows = max(1, inner.height - 1)
    cursor.clamp(count: rows.count, visible: visibleRows)
    TableView.draw(
      columns: columns, rows: rows, selected: cursor.selected, firstRow: cursor.top, in: inner,
      on: &screen, theme: theme, focused: panel == nil)
    if let panel, let detailArea {
      drawPanel(panel, in: detailArea, on: &screen, context: context)
    }
  }

  private func drawPanel(
    _ panel: ServicePanel, in rect: Rect, on screen: inout Screen, context: ConsoleContext
  ) {
    let theme = context.theme
    let title = measureCursor == nil ? panel.service.name : "\(panel.service.name) · measures"
    let inner = screen.box(rect, title: title, theme: theme, focused: true)
    let (raw, rawFocus) = panel.lines(today: context.today, measureCursor: measureCursor)
    let (lines, focus) = TextWrap.styled(raw, width: inner.width - 2, focus: rawFocus)
    var first = 0
    if let focus, focus >= inner.height {
      first = min(focus - inner.height / 2, max(0, lines.count - inner.height))
    }
    for row in 0..<inner.height where first + row < lines.count {
      let (text, role) = lines[first + row]
      if role == .selection {
        screen.fill(
          Rect(x: inner.x, y: inner.y + row, width: inner.width, height: 1),
          style: theme[.selection])
      }
      screen.put(text, in: inner, row: row, column: 1, style: theme[role])
    }
  }
}
