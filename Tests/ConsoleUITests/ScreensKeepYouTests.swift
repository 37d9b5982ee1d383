import Compliance
import Foundation
import GRDB
import Store
import Terminal
import Testing

@testable import ConsoleUI

@Suite("Screens that don't lose you")
struct ScreensKeepYouTests {
  @Test func aListScrollsBackOnceEveryRowFits() {
    var cursor = ListCursor()
    cursor.jump(toEnd: true, count: 12, visible: 5)
    #expect(cursor.top == 7)
    // The area grew (a panel closed, a first draw measured it): every row fits again.
    cursor.clamp(count: 12, visible: 20)
    #expect(cursor.top == 0)
    #expect(cursor.selected == 11)
    cursor.move(by: -1, count: 12, visible: 8)
    #expect(cursor.top == 3)
    cursor.jump(toEnd: true, count: 12, visible: 8)
    #expect(cursor.top == 4, "never scrolled further than the rows need")
  }

  @Test func aSlashWhereThereIsNoSearchSaysSo() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    console.press(.character("1"), .character("/"))
    #expect(console.shows("No search on Dashboard"))
  }

  @Test func aRefusedPromptKeepsItsTextAndTheScreen() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    console.press(.character("/"), .control("u"))
    console.type("kind=video")
    console.press(.enter)
    #expect(console.shows("kind is known, new or url"))
    // The prompt is still open: retyped text goes into it, not to the screens behind.
    console.press(.backspace, .backspace, .backspace, .backspace, .backspace)
    console.type("url 2")
    #expect(console.shows("kind=url 2"))
    #expect(console.shows("Review queue"))
    console.press(.backspace, .backspace, .enter)
    #expect(console.shows("kind=url_match"))
  }

  @Test func longDialogLinesWrap() {
    var screen = Screen(width: 60, height: 20)
    let dialog = Confirmation(
      title: "Quit?",
      lines: [
        "The answers of the assessment of Café Chat are not saved yet; quitting now loses"
          + " them all, including the last question's"
      ], reasonRequired: false
    ) { _ in .info("") }
    OverlayRenderer.drawConfirmation(
      dialog, in: Rect(x: 0, y: 0, width: 60, height: 20), on: &screen,
      theme: try! Theme.load(nameOrPath: "mono"))
    #expect(screen.text.contains("question's"))
  }

  @Test func theDashboardsConsentPanelSaysWhenServicesAreHidden() throws {
    let console = try makeConsole()
    let services = try console.context.database.services(today: console.context.today).count
    let small = console.render(width: 80, height: 24).text
    let shown = try #require(
      small.split(separator: "\n").first { $0.contains("more services (a taller window") })
    let hidden = Int(shown.split(separator: "+ ")[1].split(separator: " ")[0]) ?? 0
    #expect(hidden > 0 && hidden < services)
    // Tall enough for all: nothing is hidden, nothing said.
    #expect(!console.render(width: 120, height: 60).text.contains("more service"))
  }

  @Test func reopeningADoneMeasureAsksFirst() throws {
    let console = try makeConsole()
    console.press(.character("2"), .character("m"))
    let screen = try #require(console.screens[1] as? ServicesScreen)
    let measure = try #require(screen.panel?.detail.measures.first)
    func status() throws -> MeasureStatus? {
      try #require(screen.panel?.detail.measures.first { $0.id == measure.id }).status
    }
    for _ in 0..<3 where try status() != .done { console.press(.character(" ")) }
    #expect(try status() == .done)
    console.press(.character(" "))
    #expect(console.shows("Reopen a done measure?"))
    console.press(.escape)
    #expect(try status() == .done, "Esc keeps it done")
    console.press(.character(" "), .enter)
    #expect(try status() == .planned)
    #expect(console.shows("Saved: \(measure.title): planned"))
  }

  @Test func aURLItemShowsNoBlurGauge() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    console.press(.character("f"), .character("f"), .character("f"), .enter)
    #expect(console.shows("URL item (no picture)"))
    #expect(!console.shows("blur ████"))
  }
}

@Suite("Quit dialog")
struct QuitDialogTests {
  @Test func sInTheQuitDialogSavesTheDraftThenQuits() throws {
    let console = try makeConsole()
    func drafts() throws -> Int? {
      try console.context.database.writer.read { db in
        try Int.fetchOne(
          db, sql: "SELECT count(*) FROM audit_event WHERE action = 'assessment.draft'")
      }
    }
    let before = try drafts() ?? 0
    console.press(.character("2"), .character("a"))
    console.type("42")
    console.press(.enter, .character("q"))
    #expect(console.render(width: 80, height: 24).text.contains("s save and quit"))
    console.press(.character("s"))
    #expect(console.isFinished)
    #expect(try drafts() == before + 1)
  }
}
