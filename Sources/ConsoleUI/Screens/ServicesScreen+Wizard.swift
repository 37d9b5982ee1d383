import Compliance
import Store
import Terminal

// MARK: - Wizard keys (Services screen)

extension ServicesScreen {
  /// What a key does in the assessment wizard.
  enum WizardAction: Sendable {
    case down, up, select, confirm, nextQuestion, previousQuestion, review, save, complete
    case back, flag
  }

  static let wizardKeys = KeyTable<WizardAction>(
    "Assessment wizard",
    [
      KeyBinding([.character("j"), .down], .down, "Next option (review: next answer)"),
      KeyBinding([.character("k"), .up], .up, "Previous option (review: previous answer)"),
      KeyBinding([.character(" ")], .select, "Select the option (multiple choice: toggle)"),
      KeyBinding(
        [.enter], .confirm, "Confirm the answer and go on (review: change that answer)"),
      KeyBinding([.tab], .nextQuestion, "Next question (keeps a choice made)"),
      KeyBinding([.backTab], .previousQuestion, "Previous question"),
      KeyBinding([.character("r")], .review, "Review page of all answers"),
      KeyBinding([.character("s")], .save, "Save a draft (a on the service resumes it)"),
      KeyBinding([.character("c")], .complete, "Complete the assessment (review page)"),
      KeyBinding([.escape], .back, "Back: review → question → leave the wizard"),
      KeyBinding(
        [.character("f")], .flag, "Flag a possible need for a detection order (result page)"),
    ])

  /// The wizard's keys plus typing on numeric questions, for the help overlay.
  static var wizardHelp: HelpSection {
    let section = wizardKeys.helpSection
    return HelpSection(
      title: section.title,
      entries: section.entries + [("0-9, Backspace", "Type the number (numeric questions)")])
  }

  func handleWizard(
    _ key: Key, _ wizard: AssessmentWizard, context: ConsoleContext
  ) -> ScreenResponse {
    if wizard.capturesDigits {
      switch key {
      case .character(let c) where c.isASCII && c.isNumber:
        wizard.type(key)
        return .handled
      case .backspace:
        wizard.type(key)
        return .handled
      default:
        break
      }
    }
    guard let action = Self.wizardKeys.action(for: key) else { return .unhandled }
    switch wizard.page {
    case .question: return questionPage(action, wizard, context: context)
    case .review: return reviewPage(action, wizard, context: context)
    case .result:
      switch action {
      case .confirm, .back: closeWizard(context)
      case .flag: return flagDialog(context)
      default: break
      }
      return .handled
    }
  }

  private func questionPage(
    _ action: WizardAction, _ wizard: AssessmentWizard, context: ConsoleContext
  ) -> ScreenResponse {
    switch action {
    case .down: wizard.moveCursor(by: 1)
    case .up: wizard.moveCursor(by: -1)
    case .select: wizard.toggle()
    case .confirm: wizard.confirm()
    case .nextQuestion: wizard.step(by: 1)
    case .previousQuestion: wizard.step(by: -1)
    case .review:
      wizard.commitPending()
      wizard.openReview()
    case .save: return saveDraft(wizard, context: context)
    case .complete:
      wizard.commitPending()
      wizard.openReview()
      return completeDialog(wizard, context: context)
    case .back: return leaveDialog(wizard, context: context)
    case .flag: return .unhandled
    }
    return .handled
  }

  private func reviewPage(
    _ action: WizardAction, _ wizard: AssessmentWizard, context: ConsoleContext
  ) -> ScreenResponse {
    switch action {
    case .down: wizard.moveReview(by: 1)
    case .up: wizard.moveReview(by: -1)
    case .confirm: wizard.edit(at: wizard.reviewCursor)
    case .previousQuestion: wizard.step(by: -1)
    case .back: wizard.go(to: wizard.index)
    case .save: return saveDraft(wizard, context: context)
    case .complete: return completeDialog(wizard, context: context)
    case .select, .nextQuestion, .review, .flag: break
    }
    return .handled
  }

  // MARK: Saving, completing, leaving

  func saveDraft(_ wizard: AssessmentWizard, context: ConsoleContext) -> ScreenResponse {
    wizard.commitPending()
    do {
      try context.database.saveAssessmentDraft(
        serviceId: wizard.service.id, questionnaire: wizard.questionnaire,
        source: wizard.source, answers: wizard.answers, currentQuestion: wizard.question.id,
        by: context.operatorName)
      wizard.markSaved()
      return .status(.info(
        "Draft saved: \(wizard.answeredCount) of \(wizard.questions.count) answered; "
          + "a on the service resumes it"))
    } catch {
      return .status(.error("Draft not saved: \(error)"))
    }
  }

  private func completeDialog(
    _ wizard: AssessmentWizard, context: ConsoleContext
  ) -> ScreenResponse {
    if let missing = wizard.firstUnanswered {
      wizard.moveReview(by: missing - wizard.reviewCursor)
      let count = wizard.questions.count - wizard.answeredCount
      wizard.message = "\(count) unanswered; first: \(wizard.questions[missing].text)"
      return .handled
    }
    let result: ScoreResult
    do {
      result = try wizard.score()
    } catch {
      wizard.message = error.message
      return .handled
    }
    let day = context.today
    let due = day.adding(months: result.category.recategorisationMonths)
    let dialog = Confirmation(
      title: "Complete the assessment",
      lines: [
        "\(wizard.service.name): \(result.category.label) RISK, score "
          + "\(ScoreResult.format(result.total)) of 100",
        "Completed \(day); next re-categorisation due \(due).",
        "Stored and audited; it replaces the saved draft.",
      ], reasonRequired: false
    ) { [weak self] _ in
      let (_, stored) = try context.database.completeAssessment(
        serviceId: wizard.service.id, questionnaire: wizard.questionnaire,
        source: wizard.source, answers: wizard.answers, on: day, by: context.operatorName)
      wizard.complete(result: stored, on: day)
      self?.openPanel(context)
      return .info("Assessment completed: \(stored.category.label), next due \(due)")
    }
    return .overlay(.confirm(dialog))
  }

  private func leaveDialog(_ wizard: AssessmentWizard, context: ConsoleContext) -> ScreenResponse
  {
    guard wizard.dirty else {
      closeWizard(context)
      return .handled
    }
    let dialog = Confirmation(
      title: "Leave the assessment?",
      lines: [
        "Answers changed since the last save are lost.",
        "Enter leaves without saving; Esc stays (s saves a draft).",
      ], reasonRequired: false
    ) { [weak self] _ in
      self?.closeWizard(context)
      return .info("Left the assessment; unsaved answers discarded")
    }
    return .overlay(.confirm(dialog))
  }

  // MARK: The order-need decision

  /// Records the provider's decision to flag (or withdraw the flag of) a possible need for a
  /// detection order on the selected service, with a required reason.
  func flagDialog(_ context: ConsoleContext) -> ScreenResponse {
    if panel == nil, let failure = openPanel(context) { return failure }
    guard let panel else { return .status(.error("No service")) }
    let flag = !panel.flagged
    let service = panel.service
    let dialog = Confirmation(
      title: flag ? "Flag a possible need for a detection order" : "Withdraw the order-need flag",
      lines: [
        "\(service.name) (\(service.code))",
        flag
          ? "Records that the provider sees a possible need for a detection order."
          : "Records that the provider no longer sees that need.",
        "The decision and its reason go to the audit log.",
      ], reasonRequired: true
    ) { [weak self] reason in
      try context.database.flagOrderNeed(
        serviceId: service.id, flagged: flag, reason: reason, by: context.operatorName)
      self?.openPanel(context)
      return .info(flag ? "Flagged: \(service.name)" : "Flag withdrawn: \(service.name)")
    }
    return .overlay(.confirm(dialog))
  }
}
