// MARK: - Mitigation measures

/// A standard additional mitigation measure offered on every service's checklist.
public struct MitigationTemplate: Hashable, Sendable {
  public let code: String
  public let title: String

  /// The checklist a completed assessment puts on a service (obligatory for HIGH and MEDIUM,
  /// recommended for LOW); the provider can track owner, status and due date of each.
  public static let standard: [MitigationTemplate] = [
    .init(code: "age-assurance", title: "Age assurance at sign-up"),
    .init(code: "report-button", title: "Report button on every message, profile and image"),
    .init(code: "private-default", title: "Private-by-default profiles for minors"),
    .init(code: "parental-controls", title: "Parental controls and supervised accounts"),
    .init(code: "stranger-prompts", title: "Safety prompts in chats with strangers"),
    .init(code: "hash-uploads", title: "Hash matching of uploads before they are shared"),
    .init(code: "moderation-24-7", title: "Trained moderation staff around the clock"),
  ]
}

extension MeasureStatus {
  /// The next status when an operator advances a measure: planned → in progress → done →
  /// planned.
  public var next: MeasureStatus {
    switch self {
    case .planned: .inProgress
    case .inProgress: .done
    case .done: .planned
    }
  }
}
