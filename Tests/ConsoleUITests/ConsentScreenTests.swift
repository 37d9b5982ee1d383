import Compliance
import Store
import Terminal
import Testing

@testable import ConsoleUI

@Suite("Consent screen")
struct ConsentScreenTests {
  /// The console on the Consent screen with `prefix` searched and the first match open.
  func openAccount(_ prefix: String) throws -> (Console, ConsentScreen) {
    let console = try makeConsole()
    console.press(.character("4"), .character("/"))
    console.type(prefix)
    console.press(.enter)
    let screen = try #require(console.screens[3] as? ConsentScreen)
    #expect(screen.query == prefix)
    console.press(.enter)
    #expect(screen.isOpen)
    return (console, screen)
  }

  /// Moves the service cursor to the first service in `state`; nil when there is none.
  func selectService(_ state: ConsentState, _ console: Console, _ screen: ConsentScreen)
    -> ServiceConsent?
  {
    guard let index = screen.states.firstIndex(where: { $0.state == state }) else { return nil }
    console.press(.character("g"))
    for _ in 0..<index { console.press(.character("j")) }
    return screen.selectedService
  }

  /// The key that records a support change to `state`.
  static func key(for state: ConsentState) -> Key {
    switch state {
    case .granted: .character("a")
    case .refused: .character("r")
    default: .character("w")
    }
  }

  @Test func searchesByIdAndPseudonymPrefixAsYouType() throws {
    let console = try makeConsole()
    console.press(.character("4"), .character("/"))
    console.type("A10000012")
    let screen = try #require(console.screens[3] as? ConsentScreen)
    #expect(screen.results.map(\.externalId) == (120...129).map { "A100000\($0)" })
    let text = console.render(width: 120, height: 40).text
    #expect(text.contains("Search account (id or pseudonym prefix): A10000012"))
    console.press(.enter)
    #expect(console.render(width: 120, height: 40).text.contains("10 accounts match"))

    let pseudonym = screen.results[3].pseudonym
    console.press(.character("/"))
    for _ in 0..<9 { console.press(.backspace) }
    console.type(String(pseudonym.prefix(8)).uppercased())
    #expect(screen.results.contains { $0.pseudonym == pseudonym })
    #expect(screen.results.allSatisfy { $0.pseudonym.hasPrefix(pseudonym.prefix(8)) })
  }

  @Test func showsStatesPerServiceAndTheFullHistory() throws {
    let (console, screen) = try openAccount("A100000007")
    let text = console.render(width: 120, height: 40).text
    #expect(text.contains("Consent of A100000007"))
    let services = try console.context.database.services(today: console.context.today).count
    #expect(screen.states.count == services)
    for state in screen.states where !state.serviceName.contains("\u{1B}") {
      #expect(text.contains(state.serviceName))
    }
    #expect(text.contains("History · \(screen.history.count) event"))
    if let newest = screen.history.last {
      #expect(text.contains("→ \(newest.state.rawValue)"))
    }
    console.press(.escape)
    #expect(!screen.isOpen)
  }

  @Test func recordsASupportChangeWithAReasonAndAudits() throws {
    // Find an account with a granted service.
    let probe = try makeConsole().context.database
    var target: AccountSummary?
    for account in try probe.searchAccounts(prefix: "A1", limit: 100) {
      if try probe.consentStates(accountId: account.id).contains(where: {
        $0.state == .granted
      }) {
        target = account
        break
      }
    }
    let account = try #require(target)
    let (c, screen) = try openAccount(account.externalId)
    let database = c.context.database
    let service = try #require(selectService(.granted, c, screen))
    let before = try database.consentHistory(accountId: account.id).count

    c.press(.character("w"))
    var text = c.render(width: 120, height: 40).text
    #expect(text.contains("Record a change requested through support"))
    #expect(text.contains("granted → withdrawn"))
    #expect(text.contains("Reason (required):"))
    c.press(.enter)
    #expect(c.render(width: 120, height: 40).text.contains("A reason is required"))
    c.type("Ticket 4711: user asked by e-mail")
    c.press(.enter)
    text = c.render(width: 120, height: 40).text
    let recorded = "Recorded: \(account.externalId) \(service.serviceCode) is now withdrawn"
    #expect(text.contains(recorded))

    let history = try database.consentHistory(accountId: account.id)
    #expect(history.count == before + 1)
    let event = try #require(history.last)
    #expect(event.state == .withdrawn && event.source == .support)
    #expect(event.reason == "Ticket 4711: user asked by e-mail")
    #expect(event.operatorName == "alice")
    #expect(screen.selectedService?.state == .withdrawn)
    let audit = try database.auditPage(beforeId: nil, limit: 1, actionPrefix: "consent.")
    #expect(audit.first?.action == "consent.change")
    #expect(audit.first?.operatorName == "alice")
    #expect(try database.verifyAuditChain().isOK)
    // The timeline shows the new change first.
    #expect(text.contains("granted → withdrawn  support"))
    #expect(text.contains("by alice · reason: Ticket 4711: user asked by e-mail"))
  }

  @Test func illegalChangesAreExplainedAndEscapeCancels() throws {
    let (console, screen) = try openAccount("A1000000")
    let service = try #require(screen.selectedService)
    let illegal = try #require(
      ConsentState.allCases.first {
        $0 != service.state && $0 != .notAsked && !service.state.allowedNextStates.contains($0)
      })
    console.press(Self.key(for: illegal))
    let text = console.render(width: 120, height: 40).text
    let reason = ConsentScreen.explain(
      ConsentTransitionError(from: service.state, to: illegal), on: service.serviceName)
    #expect(reason.contains("\(service.state.rawValue) cannot become \(illegal.rawValue)"))
    #expect(text.contains(reason))

    let legal = try #require(service.state.allowedNextStates.min { $0.rawValue < $1.rawValue })
    let history = screen.history.count
    console.press(Self.key(for: legal))
    #expect(console.render(width: 120, height: 40).text.contains("Reason (required):"))
    console.type("changed my mind")
    console.press(.escape)
    #expect(console.render(width: 120, height: 40).text.contains("Cancelled; nothing changed"))
    let account = try #require(screen.selectedAccount)
    #expect(try console.context.database.consentHistory(accountId: account.id).count == history)
  }

  @Test func tabSwitchesPanesAndTheOpenAccountFollowsTheList() throws {
    let (console, screen) = try openAccount("A10000010")
    let first = try #require(screen.selectedAccount)
    console.press(.character("j"))
    #expect(screen.selectedAccount == first)
    #expect(screen.selectedService?.serviceId == screen.states[1].serviceId)
    console.press(.tab, .character("j"))
    let second = try #require(screen.selectedAccount)
    #expect(second != first && screen.isOpen)
    #expect(console.render(width: 120, height: 40).text.contains("Consent of \(second.externalId)"))
    let history = try console.context.database.consentHistory(accountId: second.id)
    #expect(screen.history == history)
  }

  @Test func theCursorFollowsTheChangedServiceAfterAResort() throws {
    // An account where a never-asked service sits below a decided one.
    let probe = try makeConsole().context.database
    var target: AccountSummary?
    for account in try probe.searchAccounts(prefix: "A1", limit: 100) {
      let states = try probe.consentStates(accountId: account.id)
      if states.contains(where: { $0.updatedAt != nil }),
        states.filter({ $0.state == .notAsked }).count >= 2
      {
        target = account
        break
      }
    }
    let account = try #require(target)
    let (console, screen) = try openAccount(account.externalId)
    // The last never-asked service: a first decision moves it up among the decided ones.
    let index = try #require(screen.states.lastIndex { $0.state == .notAsked })
    let service = screen.states[index]
    console.press(.character("g"))
    for _ in 0..<index { console.press(.character("j")) }
    #expect(screen.selectedService?.serviceId == service.serviceId)
    console.press(.character("a"))
    console.type("Ticket 4712: user opted in by phone, confirmed by e-mail the same day")
    console.press(.enter)
    let moved = try #require(screen.states.firstIndex { $0.serviceId == service.serviceId })
    #expect(moved < index, "the services were re-sorted")
    #expect(screen.selectedService?.serviceId == service.serviceId)
    #expect(screen.selectedService?.state == .granted)
    // The history shows the reason whole, even at 80 columns.
    let text = console.render(width: 80, height: 24).text
    #expect(text.contains("by alice · reason: Ticket 4712: user opted in by phone"))
    #expect(text.contains("same day"))
  }

  @Test func oneEnterOpensASingleMatch() throws {
    let console = try makeConsole()
    console.press(.character("4"), .character("/"))
    console.type("A100000042")
    console.press(.enter)
    let screen = try #require(console.screens[3] as? ConsentScreen)
    #expect(screen.isOpen)
    #expect(console.shows("Consent of A100000042"))
  }

  @Test func theAccountListPagesPast200() throws {
    let console = try makeConsole()
    console.press(.character("4"))
    let screen = try #require(console.screens[3] as? ConsentScreen)
    #expect(screen.results.count == ConsentScreen.resultLimit && screen.hasMore)
    #expect(console.shows("Accounts · 200+"))
    for _ in 0..<250 { console.press(.character("j")) }
    let all = try console.context.database.searchAccounts(prefix: "", limit: 1000)
    #expect(all.count == 300)
    #expect(screen.selectedAccount?.externalId == all[250].externalId)
    console.press(.character("G"))
    #expect(screen.selectedAccount?.externalId == all.last?.externalId)
    #expect(!screen.hasMore)
    #expect(console.shows("Accounts · 300 "))
    // A live refresh keeps the place past the first page.
    _ = try screen.liveRefresh(console.context)
    #expect(screen.selectedAccount?.externalId == all.last?.externalId)
  }

  @Test func changeKeysNeedAnOpenAccount() throws {
    let console = try makeConsole()
    console.press(.character("4"), .character("a"))
    #expect(console.render(width: 80, height: 24).text.contains("Open an account with Enter"))
  }

  @Test(arguments: [(80, 24), (120, 40)])
  func snapshotsOfAnOpenAccount(width: Int, height: Int) throws {
    let (console, screen) = try openAccount("A100000042")
    assertSnapshot(
      console.render(width: width, height: height), named: "consent-open-\(width)x\(height)")
    let service = try #require(screen.selectedService)
    let next = try #require(service.state.allowedNextStates.min { $0.rawValue < $1.rawValue })
    console.press(Self.key(for: next))
    assertSnapshot(
      console.render(width: width, height: height), named: "consent-confirm-\(width)x\(height)")
  }
}
