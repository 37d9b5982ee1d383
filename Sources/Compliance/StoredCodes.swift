// MARK: - Codes of records kept by the store

/// Whether an assessment is still being answered or has been completed.
public enum AssessmentStatus: String, DomainCode {
  /// Answers saved; the wizard can resume it.
  case draft
  /// Scored and confirmed: it sets the service's category and deadline.
  case completed

  public static let fieldName = "assessment status"
}

/// Progress of a mitigation measure.
public enum MeasureStatus: String, DomainCode {
  case planned
  case inProgress = "in_progress"
  case done

  public static let fieldName = "measure status"

  /// Words for the console.
  public var label: String {
    switch self {
    case .planned: "planned"
    case .inProgress: "in progress"
    case .done: "done"
    }
  }
}

/// The EU Centre's answer to a pseudonymised report.
public enum ReportVerdict: String, DomainCode {
  /// Not manifestly unfounded: the provider may reveal the metadata (four eyes).
  case notManifestlyUnfounded = "not_manifestly_unfounded"
  /// Manifestly unfounded: the case closes and the user may be informed.
  case manifestlyUnfounded = "manifestly_unfounded"

  public static let fieldName = "verdict"
}

extension MitigationRequirement: CaseIterable, DomainCode {
  public static var allCases: [MitigationRequirement] { [.obligatory, .recommended] }
  public static var fieldName: String { "requirement" }
}
