import Foundation
import Testing

/// The tmux driver every console test waits with: a pane that shows its text in parts, and
/// a test process that looks at the pane late.
@Suite("tmux driver")
struct TmuxSessionTests {
  /// Before: a pane whose first text came before the rest was returned at once, and a test
  /// reading the rest from it failed (`theBankViewListsBanksWithTheirVersions`, once in a
  /// full run). Now every text read is waited for, in one capture.
  @Test func everyTextIsWaitedForInOneCapture() throws {
    let session = try TmuxSession(width: 80, height: 24, directory: NSTemporaryDirectory())
    try session.type("echo fir''st; sleep 1; echo seco''nd")
    try session.send("Enter")
    let early = try session.waitFor("first")
    #expect(!early.contains("second"), "the pane showed both at once:\n\(early)")
    let both = try session.waitFor("first", "second")
    #expect(both.contains("first") && both.contains("second"))
  }

  /// Before: the pane was looked at only before the deadline, so a test process that got no
  /// CPU until after it (a loaded machine) failed without looking. Now it looks once more.
  @Test func thePaneIsLookedAtOnceMoreAfterTheDeadline() throws {
    let session = try TmuxSession(width: 80, height: 24, directory: NSTemporaryDirectory())
    try session.type("echo rea''dy")
    try session.send("Enter")
    try session.waitFor("ready")
    #expect(try session.waitFor("ready", timeout: 0).contains("ready"))
  }
}
