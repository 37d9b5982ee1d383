// MARK: - Flagged items and review

/// Why an item is in the review queue.
public enum FlagKind: String, DomainCode {
  /// A cryptographic or perceptual hash matched a bank of known material.
  case knownMatch = "known_match"
  /// An external classifier scored the item above its threshold (possible new material).
  case newMaterial = "new_material"
  /// A URL matched a URL list.
  case urlMatch = "url_match"

  public static let fieldName = "kind"

  /// Short label for the queue.
  public var label: String {
    switch self {
    case .knownMatch: "known"
    case .newMaterial: "new"
    case .urlMatch: "url"
    }
  }
}

/// Where a flagged item stands in review.
public enum FlagState: String, DomainCode {
  /// Waiting for a reviewer.
  case pending
  /// Confirmed new material, held until a second confirmed hit for the same account.
  case awaitingSecondHit = "awaiting_second_hit"
  /// Confirmed; a report is being prepared or was sent.
  case confirmed
  /// A false positive.
  case dismissed
  /// Passed to a lead for a second opinion.
  case escalated
  /// Media and personal data removed after the retention period.
  case purged

  public static let fieldName = "state"

  /// Whether the item still needs a decision.
  public var isOpen: Bool { self == .pending || self == .escalated }
}

/// A reviewer's decision on an item.
public enum ReviewDecisionKind: String, DomainCode {
  case confirm
  case dismiss
  case escalate
  case skip

  public static let fieldName = "decision"
}

/// Where a report stands.
public enum ReportState: String, DomainCode {
  /// Ready to be exported to the EU Centre.
  case ready
  /// Exported to the outbox.
  case sent
  /// The EU Centre found it not manifestly unfounded: metadata may be revealed (four eyes).
  case founded
  /// Metadata revealed to the EU Centre in the clear.
  case revealed
  /// Manifestly unfounded: closed, the user may be informed.
  case closed

  public static let fieldName = "report state"
}
