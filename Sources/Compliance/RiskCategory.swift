// MARK: - Risk categories and what follows from them

/// The risk category a service is placed in by its assessment (CSAR, 2024 Council approach).
public enum RiskCategory: String, DomainCode, Comparable {
  case high
  case medium
  case low

  public static let fieldName = "category"

  /// Months within which the service must be categorised again.
  public var recategorisationMonths: Int {
    switch self {
    case .high: 12
    case .medium: 24
    case .low: 36
    }
  }

  /// Upper-case label as operators read it in the console and in reports.
  public var label: String { rawValue.uppercased() }

  /// Severity rank: HIGH is the greatest.
  public var severity: Int {
    switch self {
    case .high: 3
    case .medium: 2
    case .low: 1
    }
  }

  public static func < (a: RiskCategory, b: RiskCategory) -> Bool { a.severity < b.severity }

  /// What the category means for the provider (the paper's consequences table).
  public var obligations: CategoryObligations {
    switch self {
    case .high:
      CategoryObligations(
        detectionOrderPossible: true,
        mitigation: .obligatory,
        sanctionLevel: 2,
        summary: "Detection order possible (known and new material, grooming via visual "
          + "content; images, videos and URLs only; E2EE services included through detection "
          + "before transmission). Additional mitigation measures are obligatory.")
    case .medium:
      CategoryObligations(
        detectionOrderPossible: false,
        mitigation: .obligatory,
        sanctionLevel: 1,
        summary: "No detection order. Additional mitigation measures are obligatory.")
    case .low:
      CategoryObligations(
        detectionOrderPossible: false,
        mitigation: .recommended,
        sanctionLevel: 0,
        summary: "No detection order. Additional mitigation measures are recommended.")
    }
  }
}

/// Whether additional mitigation measures are required or advised.
public enum MitigationRequirement: String, Sendable {
  case obligatory
  case recommended
}

/// The consequences of a risk category.
public struct CategoryObligations: Hashable, Sendable {
  /// Whether an authority may issue a detection order for a service in this category.
  public let detectionOrderPossible: Bool
  /// Whether additional mitigation measures are obligatory or only recommended.
  public let mitigation: MitigationRequirement
  /// 0 = none, 1 = sanctions (+), 2 = heavier sanctions (++).
  public let sanctionLevel: Int
  /// One-paragraph explanation for the result page.
  public let summary: String
  /// Every category lets the provider flag a possible need for a detection order.
  public var providerMayFlagNeedForOrder: Bool { true }

  /// `++`, `+` or `none`, as in the paper's table.
  public var sanctionLabel: String {
    switch sanctionLevel {
    case 2: "++"
    case 1: "+"
    default: "none"
    }
  }
}
