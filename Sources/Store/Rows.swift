import Compliance

// MARK: - Services and assessments

/// A service (or part of one) the provider runs.
public struct ServiceRow: Hashable, Sendable {
  public var id: Int64
  /// Short stable code, e.g. `chat-eu`.
  public var code: String
  public var name: String
  public var kind: ServiceKind
  public var description: String
  /// Unix seconds.
  public var createdAt: Int64

  /// Creates a value with every field given.
  public init(
    id: Int64, code: String, name: String, kind: ServiceKind, description: String,
    createdAt: Int64
  ) {
    self.id = id
    self.code = code
    self.name = name
    self.kind = kind
    self.description = description
    self.createdAt = createdAt
  }
}

/// One risk assessment of a service (a draft or a completed one).
public struct AssessmentRow: Hashable, Sendable {
  public var id: Int64
  public var serviceId: Int64
  /// Questionnaire version used, e.g. `csar-2024@1`.
  public var questionnaireId: String
  public var status: AssessmentStatus
  /// Unix seconds.
  public var startedAt: Int64
  public var completedOn: CalendarDate?
  public var category: RiskCategory?
  public var totalScore: Double?
  public var answersJSON: String
  public var breakdownJSON: String
  /// Name of the operator who ran it, if known.
  public var operatorName: String?

  /// Creates a value with every field given.
  public init(
    id: Int64, serviceId: Int64, questionnaireId: String, status: AssessmentStatus,
    startedAt: Int64, completedOn: CalendarDate? = nil, category: RiskCategory? = nil,
    totalScore: Double? = nil, answersJSON: String, breakdownJSON: String,
    operatorName: String? = nil
  ) {
    self.id = id
    self.serviceId = serviceId
    self.questionnaireId = questionnaireId
    self.status = status
    self.startedAt = startedAt
    self.completedOn = completedOn
    self.category = category
    self.totalScore = totalScore
    self.answersJSON = answersJSON
    self.breakdownJSON = breakdownJSON
    self.operatorName = operatorName
  }
}

/// A detection order registered for a service.
public struct DetectionOrderRow: Hashable, Sendable {
  public var id: Int64
  public var serviceId: Int64
  public var terms: DetectionOrderTerms

  /// Creates a value with every field given.
  public init(
    id: Int64, serviceId: Int64, terms: DetectionOrderTerms
  ) {
    self.id = id
    self.serviceId = serviceId
    self.terms = terms
  }
}

/// A mitigation measure of a service.
public struct MeasureRow: Hashable, Sendable {
  public var id: Int64
  public var serviceId: Int64
  public var code: String
  public var title: String
  public var requirement: MitigationRequirement
  public var owner: String
  public var status: MeasureStatus
  public var dueOn: CalendarDate?

  /// Creates a value with every field given.
  public init(
    id: Int64, serviceId: Int64, code: String, title: String, requirement: MitigationRequirement,
    owner: String, status: MeasureStatus, dueOn: CalendarDate? = nil
  ) {
    self.id = id
    self.serviceId = serviceId
    self.code = code
    self.title = title
    self.requirement = requirement
    self.owner = owner
    self.status = status
    self.dueOn = dueOn
  }
}

/// One line of the Services screen.
public struct ServiceOverview: Hashable, Sendable {
  public var id: Int64
  public var code: String
  public var name: String
  public var kind: ServiceKind
  /// From the latest completed assessment (category, day, due date and state on `today`).
  public var deadline: Deadline
  /// Total score of the latest completed assessment.
  public var latestScore: Double?
  /// Orders in force on `today`.
  public var activeOrderCount: Int
  /// Items still needing a decision (pending or escalated).
  public var openItemCount: Int

  /// Creates a value with every field given.
  public init(
    id: Int64, code: String, name: String, kind: ServiceKind, deadline: Deadline,
    latestScore: Double? = nil, activeOrderCount: Int, openItemCount: Int
  ) {
    self.id = id
    self.code = code
    self.name = name
    self.kind = kind
    self.deadline = deadline
    self.latestScore = latestScore
    self.activeOrderCount = activeOrderCount
    self.openItemCount = openItemCount
  }
}

/// Everything the service detail pane shows.
public struct ServiceDetail: Hashable, Sendable {
  public var service: ServiceRow
  /// Newest first (drafts included).
  public var assessments: [AssessmentRow]
  /// Newest end date first.
  public var orders: [DetectionOrderRow]
  /// By code.
  public var measures: [MeasureRow]

  /// Creates a value with every field given.
  public init(
    service: ServiceRow, assessments: [AssessmentRow], orders: [DetectionOrderRow],
    measures: [MeasureRow]
  ) {
    self.service = service
    self.assessments = assessments
    self.orders = orders
    self.measures = measures
  }
}

// MARK: - Dashboard

/// A service's re-categorisation deadline, for the Dashboard.
public struct ServiceDeadline: Hashable, Sendable {
  public var serviceId: Int64
  public var code: String
  public var name: String
  public var kind: ServiceKind
  public var deadline: Deadline

  /// Creates a value with every field given.
  public init(
    serviceId: Int64, code: String, name: String, kind: ServiceKind, deadline: Deadline
  ) {
    self.serviceId = serviceId
    self.code = code
    self.name = name
    self.kind = kind
    self.deadline = deadline
  }
}

/// A detection order in force, for the Dashboard.
public struct OrderSummary: Hashable, Sendable {
  public var id: Int64
  public var serviceId: Int64
  public var serviceCode: String
  public var serviceName: String
  public var terms: DetectionOrderTerms
  /// Ends within 60 days of `today`.
  public var endingSoon: Bool
  /// Days from `today` to the last day of the order.
  public var daysLeft: Int

  /// Creates a value with every field given.
  public init(
    id: Int64, serviceId: Int64, serviceCode: String, serviceName: String,
    terms: DetectionOrderTerms, endingSoon: Bool, daysLeft: Int
  ) {
    self.id = id
    self.serviceId = serviceId
    self.serviceCode = serviceCode
    self.serviceName = serviceName
    self.terms = terms
    self.endingSoon = endingSoon
    self.daysLeft = daysLeft
  }
}

/// Consent figures of one service. `notAsked` counts accounts with no recorded decision.
public struct ServiceConsentStats: Hashable, Sendable {
  public var serviceId: Int64
  public var code: String
  public var name: String
  public var granted: Int
  public var refused: Int
  public var withdrawn: Int
  public var notAsked: Int
  /// Withdrawal events in the calendar month (UTC) of `today`.
  public var withdrawalsThisMonth: Int

  /// Accounts counted (all four states).
  public var total: Int { granted + refused + withdrawn + notAsked }

  /// Creates a value with every field given.
  public init(
    serviceId: Int64, code: String, name: String, granted: Int, refused: Int, withdrawn: Int,
    notAsked: Int, withdrawalsThisMonth: Int
  ) {
    self.serviceId = serviceId
    self.code = code
    self.name = name
    self.granted = granted
    self.refused = refused
    self.withdrawn = withdrawn
    self.notAsked = notAsked
    self.withdrawalsThisMonth = withdrawalsThisMonth
  }
}

/// Number of flagged items of one kind in one state.
public struct ItemCount: Hashable, Sendable {
  public var kind: FlagKind
  public var state: FlagState
  public var count: Int

  /// Creates a value with every field given.
  public init(
    kind: FlagKind, state: FlagState, count: Int
  ) {
    self.kind = kind
    self.state = state
    self.count = count
  }
}

/// The Dashboard's figures, computed in a handful of indexed queries.
public struct DashboardSummary: Hashable, Sendable {
  public var today: CalendarDate
  public var serviceCount: Int
  public var accountCount: Int
  /// Every (kind, state) pair with a non-zero count, all states included.
  public var itemCounts: [ItemCount]
  /// Reports per state (states with none are absent).
  public var reportCounts: [ReportState: Int]
  /// Overdue first (``DeadlineState/urgency``), then by due date, then by code.
  public var deadlines: [ServiceDeadline]
  /// Orders in force on `today`, the ones ending first first.
  public var activeOrders: [OrderSummary]
  /// Per service, by service code.
  public var consent: [ServiceConsentStats]

  /// Items needing a decision (pending or escalated), all kinds.
  public var openItems: Int {
    itemCounts.filter { $0.state.isOpen }.reduce(0) { $0 + $1.count }
  }

  /// Open items of one kind.
  public func openItems(kind: FlagKind) -> Int {
    itemCounts.filter { $0.state.isOpen && $0.kind == kind }.reduce(0) { $0 + $1.count }
  }

  /// Items of one kind (or all kinds) in one state.
  public func items(state: FlagState, kind: FlagKind? = nil) -> Int {
    itemCounts.filter { $0.state == state && (kind == nil || $0.kind == kind) }
      .reduce(0) { $0 + $1.count }
  }

  /// Creates a value with every field given.
  public init(
    today: CalendarDate, serviceCount: Int, accountCount: Int, itemCounts: [ItemCount],
    reportCounts: [ReportState: Int], deadlines: [ServiceDeadline], activeOrders: [OrderSummary],
    consent: [ServiceConsentStats]
  ) {
    self.today = today
    self.serviceCount = serviceCount
    self.accountCount = accountCount
    self.itemCounts = itemCounts
    self.reportCounts = reportCounts
    self.deadlines = deadlines
    self.activeOrders = activeOrders
    self.consent = consent
  }
}

// MARK: - Review queue

/// Which items the queue shows. `nil` fields do not filter.
public struct QueueFilter: Hashable, Sendable {
  public var kind: FlagKind?
  public var serviceId: Int64?
  public var bank: String?
  /// States shown; by default the open ones (pending, escalated).
  public var states: Set<FlagState>

  /// States that still need a decision.
  public static let openStates: Set<FlagState> = Set(FlagState.allCases.filter(\.isOpen))

  public init(
    kind: FlagKind? = nil, serviceId: Int64? = nil, bank: String? = nil,
    states: Set<FlagState> = QueueFilter.openStates
  ) {
    self.kind = kind
    self.serviceId = serviceId
    self.bank = bank
    self.states = states
  }
}

/// A position in the queue order (priority ASC, created_at ASC, id ASC), for keyset paging.
public struct QueueCursor: Hashable, Sendable, Comparable {
  public var priority: Int
  public var createdAt: Int64
  public var id: Int64

  public init(priority: Int, createdAt: Int64, id: Int64) {
    self.priority = priority
    self.createdAt = createdAt
    self.id = id
  }

  public static func < (a: QueueCursor, b: QueueCursor) -> Bool {
    (a.priority, a.createdAt, a.id) < (b.priority, b.createdAt, b.id)
  }
}

/// A flagged item as the queue and the item view show it.
public struct QueueItem: Hashable, Sendable {
  public var id: Int64
  public var kind: FlagKind
  public var state: FlagState
  /// 1 (most urgent) ... 5.
  public var priority: Int
  public var serviceId: Int64
  public var serviceCode: String
  public var serviceName: String
  public var accountId: Int64?
  public var accountPseudonym: String?
  /// Relative to the database's folder (e.g. `media/17.png`), or absolute.
  public var mediaPath: String?
  public var url: String?
  public var sha256: String?
  public var md5: String?
  public var pdq: String?
  /// Hash bank or URL list that matched.
  public var bank: String?
  public var label: String?
  /// PDQ Hamming distance (0...31) for perceptual matches.
  public var distance: Int?
  /// The version of the bank's list that matched (1, 2, ...), when known.
  public var bankVersion: Int?
  /// Classifier for new-material items.
  public var model: String?
  /// Classifier score 0...1.
  public var score: Double?
  /// Unix seconds.
  public var createdAt: Int64
  /// Operator holding the claim, if any (check `claimExpiresAt` against now).
  public var claimedBy: String?
  public var claimExpiresAt: Int64?
  public var decidedAt: Int64?

  /// This item's position, to page after or before it.
  public var cursor: QueueCursor {
    QueueCursor(priority: priority, createdAt: createdAt, id: id)
  }

  /// Creates a value with every field given.
  public init(
    id: Int64, kind: FlagKind, state: FlagState, priority: Int, serviceId: Int64,
    serviceCode: String, serviceName: String, accountId: Int64? = nil,
    accountPseudonym: String? = nil, mediaPath: String? = nil, url: String? = nil,
    sha256: String? = nil, md5: String? = nil, pdq: String? = nil, bank: String? = nil,
    label: String? = nil, distance: Int? = nil, model: String? = nil, score: Double? = nil,
    createdAt: Int64, claimedBy: String? = nil, claimExpiresAt: Int64? = nil,
    decidedAt: Int64? = nil, bankVersion: Int? = nil
  ) {
    self.bankVersion = bankVersion
    self.id = id
    self.kind = kind
    self.state = state
    self.priority = priority
    self.serviceId = serviceId
    self.serviceCode = serviceCode
    self.serviceName = serviceName
    self.accountId = accountId
    self.accountPseudonym = accountPseudonym
    self.mediaPath = mediaPath
    self.url = url
    self.sha256 = sha256
    self.md5 = md5
    self.pdq = pdq
    self.bank = bank
    self.label = label
    self.distance = distance
    self.model = model
    self.score = score
    self.createdAt = createdAt
    self.claimedBy = claimedBy
    self.claimExpiresAt = claimExpiresAt
    self.decidedAt = decidedAt
  }
}

// MARK: - Consent

/// An account as the consent search lists it.
public struct AccountSummary: Hashable, Sendable {
  public var id: Int64
  /// The provider's own account id.
  public var externalId: String
  public var pseudonym: String
  public var createdAt: Int64

  /// Creates a value with every field given.
  public init(
    id: Int64, externalId: String, pseudonym: String, createdAt: Int64
  ) {
    self.id = id
    self.externalId = externalId
    self.pseudonym = pseudonym
    self.createdAt = createdAt
  }
}

/// One consent event of an account's history.
public struct ConsentEventRow: Hashable, Sendable {
  public var eventId: String
  public var accountId: Int64
  public var serviceId: Int64
  public var serviceCode: String
  public var serviceName: String
  public var state: ConsentState
  /// Unix seconds.
  public var occurredAt: Int64
  public var source: ConsentSource
  public var termsVersion: String
  public var operatorName: String?
  public var reason: String?

  /// Creates a value with every field given.
  public init(
    eventId: String, accountId: Int64, serviceId: Int64, serviceCode: String, serviceName: String,
    state: ConsentState, occurredAt: Int64, source: ConsentSource, termsVersion: String,
    operatorName: String? = nil, reason: String? = nil
  ) {
    self.eventId = eventId
    self.accountId = accountId
    self.serviceId = serviceId
    self.serviceCode = serviceCode
    self.serviceName = serviceName
    self.state = state
    self.occurredAt = occurredAt
    self.source = source
    self.termsVersion = termsVersion
    self.operatorName = operatorName
    self.reason = reason
  }
}

/// An account's current consent on one service (`not_asked` when nothing was recorded).
public struct ServiceConsent: Hashable, Sendable {
  public var serviceId: Int64
  public var serviceCode: String
  public var serviceName: String
  public var state: ConsentState
  /// Unix seconds of the last change, nil when never asked.
  public var updatedAt: Int64?

  /// Creates a value with every field given.
  public init(
    serviceId: Int64, serviceCode: String, serviceName: String, state: ConsentState,
    updatedAt: Int64? = nil
  ) {
    self.serviceId = serviceId
    self.serviceCode = serviceCode
    self.serviceName = serviceName
    self.state = state
    self.updatedAt = updatedAt
  }
}

// MARK: - Audit and reports

/// One audit event.
public struct AuditEventRow: Hashable, Sendable {
  public var id: Int64
  /// Unix seconds.
  public var at: Int64
  public var operatorName: String
  /// Dotted verb, e.g. `consent.change`, `item.decide`.
  public var action: String
  public var entity: String
  public var entityId: String
  /// `{"after":...,"before":...}` in canonical JSON.
  public var detailsJSON: String
  public var prevHash: String
  public var hash: String
  /// The case reference the event concerns (a report's, or that of the report an item is
  /// part of), when the audit page looked it up.
  public var caseRef: String?

  /// Creates a value with every field given.
  public init(
    id: Int64, at: Int64, operatorName: String, action: String, entity: String, entityId: String,
    detailsJSON: String, prevHash: String, hash: String, caseRef: String? = nil
  ) {
    self.caseRef = caseRef
    self.id = id
    self.at = at
    self.operatorName = operatorName
    self.action = action
    self.entity = entity
    self.entityId = entityId
    self.detailsJSON = detailsJSON
    self.prevHash = prevHash
    self.hash = hash
  }
}

/// A report to the EU Centre.
public struct ReportRow: Hashable, Sendable {
  public var id: Int64
  public var caseRef: String
  public var state: ReportState
  public var kind: FlagKind
  public var accountId: Int64?
  public var accountPseudonym: String?
  /// Unix seconds.
  public var createdAt: Int64
  public var sentAt: Int64?
  public var verdict: ReportVerdict?
  public var verdictAt: Int64?
  public var payloadJSON: String

  /// Creates a value with every field given.
  public init(
    id: Int64, caseRef: String, state: ReportState, kind: FlagKind, accountId: Int64? = nil,
    accountPseudonym: String? = nil, createdAt: Int64, sentAt: Int64? = nil,
    verdict: ReportVerdict? = nil, verdictAt: Int64? = nil, payloadJSON: String
  ) {
    self.id = id
    self.caseRef = caseRef
    self.state = state
    self.kind = kind
    self.accountId = accountId
    self.accountPseudonym = accountPseudonym
    self.createdAt = createdAt
    self.sentAt = sentAt
    self.verdict = verdict
    self.verdictAt = verdictAt
    self.payloadJSON = payloadJSON
  }
}

/// A console operator: a name bound to an OS account (uid), with a role.
public struct OperatorRow: Hashable, Sendable {
  public var id: Int64
  public var name: String
  public var role: OperatorRole
  public var createdAt: Int64
  /// The OS account the name is bound to; nil while an admin has not bound it (rows made
  /// before operators were bound to OS accounts). Nobody can act as an unbound operator.
  public var uid: UInt32?
  /// When an admin disabled the operator; nil while enabled.
  public var disabledAt: Int64?

  /// Creates a value with every field given.
  public init(
    id: Int64, name: String, role: OperatorRole, createdAt: Int64, uid: UInt32? = nil,
    disabledAt: Int64? = nil
  ) {
    self.id = id
    self.name = name
    self.role = role
    self.createdAt = createdAt
    self.uid = uid
    self.disabledAt = disabledAt
  }

  /// Whether the operator may still act (not disabled).
  public var isEnabled: Bool { disabledAt == nil }
}
