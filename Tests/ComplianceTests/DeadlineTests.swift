import Testing

@testable import Compliance

@Suite("Re-categorisation deadlines")
struct DeadlineTests {
  func day(_ text: String) throws -> CalendarDate { try CalendarDate(parsing: text) }

  @Test func monthsByCategory() {
    #expect(RiskCategory.high.recategorisationMonths == 12)
    #expect(RiskCategory.medium.recategorisationMonths == 24)
    #expect(RiskCategory.low.recategorisationMonths == 36)
  }

  @Test func neverAssessed() throws {
    let deadline = Deadline(lastAssessed: nil, category: nil, today: try day("2026-11-25"))
    #expect(deadline.state == .neverAssessed)
    #expect(deadline.due == nil)
    #expect(deadline.daysLeft == nil)
  }

  @Test func highRiskDueAfterTwelveMonthsClamped() throws {
    let deadline = Deadline(
      lastAssessed: try day("2024-02-29"), category: .high, today: try day("2024-06-01"))
    #expect(deadline.due == (try day("2025-02-28")))
    #expect(deadline.state == .ok)
  }

  @Test(arguments: [
    // (completed, category, today, state, days left)
    ("2025-11-25", RiskCategory.high, "2026-11-25", DeadlineState.dueSoon, 0),
    ("2025-11-24", .high, "2026-11-25", .overdue, -1),
    ("2025-01-25", .high, "2026-11-25", .overdue, -304),
    ("2026-01-24", .high, "2026-11-25", .dueSoon, 60),
    ("2026-01-25", .high, "2026-11-25", .ok, 61),
    ("2024-12-01", .medium, "2026-11-25", .dueSoon, 6),
    ("2024-01-01", .medium, "2026-11-25", .overdue, -328),
    ("2023-12-31", .low, "2026-11-25", .dueSoon, 36),
    ("2025-06-30", .low, "2026-11-25", .ok, 583),
  ])
  func states(
    completed: String, category: RiskCategory, today: String, state: DeadlineState, left: Int
  ) throws {
    let deadline = Deadline(
      lastAssessed: try day(completed), category: category, today: try day(today))
    #expect(deadline.state == state)
    #expect(deadline.daysLeft == left)
  }

  @Test func dueSoonWindowIsConfigurable() throws {
    let deadline = Deadline(
      lastAssessed: try day("2026-02-24"), category: .high, today: try day("2026-11-25"),
      dueSoonDays: 30)
    #expect(deadline.daysLeft == 91)
    #expect(deadline.state == .ok)
    let wider = Deadline(
      lastAssessed: try day("2026-02-24"), category: .high, today: try day("2026-11-25"),
      dueSoonDays: 91)
    #expect(wider.state == .dueSoon)
  }

  @Test func urgencyPutsOverdueFirst() {
    let sorted = DeadlineState.allCases.sorted { $0.urgency < $1.urgency }
    #expect(sorted == [.overdue, .neverAssessed, .dueSoon, .ok])
    #expect(Set(DeadlineState.allCases.map(\.marker)).count == 4)
  }

  @Test func obligationsFollowThePaperTable() {
    #expect(RiskCategory.high.obligations.detectionOrderPossible)
    #expect(!RiskCategory.medium.obligations.detectionOrderPossible)
    #expect(!RiskCategory.low.obligations.detectionOrderPossible)
    #expect(RiskCategory.medium.obligations.mitigation == .obligatory)
    #expect(RiskCategory.low.obligations.mitigation == .recommended)
    #expect(RiskCategory.high.obligations.sanctionLabel == "++")
    #expect(RiskCategory.medium.obligations.sanctionLabel == "+")
    let flaggable = RiskCategory.allCases.filter { $0.obligations.providerMayFlagNeedForOrder }
    #expect(flaggable.count == 3)
  }

  @Test func unknownCodesNameTheAcceptedOnes() {
    do {
      _ = try RiskCategory(code: "hihg")
      Issue.record("expected an error")
    } catch {
      #expect(error.field == "category")
      #expect(error.description.contains("high, medium, low"))
    }
  }
}
