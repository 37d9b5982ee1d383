// MARK: - Consent timelines: merging late and out-of-order events

/// One change on a ``ConsentTimeline``: already recorded (`stored`) or being added.
public struct ConsentTimelineEntry: Hashable, Sendable {
  public let state: ConsentState
  /// Unix seconds.
  public let occurredAt: Int64
  /// Whether the change was already recorded before this timeline was built.
  public let isStored: Bool
  /// Stable tiebreak between entries of the same second (stored order, or a file's line).
  public let ordinal: Int

  public init(state: ConsentState, occurredAt: Int64, isStored: Bool, ordinal: Int) {
    self.state = state
    self.occurredAt = occurredAt
    self.isStored = isStored
    self.ordinal = ordinal
  }

  /// Time order with a stable tiebreak: at the same second stored changes come first (they
  /// were accepted earlier), then by ordinal.
  public static func precedes(_ a: ConsentTimelineEntry, _ b: ConsentTimelineEntry) -> Bool {
    if a.occurredAt != b.occurredAt { return a.occurredAt < b.occurredAt }
    if a.isStored != b.isStored { return a.isStored }
    return a.ordinal < b.ordinal
  }
}

/// Why a change cannot join a consent timeline.
public struct ConsentTimelineError: Error, Equatable, Sendable, CustomStringConvertible {
  /// What went wrong.
  public enum Kind: Equatable, Sendable {
    /// The change itself is an illegal transition from the state at its time.
    case illegal(ConsentTransitionError)
    /// The change is legal, but makes a later recorded change (at `at`) illegal.
    case breaksLater(ConsentTransitionError, at: Int64)
    /// The change is older than the start of the known history (the caller must load it).
    case beforeKnownHistory(since: Int64)
  }

  public let kind: Kind

  public init(_ kind: Kind) { self.kind = kind }

  public var description: String {
    switch kind {
    case .illegal(let error):
      return "illegal transition: \(error)"
    case .breaksLater(let error, let at):
      return "out of order: it would make the later change at \(at) illegal (\(error))"
    case .beforeKnownHistory(let since):
      return "older than the known history (which starts at \(since))"
    }
  }
}

/// The consent history of one account on one service, in time order, to which changes that
/// arrive late or out of order can be added.
///
/// The rule: a change is accepted only if the whole history, stored changes and accepted new
/// ones merged in time order (ties: stored first, then by ordinal), still replays legally from
/// `not_asked`. A change that is itself illegal at its time, or that would make a later change
/// illegal, is rejected and the timeline stays as it was. Stored changes are never reordered
/// or dropped.
public struct ConsentTimeline: Sendable {
  /// The entries in time order.
  public private(set) var entries: [ConsentTimelineEntry]
  /// The state before the first entry (`not_asked` for a full history).
  public let base: ConsentState
  /// When `base` was reached (nil for a full history starting at `not_asked`).
  public let baseAt: Int64?

  /// A full history from `not_asked`: `stored` in the order it was recorded; it is sorted by
  /// time, stored order breaking ties.
  public init(stored: [(state: ConsentState, occurredAt: Int64)]) {
    entries = stored.enumerated().map {
      ConsentTimelineEntry(
        state: $0.element.state, occurredAt: $0.element.occurredAt, isStored: true,
        ordinal: $0.offset)
    }
    entries.sort(by: ConsentTimelineEntry.precedes)
    base = .notAsked
    baseAt = nil
  }

  /// Only the current state, reached at `at`: enough when every new change is newer.
  public init(current: ConsentState, at: Int64?) {
    entries = []
    base = current
    baseAt = at
  }

  /// The state after the last entry.
  public var current: ConsentState { entries.last?.state ?? base }

  /// When the last change happened.
  public var lastChange: Int64? { entries.last?.occurredAt ?? baseAt }

  /// Adds a change if the merged history stays legal; throws why not otherwise (the timeline
  /// is then unchanged).
  public mutating func insert(
    _ state: ConsentState, at occurredAt: Int64, ordinal: Int
  ) throws(ConsentTimelineError) {
    let entry = ConsentTimelineEntry(
      state: state, occurredAt: occurredAt, isStored: false, ordinal: ordinal)
    if let baseAt, occurredAt < baseAt {
      throw ConsentTimelineError(.beforeKnownHistory(since: baseAt))
    }
    // Fast path: newer than everything (the usual case).
    if let last = entries.last, !ConsentTimelineEntry.precedes(last, entry) {
      try insertInMiddle(entry)
      return
    }
    do {
      _ = try current.transition(to: state)
    } catch {
      throw ConsentTimelineError(.illegal(error))
    }
    entries.append(entry)
  }

  private mutating func insertInMiddle(_ entry: ConsentTimelineEntry) throws(ConsentTimelineError)
  {
    let position =
      entries.firstIndex { ConsentTimelineEntry.precedes(entry, $0) } ?? entries.count
    var state = position == 0 ? base : entries[position - 1].state
    do {
      state = try state.transition(to: entry.state)
    } catch {
      throw ConsentTimelineError(.illegal(error))
    }
    for later in entries[position...] {
      do {
        state = try state.transition(to: later.state)
      } catch {
        throw ConsentTimelineError(.breaksLater(error, at: later.occurredAt))
      }
    }
    entries.insert(entry, at: position)
  }
}

/// Orders a batch of items by time, with a stable tiebreak (their position in `items`, i.e.
/// the order of the file they came from).
public func orderedByTime<T>(_ items: [T], time: (T) -> Int64) -> [T] {
  items.enumerated().sorted { a, b in
    let ta = time(a.element)
    let tb = time(b.element)
    return ta != tb ? ta < tb : a.offset < b.offset
  }.map(\.element)
}
