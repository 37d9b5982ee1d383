// `csar serve` end to end: the real binary on an ephemeral port, driven over real HTTP.

import Foundation
import Testing

@Suite("Service end to end", .serialized)
struct ServiceEndToEndTests {
  /// A demo database with a bank holding the PDQ of one demo picture.
  struct Fixture {
    let directory: String
    let database: String
    let pdq: String

    init(items: Int = 30) throws {
      directory = try CsarBinary.temporaryDirectory()
      database = directory + "/demo.sqlite"
      let made = try CsarBinary.run(["demo", "--db", database, "--items", String(items)])
      #expect(made.status == 0, "csar demo failed: \(made.err)")
      let hashed = try CsarBinary.run(["hash", "--json", directory + "/media/1.png"])
      let object = try JSONSerialization.jsonObject(with: Data(hashed.out.utf8))
      pdq = try #require((object as? [String: Any])?["pdq"] as? String)
      // The service has its own configuration folder (its token lives there) but must chain
      // the audit log with the provider key the demo was made with: a copy of that key.
      let keyFolder = directory + "/config/csar"
      try FileManager.default.createDirectory(
        atPath: keyFolder, withIntermediateDirectories: true,
        attributes: [.posixPermissions: 0o700])
      try FileManager.default.copyItem(
        atPath: CsarBinary.configHome + "/csar/provider.key",
        toPath: keyFolder + "/provider.key")
      chmod(keyFolder + "/provider.key", 0o600)
    }

    /// The service's own configuration folder: its provider key and token live there.
    var configHome: String { directory + "/config" }
    var tokenPath: String { configHome + "/csar/service.token" }
    var token: String {
      get throws {
        try String(contentsOfFile: tokenPath, encoding: .utf8)
          .trimmingCharacters(in: .whitespacesAndNewlines)
      }
    }

    func csar(_ arguments: String...) throws -> (status: Int32, out: String, err: String) {
      try CsarBinary.run(arguments + ["--db", database])
    }

    func sql(_ query: String) throws -> String {
      try Subprocess.run(["sqlite3", database, query]).out
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func write(_ name: String, _ text: String) throws -> String {
      let path = directory + "/" + name
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }

    /// Imports the picture's PDQ into bank `known`.
    func importBank() throws {
      let file = try write("bank.csv", "type,hash,label\npdq,\(pdq),demo sample\n")
      let imported = try csar("bank", "import", "known", file)
      #expect(imported.status == 0, "\(imported.err)")
    }

    func serve(_ arguments: String...) throws -> ServerProcess {
      try ServerProcess(["--db", database] + arguments, configHome: configHome)
    }

    func media(_ n: Int) throws -> [UInt8] {
      Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/media/\(n).png")))
    }
  }

  /// `csar serve ARGUMENTS` run to its end with the fixture's configuration.
  static func serveOnce(_ fixture: Fixture, _ arguments: String...) throws
    -> (status: Int32, out: String, err: String)
  {
    try Subprocess.run(
      [try CsarBinary.path, "serve", "--db", fixture.database] + arguments, timeout: 120,
      overrides: ["XDG_CONFIG_HOME": fixture.configHome])
  }

  static func lookupBody(_ pdq: String) -> String {
    #"{"hashes":[{"type":"pdq","value":"\#(pdq)"}]}"#
  }

  // MARK: - Unix socket

  /// `--socket PATH`: a real socket, 0600 (0660 and the team's group in a team folder),
  /// refused when something else is at the path or another service listens on it, and
  /// removed at the end.
  @Test func aUnixSocketIsPrivateAndNeverReplacesAnotherFile() throws {
    let fixture = try Fixture()
    let folder = fixture.directory + "/run"
    try FileManager.default.createDirectory(
      atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    let path = folder + "/csar.sock"
    func info() -> stat? {
      var info = stat()
      return lstat(path, &info) == 0 ? info : nil
    }

    try "not a socket".write(toFile: path, atomically: false, encoding: .utf8)
    let refused = try Self.serveOnce(fixture, "--socket", path)
    #expect(refused.status != 0)
    #expect(refused.err.contains("is not a socket"), "\(refused.err)")
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "not a socket")
    unlink(path)

    let server = try ServerProcess(
      ["--db", fixture.database], configHome: fixture.configHome, socketPath: path)
    let bound = try #require(info())
    #expect(bound.st_mode & S_IFMT == S_IFSOCK)
    #expect(bound.st_mode & 0o7777 == 0o600)
    let token = try fixture.token
    #expect(try server.request("GET", "/v1/health", token: token).json["status"] as? String == "ok")
    #expect(try server.request("GET", "/v1/health", token: nil).status == 401)
    let second = try Self.serveOnce(fixture, "--socket", path)
    #expect(second.status != 0)
    #expect(second.err.contains("another process is listening"), "\(second.err)")
    #expect(server.stop() == 0)
    #expect(info() == nil, "the socket is removed at the end")

    // A team folder (setgid, group users): the socket is 0660 and belongs to the group.
    guard geteuid() == 0 else {
      print("skipped: the team-folder socket needs root to give the folder a group")
      return
    }
    let team = fixture.directory + "/team"
    mkdir(team, 0o700)
    chown(team, 0, 100)
    chmod(team, 0o2770)
    let shared = try ServerProcess(
      ["--db", fixture.database], configHome: fixture.configHome, socketPath: team + "/s.sock")
    var teamInfo = stat()
    #expect(lstat(team + "/s.sock", &teamInfo) == 0)
    #expect(teamInfo.st_mode & 0o7777 == 0o660)
    #expect(teamInfo.st_gid == 100)
    #expect(try shared.request("GET", "/v1/health", token: token).status == 200)
    #expect(shared.stop() == 0)
  }

  // MARK: - Per-request timeout

  /// `--timeout` covers the whole request: a body that does not arrive in time is answered
  /// 408 (not left waiting for the connection's idle timeout), and the service goes on.
  @Test func aBodyThatComesTooLateIs408() throws {
    let fixture = try Fixture()
    let server = try fixture.serve("--timeout", "1")
    let token = try fixture.token
    let started = Date()
    let late = try HTTPClient.request(
      port: server.port, "POST", "/v1/lookup", token: token,
      headers: ["Content-Type": "application/json", "Content-Length": "100"],
      sendBody: false, timeout: 20)
    #expect(late.status == 408, "\(late.text)")
    #expect(late.json["field"] as? String == "body")
    #expect(Date().timeIntervalSince(started) < 15)
    let fine = try server.json(
      "POST", "/v1/lookup", token: token, Self.lookupBody(String(repeating: "0", count: 64)))
    #expect(fine.status == 200)
    #expect(server.stop() == 0)
  }

  // MARK: - Auth, bad input, description

  @Test func authBadInputLimitsAndTheDescription() throws {
    let f = try Fixture()
    let server = try f.serve("--max-body", "4096")
    let token = try f.token
    let mode = try FileManager.default.attributesOfItem(atPath: f.tokenPath)[.posixPermissions]
    #expect(mode as? Int == 0o600)

    #expect(try server.request("GET", "/v1/health", token: nil).status == 401)
    let wrong = try server.request("GET", "/v1/health", token: String(repeating: "0", count: 64))
    #expect(wrong.status == 401)
    #expect(wrong.json["field"] as? String == "Authorization")
    #expect(wrong.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
    let health = try server.request("GET", "/v1/health", token: token)
    #expect(health.status == 200)
    #expect(health.json["status"] as? String == "ok")
    #expect(health.json["banks"] as? Int == 4, "the demo's four banks")
    #expect(try server.request("GET", "/v1/nothing", token: token).status == 404)

    func rejected(_ body: String, field: String) throws {
      let reply = try server.json("POST", "/v1/lookup", token: token, body)
      #expect(reply.status == 400, "\(body): \(reply.text)")
      #expect(reply.json["field"] as? String == field, "\(body): \(reply.text)")
    }
    try rejected("{", field: "body")
    try rejected("[]", field: "body")
    try rejected(#"{"hashes":3}"#, field: "hashes")
    try rejected(#"{"hashes":[{"type":"pdq"}]}"#, field: "hashes[0].value")
    try rejected(#"{"hashes":[{"type":"crc","value":"00"}]}"#, field: "hashes[0].type")
    try rejected(#"{"hashes":[{"type":"md5","value":"abc"}]}"#, field: "hashes[0].value")
    try rejected(#"{"hashes":[],"limit":5}"#, field: "limit")
    try rejected(
      #"{"hashes":[{"type":"pdq","value":"\#(f.pdq)","bank":"x"}]}"#, field: "hashes[0].bank")
    let many = Array(repeating: #"{"type":"md5","value":"\#(String(repeating: "0", count: 32))"}"#,
      count: 101).joined(separator: ",")
    // 101 hashes fit in 4096 bytes? No: this is over the body limit, so it is a 413.
    let tooBig = try server.json("POST", "/v1/lookup", token: token, #"{"hashes":[\#(many)]}"#)
    #expect(tooBig.status == 413)
    #expect(tooBig.json["field"] as? String == "body")
    let typed = try server.request(
      "POST", "/v1/lookup", token: token, headers: ["Content-Type": "text/plain"],
      body: Array(Self.lookupBody(f.pdq).utf8))
    #expect(typed.status == 415)
    #expect(typed.json["field"] as? String == "Content-Type")
    let scanType = try server.request(
      "POST", "/v1/scan?account=a&service=b", token: token,
      headers: ["Content-Type": "text/html"], body: [1, 2, 3])
    #expect(scanType.status == 415)
    let noAccount = try server.request("POST", "/v1/scan?service=b", token: token, body: [1])
    #expect(noAccount.status == 400)
    #expect(noAccount.json["field"] as? String == "account")
    let badService = try server.request(
      "POST", "/v1/scan?account=a&service=nope", token: token, body: [1])
    #expect(badService.status == 400)
    #expect(badService.json["field"] as? String == "service")

    let openAPI = try server.request("GET", "/openapi.json", token: token)
    #expect(openAPI.status == 200)
    let paths = try #require(openAPI.json["paths"] as? [String: Any])
    #expect(paths.keys.contains("/v1/consent/{account}"))
    let metrics = try server.request("GET", "/metrics", token: token)
    #expect(metrics.status == 200)
    // The demo's banks' hashes.
    #expect(
      metrics.text.contains("csar_index_hashes \(try f.sql("SELECT count(*) FROM bank_hash"))"))
    #expect(metrics.text.contains("hb_requests"))
    #expect(server.stop() == 0)
    #expect(server.log.contains("\"route\":\"/v1/lookup\""))
    #expect(server.log.contains("\"status\":\"413\""))

    // A token file that others can read is refused at start, naming the fix.
    chmod(f.tokenPath, 0o644)
    do {
      _ = try f.serve()
      Issue.record("csar serve started with a token file others can read")
    } catch {
      #expect("\(error)".contains("chmod 600 \(f.tokenPath)"), "\(error)")
    }
  }

  @Test func aProviderKeyOtherThanTheDatabasesIsRefusedAtStart() throws {
    let f = try Fixture()
    let other = (0..<32).map { _ in UInt8.random(in: 0...255) }
    let keyPath = f.configHome + "/csar/provider.key"
    try Data(other.map { String(format: "%02x", $0) }.joined().utf8 + [0x0A])
      .write(to: URL(fileURLWithPath: keyPath))
    chmod(keyPath, 0o600)
    do {
      let server = try f.serve()
      server.stop(SIGKILL)
      Issue.record("csar serve started with another provider key than the database's")
    } catch {
      #expect("\(error)".contains("another provider key"), "\(error)")
    }
  }

  // MARK: - The gate over HTTP

  @Test func consentGateScansLookupsConsentAndFlags() throws {
    let f = try Fixture()
    try f.importBank()
    let service = try f.sql("SELECT code FROM service ORDER BY id LIMIT 1")
    let server = try f.serve()
    let token = try f.token
    // The imported hash and those of the demo's banks.
    #expect(
      try server.request("GET", "/v1/health", token: token).json["hashes"] as? Int
        == Int(try f.sql("SELECT count(*) FROM bank_hash")))

    // Consent events: one new account granted, one refused; a repeat is a duplicate, a bad
    // event is rejected by index.
    let events = """
      [{"event_id":"e2e-1","account":"api-user-1","service":"\(service)","state":"granted",
        "occurred_at":"2026-11-01T10:00:00Z","source":"app","terms_version":"v9"},
       {"event_id":"e2e-2","account":"api-user-2","service":"\(service)","state":"refused",
        "occurred_at":1761991200,"source":"app","terms_version":"v9"},
       {"event_id":"e2e-3","account":"api-user-3","service":"no-such","state":"granted",
        "occurred_at":"2026-11-01T10:00:00Z","source":"app","terms_version":"v9"}]
      """
    let recorded = try server.json("POST", "/v1/consent/events", token: token, events)
    #expect(recorded.status == 200, "\(recorded.text)")
    #expect(recorded.json["accepted"] as? Int == 2)
    let rejected = try #require(recorded.json["rejected"] as? [[String: Any]])
    #expect(rejected.map { $0["index"] as? Int } == [2])
    let again = try server.json("POST", "/v1/consent/events", token: token, events)
    #expect(again.json["duplicates"] as? Int == 2)
    #expect(again.json["accepted"] as? Int == 0)
    let shown = try server.request("GET", "/v1/consent/api-user-1", token: token)
    #expect(shown.status == 200)
    let states = try #require(shown.json["services"] as? [[String: Any]])
    #expect(states.first?["state"] as? String == "granted")
    #expect(try server.request("GET", "/v1/consent/nobody", token: token).status == 404)

    // One request is one transaction however many events it brings (a file import commits
    // in batches of 10,000): one audited `consent.import` for 10,001 events.
    let imports = "SELECT count(*) FROM audit_event WHERE action = 'consent.import'"
    let before = try f.sql(imports)
    let many = (0..<10_001).map {
      #"{"event_id":"bulk-\#($0)","account":"bulk-\#($0)","service":"\#(service)","#
        + #""state":"granted","occurred_at":"2026-11-01T10:00:00Z","source":"app","#
        + #""terms_version":"v9"}"#
    }
    let bulk = try server.json(
      "POST", "/v1/consent/events", token: token, "[" + many.joined(separator: ",") + "]")
    #expect(bulk.json["accepted"] as? Int == 10_001, "\(bulk.text.prefix(300))")
    #expect(Int(try f.sql(imports)) == Int(before).map { $0 + 1 })

    // Blocked: answered without the body being read (only its length is sent).
    let blocked = try server.request(
      "POST", "/v1/scan?account=api-user-2&service=\(service)", token: token,
      headers: ["Content-Type": "image/png", "Content-Length": "1000000"], body: [],
      sendBody: false)
    #expect(blocked.status == 200)
    #expect(blocked.json["decision"] as? String == "blocked")
    #expect(blocked.json["consent"] as? String == "refused")
    #expect(blocked.json["sha256"] == nil)

    // Granted: the matching picture is flagged and kept for review; another is allowed.
    let flagged = try server.request(
      "POST", "/v1/scan?account=api-user-1&service=\(service)&name=one.png", token: token,
      headers: ["Content-Type": "image/png"], body: try f.media(1))
    #expect(flagged.status == 200, "\(flagged.text)")
    #expect(flagged.json["decision"] as? String == "flagged", "\(flagged.text)")
    #expect(flagged.json["input"] as? String == "one.png")
    let item = try #require(flagged.json["item"] as? Int)
    let kept = try f.sql("SELECT media_path FROM flagged_item WHERE id = \(item)")
    #expect(FileManager.default.fileExists(atPath: kept))
    #expect(kept.hasPrefix(f.directory + "/media/uploads/"), "inside the media root")
    let mode = try FileManager.default.attributesOfItem(atPath: kept)[.posixPermissions]
    #expect(mode as? Int == 0o600)
    let allowed = try server.request(
      "POST", "/v1/scan?account=api-user-1&service=\(service)", token: token,
      body: try f.media(2))
    #expect(allowed.json["decision"] as? String == "allowed", "\(allowed.text)")
    // WebP, GIF, BMP, TIFF, HEIC and AVIF uploads, each sent with its own type.
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../DetectionTests/Fixtures/images").standardized.path
    for (file, type) in [
      ("picture.webp", "image/webp"), ("animated.gif", "image/gif"), ("picture.bmp", "image/bmp"),
      ("picture.tiff", "image/tiff"), ("photo.heic", "image/heic"), ("photo.avif", "image/avif"),
    ] {
      let body = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + file)))
      let reply = try server.request(
        "POST", "/v1/scan?account=api-user-1&service=\(service)&name=\(file)", token: token,
        headers: ["Content-Type": type], body: body)
      #expect(reply.status == 200, "\(file): \(reply.text)")
      #expect(reply.json["decision"] as? String == "allowed", "\(file): \(reply.text)")
      #expect((reply.json["pdq"] as? String)?.count == 64, "\(file): \(reply.text)")
    }
    let url = try server.json(
      "POST", "/v1/scan/url", token: token,
      #"{"account":"api-user-2","service":"\#(service)","url":"http://example.com/a"}"#)
    #expect(url.json["decision"] as? String == "blocked")
    let noURL = try server.json(
      "POST", "/v1/scan/url", token: token, #"{"account":"api-user-2","service":"x"}"#)
    #expect(noURL.status == 400)
    #expect(noURL.json["field"] as? String == "url")

    // Lookup: the same answer as `csar lookup --json`.
    let looked = try server.json("POST", "/v1/lookup", token: token, Self.lookupBody(f.pdq))
    #expect(looked.status == 200)
    let results = try #require(looked.json["results"] as? [[String: Any]])
    let matches = try #require(results.first?["matches"] as? [[String: Any]])
    #expect(matches.first?["bank"] as? String == "known")
    let cli = try f.csar("lookup", "--json", "pdq:" + f.pdq)
    #expect(cli.status == 0, "\(cli.err)")
    let line = try JSONSerialization.jsonObject(with: Data(cli.out.utf8)) as? NSDictionary
    #expect(line == results.first.map { NSDictionary(dictionary: $0) })

    // Flags: a consenting account's score is queued; others are rejected by index.
    let flags = try server.json(
      "POST", "/v1/flags", token: token,
      """
      [{"account":"api-user-1","service":"\(service)","media":"media/1.png","model":"m1",
        "score":0.99,"id":"f-1"},
       {"account":"api-user-2","service":"\(service)","media":"media/2.png","model":"m1",
        "score":0.99,"id":"f-2"},
       {"account":"api-user-1","service":"\(service)","media":"/etc/passwd","model":"m1",
        "score":0.99,"id":"f-3"}]
      """)
    #expect(flags.status == 200, "\(flags.text)")
    #expect(flags.json["queued"] as? Int == 1)
    let flagsRejected = (flags.json["rejected"] as? [[String: Any]]) ?? []
    #expect(flagsRejected.map { $0["index"] as? Int } == [1, 2], "\(flags.text)")

    // The metrics the issue names: requests, latencies, matches, index size and age.
    let metrics = try server.request("GET", "/metrics", token: token).text
    for series in [
      "hb_requests", "http_server_request_duration", "csar_lookup_matches_total 1",
      #"csar_scans_total{kind="file",decision="flagged"} 1"#, "csar_index_hashes 1",
      "csar_index_age_seconds",
    ] {
      #expect(metrics.contains(series), "no \(series) in /metrics")
    }
    // Refusals are counted with their own status (the 404 and 400 above), never as 500.
    #expect(metrics.contains(#"http_response_status_code="404""#))
    #expect(!metrics.contains(#"http_response_status_code="500""#), "\(metrics)")

    #expect(server.stop() == 0)
    // Logs carry pseudonyms, never the account ids.
    #expect(!server.log.contains("api-user-"), "an account id leaked into the log")
    #expect(server.log.contains("\"account\":"))
    // A successful lookup is counted, not logged (a failed one is: see the test of bad input).
    #expect(!server.log.contains(#""route":"/v1/lookup","status":"200""#), "\(server.log)")
    #expect(server.log.contains(#""route":"/v1/scan","status":"200""#), "\(server.log)")
  }

  // MARK: - Live bank refresh

  @Test func bankChangesByAnotherProcessAreServedWithoutARestart() throws {
    let f = try Fixture()
    let server = try f.serve()
    let token = try f.token
    func matched() throws -> Bool {
      let reply = try server.json("POST", "/v1/lookup", token: token, Self.lookupBody(f.pdq))
      let results = reply.json["results"] as? [[String: Any]]
      return !((results?.first?["matches"] as? [Any]) ?? []).isEmpty
    }
    #expect(try !matched())
    try f.importBank()
    let imported = Date()
    try Self.waitUntil("the imported bank to be served") { try matched() }
    let seconds = Date().timeIntervalSince(imported)
    print("bank import served after \(String(format: "%.2f", seconds)) s")
    #expect(try f.csar("bank", "disable", "known").status == 0)
    try Self.waitUntil("the disabled bank to stop matching") { try !matched() }
    #expect(server.stop() == 0)
    #expect(server.log.contains("bank index rebuilt"))
  }

  // MARK: - Graceful shutdown

  @Test func sigtermAnswersRequestsInFlightThenExits() throws {
    let f = try Fixture()
    let service = try f.sql("SELECT code FROM service ORDER BY id LIMIT 1")
    let server = try f.serve("--workers", "1")
    let token = try f.token
    _ = try server.json(
      "POST", "/v1/consent/events", token: token,
      """
      [{"event_id":"t-1","account":"drain-user","service":"\(service)","state":"granted",
        "occurred_at":"2026-11-01T10:00:00Z","source":"app","terms_version":"v9"}]
      """)
    let picture = try f.media(3)
    let count = 6
    let replies = Replies()
    let group = DispatchGroup()
    for _ in 0..<count {
      group.enter()
      Thread.detachNewThread {
        defer { group.leave() }
        let reply = try? server.request(
          "POST", "/v1/scan?account=drain-user&service=\(service)", token: token,
          body: picture)
        replies.add(reply?.status ?? -1)
      }
    }
    // Wait until work is in hand, then ask the server to stop while it is.
    var inHand = 0.0
    try Self.waitUntil("the scans to reach the server") {
      let text = try server.request("GET", "/metrics", token: token).text
      let line = text.split(separator: "\n").first { $0.hasPrefix("csar_work_queue_depth ") }
      inHand = line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
      return inHand >= 1
    }
    #expect(server.stop(SIGTERM) == 0, "\(server.log)")
    group.wait()
    let statuses = replies.statuses
    // Requests in hand are answered; ones that arrived after the stop began may find the
    // port closed (-1), but none is answered with an error.
    #expect(statuses.filter { $0 == 200 }.count >= Int(inHand), "\(statuses) \(inHand)")
    #expect(statuses.allSatisfy { $0 == 200 || $0 == -1 }, "\(statuses)")
    #expect(server.log.contains("stopped"))
  }

  // MARK: - kill -9 under concurrent writes

  @Test func killedUnderConcurrentScansKeepsEveryAcknowledgedItemWhole() throws {
    let f = try Fixture()
    try f.importBank()
    let service = try f.sql("SELECT code FROM service ORDER BY id LIMIT 1")
    let demoItems = try f.sql("SELECT coalesce(max(id), 0) FROM flagged_item")
    let server = try f.serve("--workers", "4")
    let token = try f.token
    _ = try server.json(
      "POST", "/v1/consent/events", token: token,
      """
      [{"event_id":"k-1","account":"kill-user","service":"\(service)","state":"granted",
        "occurred_at":"2026-11-01T10:00:00Z","source":"app","terms_version":"v9"}]
      """)
    let picture = try f.media(1)
    let items = ItemReplies()
    let group = DispatchGroup()
    for _ in 0..<8 {
      group.enter()
      Thread.detachNewThread {
        defer { group.leave() }
        for _ in 0..<40 {
          guard
            let reply = try? server.request(
              "POST", "/v1/scan?account=kill-user&service=\(service)", token: token,
              body: picture)
          else { return }  // the server is gone
          if reply.status == 200, let item = reply.json["item"] as? Int { items.add(item) }
        }
      }
    }
    try Self.waitUntil("some flagged scans to be answered") { items.all.count >= 10 }
    #expect(server.stop(SIGKILL) == 128 + SIGKILL)
    group.wait()
    let acknowledged = items.all
    // Every item answered 200 is there after the kill, with its audit event; no item is
    // there without one (nothing half-written), and the audit chain holds.
    let stored = Set(
      try f.sql("SELECT id FROM flagged_item").split(separator: "\n").compactMap { Int($0) })
    #expect(Set(acknowledged).isSubset(of: stored), "acknowledged items lost by the kill")
    let unaudited = try f.sql(
      """
      SELECT count(*) FROM flagged_item i WHERE i.id > \(demoItems) AND NOT EXISTS (
        SELECT 1 FROM audit_event e
        WHERE e.action = 'flag.create' AND e.entity_id = CAST(i.id AS TEXT))
      """)
    #expect(unaudited == "0")
    let verified = try f.csar("audit", "verify")
    #expect(verified.status == 0, "\(verified.out) \(verified.err)")
    // It starts again on the same files.
    let again = try f.serve()
    #expect(try again.request("GET", "/v1/health", token: token).status == 200)
    #expect(again.stop() == 0)
  }

  final class ItemReplies: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int] = []
    func add(_ item: Int) { lock.withLock { values.append(item) } }
    var all: [Int] { lock.withLock { values } }
  }

  final class Replies: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int] = []
    func add(_ status: Int) { lock.withLock { values.append(status) } }
    var statuses: [Int] { lock.withLock { values } }
  }

  static func waitUntil(
    _ what: String, timeout: Double = 60, _ condition: () throws -> Bool
  ) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if try condition() { return }
      usleep(50_000)
    }
    throw HTTPClient.Failure(description: "timed out waiting for \(what)")
  }
}
