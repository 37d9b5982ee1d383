import Compliance
import Foundation
import GRDB
import Store
import Terminal
import Testing

@testable import ConsoleUI

/// Twin accounts (one id in NFD and in NFC, kept apart by `v6-nfc-ids`) are said wherever an
/// operator sees one account's consent or decides on an item of it.
@Suite("Twin accounts in the console")
struct TwinAccountsTests {
  static let nfd = "Zoe\u{308}-4", nfc = "Zo\u{EB}-4"
  static let nfdPseudonym = "u-7e57ab000001", nfcPseudonym = "u-7e57ab000002"

  /// The fixture's database as a csar from before `v6-nfc-ids` left it: an account stored in
  /// NFD beside its NFC twin, the NFD one owning `itemId`. The next open migrates it.
  static func addTwins(_ fixture: ReviewFixture, itemId: Int64) throws {
    try fixture.open().writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO account (external_id, pseudonym, created_at) VALUES
            (?, '\(nfdPseudonym)', 0), (?, '\(nfcPseudonym)', 0);
          UPDATE flagged_item SET account_id = (
            SELECT id FROM account WHERE pseudonym = '\(nfdPseudonym)') WHERE id = ?;
          DROP INDEX id_respelling_kept_account;
          DROP TABLE migration_time;
          DROP TABLE id_respelling;
          DELETE FROM grdb_migrations WHERE identifier IN ('v6-nfc-ids', 'v7-twins');
          """, arguments: [nfd, nfc, itemId])
    }
  }

  /// What the console shows at `width` x `height` (each phrase a test looks for fits a row).
  static func text(_ console: Console, width: Int, height: Int) -> String {
    console.render(width: width, height: height).text
  }

  /// A console on the fixture with twins, its Consent screen searched for `text` (Enter).
  static func consentSearch(_ text: String) throws -> (Console, ConsentScreen) {
    let fixture = try ReviewFixture()
    try Self.addTwins(fixture, itemId: try fixture.firstItemId())
    let console = try fixture.console("alice")
    console.press(.character("4"), .character("/"))
    console.type(text)
    console.press(.enter)
    return (console, try #require(console.screens[3] as? ConsentScreen))
  }

  @Test(arguments: [(80, 24), (120, 40)])
  func theConsentScreenMarksTwinsAndSaysSoBeforeAChange(width: Int, height: Int) throws {
    let (console, screen) = try Self.consentSearch("Zo")
    #expect(screen.results.map(\.pseudonym) == [Self.nfdPseudonym, Self.nfcPseudonym])
    var text = Self.text(console, width: width, height: height)
    #expect(text.components(separatedBy: "-4 (twin)").count == 3, "\(text)")

    console.press(.enter)
    #expect(screen.isOpen && screen.twins.map(\.pseudonym) == [Self.nfcPseudonym])
    text = Self.text(console, width: width, height: height)
    #expect(text.contains("Twin: another account has this id in another Unicode form"), "\(text)")
    #expect(text.contains(Self.nfcPseudonym), "\(text)")
    #expect(text.contains("(U+00EB there, U+0065 U+0308 here); never merged"), "\(text)")

    // A support change on it names the twin in the dialog, before anything is recorded.
    console.press(.character("a"))
    text = Self.text(console, width: width, height: height)
    #expect(text.contains("Record a change requested through support"), "\(text)")
    #expect(text.contains("Twin     another account: this id in another Unicode form"))
    #expect(text.contains("         u-7e57ab000002 (U+00EB there, U+0065 U+0308 here)"))
    console.press(.escape)

    // The other one says the same from its side; an account without a twin says nothing.
    console.press(.tab, .character("j"))
    #expect(screen.twins.map(\.pseudonym) == [Self.nfdPseudonym])
    text = Self.text(console, width: width, height: height)
    #expect(text.contains("(U+0065 U+0308 there, U+00EB here)"), "\(text)")
    console.press(.escape, .character("/"))
    for _ in 0..<2 { console.press(.backspace) }
    console.type("A1")
    console.press(.enter, .enter)
    #expect(screen.isOpen && screen.twins.isEmpty)
    text = Self.text(console, width: width, height: height)
    #expect(!text.contains("Twin") && !text.contains("(twin)"), "\(text)")
  }

  @Test(arguments: [(80, 24), (120, 40)])
  func aReviewItemOfATwinSaysSoBeforeADecision(width: Int, height: Int) throws {
    let fixture = try ReviewFixture()
    let items = try fixture.itemIds(limit: 2)
    try Self.addTwins(fixture, itemId: items[0])
    let console = try fixture.console("alice")
    console.press(.enter)
    #expect(console.shows("Item \(items[0]) · claimed until", width: width, height: height))
    let text = Self.text(console, width: width, height: height)
    #expect(text.contains("Twin"), "\(text)")
    #expect(text.contains("another account"), "\(text)")
    #expect(text.contains(Self.nfcPseudonym), "\(text)")
    #expect(text.contains("y confirm"), "\(text)")

    // The next item's account has none.
    console.press(.character("s"))
    #expect(console.shows("Item \(items[1]) · claimed until", width: width, height: height))
    #expect(!Self.text(console, width: width, height: height).contains("Twin"))
  }

  /// The item pane's Twin line gives each twin's consent on the item's service, in the words
  /// `csar consent show` uses, as the upload gate weighs it; before, it named the twin alone.
  @Test(arguments: [(80, 24), (120, 40)])
  func aReviewItemOfATwinGivesTheTwinsConsent(width: Int, height: Int) throws {
    let fixture = try ReviewFixture()
    let itemId = try fixture.firstItemId()
    try Self.addTwins(fixture, itemId: itemId)
    let console = try fixture.console("alice")
    let database = console.context.database
    let nfcAccount = try #require(try database.account(externalIdOrPseudonym: Self.nfc))
    let serviceId = try #require(
      try fixture.sql("SELECT service_id FROM flagged_item WHERE id = \(itemId)", Int64.self))
    console.press(.enter)
    #expect(console.shows("Item \(itemId) · claimed until", width: width, height: height))
    var text = Self.text(console, width: width, height: height)
    #expect(
      Self.twinLine(text) == "another account has this id in another Unicode form: "
        + "\(Self.nfcPseudonym) (consent not_asked)", "\(text)")

    // The twin refuses on the item's service: the item opened again says so.
    _ = try database.recordConsentChange(
      accountId: nfcAccount.id, serviceId: serviceId, to: .refused, source: .app,
      termsVersion: "t-1", reason: nil, by: "alice")
    let again = try fixture.console("alice")
    again.press(.enter)
    #expect(again.shows("Item \(itemId) · claimed until", width: width, height: height))
    text = Self.text(again, width: width, height: height)
    #expect(Self.twinLine(text).hasSuffix("\(Self.nfcPseudonym) (consent refused)"), "\(text)")
  }

  /// The item pane's Twin line as one line: its value and the rows it wraps onto (indented
  /// further than the label, in the same cell between borders), joined by spaces.
  static func twinLine(_ text: String) -> String {
    let rows = text.split(separator: "\n").map {
      $0.split(separator: "│", omittingEmptySubsequences: false).map(String.init)
    }
    let indent = { (cell: String) in cell.prefix { $0 == " " }.count }
    for (index, cells) in rows.enumerated() {
      guard
        let column = cells.firstIndex(where: {
          $0.trimmingCharacters(in: .whitespaces).hasPrefix(TwinNotice.label + " ")
        })
      else { continue }
      let label = cells[column]
      let more = rows[(index + 1)...].prefix {
        $0.count > column && indent($0[column]) > indent(label)
          && !$0[column].allSatisfy(\.isWhitespace)
      }
      return ([String(label.drop { $0 == " " }.dropFirst(TwinNotice.label.count))]
        + more.map { $0[column] })
        .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
    return ""
  }

  /// The status bar (last row) at `width` x `height`.
  static func statusBar(_ console: Console, width: Int, height: Int) -> String {
    Self.text(console, width: width, height: height).split(separator: "\n").last
      .map(String.init) ?? ""
  }

  /// `V` says what `csar audit verify`'s twins line says (the counts, not tampering, where
  /// they are listed), before the head so the counts show at 80 columns. Before, the
  /// console's line said nothing of twins.
  @Test(arguments: [(80, 24), (120, 40)])
  func theVerifyLineCountsTwinsAsAuditVerifyDoes(width: Int, height: Int) throws {
    let fixture = try ReviewFixture()
    do {
      let console = try fixture.console("alice")
      console.press(.character("5"))
      console.verifyAndWait()
      let bar = Self.statusBar(console, width: width, height: height)
      #expect(bar.contains("audit log ok:") && !bar.contains("twins"), "\(bar)")
    }
    try Self.addTwins(fixture, itemId: try fixture.firstItemId())
    let console = try fixture.console("alice")
    console.press(.character("5"))
    console.verifyAndWait()
    let bar = Self.statusBar(console, width: width, height: height)
    #expect(bar.contains("audit log ok:"), "\(bar)")
    #expect(bar.contains("chain intact · twins: 1 id, 2 accounts"), "\(bar)")
    if width >= 120 {
      // The head follows whole: its event and the first 12 digits of its MAC.
      #expect(
        bar.range(
          of: #"2 accounts \(csar consent twins\) · head [0-9]+:[0-9a-f]{12}…"#,
          options: .regularExpression) != nil, "\(bar)")
    }
  }

  /// A service where the open account granted consent but its twin did not says `blocked`,
  /// as the upload gate answers; before, it said `may share`.
  @Test(arguments: [(80, 24), (120, 40)])
  func aServiceATwinHasNotGrantedIsBlockedOnTheConsentScreen(width: Int, height: Int) throws {
    let fixture = try ReviewFixture()
    try Self.addTwins(fixture, itemId: try fixture.firstItemId())
    let console = try fixture.console("alice")
    let database = console.context.database
    let nfdAccount = try #require(try database.account(externalIdOrPseudonym: Self.nfdPseudonym))
    let service = try #require(try database.consentStates(accountId: nfdAccount.id).first)
    _ = try database.recordConsentChange(
      accountId: nfdAccount.id, serviceId: service.serviceId, to: .granted, source: .app,
      termsVersion: "t-1", reason: nil, by: "alice")
    console.press(.character("4"), .character("/"))
    console.type("Zo")
    console.press(.enter, .enter)
    let screen = try #require(console.screens[3] as? ConsentScreen)
    #expect(screen.isOpen && screen.twins.map(\.pseudonym) == [Self.nfcPseudonym])
    #expect(screen.blockedByTwin == [service.serviceId])
    let text = Self.text(console, width: width, height: height)
    let row = try #require(
      text.split(separator: "\n").first { $0.contains("granted") }, "\(text)")
    #expect(row.contains("blocked") && !row.contains("may share"), "\(text)")

    // Its twin granted too: the service may share again.
    let nfcAccount = try #require(try database.account(externalIdOrPseudonym: Self.nfc))
    _ = try database.recordConsentChange(
      accountId: nfcAccount.id, serviceId: service.serviceId, to: .granted, source: .app,
      termsVersion: "t-1", reason: nil, by: "alice")
    try screen.reload(console.context)
    #expect(screen.blockedByTwin.isEmpty)
    let after = Self.text(console, width: width, height: height)
    let shared = try #require(after.split(separator: "\n").first { $0.contains("granted") })
    #expect(shared.contains("may share"), "\(after)")
  }

  /// An id pasted in NFD lists both twins; before, it found the NFC account alone and the
  /// search's Enter opened it as the only match.
  @Test(arguments: [(80, 24), (120, 40)])
  func searchingATwinsSpellingListsBothTwins(width: Int, height: Int) throws {
    let (console, screen) = try Self.consentSearch(Self.nfd)
    #expect(screen.results.map(\.pseudonym) == [Self.nfdPseudonym, Self.nfcPseudonym])
    #expect(!screen.isOpen, "two matches: the list waits for a choice")
    let text = Self.text(console, width: width, height: height)
    #expect(text.components(separatedBy: "-4 (twin)").count == 3, "\(text)")
  }
}
