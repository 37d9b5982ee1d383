import Testing

@testable import Compliance

@Suite("Consent state machine")
struct ConsentTests {
  static let legal: Set<[ConsentState]> = [
    [.notAsked, .granted], [.notAsked, .refused], [.granted, .withdrawn],
    [.refused, .granted], [.withdrawn, .granted],
  ]

  @Test func everyTransitionIsLegalOrRejectedWithAReason() {
    for from in ConsentState.allCases {
      for to in ConsentState.allCases {
        #expect(from.allowedNextStates.contains(to) == Self.legal.contains([from, to]))
        #expect(from.allows(to) == Self.legal.contains([from, to]))
        if Self.legal.contains([from, to]) {
          #expect((try? from.transition(to: to)) == to, "\(from) -> \(to) should be legal")
        } else {
          do {
            _ = try from.transition(to: to)
            Issue.record("\(from) -> \(to) should be rejected")
          } catch {
            #expect(error.from == from && error.to == to)
            #expect(!error.description.isEmpty)
          }
        }
      }
    }
  }

  @Test func reasonsAreSpecific() {
    #expect(throws: ConsentTransitionError(from: .granted, to: .granted)) {
      try ConsentState.granted.transition(to: .granted)
    }
    let back = ConsentTransitionError(from: .refused, to: .notAsked)
    #expect(back.description.contains("not_asked"))
    let skip = ConsentTransitionError(from: .granted, to: .refused)
    #expect(skip.description.contains("withdrawn"))
  }

  @Test func onlyGrantedMayShareVisualContent() {
    let allowed = ConsentState.allCases.filter(\.mayShareVisualContentAndURLs)
    #expect(allowed == [.granted])
  }

  @Test func replayOrdersByTime() throws {
    let history = [
      ConsentChange(state: .granted, occurredAt: 300, source: .app, termsVersion: "2"),
      ConsentChange(state: .refused, occurredAt: 100, source: .app, termsVersion: "1"),
      ConsentChange(state: .withdrawn, occurredAt: 400, source: .support, termsVersion: "2"),
    ]
    #expect(try replayConsent(history) == .withdrawn)
    #expect(try replayConsent([]) == .notAsked)
    let illegal = [
      ConsentChange(state: .withdrawn, occurredAt: 1, source: .import, termsVersion: "1")
    ]
    #expect(throws: ConsentTransitionError.self) { try replayConsent(illegal) }
  }

  @Test func detectionScopeCodesRoundTrip() throws {
    let scope = try DetectionScope(codes: "known, new,images,urls")
    #expect(scope == [.knownMaterial, .newMaterial, .images, .urls])
    #expect(scope.codes == "known,new,images,urls")
    #expect(throws: DomainValueError.self) { try DetectionScope(codes: "known,audio") }
  }

  @Test func ordersEndingSoon() throws {
    let order = DetectionOrderTerms(
      authority: "Autorité", reference: "DO-1", starts: try CalendarDate(parsing: "2026-01-01"),
      ends: try CalendarDate(parsing: "2026-12-31"), scope: [.knownMaterial, .images],
      includesEndToEndEncrypted: true)
    #expect(order.isActive(on: try CalendarDate(parsing: "2026-12-31")))
    #expect(!order.isActive(on: try CalendarDate(parsing: "2027-01-01")))
    #expect(order.isEndingSoon(on: try CalendarDate(parsing: "2026-11-25")))
    #expect(!order.isEndingSoon(on: try CalendarDate(parsing: "2026-10-01")))
  }
}
