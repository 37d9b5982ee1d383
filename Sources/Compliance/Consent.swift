// MARK: - Consent to detection before transmission

/// A user's consent, per account and service, to detection before transmission.
public enum ConsentState: String, DomainCode {
  case notAsked = "not_asked"
  case granted
  case refused
  case withdrawn

  public static let fieldName = "consent state"

  /// Whether the user may share visual content (images, videos) and URLs on the service.
  /// Every other function stays available whatever the state.
  public var mayShareVisualContentAndURLs: Bool { self == .granted }

  /// Whether an account may share visual content and URLs (and its uploads be scanned) when
  /// twin accounts hold its id in other Unicode forms, with `twins` their states on the same
  /// service: only when its own state and every twin's allow it. Two spellings of one id are
  /// one id to whoever reads it, and which one the caller spelt is chance, so the stricter
  /// state wins: a twin that refused or withdrew is never overruled by one that granted.
  public func mayShareVisualContentAndURLs(twins: some Sequence<ConsentState>) -> Bool {
    mayShareVisualContentAndURLs && twins.allSatisfy(\.mayShareVisualContentAndURLs)
  }

  /// Words for the console.
  public var label: String {
    switch self {
    case .notAsked: "not asked"
    case .granted: "granted"
    case .refused: "refused"
    case .withdrawn: "withdrawn"
    }
  }

  /// The states reachable from this one in one event.
  public var allowedNextStates: Set<ConsentState> { Set(Self.allCases.filter(allows)) }

  /// Whether `next` is reachable from this state in one event (the state machine itself;
  /// checked once per imported event, so it builds no set).
  public func allows(_ next: ConsentState) -> Bool {
    switch (self, next) {
    case (.notAsked, .granted), (.notAsked, .refused): true
    case (.granted, .withdrawn): true
    case (.refused, .granted), (.withdrawn, .granted): true
    default: false
    }
  }

  /// Checks a transition; throws a ``ConsentTransitionError`` saying why it is not allowed.
  public func transition(to next: ConsentState) throws(ConsentTransitionError) -> ConsentState {
    guard allows(next) else {
      throw ConsentTransitionError(from: self, to: next)
    }
    return next
  }
}

/// Where a consent change came from.
public enum ConsentSource: String, DomainCode {
  /// The user, in the provider's app.
  case app
  /// Support staff on the user's request, recorded in the console by an operator.
  case support
  /// A batch imported from the provider's backend.
  case `import`

  public static let fieldName = "source"
}

/// A consent change that the state machine does not allow, with the reason in words.
public struct ConsentTransitionError: Error, Equatable, Sendable, CustomStringConvertible {
  public let from: ConsentState
  public let to: ConsentState

  public init(from: ConsentState, to: ConsentState) {
    self.from = from
    self.to = to
  }

  public var description: String {
    if from == to {
      return "consent is already \(from.rawValue)"
    }
    if to == .notAsked {
      return "consent cannot go back to not_asked once the user has been asked"
    }
    let allowed = from.allowedNextStates.map(\.rawValue).sorted().joined(separator: " or ")
    return "consent cannot change from \(from.rawValue) to \(to.rawValue); "
      + "from \(from.rawValue) it can only become \(allowed)"
  }
}

/// One consent change as recorded: the history of an account is a list of these.
public struct ConsentChange: Hashable, Sendable {
  public let state: ConsentState
  /// Unix time in seconds.
  public let occurredAt: Int64
  public let source: ConsentSource
  public let termsVersion: String

  public init(state: ConsentState, occurredAt: Int64, source: ConsentSource, termsVersion: String) {
    self.state = state
    self.occurredAt = occurredAt
    self.source = source
    self.termsVersion = termsVersion
  }
}

/// Replays a history of changes from `not_asked`, in time order, and returns the final state;
/// throws at the first change the state machine rejects.
public func replayConsent(_ changes: [ConsentChange]) throws(ConsentTransitionError)
  -> ConsentState
{
  var state = ConsentState.notAsked
  for change in changes.sorted(by: { $0.occurredAt < $1.occurredAt }) {
    state = try state.transition(to: change.state)
  }
  return state
}
