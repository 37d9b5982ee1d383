import Compliance
import Foundation
import GRDB
import Store
import Terminal
import Testing

@testable import ConsoleUI

extension Console {
  var queue: QueueScreen { screens[2] as! QueueScreen }
}

extension ReviewFixture {
  /// Another connection to the same file, as a colleague's console has.
  func colleague() throws -> AppDatabase { try open() }

  /// The first pending item of a kind, in queue order.
  func firstItem(kind: FlagKind, exactMatch: Bool? = nil) throws -> Int64 {
    var condition = "kind = '\(kind.rawValue)' AND state = 'pending'"
    if let exactMatch { condition += exactMatch ? " AND distance = 0" : " AND distance > 0" }
    return try sql(
      "SELECT id FROM flagged_item WHERE \(condition) ORDER BY priority, created_at, id LIMIT 1",
      Int64.self) ?? -1
  }
}

@Suite("Queue flow in the console")
struct QueueFlowConsoleTests {
  @Test func afterADecisionTheNextFreeItemOpensPassingAColleaguesClaim() throws {
    let fixture = try ReviewFixture()
    let ids = try fixture.itemIds(limit: 3)
    let alice = try fixture.console("alice")
    alice.press(.enter)
    #expect(alice.queue.openItemId == ids[0])
    try fixture.colleague().claimItem(id: ids[1], by: "bob")
    alice.press(.character("d"))
    #expect(alice.queue.openItemId == ids[2])
    #expect(alice.queue.selectedItemId == ids[2])
    #expect(alice.shows("Item \(ids[2]) · claimed until"))
    // Keys keep working on the open item: nothing says "Open an item with Enter first".
    alice.press(.character("s"))
    #expect(!alice.shows("Open an item with Enter first"))
    #expect(alice.queue.openItemId != nil)
  }

  @Test func stepping_whileReviewingPassesRowsAColleagueHolds() throws {
    let fixture = try ReviewFixture()
    let ids = try fixture.itemIds(limit: 3)
    let alice = try fixture.console("alice")
    alice.press(.enter)
    try fixture.colleague().claimItem(id: ids[1], by: "bob")
    alice.press(.control("r"), .character("j"))
    #expect(alice.queue.openItemId == ids[2])
  }

  @Test func aColleaguesDecisionAboveDoesNotMoveTheCursor() throws {
    let fixture = try ReviewFixture()
    let ids = try fixture.itemIds(limit: 4)
    let alice = try fixture.console("alice")
    alice.refreshIfChanged()
    alice.press(.character("j"), .character("j"))
    #expect(alice.queue.selectedItemId == ids[2])
    let bob = try fixture.colleague()
    try bob.claimItem(id: ids[0], by: "bob")
    try bob.decide(itemId: ids[0], decision: .dismiss, note: nil, by: "bob")
    #expect(alice.refreshIfChanged())
    #expect(alice.queue.selectedItemId == ids[2])
    #expect(!alice.refreshIfChanged(), "nothing changed since")
  }

  @Test func liveRefreshKeepsTheOpenItemAndItsBlur() throws {
    let fixture = try ReviewFixture()
    let ids = try fixture.itemIds(limit: 3)
    let alice = try fixture.console("alice")
    alice.refreshIfChanged()
    alice.press(.enter, .character("-"))
    let bob = try fixture.colleague()
    try bob.claimItem(id: ids[2], by: "bob")
    #expect(alice.refreshIfChanged())
    #expect(alice.queue.openItemId == ids[0])
    #expect(alice.shows("blur \(BlurLevel(3))"))
    #expect(alice.shows("@bob"))
  }

  @Test func anIdleClaimIsGivenBack() throws {
    let fixture = try ReviewFixture()
    let first = try fixture.firstItemId()
    let alice = try fixture.console("alice")
    alice.context.review.claimIdleSeconds = 120
    alice.press(.enter)
    alice.idle(secondsSinceKey: 119)
    #expect(alice.queue.openItemId == first)
    alice.idle(secondsSinceKey: 120)
    #expect(alice.queue.openItemId == nil)
    #expect(
      try fixture.sql("SELECT claimed_by IS NULL FROM flagged_item WHERE id = \(first)", Bool.self)
        == true)
    #expect(alice.shows("given back after 2 min without a key"))
  }

  @Test func escalatedItemsAreLeftOutOfAReviewersQueueAndOfferedToLeadsFirst() throws {
    let fixture = try ReviewFixture()
    let escalated = try #require(
      try fixture.sql("SELECT id FROM flagged_item WHERE state = 'escalated' LIMIT 1", Int64.self))
    let alice = try fixture.console("alice")
    let pending = try #require(try fixture.sql(
      "SELECT count(*) FROM flagged_item WHERE state = 'pending'", Int.self))
    #expect(alice.shows("of \(Format.count(pending))"))
    #expect(alice.queue.selectedItemId == (try fixture.firstItemId()))
    // A lead's next item after a decision is an escalated one.
    let bahar = try fixture.console("bahar")
    bahar.press(.enter, .character("s"))
    let next = try #require(bahar.queue.openItemId)
    #expect(try fixture.sql("SELECT state FROM flagged_item WHERE id = \(next)") == "escalated")
    _ = escalated
  }

  @Test func newMaterialNeedsALookBeforeConfirming() throws {
    let fixture = try ReviewFixture()
    let item = try fixture.firstItem(kind: .newMaterial)
    let alice = try fixture.console("alice")
    alice.press(.character("f"), .character("f"), .enter)
    #expect(alice.queue.openItemId == item)
    alice.press(.character("y"))
    #expect(alice.shows("look closer first"))
    #expect(try fixture.sql("SELECT state FROM flagged_item WHERE id = \(item)") == "pending")
    alice.press(.character("-"), .character("y"))
    #expect(try fixture.sql("SELECT state FROM flagged_item WHERE id = \(item)") != "pending")
  }

  @Test func anExactHashMatchStaysOneKey() throws {
    let fixture = try ReviewFixture()
    let item = try fixture.firstItem(kind: .knownMatch, exactMatch: true)
    let alice = try fixture.console("alice")
    alice.press(.character("f"), .enter)
    #expect(alice.queue.openItemId == item)
    alice.press(.character("y"))
    #expect(try fixture.sql("SELECT state FROM flagged_item WHERE id = \(item)") == "confirmed")
  }

  @Test func bJumpsToThePreferredBlurAndIsAudited() throws {
    let fixture = try ReviewFixture()
    let alice = try fixture.console("alice")
    alice.context.review.preferredBlur = 1
    alice.press(.enter)
    let before = try fixture.sql(
      "SELECT count(*) FROM audit_event WHERE action LIKE 'preview.%'", Int.self) ?? 0
    alice.press(.character("b"))
    #expect(alice.shows("blur \(BlurLevel(1))"))
    #expect(
      try fixture.sql("SELECT count(*) FROM audit_event WHERE action LIKE 'preview.%'", Int.self)
        == before + 1)
  }

  @Test func statusMessagesExpireButTheBreakReminderStays() throws {
    let fixture = try ReviewFixture()
    let alice = try fixture.console("alice")
    alice.context.review.breakReminderAfter = 1
    alice.press(.character("y"))
    #expect(alice.shows("Open an item with Enter first"))
    for second in 1...15 { alice.idle(secondsSinceKey: second) }
    #expect(!alice.shows("Open an item with Enter first"))
    alice.press(.enter, .character("-"))
    for second in 1...60 { alice.idle(secondsSinceKey: second) }
    #expect(alice.shows("Consider a short break"))
    alice.press(.character("y"))
    #expect(alice.shows("Consider a short break"), "a stray key does not dismiss it")
    alice.press(.enter)
    #expect(!alice.shows("Consider a short break"))
  }

  @Test func theFilterPromptSelectsTheOldValueAndTakesServiceNames() throws {
    let fixture = try ReviewFixture()
    let alice = try fixture.console("alice")
    alice.press(.character("f"))
    alice.press(.character("/"))
    #expect(alice.shows("kind=known_match"))
    // Typing replaces the selected old value.
    alice.type("kind=url")
    #expect(alice.shows("kind=url") && !alice.shows("kind=known_matchkind"))
    alice.press(.control("u"))
    let service = try #require(
      try fixture.sql(
        "SELECT s.name FROM service s JOIN flagged_item f ON f.service_id = s.id LIMIT 1"))
    let code = try #require(try fixture.sql("SELECT code FROM service WHERE name = '\(service)'"))
    // Tab completes a code from the start of a name.
    alice.type("service=" + String(QueueFilterText.squeeze(service).prefix(4)))
    alice.press(.tab)
    let screen = alice.render(width: 120, height: 40).text
    #expect(screen.contains("service=\(code)"), "\(screen.suffix(120))")
    alice.press(.enter)
    #expect(alice.shows("service=\(code)"))
    alice.press(.character("/"), .control("u"))
    alice.type("service=" + service.replacingOccurrences(of: " ", with: "_"))
    alice.press(.enter)
    #expect(alice.shows("service=\(code)"))
    // No match is said.
    alice.press(.character("/"))
    alice.type("bank=nothing-here")
    alice.press(.enter)
    #expect(alice.shows("No match"))
  }

  @Test func theOpenItemIsNamedWhenAFilterHidesIt() throws {
    let fixture = try ReviewFixture()
    let alice = try fixture.console("alice")
    alice.press(.character("f"), .enter)
    let open = try #require(alice.queue.openItemId)
    alice.press(.character("f"))
    #expect(alice.queue.openItemId == open)
    #expect(alice.shows("item \(open) open, not listed"))
    #expect(alice.shows("Item \(open) · claimed until"))
  }
}

@Suite("Preview layout and zoom")
struct PreviewLayoutTests {
  /// How many cells of the screen show the picture.
  static func imageCells(_ screen: Screen) -> Int {
    var count = 0
    for y in 0..<screen.height {
      for x in 0..<screen.width where screen[x, y].style.isImage { count += 1 }
    }
    return count
  }

  @Test func anOpenItemGetsAUsablePictureAt80x24() throws {
    let fixture = try ReviewFixture()
    let alice = try fixture.console("alice", depth: .color256)
    alice.press(.enter)
    let screen = alice.render(width: 80, height: 24)
    // The 96x64 picture, fitted: at least 30 columns by 10 rows of cells.
    #expect(Self.imageCells(screen) >= 300, "\(Self.imageCells(screen)) image cells")
    #expect(screen.text.contains("y confirm"))
  }

  @Test func zoomFillsTheScreenAndKeepsTheBlurRules() throws {
    let fixture = try ReviewFixture()
    let alice = try fixture.console("alice", depth: .color256)
    alice.press(.character("z"))
    #expect(alice.shows("Open an item with Enter first"))
    alice.press(.enter)
    let normal = Self.imageCells(alice.render(width: 80, height: 24))
    alice.press(.character("z"))
    let zoomed = alice.render(width: 80, height: 24)
    #expect(Self.imageCells(zoomed) > normal * 2)
    #expect(zoomed.text.contains("blur \(BlurLevel.fullyBlurred) · grey"))
    let before = try fixture.sql(
      "SELECT count(*) FROM audit_event WHERE action LIKE 'preview.%'", Int.self) ?? 0
    alice.press(.character("-"))
    #expect(
      try fixture.sql("SELECT count(*) FROM audit_event WHERE action LIKE 'preview.%'", Int.self)
        == before + 1)
    #expect(alice.shows("blur \(BlurLevel(3))"))
    alice.press(.escape)
    #expect(alice.queue.openItemId != nil, "Esc leaves the zoom, not the item")
    #expect(Self.imageCells(alice.render(width: 80, height: 24)) < Self.imageCells(zoomed))
  }

  @Test func snapshotsOfAnOpenItemAndItsZoomAt80x24() throws {
    let fixture = try ReviewFixture()
    let alice = try fixture.console("alice")
    alice.press(.enter)
    var screen = alice.render(width: 80, height: 24)
    let id = alice.queue.openItemId ?? 0
    func stable(_ screen: Screen) -> Screen {
      // Item numbers and claim times depend on the demo; the layout is what is compared.
      var copy = Screen(width: screen.width, height: screen.height)
      for y in 0..<screen.height {
        let text = screen.rowText(y).replacingOccurrences(of: "Item \(id)", with: "Item #")
        copy.put(text, x: 0, y: y)
      }
      return copy
    }
    assertSnapshot(stable(screen), named: "review-open-80x24")
    alice.press(.character("z"))
    screen = alice.render(width: 80, height: 24)
    assertSnapshot(stable(screen), named: "review-zoom-80x24")
  }
}
