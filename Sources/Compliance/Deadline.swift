// MARK: - Re-categorisation deadlines

/// Where a service stands against its re-categorisation deadline.
public enum DeadlineState: String, DomainCode {
  case overdue
  case dueSoon = "due_soon"
  case ok
  case neverAssessed = "never_assessed"

  public static let fieldName = "deadline state"

  /// Urgency order for sorting: overdue first, then never assessed, then due soon, then ok.
  public var urgency: Int {
    switch self {
    case .overdue: 0
    case .neverAssessed: 1
    case .dueSoon: 2
    case .ok: 3
    }
  }

  /// A marker that carries the state without colour (monochrome terminals, screen readers).
  public var marker: String {
    switch self {
    case .overdue: "!!"
    case .neverAssessed: "??"
    case .dueSoon: "! "
    case .ok: "  "
    }
  }

  /// Words for the console.
  public var label: String {
    switch self {
    case .overdue: "overdue"
    case .dueSoon: "due soon"
    case .ok: "ok"
    case .neverAssessed: "never assessed"
    }
  }
}

/// The re-categorisation deadline of one service, derived from its last completed assessment.
public struct Deadline: Hashable, Sendable {
  /// Category of the last completed assessment, if any.
  public let category: RiskCategory?
  /// Day the last assessment was completed, if any.
  public let lastAssessed: CalendarDate?
  /// Day by which the service must be re-categorised (nil when never assessed).
  public let due: CalendarDate?
  /// State on the evaluation day.
  public let state: DeadlineState
  /// Days from the evaluation day to the due date (negative when overdue).
  public let daysLeft: Int?

  /// Default window in which a deadline counts as "due soon".
  public static let defaultDueSoonDays = 60

  /// Computes the deadline: due = completion + 12/24/36 calendar months (clamped to month end);
  /// past due is `overdue`, within `dueSoonDays` (inclusive) is `due_soon`.
  public init(
    lastAssessed: CalendarDate?, category: RiskCategory?, today: CalendarDate,
    dueSoonDays: Int = Deadline.defaultDueSoonDays
  ) {
    guard let lastAssessed, let category else {
      self.category = category
      self.lastAssessed = lastAssessed
      self.due = nil
      self.state = .neverAssessed
      self.daysLeft = nil
      return
    }
    let due = lastAssessed.adding(months: category.recategorisationMonths)
    let left = today.days(until: due)
    self.category = category
    self.lastAssessed = lastAssessed
    self.due = due
    self.daysLeft = left
    if left < 0 {
      state = .overdue
    } else if left <= dueSoonDays {
      state = .dueSoon
    } else {
      state = .ok
    }
  }
}
