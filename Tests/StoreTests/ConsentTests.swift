import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

@Suite("Consent changes and account search")
struct ConsentTests {
  @Test func legalChangesAreRecordedAndAudited() throws {
    let db = try seededDatabase()
    try db.recordConsentChange(
      accountId: 1, serviceId: 1, to: .granted, source: .app, termsVersion: "tos-2025-01",
      reason: nil, by: "alice")
    let event = try db.recordConsentChange(
      accountId: 1, serviceId: 1, to: .withdrawn, source: .support,
      termsVersion: "tos-2025-01", reason: "ticket 12", by: "alice")
    #expect(event.state == .withdrawn)
    #expect(event.operatorName == "alice")

    let history = try db.consentHistory(accountId: 1)
    #expect(history.map(\.state) == [.granted, .withdrawn])
    #expect(history.last?.reason == "ticket 12")
    let states = try db.consentStates(accountId: 1)
    #expect(states.map(\.serviceCode) == ["chat-eu", "foto-de"])
    #expect(states.map(\.state) == [.withdrawn, .notAsked])

    let audit = try db.auditPage(beforeId: nil, limit: 2, actionPrefix: "consent.")
    #expect(audit.count == 2)
    #expect(audit[0].detailsJSON.contains("\"withdrawn\""))
    #expect(audit[0].detailsJSON.contains("\"before\":{\"service\":1,\"state\":\"granted\"}"))
    #expect(try db.verifyAuditChain().isOK)

    let stats = try db.dashboard(today: fixedToday).consent
    #expect(stats[0].withdrawn == 1 && stats[0].notAsked == 1)
    #expect(stats[0].withdrawalsThisMonth == 1)
  }

  @Test func illegalChangeThrowsAndWritesNothing() throws {
    let db = try seededDatabase()
    let events = try count(db, "SELECT count(*) FROM audit_event")
    expectTransitionError(.notAsked, .withdrawn) {
      try db.recordConsentChange(
        accountId: 2, serviceId: 1, to: .withdrawn, source: .app, termsVersion: "t",
        reason: nil, by: "alice")
    }
    try db.recordConsentChange(
      accountId: 2, serviceId: 1, to: .refused, source: .app, termsVersion: "t", reason: nil,
      by: "alice")
    expectTransitionError(.refused, .refused) {
      try db.recordConsentChange(
        accountId: 2, serviceId: 1, to: .refused, source: .app, termsVersion: "t",
        reason: nil, by: "alice")
    }
    expectTransitionError(.refused, .notAsked) {
      try db.recordConsentChange(
        accountId: 2, serviceId: 1, to: .notAsked, source: .app, termsVersion: "t",
        reason: nil, by: "alice")
    }
    #expect(try count(db, "SELECT count(*) FROM consent_event") == 1)
    #expect(try count(db, "SELECT count(*) FROM audit_event") == events + 1)
    #expect(try db.consentStates(accountId: 2)[0].state == .refused)
  }

  @Test func supportChangesNeedAReasonAndAKnownOperator() throws {
    let db = try seededDatabase()
    #expect(throws: StoreError.self) {
      try db.recordConsentChange(
        accountId: 1, serviceId: 1, to: .granted, source: .support, termsVersion: "t",
        reason: "  ", by: "alice")
    }
    #expect(throws: StoreError.unknownOperator(name: "mallory")) {
      try db.recordConsentChange(
        accountId: 1, serviceId: 1, to: .granted, source: .app, termsVersion: "t",
        reason: nil, by: "mallory")
    }
    #expect(throws: StoreError.notFound(entity: "account", id: "99")) {
      try db.recordConsentChange(
        accountId: 99, serviceId: 1, to: .granted, source: .app, termsVersion: "t",
        reason: nil, by: "alice")
    }
  }

  @Test func searchByExternalIdOrPseudonymPrefix() throws {
    let db = sharedDemo
    let byId = try db.searchAccounts(prefix: "A1000001", limit: 20)
    #expect(byId.count == 20)
    #expect(byId.allSatisfy { $0.externalId.hasPrefix("A1000001") })
    #expect(byId.map(\.externalId) == byId.map(\.externalId).sorted())

    let some = try #require(try db.account(id: 777))
    let prefix = String(some.pseudonym.prefix(7))
    let byPseudonym = try db.searchAccounts(prefix: prefix.uppercased(), limit: 50)
    #expect(byPseudonym.contains(some))
    #expect(byPseudonym.allSatisfy { $0.pseudonym.hasPrefix(prefix) })
    let expected = try count(
      db, "SELECT count(*) FROM account WHERE substr(pseudonym, 1, 7) = ?", [prefix])
    #expect(byPseudonym.count == min(50, expected))

    #expect(try db.searchAccounts(prefix: "zzz", limit: 10).isEmpty)
    #expect(try db.searchAccounts(prefix: "A100001500", limit: 10).map(\.id) == [1500])
  }

  @Test func searchUsesIndexes() throws {
    let plan = try sharedDemo.writer.read { db in
      try Row.fetchAll(
        db,
        sql: """
          EXPLAIN QUERY PLAN SELECT id FROM account
          WHERE pseudonym >= 'u-1' AND pseudonym < 'u-1' || char(1114111)
          """
      ).map { $0["detail"] as String }.joined(separator: "\n")
    }
    #expect(plan.contains("USING COVERING INDEX") || plan.contains("USING INDEX"))
  }

  @Test func demoHistoriesAreLegal() throws {
    let db = sharedDemo
    for accountId in Int64(1)...200 {
      let history = try db.consentHistory(accountId: accountId)
      let byService = Dictionary(grouping: history, by: \.serviceId)
      for (serviceId, events) in byService {
        let changes = events.map {
          ConsentChange(
            state: $0.state, occurredAt: $0.occurredAt, source: $0.source,
            termsVersion: $0.termsVersion)
        }
        let final = try replayConsent(changes)
        let current = try db.consentStates(accountId: accountId)
          .first { $0.serviceId == serviceId }
        #expect(current?.state == final)
      }
    }
    let states = try db.writer.read { db in
      try String.fetchSet(db, sql: "SELECT DISTINCT state FROM consent_current")
    }
    #expect(states == ["granted", "refused", "withdrawn"])
  }
}

/// Expects `body` to throw the state machine's error for `from` -> `to`.
func expectTransitionError(
  _ from: ConsentState, _ to: ConsentState, _ body: () throws -> Void,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  do {
    try body()
    Issue.record("expected ConsentTransitionError", sourceLocation: sourceLocation)
  } catch let error as ConsentTransitionError {
    #expect(error.from == from && error.to == to, sourceLocation: sourceLocation)
  } catch {
    Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
  }
}
