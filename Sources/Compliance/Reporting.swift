// MARK: - Report contents (Commission proposal, Art. 13)

/// How urgent a report is (an imminent threat to a child, or ongoing abuse, is urgent).
public enum ReportUrgency: String, DomainCode {
  case urgent
  case normal

  public static let fieldName = "urgency"
}

/// Personal data of the reported account. Every field is pseudonymised in a report sent to the
/// EU Centre and revealed in the clear only after a founded verdict and four-eyes approval.
public struct ReportAccount: Hashable, Sendable {
  /// The provider's account identifier.
  public var accountId: String?
  /// IP addresses seen with the uploads (optional: not every service keeps them).
  public var ipAddresses: [String]
  /// Device identifiers (optional).
  public var deviceIds: [String]
  /// Names or handles of the account (optional).
  public var names: [String]

  /// Creates a value with every field given.
  public init(
    accountId: String?, ipAddresses: [String] = [], deviceIds: [String] = [],
    names: [String] = []
  ) {
    self.accountId = accountId
    self.ipAddresses = ipAddresses
    self.deviceIds = deviceIds
    self.names = names
  }

  /// The same data with each value replaced by `pseudonym(field, value)` (a keyed hash in
  /// practice); pure, so the rule is testable without any key.
  public func pseudonymised(_ pseudonym: (_ field: String, _ value: String) -> String)
    -> ReportAccount
  {
    ReportAccount(
      accountId: accountId.map { pseudonym("account_id", $0) },
      ipAddresses: ipAddresses.map { pseudonym("ip_address", $0) },
      deviceIds: deviceIds.map { pseudonym("device_id", $0) },
      names: names.map { pseudonym("name", $0) })
  }
}

/// One flagged item in a report: what was found and the evidence.
public struct ReportedItem: Hashable, Sendable {
  public var itemId: Int64
  public var kind: FlagKind
  /// When the item was flagged (Unix seconds).
  public var flaggedAt: Int64
  public var sha256: String?
  public var md5: String?
  public var pdq: String?
  public var url: String?
  /// Bank or URL list that matched, with its label and PDQ distance.
  public var bank: String?
  public var label: String?
  public var distance: Int?
  /// Classifier and score for new material.
  public var model: String?
  public var score: Double?
  /// The version of the bank's list that matched (1, 2, ...), when the bank has versions.
  public var bankVersion: Int?

  /// Creates a value with every field given.
  public init(
    itemId: Int64, kind: FlagKind, flaggedAt: Int64, sha256: String? = nil, md5: String? = nil,
    pdq: String? = nil, url: String? = nil, bank: String? = nil, label: String? = nil,
    distance: Int? = nil, model: String? = nil, score: Double? = nil, bankVersion: Int? = nil
  ) {
    self.bankVersion = bankVersion
    self.itemId = itemId
    self.kind = kind
    self.flaggedAt = flaggedAt
    self.sha256 = sha256
    self.md5 = md5
    self.pdq = pdq
    self.url = url
    self.bank = bank
    self.label = label
    self.distance = distance
    self.model = model
    self.score = score
  }
}

/// What a report to the EU Centre contains: provider, times, kind of material (known / new /
/// URL), the content's hashes, the service, the account data, whether the content was removed
/// and the urgency.
public struct ReportContents: Hashable, Sendable {
  public var caseRef: String
  public var provider: String
  /// When the report was created (Unix seconds).
  public var createdAt: Int64
  /// When the material was confirmed by a reviewer (the last confirmation for two hits).
  public var confirmedAt: Int64
  public var kind: FlagKind
  public var serviceCode: String
  public var serviceName: String
  public var items: [ReportedItem]
  public var account: ReportAccount
  /// Whether the content was removed from the service.
  public var removed: Bool
  public var urgency: ReportUrgency
  /// True once ``pseudonymised(_:)`` replaced the account data.
  public var isPseudonymised: Bool

  /// Creates a value with every field given.
  public init(
    caseRef: String, provider: String, createdAt: Int64, confirmedAt: Int64, kind: FlagKind,
    serviceCode: String, serviceName: String, items: [ReportedItem], account: ReportAccount,
    removed: Bool, urgency: ReportUrgency, isPseudonymised: Bool = false
  ) {
    self.caseRef = caseRef
    self.provider = provider
    self.createdAt = createdAt
    self.confirmedAt = confirmedAt
    self.kind = kind
    self.serviceCode = serviceCode
    self.serviceName = serviceName
    self.items = items
    self.account = account
    self.removed = removed
    self.urgency = urgency
    self.isPseudonymised = isPseudonymised
  }

  /// The report as sent to the EU Centre: the account data pseudonymised, everything else
  /// unchanged.
  public func pseudonymised(_ pseudonym: (_ field: String, _ value: String) -> String)
    -> ReportContents
  {
    var copy = self
    if !isPseudonymised {
      copy.account = account.pseudonymised(pseudonym)
      copy.isPseudonymised = true
    }
    return copy
  }

  /// Urgency from the queue priority of the items: priority 1 (most urgent) is urgent.
  public static func urgency(priorities: [Int]) -> ReportUrgency {
    priorities.contains(where: { $0 <= 1 }) ? .urgent : .normal
  }
}

// MARK: - Two-hit rule

/// New material is reported only after two confirmed hits for the same account within a
/// window; known material and URLs are reported at once.
public enum TwoHitRule {
  /// Default window between the two confirmations, in days.
  public static let defaultWindowDays = 30

  /// Whether confirming an item of `kind` needs a second hit before a report.
  public static func needsSecondHit(_ kind: FlagKind) -> Bool { kind == .newMaterial }

  /// Whether a first hit confirmed at `first` pairs with a confirmation at `second`.
  public static func pairs(first: Int64, second: Int64, windowDays: Int) -> Bool {
    second >= first && second - first <= Int64(windowDays) * 86_400
  }
}
