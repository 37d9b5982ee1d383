import Foundation
import Store
import Terminal
import Testing

@testable import ConsoleUI

/// A change made in the console whose audit anchor could not be written: before, nothing
/// showed it; now the status bar does, and says so on every screen until an anchor is
/// written again.
@Suite("Console: audit anchor not written")
struct AnchorStatusTests {
  @Test func aFifoAtTheAnchorShowsOnTheStatusBarAndTheChangeStays() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    let anchors = fixture.folder + "/anchors"
    let names = try FileManager.default.contentsOfDirectory(atPath: anchors)
    try #require(names.count == 1)
    let anchor = anchors + "/" + names[0]
    try FileManager.default.removeItem(atPath: anchor)
    #expect(mkfifo(anchor, 0o600) == 0)
    #expect(!console.shows("anchor not written"))

    let first = try fixture.firstItemId()
    console.press(.enter)
    #expect(console.shows("Saved, but the audit anchor was not written"))
    #expect(console.shows(" anchor not written"))
    #expect(try fixture.sql("SELECT state FROM flagged_item WHERE id = \(first)") == "pending")
    #expect(
      try fixture.sql(
        "SELECT claimed_by IS NOT NULL FROM flagged_item WHERE id = \(first)", Bool.self)
        == true)
    // The message goes with the next key; the marker stays, on every screen.
    console.press(.character("5"))
    #expect(!console.shows("Saved, but the audit anchor"))
    #expect(console.shows(" anchor not written"))

    // Once the FIFO is gone, the next change anchors again and the marker goes.
    try FileManager.default.removeItem(atPath: anchor)
    console.press(.character("3"), .character("d"))
    #expect(try fixture.sql("SELECT state FROM flagged_item WHERE id = \(first)") == "dismissed")
    #expect(!console.shows("anchor not written"))
  }
}
