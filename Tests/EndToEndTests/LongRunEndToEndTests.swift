import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Long commands on a terminal: a progress line with rate and ETA on stderr (a TTY only),
/// and Ctrl-C that stops between batches, says what was committed and how to resume.
@Suite("Long commands end to end", .serialized)
struct LongRunEndToEndTests {
  /// A demo database and a consent file of `events` new events.
  struct Fixture {
    let directory: String
    let database: String
    let consent: String
    let events: Int

    init(events: Int) throws {
      directory = try CsarBinary.temporaryDirectory()
      database = directory + "/demo.sqlite"
      let demo = try CsarBinary.run(["demo", "--db", database, "--items", "20"])
      #expect(demo.status == 0, "csar demo failed: \(demo.err)")
      let services = try Subprocess.run(
        ["sqlite3", database, "SELECT code FROM service ORDER BY code LIMIT 3"]
      ).out.split(separator: "\n").map(String.init)
      var text = "event_id,account,service,state,occurred_at,source,terms_version,reason\n"
      for i in 0..<events {
        text += "lr-\(i),LR-\(i),\(services[i % services.count]),granted,"
          + "2026-11-01T10:00:00Z,app,tos-2025-01,\n"
      }
      consent = directory + "/consent.csv"
      try text.write(toFile: consent, atomically: true, encoding: .utf8)
      self.events = events
    }

    func imported() throws -> Int {
      let out = try Subprocess.run(
        ["sqlite3", database, "SELECT count(*) FROM consent_event WHERE event_id LIKE 'lr-%'"]
      ).out
      return Int(out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
  }

  /// Types `csar ARGUMENTS; echo "MARKER=$?"` into `session` and presses Enter.
  static func start(_ session: TmuxSession, _ arguments: String, marker: String) throws {
    try session.type("\(try CsarBinary.path) \(arguments); echo \"\(marker)=$?\"")
    try session.send("Enter")
  }

  /// The number in "stopped: N of M events committed" as an Int.
  static func committed(in pane: String) -> Int? {
    guard let range = pane.range(of: "consent import stopped: ") else { return nil }
    let digits = pane[range.upperBound...].prefix { $0.isNumber || $0 == "," }
    return Int(digits.filter(\.isNumber))
  }

  @Test func ctrlCStopsAConsentImportBetweenBatchesAndARerunFinishesIt() throws {
    let fixture = try Fixture(events: 120_000)
    let session = try TmuxSession(width: 220, height: 30, directory: fixture.directory)
    try Self.start(
      session, "consent import consent.csv --db demo.sqlite --batch 500", marker: "EXIT")
    // The progress line: done of total, percent, rate and time left.
    try session.waitFor(" events (", "consent import: ", "of 120,000 events (", timeout: 120)
    try session.waitFor("/s, ETA ", timeout: 60)
    try session.send("C-c")
    let pane = try session.waitFor("EXIT=130", timeout: 120)
    #expect(
      pane.contains("of 120,000 events committed. To finish, run the same command again: "
        + "events already recorded are skipped."), "\(pane)")
    let committed = try #require(Self.committed(in: pane), "\(pane)")
    #expect(committed > 0 && committed < fixture.events, "\(pane)")
    // What it says is what is stored, in whole batches.
    #expect(try fixture.imported() == committed)
    #expect(committed % 500 == 0)

    // Not a terminal: no progress line, only the summary; the rest is imported.
    let rerun = try CsarBinary.run(
      ["consent", "import", fixture.consent, "--db", fixture.database], timeout: 300)
    #expect(rerun.status == 0, "\(rerun.err)")
    #expect(
      rerun.out.contains(
        "imported: \(fixture.events - committed) accepted, \(committed) duplicate"),
      "\(rerun.out)")
    #expect(!rerun.err.contains("\r") && !rerun.err.contains("/s"), "\(rerun.err)")
    #expect(try fixture.imported() == fixture.events)
    let verify = try CsarBinary.run(["audit", "verify", "--db", fixture.database])
    #expect(verify.status == 0, "\(verify.out)\(verify.err)")
  }

  /// On a terminal the line is redrawn in place (carriage return, erase to the end of the
  /// line), throttled, and gives way to a summary line that stays; with --json there is none.
  @Test func theProgressLineIsRedrawnInPlaceAndQuietWithJSON() throws {
    let fixture = try Fixture(events: 20_000)
    let session = try TmuxSession(width: 220, height: 30, directory: fixture.directory)
    let log = fixture.directory + "/pane.log"
    try TmuxSession.tmux(["pipe-pane", "-t", session.name, "-o", "cat >> \(log)"])
    try Self.start(
      session, "consent import consent.csv --db demo.sqlite --batch 1000", marker: "EXIT")
    let pane = try session.waitFor("EXIT=0", timeout: 300)
    #expect(pane.contains("consent import: 20,000 events committed in "), "\(pane)")
    let raw = try String(contentsOfFile: log, encoding: .utf8)
    #expect(raw.contains("\r\u{1B}[Kconsent import: "), "no redraw in place")
    #expect(raw.contains("of 20,000 events ("))

    try session.type("clear; ")
    try Self.start(session, "consent import consent.csv --db demo.sqlite --json", marker: "DONE")
    let json = try session.waitFor("DONE=0", timeout: 300)
    #expect(json.contains("\"duplicate\":20000"), "\(json)")
    let after = try String(contentsOfFile: log, encoding: .utf8)
    let second = try #require(after.range(of: "--json; echo"))
    #expect(!after[second.upperBound...].contains("consent import:"), "progress with --json")
  }

  /// `bank import` (short batches of 20,000 hashes) stops on Ctrl-C the same way; a re-run
  /// finishes the import with every hash once.
  @Test func ctrlCStopsABankImportAndARerunFinishesIt() throws {
    let fixture = try Fixture(events: 0)
    var text = "type,hash,label\n"
    for i in 0..<120_000 { text += "md5," + String(format: "%032x", i + 1) + ",e2e\n" }
    try text.write(toFile: fixture.directory + "/bank.csv", atomically: true, encoding: .utf8)
    let session = try TmuxSession(width: 220, height: 30, directory: fixture.directory)
    try Self.start(session, "bank import big bank.csv --db demo.sqlite", marker: "EXIT")
    try session.waitFor("bank import into 'big': reading and checking the input…", timeout: 60)
    try session.waitFor(" of 120,000 hashes (", timeout: 300)
    try session.send("C-c")
    let pane = try session.waitFor("EXIT=130", timeout: 120)
    #expect(pane.contains("bank import into 'big' stopped: "), "\(pane)")
    #expect(pane.contains("of 120,000 hashes committed. To finish, run the same command again"))
    #expect(!pane.contains("^C"), "the echo of Ctrl-C is erased")
    let rerun = try CsarBinary.run(
      ["bank", "import", "big", fixture.directory + "/bank.csv", "--db", fixture.database,
       "--json"], timeout: 300)
    #expect(rerun.status == 0, "\(rerun.err)")
    #expect(rerun.out.contains("\"total\":120000"), "\(rerun.out)")
  }

  /// Ctrl-C during `demo` removes the half-built temporary file and leaves no database; a
  /// second Ctrl-C stops at once, and leaves nothing either.
  @Test func ctrlCStopsADemoAndLeavesNothingBehind() throws {
    let directory = try CsarBinary.temporaryDirectory()
    let session = try TmuxSession(width: 220, height: 30, directory: directory)
    try Self.start(session, "demo --db demo.sqlite --items 200000", marker: "EXIT")
    try session.waitFor(" rows (", timeout: 120)
    try session.send("C-c")
    let pane = try session.waitFor("EXIT=130", timeout: 120)
    #expect(pane.contains("demo stopped: "), "\(pane)")
    #expect(pane.contains("is untouched. To finish, run the same command again"), "\(pane)")
    var names = try FileManager.default.contentsOfDirectory(atPath: directory)
    #expect(!names.contains { $0.hasPrefix("demo.sqlite") || $0.contains(".building-") },
      "\(names)")

    try session.type("clear; ")
    try Self.start(session, "demo --db demo.sqlite --items 200000", marker: "AGAIN")
    // The first run's progress stays on the screen until `clear` has run.
    try session.waitUntilGone("demo stopped: ", timeout: 60)
    try session.waitFor(" rows (", timeout: 120)
    try session.send("C-c")
    try session.waitFor("Ctrl-C again to stop at once", timeout: 60)
    try session.send("C-c")
    let twice = try session.waitFor("AGAIN=130", timeout: 60)
    #expect(twice.contains("demo stopped at once: "), "\(twice)")
    names = try FileManager.default.contentsOfDirectory(atPath: directory)
    #expect(!names.contains { $0.hasPrefix("demo.sqlite") || $0.contains(".building-") },
      "\(names)")
  }
}
