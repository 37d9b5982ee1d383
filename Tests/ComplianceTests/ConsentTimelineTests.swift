import Testing

@testable import Compliance

@Suite("Consent timelines")
struct ConsentTimelineTests {
  @Test func newerChangesAppendWhenLegal() throws {
    var timeline = ConsentTimeline(current: .granted, at: 100)
    try timeline.insert(.withdrawn, at: 200, ordinal: 1)
    #expect(timeline.current == .withdrawn && timeline.lastChange == 200)
    #expect(throws: ConsentTimelineError(.illegal(.init(from: .withdrawn, to: .withdrawn)))) {
      try timeline.insert(.withdrawn, at: 300, ordinal: 2)
    }
    #expect(throws: ConsentTimelineError(.beforeKnownHistory(since: 100))) {
      try timeline.insert(.granted, at: 50, ordinal: 3)
    }
    #expect(timeline.entries.count == 1)
  }

  @Test func lateChangesAreMergedOnlyIfTheHistoryStaysLegal() throws {
    // Stored: granted at 100, withdrawn at 300.
    var timeline = ConsentTimeline(stored: [(.withdrawn, 300), (.granted, 100)])
    #expect(timeline.entries.map(\.occurredAt) == [100, 300])
    #expect(timeline.current == .withdrawn)
    // refused at 50 then granted at 100 is legal: not_asked -> refused -> granted -> withdrawn.
    try timeline.insert(.refused, at: 50, ordinal: 1)
    #expect(timeline.entries.map(\.state) == [.refused, .granted, .withdrawn])
    // granted at 200 would be granted -> granted: illegal at its time.
    do {
      try timeline.insert(.granted, at: 200, ordinal: 2)
      Issue.record("expected a rejection")
    } catch {
      #expect(error.kind == .illegal(.init(from: .granted, to: .granted)))
      #expect(error.description.hasPrefix("illegal transition"))
    }
    // withdrawn at 150 is legal itself but breaks the stored withdrawal at 300.
    do {
      try timeline.insert(.withdrawn, at: 150, ordinal: 3)
      Issue.record("expected a rejection")
    } catch {
      #expect(error.kind == .breaksLater(.init(from: .withdrawn, to: .withdrawn), at: 300))
      #expect(error.description.contains("out of order"))
    }
    #expect(timeline.entries.count == 3)
  }

  @Test func sameSecondTiesKeepStoredChangesFirst() throws {
    var timeline = ConsentTimeline(stored: [(.granted, 100)])
    try timeline.insert(.withdrawn, at: 100, ordinal: 0)
    #expect(timeline.entries.map(\.isStored) == [true, false])
    #expect(timeline.current == .withdrawn)
  }

  @Test func batchesAreOrderedByTimeThenByFileOrder() {
    let items = [(3, "a"), (1, "b"), (3, "c"), (2, "d")]
    let ordered = orderedByTime(items) { Int64($0.0) }
    #expect(ordered.map(\.1) == ["b", "d", "a", "c"])
  }
}
