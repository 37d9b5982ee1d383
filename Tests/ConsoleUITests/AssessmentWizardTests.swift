import Compliance
import Store
import Terminal
import Testing

@testable import ConsoleUI

/// The Services screen's detail panel, assessment wizard, measures checklist and order-need
/// decision, driven by keys as a person would.
@Suite("Services: wizard, measures, order need")
struct AssessmentWizardTests {
  func services(_ console: Console) throws -> ServicesScreen {
    try #require(console.screens[1] as? ServicesScreen)
  }

  /// Answers questions with Enter (the highlighted option; 250000 for numbers) until the
  /// review page or `limit` questions.
  func answer(_ console: Console, limit: Int = 100) throws {
    let screen = try services(console)
    for _ in 0..<limit {
      let wizard = try #require(screen.wizard)
      guard wizard.page == .question else { return }
      if wizard.question.kind == .numeric { console.type("250000") }
      console.press(.enter)
    }
  }

  /// Actions of the audit events written since `console` was made, newest first.
  func auditActions(_ console: Console, prefix: String) throws -> [String] {
    try console.context.database.auditPage(beforeId: nil, limit: 50, actionPrefix: prefix)
      .filter { $0.at >= 1_795_622_400 }.map(\.action)
  }

  // MARK: Snapshots

  @Test(arguments: [(80, 24), (120, 40)])
  func snapshotsOfDetailAndWizard(width: Int, height: Int) throws {
    let console = try makeConsole()
    let size = "\(width)x\(height)"
    console.press(.character("2"), .enter)
    assertSnapshot(console.render(width: width, height: height), named: "service-detail-\(size)")
    console.press(.character("a"))
    assertSnapshot(console.render(width: width, height: height), named: "wizard-numeric-\(size)")
    console.type("250000")
    console.press(.enter)
    assertSnapshot(console.render(width: width, height: height), named: "wizard-choice-\(size)")
    try answer(console)
    assertSnapshot(console.render(width: width, height: height), named: "wizard-review-\(size)")
    console.press(.character("c"))
    assertSnapshot(console.render(width: width, height: height), named: "wizard-confirm-\(size)")
    console.press(.enter)
    assertSnapshot(console.render(width: width, height: height), named: "wizard-result-\(size)")
    console.press(.escape, .character("m"))
    assertSnapshot(console.render(width: width, height: height), named: "measures-\(size)")
  }

  // MARK: The wizard

  @Test func draftIsSavedAndResumedWhereItStood() throws {
    let console = try makeConsole()
    let screen = try services(console)
    console.press(.character("2"), .character("a"))
    let wizard = try #require(screen.wizard)
    #expect(wizard.index == 0 && wizard.question.kind == .numeric)
    // Digits go to the question, not to the screen keys.
    console.type("1200000")
    #expect(console.render(width: 120, height: 40).text.contains("> 1200000"))
    console.press(.enter)
    try answer(console, limit: 3)
    let at = wizard.index
    let stoodAt = wizard.question.id
    console.press(.character("s"))
    let saved = wizard.answeredCount
    #expect(saved >= 4)
    #expect(console.render(width: 120, height: 40).text.contains("Draft saved: \(saved) of 18"))
    #expect(try auditActions(console, prefix: "assessment") == ["assessment.draft"])
    console.press(.escape)
    #expect(screen.wizard == nil)
    #expect(console.render(width: 120, height: 40).text.contains("Draft: \(saved) of 18"))

    console.press(.character("a"))
    let resumed = try #require(screen.wizard)
    #expect(resumed.index == at && resumed.question.id == stoodAt)
    #expect(resumed.answeredCount == saved)
    console.press(.backTab, .backTab, .backTab, .backTab)
    #expect(resumed.index == 0)
    #expect(console.render(width: 120, height: 40).text.contains("> 1200000"))
  }

  @Test func completingShowsTheResultAndTheNewDueDate() throws {
    let console = try makeConsole()
    let screen = try services(console)
    console.press(.character("2"))
    let service = try #require(screen.services.first)
    console.press(.character("a"))
    try answer(console)
    let wizard = try #require(screen.wizard)
    #expect(wizard.page == .review && wizard.isComplete)
    console.press(.character("c"))
    #expect(console.render(width: 120, height: 40).text.contains("Complete the assessment"))
    console.press(.enter)
    #expect(wizard.page == .result)
    let result = try #require(wizard.result)
    let due = console.context.today.adding(months: result.category.recategorisationMonths)
    let text = console.render(width: 120, height: 40).text
    #expect(text.contains("\(result.category.label) RISK"))
    #expect(text.contains("next re-categorisation due \(due)"))
    #expect(text.contains("Score by section"))
    #expect(text.contains("Obligations of \(result.category.label)"))
    #expect(text.contains("Sanctions:"))
    #expect(try auditActions(console, prefix: "assessment") == ["assessment.complete"])
    console.press(.enter)
    #expect(screen.wizard == nil)
    #expect(console.render(width: 120, height: 40).text.contains("next due \(due)"))
    console.press(.character("1"))
    let dashboard = console.render(width: 120, height: 40).text
    let row = try #require(
      dashboard.split(separator: "\n").first { $0.contains(service.name.prefix(8)) })
    #expect(row.contains(due.description))
  }

  @Test func anAnswerChangedFromTheReviewReturnsToTheReview() throws {
    let console = try makeConsole()
    let screen = try services(console)
    console.press(.character("2"), .character("a"))
    try answer(console)
    let wizard = try #require(screen.wizard)
    #expect(wizard.page == .review)
    console.press(.character("j"), .enter)
    #expect(wizard.page == .question && wizard.index == 1)
    let before = wizard.answers[wizard.question.id]
    console.press(.character("j"), .character(" "), .enter)
    #expect(wizard.page == .review && wizard.reviewCursor == 1)
    #expect(wizard.answers[wizard.questions[1].id] != before)
    #expect(wizard.dirty)
  }

  @Test func completingWithUnansweredQuestionsNamesTheFirst() throws {
    let console = try makeConsole()
    let screen = try services(console)
    console.press(.character("2"), .character("a"))
    console.type("5")
    console.press(.enter, .character("r"), .character("c"))
    let wizard = try #require(screen.wizard)
    #expect(wizard.page == .review)
    #expect(wizard.reviewCursor == 1)
    #expect(console.render(width: 120, height: 40).text.contains("unanswered; first:"))
    #expect(try auditActions(console, prefix: "assessment").isEmpty)
  }

  @Test func leavingWithUnsavedAnswersAsksFirst() throws {
    let console = try makeConsole()
    let screen = try services(console)
    console.press(.character("2"), .character("a"))
    console.type("42")
    console.press(.enter, .escape)
    #expect(console.render(width: 120, height: 40).text.contains("Leave the assessment?"))
    console.press(.escape)
    #expect(screen.wizard != nil)
    console.press(.escape, .enter)
    #expect(screen.wizard == nil)
    #expect(try auditActions(console, prefix: "assessment").isEmpty)
  }

  @Test func quittingWithUnsavedAnswersAsksFirst() throws {
    let console = try makeConsole()
    console.press(.character("2"), .character("a"))
    console.type("42")
    console.press(.enter, .character("q"))
    #expect(!console.isFinished)
    #expect(console.render(width: 80, height: 24).text.contains("Unsaved answers of"))
    console.press(.escape)
    #expect(!console.isFinished)
    console.press(.character("s"), .character("q"))
    #expect(console.isFinished)
  }

  @Test func helpListsTheKeysOfEachMode() throws {
    let console = try makeConsole()
    let screen = try services(console)
    let global = Set(Console.globalKeys.helpSection.entries.map(\.keys))
    func check(_ title: String) {
      console.press(.character("?"))
      let text = console.render(width: 120, height: 60).text
      #expect(screen.helpSection.title == title)
      for entry in screen.helpSection.entries {
        #expect(text.contains(entry.help), "help misses \(entry.help)")
        #expect(text.contains(entry.keys), "help misses \(entry.keys)")
        for key in entry.keys.split(separator: "/") {
          #expect(!global.contains(String(key)), "\(title) shadows global key \(key)")
        }
      }
      console.press(.escape)
    }
    console.press(.character("2"))
    check("Services")
    console.press(.character("a"))
    #expect(screen.capturesText)
    check("Assessment wizard")
    console.press(.escape)
    console.press(.character("m"))
    if screen.measureCursor == nil {
      // No checklist yet: complete an assessment first.
      console.press(.character("a"))
      try answer(console)
      console.press(.character("c"), .enter, .enter, .character("m"))
    }
    check("Measures checklist")
  }

  // MARK: Measures and the order-need decision

  @Test func measuresAreEditedAndAudited() throws {
    let console = try makeConsole()
    let screen = try services(console)
    console.press(.character("2"), .character("a"))
    try answer(console)
    console.press(.character("c"), .enter, .enter, .character("m"))
    let first = try #require(screen.panel?.detail.measures.first)
    #expect(first.status == .planned)
    console.press(.character(" "))
    #expect(screen.panel?.detail.measures.first?.status == .inProgress)
    console.press(.character("o"))
    for _ in 0..<20 { console.press(.backspace) }
    console.type("bob")
    console.press(.enter)
    console.press(.character("d"))
    for _ in 0..<20 { console.press(.backspace) }
    console.type("2027-02-30")
    console.press(.enter)
    #expect(console.render(width: 120, height: 40).text.contains("Not saved"))
    console.press(.character("d"))
    for _ in 0..<20 { console.press(.backspace) }
    console.type("2027-02-28")
    console.press(.enter)
    let measure = try #require(screen.panel?.detail.measures.first)
    #expect(measure.owner == "bob")
    #expect(measure.dueOn?.description == "2027-02-28")
    #expect(
      try auditActions(console, prefix: "measure.").prefix(3)
        == ["measure.update", "measure.update", "measure.status"])
    let text = console.render(width: 120, height: 40).text
    #expect(text.contains("[~] 2027-02-28 bob"))
  }

  @Test func orderNeedFlagNeedsAReason() throws {
    let console = try makeConsole()
    let screen = try services(console)
    console.press(.character("2"), .character("f"))
    #expect(
      console.render(width: 120, height: 40).text
        .contains("Flag a possible need for a detection order"))
    console.press(.enter)
    #expect(console.render(width: 120, height: 40).text.contains("A reason is required"))
    console.type("livestreams used by minors")
    console.press(.enter)
    #expect(screen.panel?.flagged == true)
    #expect(console.render(width: 120, height: 40).text.contains("Order need FLAGGED"))
    #expect(try auditActions(console, prefix: "order_need") == ["order_need.flag"])
  }

  @Test func detailHighlightsAnOrderEndingWithin60Days() throws {
    let console = try makeConsole()
    let screen = try services(console)
    console.press(.character("2"))
    let service = try #require(screen.services.first)
    let today = console.context.today
    try console.context.database.addDetectionOrder(
      serviceId: service.id,
      terms: DetectionOrderTerms(
        authority: "CA-TEST", reference: "TEST/ENDING", starts: today.adding(days: -300),
        ends: today.adding(days: 20), scope: [.knownMaterial, .images],
        includesEndToEndEncrypted: false),
      by: "alice")
    console.press(.character("2"), .enter)
    let text = console.render(width: 120, height: 40).text
    let line = try #require(text.split(separator: "\n").first { $0.contains("TEST/ENDING") })
    #expect(line.contains("! TEST/ENDING"))
    #expect(text.contains("ends in 20d"))
  }

  @Test func dashboardEnterOpensTheServiceInServices() throws {
    let console = try makeConsole()
    console.press(.character("j"), .enter)
    #expect(console.activeIndex == 1)
    let screen = try services(console)
    #expect(screen.panel != nil)
  }
}
