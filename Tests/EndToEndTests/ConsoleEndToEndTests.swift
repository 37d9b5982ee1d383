import Foundation
import Testing

/// Runs the built `csar` in a real pseudo-terminal (tmux) and asserts on what a person sees.
@Suite("Console end to end (tmux)", .serialized)
struct ConsoleEndToEndTests {
  /// A demo database in a fresh directory, and the command line that opens it.
  struct Fixture {
    let directory: String
    let database: String
    var command: String {
      get throws { "\(try CsarBinary.path) --db \(database)" }
    }

    init(items: Int = 300) throws {
      directory = try CsarBinary.temporaryDirectory()
      database = directory + "/demo.sqlite"
      let result = try CsarBinary.run(["demo", "--db", database, "--items", String(items)])
      #expect(result.status == 0, "csar demo failed: \(result.err)")
    }
  }

  /// Starts csar in a shell inside tmux; after it exits the shell prints its status.
  func open(_ fixture: Fixture, width: Int = 80, height: Int = 24, extra: String = "")
    throws -> TmuxSession
  {
    let session = try TmuxSession(width: width, height: height, directory: fixture.directory)
    try session.type("\(try fixture.command) \(extra); echo \"EXIT=$?\"")
    try session.send("Enter")
    return session
  }

  /// Terminal replies arriving late or unasked (the device attributes and kitty answers to
  /// the graphics query after its 500 ms cap, a colour report) are not keys: before, `ESC [ ?
  /// 62 ; 4 c` was Escape, `?` (help), `6`, `2` ... and the console jumped around.
  @Test func lateTerminalRepliesAreNotReadAsKeys() throws {
    let fixture = try Fixture(items: 40)
    let session = try open(fixture)
    try session.waitFor("Re-categorisation deadlines")
    try session.send("3")
    try session.waitFor("Review queue · 1 of ")
    try session.type("\u{1B}[?62;4;22c\u{1B}_Gi=31;OK\u{1B}\\\u{1B}]11;rgb:0000/0000/0000\u{7}")
    try session.send("4")
    // The Consent screen's whole frame (its status bar is the last row drawn), so the help
    // cannot be hiding in rows not redrawn yet.
    let pane = try session.waitFor("Accounts", "Search by account id or pseudonym prefix")
    #expect(!pane.contains("Keys — Esc closes"), "a reply opened the help:\n\(pane)")
    try session.send("q")
    try session.waitFor("EXIT=0")
  }

  /// A terminal whose background is light (here tmux's window style, which tmux gives as
  /// its answer to the background query) gets the light theme: titles in #005f87 (index 24
  /// at 256 colours), not the default theme's #87afd7 (110), light blue on white. A theme
  /// given on the command line still wins.
  @Test func aLightBackgroundGetsTheLightThemeUnlessOneIsGiven() throws {
    let fixture = try Fixture(items: 40)
    for (extra, title) in [("", "38;5;24m"), ("--theme default", "38;5;110m")] {
      let session = try TmuxSession(width: 80, height: 24, directory: fixture.directory)
      try session.setWindowOption("window-style", "bg=#ffffff")
      try session.type("\(try fixture.command) \(extra); echo \"EXIT=$?\"")
      try session.send("Enter")
      try session.waitFor("Re-categorisation deadlines")
      let other = title == "38;5;24m" ? "38;5;110m" : "38;5;24m"
      let deadline = Date().addingTimeInterval(30)
      var coloured = try session.captureWithColours()
      while !coloured.contains(title), Date() < deadline {
        Thread.sleep(forTimeInterval: 0.2)
        coloured = try session.captureWithColours()
      }
      #expect(coloured.contains(title), "\(extra): \(coloured.debugDescription)")
      #expect(!coloured.contains(other), "\(extra): \(coloured.debugDescription)")
      try session.send("q")
      try session.waitFor("EXIT=0")
    }
  }

  /// The bank view: `b` on the Dashboard lists the banks (here the demo's, the ones its
  /// queue names) with versions and sources; `?` and the status bar name its keys; Esc goes
  /// back.
  @Test func theBankViewListsBanksWithTheirVersions() throws {
    let fixture = try Fixture(items: 200)
    let session = try open(fixture, width: 120, height: 40)
    try session.waitFor("Re-categorisation deadlines")
    // Each text is waited for, not read from the pane that showed another: a capture can
    // catch the bank view's title drawn over the Dashboard's rows (this test failed so once).
    try session.send("b")
    try session.waitFor(
      "Hash banks · 4 · b or Esc closes", "NCMEC", "ncmec-hashes.csv (csv)",
      "Versions of EU Centre · 1, newest first")
    try session.send("j")
    // Help and the status bar name the view's own keys.
    try session.waitFor(
      "Versions of IWF · 1, newest first", "iwf-hashes.csv (csv)", "bahar", "j/↓ Next bank",
      "b/Esc Close the view")
    try session.send("?")
    try session.waitFor("Last bank")
    try session.send("Escape")
    try session.waitUntilGone("Keys — Esc closes")
    try session.send("Escape")
    // The Dashboard's title shows under the bank view too: wait for the view to close.
    try session.waitUntilGone("b or Esc closes")
    try session.waitFor("Re-categorisation deadlines")
    try session.send("q")
    try session.waitFor("EXIT=0")
  }

  @Test func walksTheScreensAndQuitsCleanly() throws {
    let fixture = try Fixture()
    let session = try open(fixture)
    try session.waitFor("Re-categorisation deadlines", "1 Dashboard", "overdue")

    try session.send("2")
    try session.waitFor("Services ·")
    try session.waitFor("Kind")
    try session.send("j")
    try session.send("Enter")
    try session.waitFor("Risk category")

    // Texts of the help itself: "Open the service's details" and "Quit" are on the status
    // bar before it opens, so waiting for them proved nothing.
    try session.send("?")
    try session.waitFor(
      "Keys — Esc closes", "Next service", "Close the details", "Reload data from the database")
    try session.send("Escape")
    try session.waitUntilGone("Keys — Esc closes")

    try session.send("3")
    try session.waitFor("Review queue · 1 of ", "known")
    try session.send("4")
    try session.waitFor("Accounts")
    try session.send("5")
    try session.waitFor("Audit log")

    try session.send("q")
    let after = try session.waitFor("EXIT=0")
    // The console's screen is gone: the shell prompt is back and nothing of the UI remains.
    #expect(!after.contains("Audit log"))
    #expect(!after.contains("Dashboard"))
  }

  @Test(arguments: [(120, 40), (80, 24)])
  func drawsAtCommonSizes(width: Int, height: Int) throws {
    let fixture = try Fixture()
    let session = try open(fixture, width: width, height: height)
    let pane = try session.waitFor("Re-categorisation deadlines")
    let rows = pane.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(rows.count >= height - 1)
    #expect(rows.allSatisfy { $0.count <= width })
    try session.send("q")
    try session.waitFor("EXIT=0")
  }

  @Test func tinyTerminalShowsAClearMessage() throws {
    let fixture = try Fixture()
    let session = try open(fixture, width: 20, height: 6)
    try session.waitFor("too small")
    try session.resize(width: 80, height: 24)
    try session.waitFor("Re-categorisation deadlines")
    try session.resize(width: 20, height: 6)
    try session.waitFor("too small")
    try session.send("q")
    try session.waitFor("EXIT=0")
  }

  @Test func escapeSequencesInNamesShowAsHarmlessText() throws {
    let fixture = try Fixture()
    let session = try open(fixture, width: 120, height: 40)
    try session.waitFor("Re-categorisation deadlines")
    try session.send("2")
    let pane = try session.waitFor("␛[31m")
    #expect(!pane.contains("\u{1B}"))
    try session.send("q")
    try session.waitFor("EXIT=0")
  }

  @Test func twoConsolesShareOneDatabase() throws {
    let fixture = try Fixture()
    let first = try open(fixture)
    let second = try open(fixture)
    try first.waitFor("Re-categorisation deadlines")
    try second.waitFor("Re-categorisation deadlines")
    try first.send("3")
    try second.send("3")
    try first.waitFor("Review queue ·")
    try second.waitFor("Review queue ·")
    try first.send("q")
    try second.send("q")
    try first.waitFor("EXIT=0")
    try second.waitFor("EXIT=0")
  }

  @Test func survivesAWindowResizedRapidlyWhileDrawing() throws {
    let fixture = try Fixture()
    let session = try open(fixture, width: 120, height: 40)
    try session.waitFor("Re-categorisation deadlines")
    try session.send("3")
    try session.waitFor("Review queue ·")
    try session.send("Enter")
    let sizes = [(20, 6), (200, 60), (50, 12), (81, 23), (30, 8), (160, 50), (120, 40)]
    for round in 0..<40 {
      let (width, height) = sizes[round % sizes.count]
      try session.resize(width: width, height: height)
      if round % 5 == 0 { try session.send("j") }
    }
    try session.resize(width: 100, height: 30)
    try session.waitFor("claimed until")
    try session.send("Escape", "q")
    try session.waitFor("EXIT=0")
  }

  @Test func opensADemoDatabaseWhenNoneExists() throws {
    let directory = try CsarBinary.temporaryDirectory()
    let session = try TmuxSession(width: 80, height: 24, directory: directory)
    let binary = try CsarBinary.path
    try session.type(
      "XDG_DATA_HOME=\(directory)/data \(binary); echo \"EXIT=$?\"")
    try session.send("Enter")
    // The first start creates the demo database and its pictures: allow for a busy machine.
    try session.waitFor("Re-categorisation deadlines", timeout: 60)
    try session.send("q")
    try session.waitFor("EXIT=0")
    #expect(FileManager.default.fileExists(atPath: directory + "/data/csar/csar.sqlite"))
  }

  /// The console acts as the caller's OS account: the title bar shows the operator resolved
  /// from the effective uid (not `$USER`); `--operator` picks only a name bound to that
  /// account, and an unknown name is refused before the screen opens, not registered.
  @Test func titleBarShowsTheOperatorResolvedFromTheOSAccount() throws {
    let fixture = try Fixture(items: 40)
    let me = String(cString: try #require(getpwuid(geteuid())).pointee.pw_name)
    let session = try TmuxSession(width: 100, height: 30, directory: fixture.directory)
    try session.type("USER=mallory CSAR_OPERATOR= \(try fixture.command); echo \"EXIT=$?\"")
    try session.send("Enter")
    let pane = try session.waitFor("Re-categorisation deadlines", " \(me) · ")
    #expect(!pane.contains("mallory"), "\(pane)")
    try session.send("q")
    try session.waitFor("EXIT=0")

    // bahar is bound to the account that made the demo: this one.
    let bahar = try open(fixture, width: 100, height: 30, extra: "--operator bahar")
    try bahar.waitFor(" bahar · ")
    try bahar.send("q")
    try bahar.waitFor("EXIT=0")

    let refused = try CsarBinary.run(["--db", fixture.database, "--operator", "mallory"])
    #expect(refused.status != 0)
    #expect(refused.err.contains("no operator \"mallory\""), "\(refused.err)")
    #expect(refused.err.contains("csar operator add \(me) --role reviewer"))
    let stored = try Subprocess.run(
      ["sqlite3", fixture.database, "SELECT count(*) FROM operator WHERE name = 'mallory'"])
    #expect(stored.out.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
  }
}
