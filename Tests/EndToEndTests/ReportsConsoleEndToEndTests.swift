import Foundation
import Testing

/// The Reports screen and terminals without colour (or with few attributes), driven in tmux.
@Suite("Reports screen and plain terminals end to end (tmux)", .serialized)
struct ReportsConsoleEndToEndTests {
  typealias Fixture = ConsoleEndToEndTests.Fixture

  /// Starts csar with `environment` (e.g. `NO_COLOR=1`) before it on the command line.
  func open(_ fixture: Fixture, environment: String = "", width: Int = 80, height: Int = 24)
    throws -> TmuxSession
  {
    let session = try TmuxSession(width: width, height: height, directory: fixture.directory)
    try session.type("\(environment) \(try fixture.command); echo \"EXIT=$?\"")
    try session.send("Enter")
    return session
  }

  /// The pane with its colours and attributes as escape sequences, one string per row.
  func styledRows(_ session: TmuxSession) throws -> [String] {
    try TmuxSession.tmux(["capture-pane", "-p", "-e", "-t", session.name])
      .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  }

  /// The parameters of every SGR sequence (`ESC [ … m`) on `row`, in order.
  func sgrParameters(_ row: String) -> [Int] {
    row.components(separatedBy: "\u{1B}[").dropFirst().flatMap { part -> [Int] in
      guard let end = part.firstIndex(of: "m") else { return [] }
      return part[..<end].split(separator: ";").compactMap { Int($0) }
    }
  }

  /// Whether `row` turns on attribute `code` (1 bold, 4 underline, 7 reverse).
  func turnsOn(_ code: Int, in row: String) -> Bool { sgrParameters(row).contains(code) }

  /// Whether `row` sets a foreground or background colour (39 and 49, the defaults, do not).
  func setsColour(_ row: String) -> Bool {
    sgrParameters(row).contains {
      (30...38).contains($0) || (40...48).contains($0) || (90...107).contains($0)
    }
  }

  @Test func exportsTheReadyReportsToTheOutboxBesideTheDatabase() throws {
    let fixture = try Fixture()
    let session = try open(fixture)
    // A demo database says so.
    try session.waitFor("Re-categorisation deadlines", " DEMO ")
    try session.send("5")
    let pane = try session.waitFor("ready (x exports)")
    let ready = try #require(
      pane.split(separator: "\n").first { $0.contains("ready (x exports)") }
        .flatMap { Int($0.components(separatedBy: " · ")[2].split(separator: " ")[0]) })
    try session.send("x")
    try session.waitFor("Export \(ready) ready report")
    try session.send("Enter")
    try session.waitFor("Exported \(ready) report")
    let outbox = fixture.directory + "/outbox"
    let files = try FileManager.default.contentsOfDirectory(atPath: outbox)
    #expect(files.filter { $0.hasPrefix("CSAR-") && $0.hasSuffix(".json") }.count == ready)
    // The audit pane names the cases the export wrote.
    try session.send("Tab", "/")
    try session.type("report.export")
    try session.send("Enter")
    let audit = try session.waitFor("Audit events report.export", " report.export ")
    let exports = audit.split(separator: "\n").filter { $0.contains(" report.export ") }
    #expect(!exports.isEmpty && exports.allSatisfy { $0.contains("CSAR-") }, "\(audit)")
    try session.send("q")
    try session.waitFor("EXIT=0")
  }

  /// NO_COLOR: the monochrome theme shows the selected row in reverse video.
  @Test func monochromeShowsTheSelectedRowInReverseVideo() throws {
    let fixture = try Fixture()
    let session = try open(fixture, environment: "NO_COLOR=1")
    try session.waitFor("Re-categorisation deadlines")
    try session.send("3")
    // The whole frame (its status bar is the last row drawn), not the title over the
    // Dashboard's rows.
    try session.waitFor("Review queue · 1 of", "Evidence", "Enter Open and claim the item")
    let rows = try styledRows(session)
    let header = try #require(rows.firstIndex { $0.contains("Evidence") })
    #expect(turnsOn(7, in: rows[header + 1]), "selected row: \(rows[header + 1].debugDescription)")
    #expect(!turnsOn(7, in: rows[header + 2]), "an unselected row is plain")
    #expect(!rows.contains { setsColour($0) }, "no colour at all")
    try session.send("q")
    try session.waitFor("EXIT=0")
  }

  /// TERM=linux cannot underline coloured text (ncv): the open item's row, underlined in the
  /// unfocused list elsewhere, is marked in the frame, and underlined headers turn bold.
  @Test func theLinuxConsoleMarksTheOpenRow() throws {
    let fixture = try Fixture()
    let session = try open(fixture, environment: "TERM=linux")
    try session.waitFor("Re-categorisation deadlines")
    try session.send("3")
    try session.waitFor("Review queue · 1 of")
    try session.send("Enter")
    try session.waitFor("claimed until")
    let pane = try session.waitFor("claimed until", " mine ", "Evidence")
      .split(separator: "\n").map(String.init)
    let open = try #require(pane.first { $0.contains(" mine ") })
    #expect(open.hasPrefix("►"), "open row: \(open)")
    #expect(pane.filter { $0.hasPrefix("►") }.count == 1)
    let rows = try styledRows(session)
    let header = try #require(rows.first { $0.contains("Evidence") })
    #expect(turnsOn(1, in: header) && !turnsOn(4, in: header), "\(header.debugDescription)")
    try session.send("q")
    try session.waitFor("EXIT=0")
  }

  /// Inside tmux the terminal is asked for graphics only through passthrough; with
  /// passthrough on and no terminal behind it to answer, the console waits briefly and draws
  /// the preview in text cells, with nothing of the question on the screen.
  @Test func insideTmuxThePreviewFallsBackToCells() throws {
    // One after the other: the option is global to the test's tmux server.
    for passthrough in ["off", "on"] { try previewInTmux(passthrough: passthrough) }
  }

  func previewInTmux(passthrough: String) throws {
    let fixture = try Fixture()
    let session = try TmuxSession(width: 100, height: 30, directory: fixture.directory)
    try TmuxSession.tmux(["set-option", "-g", "allow-passthrough", passthrough])
    let socket = try TmuxSession.tmux(
      ["display-message", "-p", "-t", session.name, "#{socket_path}"])
      .trimmingCharacters(in: .whitespacesAndNewlines)
    try session.type("TMUX=\(socket),1,0 \(try fixture.command); echo \"EXIT=$?\"")
    try session.send("Enter")
    try session.waitFor("Re-categorisation deadlines")
    try session.send("3")
    try session.waitFor("Review queue · 1 of")
    try session.send("Enter")
    // Picture cells (upper half blocks; the title's blur meter is full blocks, so looking
    // for any block character could not fail).
    let pane = try session.waitFor("Preview · blur ████", "▀")
    #expect(!pane.contains("Gi=31") && !pane.contains("[?"), "no question or answer as text")
    try session.send("q")
    try session.waitFor("EXIT=0")
    try TmuxSession.tmux(["set-option", "-g", "allow-passthrough", "off"])
  }
}
