import Compliance
import Foundation
import Store
import Terminal

// MARK: - A service's detail panel (Services screen)

/// What the Services screen shows about one service: category and deadline, the draft, the
/// obligations, the provider's order-need decision, detection orders, the measures checklist
/// and past assessments.
struct ServicePanel {
  var detail: ServiceDetail
  var deadline: Deadline
  /// Order-need decisions, newest first.
  var flags: [OrderNeedFlagRow]
  /// Answers in the service's draft and the questions of the questionnaire, if a draft exists.
  var draft: (answered: Int, of: Int)?

  var service: ServiceRow { detail.service }
  /// Whether the latest decision flags a possible need for a detection order.
  var flagged: Bool { flags.first?.flagged ?? false }

  /// Reads a service's panel; nil when the service is gone.
  static func load(id: Int64, context: ConsoleContext) throws -> ServicePanel? {
    let database = context.database
    guard let detail = try database.serviceDetail(id: id) else { return nil }
    let latest = detail.assessments.first { $0.status == .completed }
    let deadline = Deadline(
      lastAssessed: latest?.completedOn, category: latest?.category, today: context.today,
      dueSoonDays: context.dueSoonDays)
    var draft: (Int, Int)?
    if let row = detail.assessments.first(where: { $0.status == .draft }) {
      if let methodology = try? context.methodology().questionnaire {
        let answers = AppDatabase.decodeAnswers(row.answersJSON, questionnaire: methodology)
        draft = (answers.count, methodology.questions.count)
      } else {
        draft = (0, 0)
      }
    }
    return ServicePanel(
      detail: detail, deadline: deadline, flags: try database.orderNeedFlags(serviceId: id),
      draft: draft)
  }

  // MARK: Lines

  /// The panel as lines; `measureCursor` highlights a measure and is returned as `focus`.
  func lines(today: CalendarDate, measureCursor: Int?) -> (
    lines: [(String, ThemeRole)], focus: Int?
  ) {
    var lines: [(String, ThemeRole)] = []
    var focus: Int?
    lines.append(("\(service.code) · \(service.kind.label)", .muted))
    if !service.description.isEmpty { lines.append((service.description, .text)) }
    lines.append(("", .text))
    appendCategory(to: &lines)
    appendOrders(to: &lines, today: today)
    lines.append(("", .text))
    let measures = detail.measures
    let done = measures.filter { $0.status == .done }.count
    let requirement = measures.first?.requirement.rawValue ?? "none yet"
    lines.append((
      "Measures (\(requirement)) · \(done) of \(measures.count) done · m edits", .title))
    if measures.isEmpty { lines.append(("  completing an assessment adds the checklist", .muted)) }
    for (n, measure) in measures.enumerated() {
      let selected = n == measureCursor
      if selected { focus = lines.count }
      lines.append((Self.measureLine(measure, today: today, selected: selected),
        selected ? .selection : Self.role(of: measure, today: today)))
    }
    lines.append(("", .text))
    lines.append(("Assessments", .title))
    if detail.assessments.isEmpty { lines.append(("  never assessed", .warning)) }
    for assessment in detail.assessments.prefix(5) {
      let category = assessment.category?.label ?? "—"
      let day = assessment.completedOn?.description ?? "draft     "
      let score = assessment.totalScore.map { ScoreResult.format($0) } ?? "—"
      lines.append(("  \(day)  \(category)  score \(score)  \(assessment.questionnaireId)", .text))
    }
    return (lines, focus)
  }

  private func appendCategory(to lines: inout [(String, ThemeRole)]) {
    let latest = detail.assessments.first { $0.status == .completed }
    if let latest, let category = latest.category, let day = latest.completedOn {
      let score = latest.totalScore.map { " (score \(ScoreResult.format($0)))" } ?? ""
      lines.append(("Risk category: \(category.label)\(score) · assessed \(day)", .title))
    } else {
      lines.append(("Risk category: never assessed", .warning))
    }
    let role: ThemeRole =
      switch deadline.state {
      case .overdue: .danger
      case .dueSoon, .neverAssessed: .warning
      case .ok: .text
      }
    let due = deadline.due.map { "next due \($0)" } ?? "no due date"
    lines.append((
      "\(deadline.state.marker) \(due) · \(DashboardScreen.stateText(deadline))", role))
    if let draft {
      lines.append(("Draft: \(draft.answered) of \(draft.of) answered · a resumes", .warning))
    } else {
      lines.append(("a starts an assessment", .muted))
    }
    if let category = latest?.category {
      let obligations = category.obligations
      lines.append((
        "Obligations: detection order "
          + (obligations.detectionOrderPossible ? "possible" : "none")
          + " · measures \(obligations.mitigation.rawValue) · sanctions "
          + obligations.sanctionLabel, .text))
    }
    if let decision = flags.first {
      let day = CalendarDate(unixSeconds: decision.decidedAt)
      let who = decision.operatorName.map { " by \($0)" } ?? ""
      lines.append((
        (decision.flagged ? "Order need FLAGGED" : "Order need not flagged")
          + " \(day)\(who): \(decision.reason)", decision.flagged ? .warning : .text))
    } else {
      lines.append(("Order need: no decision recorded · f records one", .muted))
    }
  }

  private func appendOrders(to lines: inout [(String, ThemeRole)], today: CalendarDate) {
    let orders = detail.orders.map(\.terms)
    let active = orders.filter { $0.isActive(on: today) }
    lines.append(("", .text))
    lines.append(("Detection orders in force · \(active.count)", .title))
    if active.isEmpty { lines.append(("  none", .muted)) }
    for order in active {
      let soon = order.isEndingSoon(on: today)
      let left = today.days(until: order.ends)
      lines.append((
        (soon ? "! " : "  ") + "\(order.reference) · \(order.authority) · \(order.starts) → "
          + "\(order.ends)" + (soon ? " · ends in \(left)d" : ""), soon ? .warning : .text))
      let e2ee = order.includesEndToEndEncrypted ? " · E2EE included" : ""
      lines.append(("    scope: \(order.scope.codes)\(e2ee)", .muted))
    }
    for order in orders where !order.isActive(on: today) {
      let when = order.ends < today ? "ended \(order.ends)" : "starts \(order.starts)"
      lines.append(("  \(order.reference) · \(when)", .muted))
    }
  }

  // MARK: Measures

  /// `[x]` done, `[~]` in progress, `[ ]` planned; `!` when past due and not done.
  static func measureLine(_ measure: MeasureRow, today: CalendarDate, selected: Bool) -> String {
    let box =
      switch measure.status {
      case .done: "[x]"
      case .inProgress: "[~]"
      case .planned: "[ ]"
      }
    let late = isLate(measure, today: today) ? "!" : " "
    let pointer = selected ? ">" : " "
    let due = measure.dueOn?.description ?? "no due    "
    let owner = measure.owner.isEmpty ? "no owner" : measure.owner
    let ownerCell = DisplayWidth.pad(DisplayWidth.truncate(owner, to: 10), to: 10)
    return "\(pointer)\(late)\(box) \(due) \(ownerCell) \(measure.title)"
  }

  static func isLate(_ measure: MeasureRow, today: CalendarDate) -> Bool {
    guard let due = measure.dueOn else { return false }
    return measure.status != .done && due < today
  }

  static func role(of measure: MeasureRow, today: CalendarDate) -> ThemeRole {
    if isLate(measure, today: today) { return .danger }
    return measure.status == .done ? .muted : .text
  }
}
