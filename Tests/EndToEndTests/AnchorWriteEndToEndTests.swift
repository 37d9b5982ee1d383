import Foundation
import Testing

/// An audit anchor that cannot be written after a committed change: before, the command
/// said nothing and exited 0, and the service neither logged nor counted it; only a later
/// `csar audit verify` found out.
@Suite("Audit anchor writes that fail, end to end", .serialized)
struct AnchorWriteEndToEndTests {
  /// A database made by `csar init` with its own configuration folder (provider key and
  /// anchors of its own), run as root.
  struct Fixture {
    let directory: String
    let database: String
    let configHome: String
    var anchors: String { configHome + "/csar/anchors" }

    init() throws {
      directory = try CsarBinary.temporaryDirectory()
      database = directory + "/data/csar.sqlite"
      configHome = directory + "/config"
      let made = try run(["init", "--db", database])
      try #require(made.status == 0, "\(made.err)")
    }

    func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
      try Subprocess.run(
        [try CsarBinary.path] + arguments, overrides: ["XDG_CONFIG_HOME": configHome])
    }

    /// `csar operator add nobody --role ROLE`: one audited change.
    func addNobody(_ role: String) throws -> (status: Int32, out: String, err: String) {
      try run(["operator", "add", "nobody", "--role", role, "--db", database])
    }

    /// The role the database records for nobody.
    func nobodysRole() throws -> String {
      try Subprocess.run(["sqlite3", database, "SELECT role FROM operator WHERE name = 'nobody'"])
        .out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The one anchor file (written by init's first audited change).
    func anchor() throws -> String {
      let names = try FileManager.default.contentsOfDirectory(atPath: anchors)
      try #require(names.count == 1, "\(names)")
      return anchors + "/" + names[0]
    }
  }

  @Test func aFifoOrSymlinkAtTheAnchorIsSaidOnStderrAndTheExitStatusIs74() throws {
    let f = try Fixture()
    let anchor = try f.anchor()
    #expect(try f.addNobody("reviewer").status == 0)

    try FileManager.default.removeItem(atPath: anchor)
    #expect(mkfifo(anchor, 0o600) == 0)
    let fifo = try Subprocess.run(
      [try CsarBinary.path, "operator", "add", "nobody", "--role", "lead", "--db", f.database],
      timeout: 60, overrides: ["XDG_CONFIG_HOME": f.configHome])
    #expect(fifo.status == 74, "\(fifo.err)")
    #expect(
      fifo.err.contains("csar: the change is saved, but the audit anchor was not written"),
      "\(fifo.err)")
    #expect(fifo.err.contains("\(anchor): the file to replace is not a regular file"))
    #expect(fifo.err.contains("`rm \(anchor)`"), "\(fifo.err)")
    #expect(try f.nobodysRole() == "lead")

    try FileManager.default.removeItem(atPath: anchor)
    let elsewhere = f.directory + "/elsewhere"
    try "untouched\n".write(toFile: elsewhere, atomically: false, encoding: .utf8)
    #expect(symlink(elsewhere, anchor) == 0)
    let link = try f.addNobody("admin")
    #expect(link.status == 74, "\(link.err)")
    #expect(link.err.contains("\(anchor): the file to replace is a symbolic link"), "\(link.err)")
    #expect(try f.nobodysRole() == "admin")
    #expect(try String(contentsOfFile: elsewhere, encoding: .utf8) == "untouched\n")

    // Removed: the next change anchors again, exits 0, and the log verifies.
    try FileManager.default.removeItem(atPath: anchor)
    let healed = try f.addNobody("reviewer")
    #expect(healed.status == 0, "\(healed.err)")
    #expect(healed.err.isEmpty, "\(healed.err)")
    let verified = try f.run(["audit", "verify", "--db", f.database])
    #expect(verified.status == 0, "\(verified.out)\(verified.err)")
  }

  /// Before, a change to a copy moved the database's one anchor to the copy's log, and the
  /// original then failed verify as if its last event had been cut.
  @Test func aChangeToACopyLeavesItsOriginalVerifying() throws {
    let f = try Fixture()
    let copy = f.directory + "/data/copy.sqlite"
    let copied = try Subprocess.run(["cp", f.database, copy])
    try #require(copied.status == 0, "\(copied.err)")
    let added = try f.run(["operator", "add", "nobody", "--role", "reviewer", "--db", copy])
    #expect(added.status == 0, "\(added.err)")
    #expect(try f.addNobody("lead").status == 0)
    for database in [f.database, copy] {
      let verified = try f.run(["audit", "verify", "--db", database])
      #expect(verified.status == 0, "\(database): \(verified.out)\(verified.err)")
    }
    // The copy's own anchor vouches for its log from its first change on, and says so.
    let verified = try f.run(["audit", "verify", "--db", copy])
    let events = try Subprocess.run(["sqlite3", copy, "SELECT max(id) FROM audit_event"])
      .out.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(
      verified.out.contains(
        "note: this file is a copy of the database file \(f.database); its own anchor ("),
      "\(verified.out)")
    #expect(verified.out.contains("from event \(events) on; event"), "\(verified.out)")
    #expect(verified.out.contains("vouched for only by the keyed chain"), "\(verified.out)")
    let json = try f.run(["audit", "verify", "--json", "--db", copy])
    #expect(json.out.contains(#""notes":["this file is a copy"#), "\(json.out)")
    let original = try f.run(["audit", "verify", "--db", f.database])
    #expect(!original.out.contains("note:"), "\(original.out)")
    let names = try FileManager.default.contentsOfDirectory(atPath: f.anchors)
    #expect(names.count == 2, "\(names)")
  }

  /// Before, the next change anchored an older file put in the database's place as genuine.
  /// Now the anchor is kept (exit 74, verify fails) until an admin accepts the log, on record.
  @Test func anOlderFileInTheDatabasesPlaceIsReanchoredOnlyByAnAdmin() throws {
    let f = try Fixture()
    let older = f.directory + "/older.sqlite"
    try #require(try Subprocess.run(["cp", f.database, older]).status == 0)
    #expect(try f.addNobody("reviewer").status == 0)
    #expect(try f.addNobody("lead").status == 0)
    for suffix in ["-wal", "-shm"] { unlink(f.database + suffix) }
    #expect(rename(older, f.database) == 0)

    #expect(try f.run(["audit", "verify", "--db", f.database]).status == 1)
    let kept = try f.addNobody("admin")
    #expect(kept.status == 74, "\(kept.err)")
    #expect(kept.err.contains("The anchor is kept as it is"), "\(kept.err)")
    #expect(kept.err.contains("`csar audit reanchor`"), "\(kept.err)")
    #expect(try f.run(["audit", "verify", "--db", f.database]).status == 1)

    let reanchored = try f.run(["audit", "reanchor", "--db", f.database])
    #expect(reanchored.status == 0, "\(reanchored.err)")
    #expect(
      reanchored.out.contains("the old anchor recorded: 3 events, head "), "\(reanchored.out)")
    let verified = try f.run(["audit", "verify", "--db", f.database])
    #expect(verified.status == 0, "\(verified.out)\(verified.err)")
  }

  @Test func anAnchorFolderTheAccountCannotWriteIsSaidOnStderr() throws {
    guard geteuid() == 0 else {
      print("skipped: a folder root cannot write to needs a second OS account (setpriv)")
      return
    }
    // nobody's own database, key and anchors (root writes through any mode).
    let directory = try CsarBinary.temporaryDirectory()
    chmod(directory, 0o755)
    let home = directory + "/nobody"
    try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: false)
    #expect(chown(home, 65534, 65534) == 0)
    let database = home + "/data/csar.sqlite"
    let config = home + "/config"
    func asNobody(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
      try TeamDatabaseEndToEndTests.asNobody(inUsers: false, config: config, arguments)
    }
    let made = try asNobody(["init", "--db", database])
    try #require(made.status == 0, "\(made.err)")
    let anchors = config + "/csar/anchors"
    #expect(chmod(anchors, 0o500) == 0)

    let added = try asNobody(["operator", "add", "daemon", "--role", "reviewer", "--db", database])
    #expect(added.status == 74, "\(added.err)")
    #expect(added.err.contains("the audit anchor was not written"), "\(added.err)")
    // The anchor and its folder are named (before, the temporary file beside it was).
    let id = try Subprocess.run(["sqlite3", database, "SELECT database_id FROM audit_chain"])
      .out.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(
      added.err.contains(
        "\(anchors)/\(id).anchor: cannot create a file in its folder \(anchors): "
          + "Permission denied"), "\(added.err)")
    #expect(!added.err.contains(".tmp"), "\(added.err)")
    #expect(added.err.contains("`ls -ld \(anchors)`"), "\(added.err)")
    let role = try Subprocess.run(
      ["sqlite3", database, "SELECT role FROM operator WHERE name = 'daemon'"]
    ).out.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(role == "reviewer")
  }

  /// Before, `csar demo` built the database, counted the failed anchor writes and exited 0
  /// without a word: it opens its databases itself, not through a command's open.
  @Test func theDemoSaysOnStderrThatItsAnchorWasNotWrittenAndExits74() throws {
    let directory = try CsarBinary.temporaryDirectory()
    let database = directory + "/data/csar.sqlite"
    let configHome = directory + "/config"
    // A file where the anchors' folder belongs, beside the key the demo creates.
    try FileManager.default.createDirectory(
      atPath: configHome + "/csar", withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o700])
    try "not a folder\n".write(
      toFile: configHome + "/csar/anchors", atomically: false, encoding: .utf8)
    let made = try Subprocess.run(
      [try CsarBinary.path, "demo", "--db", database, "--items", "20", "--accounts", "20"],
      timeout: 120, overrides: ["XDG_CONFIG_HOME": configHome])
    #expect(made.status == 74, "\(made.err)")
    #expect(made.out.contains("created \(database)"), "\(made.out)")
    let said = made.err.components(separatedBy: "the audit anchor was not written").count - 1
    #expect(said == 1, "said once, not after every batch: \(made.err)")
    #expect(
      made.err.contains("\(configHome)/csar/anchors: the audit anchor folder is not a folder"))
  }

  /// The service logs and counts each anchor it could not write, the one at its start too
  /// (before, that one was only printed as plain text, and made the service exit 74 when
  /// stopped: under systemd a stop that marks the unit failed, however long ago the write).
  @Test func theServiceLogsAndCountsAnAnchorItCouldNotWriteAndStopsWithStatus0() throws {
    let f = try ServiceEndToEndTests.Fixture()
    // The service's anchors folder (beside its key) is a file: no anchor can be written.
    try FileManager.default.createDirectory(
      atPath: f.configHome + "/csar", withIntermediateDirectories: true)
    try "not a folder\n".write(
      toFile: f.configHome + "/csar/anchors", atomically: false, encoding: .utf8)
    // A log from before keyed chains: the service's open keys it (`audit.rekey`) and
    // anchors it, before the service runs.
    _ = try f.sql("UPDATE audit_chain SET key_check = NULL")
    let service = try f.sql("SELECT code FROM service ORDER BY id LIMIT 1")
    let server = try f.serve()
    let token = try f.token
    let event = """
      [{"event_id":"anchor-1","account":"api-user-1","service":"\(service)",
        "state":"granted","occurred_at":"2026-11-01T10:00:00Z","source":"app",
        "terms_version":"v9"}]
      """
    let recorded = try server.json("POST", "/v1/consent/events", token: token, event)
    #expect(recorded.status == 200, "\(recorded.text)")
    #expect(recorded.json["accepted"] as? Int == 1)
    let metrics = try server.request("GET", "/metrics", token: token).text
    #expect(metrics.contains("csar_audit_anchor_write_failures_total 2"), "\(metrics)")
    let lines = server.log.split(separator: "\n").filter {
      $0.contains("audit anchor not written")
    }
    #expect(lines.count == 2, "\(server.log)")
    #expect(lines.allSatisfy { $0.contains(#""level":"error""#) }, "\(server.log)")
    #expect(lines.last?.contains("the audit anchor") == true, "\(server.log)")
    #expect(try f.sql("SELECT count(*) FROM audit_event WHERE action = 'audit.rekey'") == "1")
    #expect(server.stop() == 0, "\(server.log)")
  }

  /// The value of the series `name` (no labels) in a `/metrics` text.
  static func gauge(_ name: String, in metrics: String) -> Double? {
    metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }
      .flatMap { Double($0.dropFirst(name.count + 1)) }
  }

  /// Before, `/metrics` only counted this process's failed anchor writes: nothing said
  /// whether the anchor on disk was behind the log (at start, after another process's failed
  /// write, or since a failure not yet healed), so an alert could not tell a healed failure
  /// from a standing one. The gauge reads the files at each scrape.
  @Test func theServiceSaysOnMetricsWhetherTheAnchorOnDiskIsBehindTheLog() throws {
    let f = try ServiceEndToEndTests.Fixture()
    let service = try f.sql("SELECT code FROM service ORDER BY id LIMIT 1")
    let server = try f.serve()
    let token = try f.token
    func metrics() throws -> String {
      let answer = try server.request("GET", "/metrics", token: token)
      #expect(answer.status == 200, "\(answer.text)")
      return answer.text
    }
    var consentEvents = 0
    // An audited change each: consent granted and withdrawn in turn (a repeated state
    // changes nothing).
    func recordConsent() throws {
      consentEvents += 1
      let state = consentEvents % 2 == 1 ? "granted" : "withdrawn"
      let event = """
        [{"event_id":"gauge-\(consentEvents)","account":"api-user-1","service":"\(service)",
          "state":"\(state)","occurred_at":"2026-11-01T10:0\(consentEvents):00Z",
          "source":"app","terms_version":"v9"}]
        """
      let recorded = try server.json("POST", "/v1/consent/events", token: token, event)
      #expect(recorded.status == 200, "\(recorded.text)")
    }
    let behind = "csar_audit_anchor_behind"
    let written = "csar_audit_anchor_written_timestamp_seconds"

    // The demo's anchor lives beside the demo's key, not the service's: at start the service
    // finds no anchor for a log with events.
    var text = try metrics()
    #expect(Self.gauge(behind, in: text) == 1, "\(text)")
    #expect(Self.gauge(written, in: text) == 0, "\(text)")

    try recordConsent()
    text = try metrics()
    #expect(Self.gauge(behind, in: text) == 0, "\(text)")
    let anchors = f.configHome + "/csar/anchors"
    let names = try FileManager.default.contentsOfDirectory(atPath: anchors)
    try #require(names.count == 1, "\(names)")
    let anchor = anchors + "/" + names[0]
    let mtime = try #require(
      (try FileManager.default.attributesOfItem(atPath: anchor)[.modificationDate] as? Date)?
        .timeIntervalSince1970)
    let shown = try #require(Self.gauge(written, in: text), "\(text)")
    #expect(abs(shown - mtime) < 0.01, "\(shown) against the file's \(mtime)")

    // The service's own write fails: behind until a write succeeds again.
    try FileManager.default.removeItem(atPath: anchor)
    #expect(mkfifo(anchor, 0o600) == 0)
    try recordConsent()
    text = try metrics()
    #expect(Self.gauge(behind, in: text) == 1, "\(text)")
    #expect(Self.gauge(written, in: text) == 0, "\(text)")
    #expect(text.contains("csar_audit_anchor_write_failures_total 1"), "\(text)")
    try FileManager.default.removeItem(atPath: anchor)
    try recordConsent()
    text = try metrics()
    #expect(Self.gauge(behind, in: text) == 0, "\(text)")

    // Another process's write fails, then another's succeeds: the gauge follows the files,
    // though the service wrote nothing meanwhile.
    func addNobody(_ role: String) throws -> Int32 {
      try Subprocess.run(
        [try CsarBinary.path, "operator", "add", "nobody", "--role", role, "--db", f.database],
        timeout: 60, overrides: ["XDG_CONFIG_HOME": f.configHome]
      ).status
    }
    try FileManager.default.removeItem(atPath: anchor)
    #expect(mkfifo(anchor, 0o600) == 0)
    #expect(try addNobody("reviewer") == 74)
    text = try metrics()
    #expect(Self.gauge(behind, in: text) == 1, "\(text)")
    #expect(text.contains("csar_audit_anchor_write_failures_total 1"), "\(text)")
    try FileManager.default.removeItem(atPath: anchor)
    #expect(try addNobody("lead") == 0)
    text = try metrics()
    #expect(Self.gauge(behind, in: text) == 0, "\(text)")
    #expect(server.stop() == 0, "\(server.log)")
  }
}
