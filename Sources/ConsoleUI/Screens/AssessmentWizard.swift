import Compliance
import Store
import Terminal

// MARK: - The assessment wizard (Services screen)

/// Steps an operator through a questionnaire for one service: one question per page, a review
/// page of every answer, then the result. Holds the answers in memory until `s` saves a draft
/// or the operator confirms the assessment; ``ServicesScreen`` drives it and draws it.
final class AssessmentWizard {
  /// Which page the wizard shows.
  enum Page: Equatable {
    case question
    case review
    case result
  }

  let questionnaire: Questionnaire
  /// The questionnaire's text (its checksum is recorded with the version).
  let source: String
  let service: ServiceRow
  /// Confirmed answers.
  private(set) var answers: [String: Answer]
  private(set) var index = 0
  /// Highlighted option (choice questions).
  private(set) var cursor = 0
  /// Options selected on the current page but not yet confirmed.
  private(set) var selection: [String] = []
  /// Digits typed on a numeric page.
  private(set) var digits = ""
  private(set) var page = Page.question
  /// The current question was opened from the review page (Enter goes back there).
  private(set) var editingFromReview = false
  private(set) var reviewCursor = 0
  /// Changed since the last save.
  private(set) var dirty = false
  /// A problem on the current page (e.g. Enter with nothing chosen).
  var message: String?
  /// Set once the assessment is completed.
  private(set) var result: ScoreResult?
  private(set) var completedOn: CalendarDate?

  init(
    questionnaire: Questionnaire, source: String, service: ServiceRow,
    answers: [String: Answer] = [:], resumeAt: String? = nil
  ) {
    self.questionnaire = questionnaire
    self.source = source
    self.service = service
    self.answers = answers
    let questions = questionnaire.questions
    if let resumeAt, let position = questions.firstIndex(where: { $0.id == resumeAt }) {
      index = position
    } else {
      index = questions.firstIndex { answers[$0.id] == nil } ?? 0
    }
    loadPage()
  }

  var questions: [Question] { questionnaire.questions }
  var question: Question { questions[index] }
  var answeredCount: Int { questions.filter { answers[$0.id] != nil }.count }
  var isComplete: Bool { answeredCount == questions.count }
  /// Whether typed digits go to the wizard (numeric question pages).
  var capturesDigits: Bool { page == .question && question.kind == .numeric }

  // MARK: Moving between questions

  /// Shows the current question's confirmed answer as the page's starting state.
  private func loadPage() {
    message = nil
    selection = []
    digits = ""
    cursor = 0
    let q = question
    switch answers[q.id] {
    case .choice(let id)?:
      selection = [id]
      cursor = q.options.firstIndex { $0.id == id } ?? 0
    case .choices(let ids)?:
      selection = ids
    case .number(let n)?:
      digits = n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    case nil:
      break
    }
  }

  func go(to newIndex: Int) {
    editingFromReview = false
    index = min(max(0, newIndex), questions.count - 1)
    page = .question
    loadPage()
  }

  func next() {
    if index + 1 < questions.count { go(to: index + 1) } else { openReview() }
  }

  func previous() { go(to: index - 1) }

  /// Tab / Shift-Tab: keeps an explicit choice made on the page, then moves one question.
  func step(by delta: Int) {
    if page == .review {
      if delta < 0 { go(to: questions.count - 1) }
      return
    }
    commitPending()
    if delta > 0 { next() } else { previous() }
  }

  /// Stores the page's explicit, valid choice (selected options or typed digits), if any.
  func commitPending() {
    guard page == .question else { return }
    let explicit: Answer?
    switch question.kind {
    case .numeric: explicit = Double(digits).map { .number($0) }
    case .multiple:
      explicit = selection.isEmpty && answers[question.id] == nil ? nil : .choices(selection)
    case .single, .yesNo: explicit = selection.first.map { .choice($0) }
    }
    guard let explicit, answers[question.id] != explicit,
      (try? questionnaire.evaluate(explicit, for: question)) != nil
    else { return }
    answers[question.id] = explicit
    dirty = true
  }

  /// The first question without an answer, if any.
  var firstUnanswered: Int? { questions.firstIndex { answers[$0.id] == nil } }

  func openReview() {
    editingFromReview = false
    page = .review
    reviewCursor = min(reviewCursor, questions.count - 1)
    message = nil
  }

  // MARK: Answering

  func moveCursor(by delta: Int) {
    guard question.kind != .numeric else { return }
    cursor = min(max(0, cursor + delta), max(0, question.options.count - 1))
  }

  /// Space: toggles the highlighted option (multiple choice) or selects it.
  func toggle() {
    message = nil
    guard question.kind != .numeric, cursor < question.options.count else { return }
    let id = question.options[cursor].id
    if question.kind == .multiple {
      if let at = selection.firstIndex(of: id) {
        selection.remove(at: at)
      } else {
        selection.append(id)
        let order = question.options.map(\.id)
        selection.sort { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! }
      }
    } else {
      selection = [id]
    }
  }

  /// A digit or Backspace on a numeric page.
  func type(_ key: Key) {
    message = nil
    switch key {
    case .character(let c) where c.isASCII && c.isNumber:
      if digits.count < 12 { digits.append(c) }
    case .backspace:
      if !digits.isEmpty { digits.removeLast() }
    default:
      break
    }
  }

  /// The answer the page would confirm, or nil with a message.
  private func pageAnswer() -> Answer? {
    switch question.kind {
    case .numeric:
      guard let n = Double(digits) else {
        message = "Type a number, then Enter"
        return nil
      }
      return .number(n)
    case .multiple:
      return .choices(selection)
    case .single, .yesNo:
      if let id = selection.first { return .choice(id) }
      guard cursor < question.options.count else { return nil }
      return .choice(question.options[cursor].id)
    }
  }

  /// Enter: confirms the page's answer and goes to the next question (or the review page).
  func confirm() {
    guard let answer = pageAnswer() else { return }
    do {
      _ = try questionnaire.evaluate(answer, for: question)
    } catch {
      message = error.message
      return
    }
    if answers[question.id] != answer {
      answers[question.id] = answer
      dirty = true
    }
    if editingFromReview { openReview() } else { next() }
  }

  /// Enter on the review page: changes that answer; confirming it returns to the review.
  func edit(at position: Int) {
    go(to: position)
    editingFromReview = true
  }

  /// The band a numeric page's digits fall in, for live feedback.
  var typedBand: NumericBand? {
    Double(digits).flatMap { question.band(for: $0) }
  }

  // MARK: Review, saving and completing

  func moveReview(by delta: Int) {
    reviewCursor = min(max(0, reviewCursor + delta), questions.count - 1)
  }

  func markSaved() { dirty = false }

  /// Scores the answers (throws naming the first unanswered question).
  func score() throws(AnswerError) -> ScoreResult {
    try questionnaire.score(answers)
  }

  func complete(result: ScoreResult, on day: CalendarDate) {
    self.result = result
    completedOn = day
    page = .result
    dirty = false
  }

  /// Words for an answer.
  func label(of answer: Answer?, for question: Question) -> String {
    guard let answer else { return "— not answered" }
    return (try? questionnaire.evaluate(answer, for: question).label) ?? "—"
  }
}

// MARK: - Drawing

extension AssessmentWizard {
  func draw(in area: Rect, on screen: inout Screen, theme: Theme) {
    let title: String
    switch page {
    case .question: title = "Assessment · \(service.name) · \(questionnaire.id)"
    case .review: title = "Review answers · \(service.name)"
    case .result: title = "Result · \(service.name)"
    }
    let inner = screen.box(area, title: title, theme: theme, focused: true)
    guard inner.height > 2, inner.width > 10 else { return }
    switch page {
    case .question: drawQuestion(in: inner, on: &screen, theme: theme)
    case .review: drawReview(in: inner, on: &screen, theme: theme)
    case .result: drawResult(in: inner, on: &screen, theme: theme)
    }
  }

  private func progressLine(width: Int) -> String {
    let total = questions.count
    let done = answeredCount
    let barWidth = max(5, min(40, width - 34))
    let filled = total == 0 ? 0 : barWidth * done / total
    let bar = String(repeating: "█", count: filled)
      + String(repeating: "░", count: barWidth - filled)
    return "[\(bar)] \(done)/\(total) answered (\(total == 0 ? 0 : done * 100 / total)%)"
  }

  private func drawQuestion(in inner: Rect, on screen: inout Screen, theme: Theme) {
    var lines: [(String, ThemeRole)] = []
    let q = question
    let section = questionnaire.section(of: q.id)?.title ?? ""
    let status = answers[q.id] == nil ? "" : "  ✓ answered"
    lines.append(("\(section) · question \(index + 1) of \(questions.count)\(status)", .muted))
    lines.append((progressLine(width: inner.width), .accent))
    lines.append(("", .text))
    for line in wrap(q.text, width: inner.width - 2) { lines.append((line, .title)) }
    lines.append(("", .text))
    switch q.kind {
    case .numeric:
      let unit = q.unit.isEmpty ? "" : " " + q.unit
      lines.append(("  > \(digits.isEmpty ? "_" : digits)\(unit)", .input))
      for band in q.bands {
        let mark = typedBand == band ? "»" : " "
        lines.append(("  \(mark) \(band.label)", typedBand == band ? .accent : .text))
      }
    case .single, .yesNo, .multiple:
      for (n, option) in q.options.enumerated() {
        let chosen = selection.contains(option.id)
        let box =
          q.kind == .multiple ? (chosen ? "[x]" : "[ ]") : (chosen ? "(•)" : "( )")
        let pointer = n == cursor ? ">" : " "
        let label = q.kind == .yesNo ? option.label.capitalized : option.label
        lines.append((" \(pointer) \(box) \(label)", n == cursor ? .selection : .text))
      }
    }
    if let message { lines.append(("  ! \(message)", .danger)) }
    lines.append(("", .text))
    lines.append(("Help", .header))
    for line in wrap(q.help, width: inner.width - 2) { lines.append((line, .muted)) }
    put(lines, in: inner, on: &screen, theme: theme, reserveFooter: true)
    let footer: String
    switch q.kind {
    case .numeric: footer = "0-9 type · Enter confirm · Tab/S-Tab move · r review · s save"
    case .multiple: footer = "Space toggle · Enter confirm · Tab/S-Tab move · r review · s save"
    default: footer = "j/k move · Space select · Enter confirm · Tab/S-Tab · r review · s save"
    }
    screen.put(footer, in: inner, row: inner.height - 1, column: 1, style: theme[.muted])
  }

  private func drawReview(in inner: Rect, on screen: inout Screen, theme: Theme) {
    screen.put(
      progressLine(width: inner.width), in: inner, row: 0, column: 1, style: theme[.accent])
    let columns = [
      TableColumn("#", .fixed(3), alignRight: true), TableColumn("Question", .flex(min: 20)),
      TableColumn("Answer", .flex(min: 16)),
    ]
    let rows = questions.enumerated().map { n, q in
      TableRow(
        [String(n + 1), q.text, label(of: answers[q.id], for: q)],
        role: answers[q.id] == nil ? .warning : .text)
    }
    let table = Rect(x: inner.x, y: inner.y + 2, width: inner.width, height: inner.height - 3)
    let visible = max(1, table.height - 1)
    let first = max(0, min(reviewCursor - visible / 2, rows.count - visible))
    TableView.draw(
      columns: columns, rows: rows, selected: reviewCursor, firstRow: first, in: table,
      on: &screen, theme: theme)
    let footer = message.map { "! " + $0 }
      ?? "Enter edit answer · c complete · s save draft · Esc back to the question"
    screen.put(
      footer, in: inner, row: inner.height - 1, column: 1,
      style: theme[message == nil ? .muted : .danger])
  }

  private func drawResult(in inner: Rect, on screen: inout Screen, theme: Theme) {
    guard let result else { return }
    var lines: [(String, ThemeRole)] = []
    let category = result.category
    let role: ThemeRole = category == .high ? .danger : category == .medium ? .warning : .success
    let score = ScoreResult.format(result.total)
    lines.append(("\(category.label) RISK · score \(score) of 100", role))
    if let completedOn {
      let months = category.recategorisationMonths
      lines.append((
        "Completed \(completedOn) · next re-categorisation due "
          + "\(completedOn.adding(months: months)) (\(months) months)", .accent))
    }
    for line in result.explanation(thresholds: questionnaire.thresholds) {
      for part in wrap(line, width: inner.width - 4) { lines.append(("  " + part, .text)) }
    }
    let obligations = category.obligations
    lines.append(("", .text))
    lines.append(("Obligations of \(category.label)", .title))
    lines.append((
      "  Detection order: "
        + (obligations.detectionOrderPossible
          ? "possible (known and new material, grooming; images, videos, URLs)" : "none"),
      .text))
    let measures = obligations.mitigation == .obligatory ? "OBLIGATORY" : "recommended"
    lines.append(("  Additional mitigation measures: \(measures) (checklist: m on the service)",
      .text))
    let sanctions = obligations.sanctionLabel == "none"
      ? "none" : "\(obligations.sanctionLabel) (level \(obligations.sanctionLevel) of 2)"
    lines.append(("  Sanctions: \(sanctions)", .text))
    lines.append(("", .text))
    lines.append(("Score by section", .title))
    let nameWidth = max(12, min(32, inner.width - 30))
    for s in result.sections {
      let share = s.maxContribution > 0 ? s.contribution / s.maxContribution : 0
      let filled = Int((share * 10).rounded())
      let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: 10 - filled)
      let name = DisplayWidth.pad(DisplayWidth.truncate(s.title, to: nameWidth), to: nameWidth)
      lines.append((
        "  \(name) \(bar) \(ScoreResult.format(s.contribution)) / "
          + ScoreResult.format(s.maxContribution), .text))
    }
    lines.append(("", .text))
    lines.append(("Reasons (answers that contributed most)", .title))
    for r in result.reasons.prefix(5) {
      lines.append((
        "  +\(ScoreResult.format(r.contribution))  \(r.questionText): \(r.answerLabel)", .text))
    }
    if lines.count > inner.height - 1 { lines.removeAll { $0.0.isEmpty } }
    put(lines, in: inner, on: &screen, theme: theme, reserveFooter: true)
    screen.put(
      "Enter/Esc back to the service · f flag a possible need for a detection order",
      in: inner, row: inner.height - 1, column: 1, style: theme[.muted])
  }

  private func put(
    _ lines: [(String, ThemeRole)], in inner: Rect, on screen: inout Screen, theme: Theme,
    reserveFooter: Bool
  ) {
    let rows = inner.height - (reserveFooter ? 1 : 0)
    for (row, line) in lines.enumerated() where row < rows {
      if line.1 == .selection {
        screen.fill(
          Rect(x: inner.x, y: inner.y + row, width: inner.width, height: 1),
          style: theme[.selection])
      }
      screen.put(line.0, in: inner, row: row, column: 1, style: theme[line.1])
    }
  }

  /// Splits text into lines of at most `width` columns at spaces.
  func wrap(_ text: String, width: Int) -> [String] { TextWrap.lines(text, width: width) }
}
