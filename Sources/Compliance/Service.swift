// MARK: - Services

/// The kind of an online service (or part of one) the provider runs.
public enum ServiceKind: String, DomainCode {
  case messaging
  case livestreaming
  case socialNetwork = "social_network"
  case hosting
  case marketplace
  case gaming
  case search
  case forum
  case dating
  case other

  public static let fieldName = "service kind"

  /// Words for the console.
  public var label: String {
    switch self {
    case .messaging: "messaging"
    case .livestreaming: "livestreaming"
    case .socialNetwork: "social network"
    case .hosting: "hosting"
    case .marketplace: "marketplace"
    case .gaming: "gaming"
    case .search: "search"
    case .forum: "forum"
    case .dating: "dating"
    case .other: "other"
    }
  }
}

/// An operator of the console and what they may do.
public enum OperatorRole: String, DomainCode {
  /// Reviews items, records consent changes, runs assessments.
  case reviewer
  /// Also approves reveals of reported metadata (the second pair of eyes).
  case lead
  /// Also adds, binds and disables operators; may approve reveals as a lead does.
  case admin

  public static let fieldName = "role"

  /// Whether the role may approve a reveal (the second pair of eyes): lead or admin.
  public var approvesReveals: Bool { self != .reviewer }
}
