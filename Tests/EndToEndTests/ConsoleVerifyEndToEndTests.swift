import Foundation
import Testing

/// Reports `V` on a large audit log, in the real binary: the check runs in the background,
/// the console answers keys meanwhile, and quitting during a check exits at once and cleanly.
@Suite("Audit verification in the console end to end (tmux)", .serialized)
struct ConsoleVerifyEndToEndTests {
  typealias Fixture = ConsoleEndToEndTests.Fixture

  /// A demo of 100,000 items: about 32,000 audit events, a check of a second or more in a
  /// debug build, where handling a key takes a millisecond.
  static let items = 100_000

  /// One demo for both tests (neither changes it): it takes seconds to make.
  static let fixture = Result { try Fixture(items: items) }

  func open(_ fixture: Fixture) throws -> TmuxSession {
    let session = try TmuxSession(width: 120, height: 40, directory: fixture.directory)
    try session.type("\(try fixture.command); echo \"EXIT=$?\"")
    try session.send("Enter")
    try session.waitFor("Re-categorisation deadlines", timeout: 60)
    try session.send("5")
    try session.waitFor("Audit log (append-only", timeout: 60)
    return session
  }

  /// Before: `V` checked the log on the key loop, so a key typed after it was handled only
  /// once the check was done, and its frame showed the result, never a check still running.
  @Test func theConsoleAnswersKeysWhileTheLogIsVerified() throws {
    let fixture = try Self.fixture.get()
    let session = try open(fixture)
    // V, then Tab and Enter at once: the audit pane takes the keys and shows the newest
    // event's details while the status bar still says the check runs.
    try session.send("V", "Tab", "Enter")
    let pane = try session.waitFor("─ Event ", "verifying the audit log…", timeout: 60)
    let status = pane.split(separator: "\n").last.map(String.init) ?? ""
    #expect(status.contains("verifying the audit log…"), "\(pane)")
    #expect(!pane.contains("chain intact"), "\(pane)")
    // The result when done, on whatever the console shows then.
    try session.send("1")
    try session.waitFor("Re-categorisation deadlines")
    let done = try session.waitFor("chain intact", "audit log ok: ", timeout: 300)
    #expect(!done.contains("verifying the audit log…"), "\(done)")
    try session.send("q")
    try session.waitFor("EXIT=0")
  }

  /// Quitting while the check runs stops it and exits with status 0, saying nothing else.
  @Test func quittingDuringACheckExitsCleanly() throws {
    let fixture = try Self.fixture.get()
    let session = try open(fixture)
    try session.send("V", "q")
    let pane = try session.waitFor("EXIT=0", timeout: 60)
    #expect(!pane.contains("rror"), "\(pane)")
  }
}
