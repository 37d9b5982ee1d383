import Foundation
import ProcessSpawn
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `csar consent import|show|stats` and the Consent screen, run as the built binary.
@Suite("Consent end to end", .serialized)
struct ConsentEndToEndTests {
  /// A demo database and helpers around it.
  struct Fixture {
    let directory: String
    let database: String

    init(items: Int = 40) throws {
      directory = try CsarBinary.temporaryDirectory()
      database = directory + "/demo.sqlite"
      let result = try CsarBinary.run(["demo", "--db", database, "--items", String(items)])
      #expect(result.status == 0, "csar demo failed: \(result.err)")
    }

    func write(_ name: String, _ text: String) throws -> String {
      let path = directory + "/" + name
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }

    func sql(_ query: String, database: String? = nil) throws -> String {
      try Subprocess.run(["sqlite3", database ?? self.database, query]).out
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func csar(_ arguments: String...) throws -> (status: Int32, out: String, err: String) {
      try CsarBinary.run(arguments + ["--db", database])
    }

    /// The first two service codes of the demo.
    var services: [String] {
      get throws { try sql("SELECT code FROM service ORDER BY code LIMIT 2").split(separator: "\n")
        .map(String.init) }
    }
  }

  static func json(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
  }

  @Test func importReportsLinesAndImportsNothingUntilSkipInvalid() throws {
    let fixture = try Fixture()
    let services = try fixture.services
    let header = "event_id,account,service,state,occurred_at,source,terms_version,reason"
    let file = try fixture.write(
      "consent.csv",
      [
        header,
        "n1,NEW-1,\(services[0]),granted,2026-11-01T10:00:00Z,app,tos-2025-01,",
        "n2,NEW-1,\(services[0]),granted,2026-11-02T10:00:00Z,app,tos-2025-01,",
        "n3,NEW-2,\(services[1]),refused,2026-11-01T10:00:00Z,app,tos-2025-01,",
        "n4,NEW-2,\(services[1]),refused,yesterday,app,tos-2025-01,",
        "n5,NEW-1,\(services[0]),withdrawn,2026-10-01T10:00:00Z,app,tos-2025-01,",
      ].joined(separator: "\n") + "\n")
    let events = try fixture.sql("SELECT count(*) FROM consent_event")

    let refused = try fixture.csar("consent", "import", file, "--json")
    #expect(refused.status == 1)
    #expect(refused.err.contains("consent.csv:3: illegal transition: consent is already granted"))
    #expect(refused.err.contains("consent.csv:5: occurred_at: \"yesterday\" is not valid"))
    #expect(refused.err.contains("consent.csv:6: illegal transition"))
    let summary = Self.json(refused.out)
    #expect(summary["committed"] as? Bool == false)
    #expect(summary["rejected"] as? Int == 3)
    #expect(try fixture.sql("SELECT count(*) FROM consent_event") == events)

    let skipped = try fixture.csar("consent", "import", file, "--skip-invalid", "--json")
    #expect(skipped.status == 1)
    let done = Self.json(skipped.out)
    #expect(done["accepted"] as? Int == 2 && done["accounts_created"] as? Int == 2)

    let again = try fixture.csar("consent", "import", file, "--skip-invalid")
    #expect(again.out.contains("0 accepted, 2 duplicate, 3 rejected"))

    let show = try fixture.csar("consent", "show", "NEW-1", "--json")
    #expect(show.status == 0, "\(show.err)")
    let account = Self.json(show.out)
    let history = account["history"] as? [[String: Any]] ?? []
    #expect(history.map { $0["event_id"] as? String } == ["n1"])
    let states = account["services"] as? [[String: Any]] ?? []
    let first = states.first { $0["service"] as? String == services[0] }
    #expect(first?["state"] as? String == "granted")
    #expect(first?["may_share_visual_content_and_urls"] as? Bool == true)
    let text = try fixture.csar("consent", "show", "NEW-1")
    #expect(text.out.contains("→ granted  (app, terms tos-2025-01)"))
    #expect(try fixture.csar("consent", "show", "nobody").status != 0)

    let stats = try fixture.csar("consent", "stats", "--json", "--today", "2026-11-25")
    #expect(stats.status == 0)
    let rows = stats.out.split(separator: "\n").map { Self.json(String($0)) }
    #expect(rows.count == Int(try fixture.sql("SELECT count(*) FROM service")))
    for row in rows {
      let accounts = row["accounts"] as? Int ?? -1
      let sum = ["granted", "refused", "withdrawn", "not_asked"].map { row[$0] as? Int ?? 0 }
        .reduce(0, +)
      #expect(accounts == sum)
    }
  }

  /// Kills an import with SIGKILL after some batches have committed, runs it again, and
  /// compares with a database that imported the same file in one go.
  @Test func anImportKilledMidwayConvergesWhenRunAgain() throws {
    let fixture = try Fixture()
    let services = try fixture.services
    var lines = ["event_id,account,service,state,occurred_at,source,terms_version"]
    let events = 120_000
    for i in 0..<events {
      let account = i % 40_000
      let step = i / 40_000
      let state = ["granted", "withdrawn", "granted"][step]
      lines.append(
        "kill-\(i),K\(account),\(services[account % 2]),\(state),\(1_780_000_000 + i),app,tos-9")
    }
    let file = try fixture.write("big.csv", lines.joined(separator: "\n"))
    let reference = fixture.directory + "/reference.sqlite"
    _ = try Subprocess.run(["cp", fixture.database, reference])
    // The copy's audit chain is keyed with the demo's key: it goes with it.
    _ = try Subprocess.run(
      ["cp", fixture.directory + "/demo.key", fixture.directory + "/reference.key"])
    let binary = try CsarBinary.path

    let pid = try Spawned.start([binary, "consent", "import", file, "--db", fixture.database,
                                 "--batch", "500"])
    var committed = 0
    let deadline = Date().addingTimeInterval(60)
    while committed < 2_000, Date() < deadline {
      committed = Int(try fixture.sql("SELECT count(*) FROM consent_event WHERE event_id "
        + "LIKE 'kill-%'")) ?? 0
      Thread.sleep(forTimeInterval: 0.01)
    }
    kill(pid, SIGKILL)
    let status = Spawned.wait(pid)
    #expect(status == 128 + SIGKILL, "the import finished before it could be killed")
    let before = Int(try fixture.sql("SELECT count(*) FROM consent_event WHERE event_id "
      + "LIKE 'kill-%'")) ?? 0
    #expect(before > 0 && before < events)
    // Batches hold whole account-and-service pairs: 167 pairs of 3 events for --batch 500.
    #expect(before % 501 == 0, "a batch was half-written: \(before) events")

    let rerun = try CsarBinary.run(
      ["consent", "import", file, "--db", fixture.database, "--json"])
    #expect(rerun.status == 0, "\(rerun.err)")
    let summary = Self.json(rerun.out)
    #expect(summary["duplicate"] as? Int == before)
    #expect(summary["accepted"] as? Int == events - before)

    let full = try CsarBinary.run(["consent", "import", file, "--db", reference, "--json"])
    #expect(Self.json(full.out)["accepted"] as? Int == events)
    let history = """
      SELECT a.external_id, s.code, e.event_id, e.state, e.occurred_at
      FROM consent_event e JOIN account a ON a.id = e.account_id
      JOIN service s ON s.id = e.service_id WHERE e.event_id LIKE 'kill-%' ORDER BY 3
      """
    let current = """
      SELECT a.external_id, s.code, c.state, c.updated_at FROM consent_current c
      JOIN account a ON a.id = c.account_id JOIN service s ON s.id = c.service_id
      WHERE a.external_id LIKE 'K%' ORDER BY 1, 2
      """
    let tallies = "SELECT * FROM consent_tally ORDER BY 1, 2"
    for query in [history, current, tallies] {
      let a = try fixture.sql(query)
      let b = try fixture.sql(query, database: reference)
      #expect(a == b, "differs after the re-run: \(query)")
    }
    #expect(try fixture.sql("SELECT count(*) FROM account WHERE external_id LIKE 'K%'")
      == "40000")
  }

  @Test func searchesAnAccountAndRecordsASupportChangeInTheConsole() throws {
    let fixture = try Fixture()
    // An account with a granted service, and where that service is in the list.
    var target: (account: String, index: Int, service: String)?
    for n in 1...60 where target == nil {
      let id = "A" + String(100_000_000 + n)
      let show = Self.json(try fixture.csar("consent", "show", id, "--json").out)
      // The screen lists decided services first, then those never asked, each by code.
      let services = (show["services"] as? [[String: Any]] ?? []).sorted {
        func key(_ s: [String: Any]) -> (Int, String) {
          (s["state"] as? String == "not_asked" ? 1 : 0, s["service"] as? String ?? "")
        }
        return key($0) < key($1)
      }
      if let index = services.firstIndex(where: { $0["state"] as? String == "granted" }) {
        target = (id, index, services[index]["service"] as? String ?? "")
      }
    }
    let (account, index, service) = try #require(target)

    let session = try TmuxSession(width: 120, height: 40, directory: fixture.directory)
    try session.type("\(try CsarBinary.path) --db \(fixture.database); echo \"EXIT=$?\"")
    try session.send("Enter")
    try session.waitFor("Re-categorisation deadlines")
    try session.send("4")
    try session.waitFor("Accounts ·")
    try session.send("/")
    try session.waitFor("Search account")
    try session.type(account)
    try session.send("Enter")
    try session.waitFor("1 account matches")
    try session.send("Enter")
    try session.waitFor("Consent of \(account)")
    for _ in 0..<index { try session.send("j") }
    try session.send("w")
    try session.waitFor("Reason (required):")
    try session.waitFor("granted → withdrawn")
    try session.send("Enter")
    try session.waitFor("A reason is required")
    try session.type("Ticket 99: user withdrew by phone")
    try session.send("Enter")
    try session.waitFor("Recorded: \(account) \(service) is now withdrawn")
    try session.waitFor("granted → withdrawn  support")
    try session.send("q")
    try session.waitFor("EXIT=0")

    let show = Self.json(try fixture.csar("consent", "show", account, "--json").out)
    let history = show["history"] as? [[String: Any]] ?? []
    let last = history.last { $0["service"] as? String == service }
    #expect(last?["state"] as? String == "withdrawn")
    #expect(last?["source"] as? String == "support")
    #expect(last?["reason"] as? String == "Ticket 99: user withdrew by phone")
    #expect(last?["operator"] != nil)
    let audit = try fixture.sql(
      "SELECT count(*) FROM audit_event WHERE action = 'consent.change' "
        + "AND details_json LIKE '%Ticket 99%'")
    #expect(audit == "1")
  }
}

/// A child process started without waiting (to kill it midway).
enum Spawned {
  static func start(_ argv: [String]) throws -> pid_t {
    try Subprocess.spawn(
      argv, out: "/dev/null", err: "/dev/null",
      overrides: ["XDG_CONFIG_HOME": CsarBinary.configHome])
  }

  /// Waits for the child; its exit status, or 128 + the signal that ended it.
  static func wait(_ pid: pid_t) -> Int32 { ProcessSpawn.wait(pid) }
}
