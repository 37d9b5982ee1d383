import Foundation
import Testing

/// Files csar writes are private whatever the umask, and two exports or two consent imports
/// running at once behave as one after the other.
@Suite("Private files and concurrent runs end to end", .serialized)
struct PrivateFilesEndToEndTests {
  static func mode(_ path: String) -> mode_t {
    var info = stat()
    guard lstat(path, &info) == 0 else { return 0 }
    return info.st_mode & 0o7777
  }

  static func sql(_ database: String, _ query: String) throws -> String {
    try Subprocess.run(["sqlite3", database, query]).out
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Runs the csar invocations at the same time; their results in order.
  static func together(_ runs: [[String]]) -> [(status: Int32, out: String, err: String)] {
    let results = Locked<[Int: (status: Int32, out: String, err: String)]>()
    results.set([:])
    DispatchQueue.concurrentPerform(iterations: runs.count) { index in
      let result = (try? CsarBinary.run(runs[index])) ?? (-1, "", "could not start")
      results.update { $0[index] = result }
    }
    let all = results.get() ?? [:]
    return runs.indices.map { all[$0] ?? (-1, "", "missing") }
  }

  @Test func theDatabaseMediaKeyAndOutboxArePrivateUnderUmask022() throws {
    umask(0o022)
    let directory = try CsarBinary.temporaryDirectory()
    let data = directory + "/data"
    let database = data + "/demo.sqlite"
    let demo = try CsarBinary.run(["demo", "--db", database, "--items", "60"])
    try #require(demo.status == 0, "\(demo.err)")
    let outbox = directory + "/outbox"
    let export = try CsarBinary.run(
      ["report", "export", "--outbox", outbox, "--db", database, "--operator", "alice"])
    try #require(export.status == 0, "\(export.err)")
    #expect(Self.mode(data) == 0o700)
    #expect(Self.mode(database) == 0o600)
    #expect(Self.mode(data + "/media") == 0o700)
    #expect(Self.mode(data + "/media/0.png") == 0o600)
    #expect(Self.mode(outbox) == 0o700)
    let files = try FileManager.default.contentsOfDirectory(atPath: outbox)
    #expect(!files.isEmpty)
    for name in files { #expect(Self.mode(outbox + "/" + name) == 0o600, "\(name)") }
    #expect(Self.mode(CsarBinary.configHome + "/csar") == 0o700)
    #expect(Self.mode(CsarBinary.configHome + "/csar/provider.key") == 0o600)

    // A database others can read is refused, naming the fix.
    chmod(database, 0o644)
    let refused = try CsarBinary.run(["deadlines", "--db", database])
    #expect(refused.status != 0)
    #expect(refused.err.contains("chmod 600 \(database)"), "\(refused.err)")
  }

  @Test func aRelativeDatabasePathInANewFolderWorks() throws {
    // `--db d/demo.sqlite` crashed (Foundation trapped on the folder of the folder).
    let directory = try CsarBinary.temporaryDirectory()
    let demo = try Subprocess.run(
      ["/bin/sh", "-c", "cd \"$1\" && exec \"$2\" demo --db d/demo.sqlite --items 20",
       "sh", directory, try CsarBinary.path],
      overrides: ["XDG_CONFIG_HOME": CsarBinary.configHome])
    #expect(demo.status == 0, "\(demo.err)")
    #expect(Self.mode(directory + "/d") == 0o700)
    #expect(Self.mode(directory + "/d/demo.sqlite") == 0o600)
  }

  @Test func twoExportsAtOnceSendEachReportOnce() throws {
    let directory = try CsarBinary.temporaryDirectory()
    let database = directory + "/demo.sqlite"
    let demo = try CsarBinary.run(["demo", "--db", database, "--items", "20000"])
    try #require(demo.status == 0, "\(demo.err)")
    let ready = Set(
      try Self.sql(database, "SELECT case_ref FROM report WHERE state = 'ready'")
        .split(separator: "\n").map(String.init))
    try #require(ready.count > 20)
    let outbox = directory + "/outbox"
    let export = [
      "report", "export", "--outbox", outbox, "--json", "--db", database, "--operator", "alice",
    ]
    let results = Self.together([export, export])
    var sent: [String] = []
    for result in results {
      #expect(result.status == 0, "\(result.err)")
      for line in result.out.split(separator: "\n") {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        sent.append(object?["case_ref"] as? String ?? "?")
      }
    }
    #expect(sent.count == ready.count, "a report was exported twice or not at all")
    #expect(Set(sent) == ready)
    let twice = try Self.sql(
      database,
      "SELECT count(*) FROM (SELECT entity_id FROM audit_event WHERE action = 'report.export' "
        + "GROUP BY entity_id HAVING count(*) > 1)")
    #expect(twice == "0")
    let files = try FileManager.default.contentsOfDirectory(atPath: outbox)
    #expect(Set(files) == Set(ready.map { $0 + ".json" }))
  }

  @Test func twoImportsOfOneConsentFileAtOnceBothSucceed() throws {
    let directory = try CsarBinary.temporaryDirectory()
    let database = directory + "/demo.sqlite"
    let demo = try CsarBinary.run(["demo", "--db", database, "--items", "40"])
    try #require(demo.status == 0, "\(demo.err)")
    let services = try Self.sql(database, "SELECT code FROM service ORDER BY code LIMIT 2")
      .split(separator: "\n").map(String.init)
    var lines = ["event_id,account,service,state,occurred_at,source,terms_version"]
    let events = 60_000
    for i in 0..<events {
      let account = i % 20_000
      let state = ["granted", "withdrawn", "granted"][i / 20_000]
      lines.append(
        "twice-\(i),T\(account),\(services[account % 2]),\(state),\(1_780_000_000 + i),app,tos-9")
    }
    let file = directory + "/consent.csv"
    try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
    let run = ["consent", "import", file, "--json", "--batch", "2000", "--db", database]
    let results = Self.together([run, run])
    var accepted = 0
    for result in results {
      #expect(result.status == 0, "\(result.err.prefix(500))")
      let object =
        (try? JSONSerialization.jsonObject(with: Data(result.out.utf8))) as? [String: Any] ?? [:]
      let mine = object["accepted"] as? Int ?? -1
      #expect(mine + (object["duplicate"] as? Int ?? -1) == events, "\(object)")
      #expect(object["rejected"] as? Int == 0)
      accepted += mine
    }
    #expect(accepted == events)
    #expect(
      try Self.sql(database, "SELECT count(*) FROM consent_event WHERE event_id LIKE 'twice-%'")
        == String(events))
    #expect(
      try Self.sql(database, "SELECT count(*) FROM account WHERE external_id LIKE 'T%'")
        == "20000")
  }
}

/// A value set on one thread and read on another.
final class Locked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value?

  func set(_ newValue: Value) { lock.withLock { value = newValue } }
  func get() -> Value? { lock.withLock { value } }
  func update(_ body: (inout Value) -> Void) {
    lock.withLock {
      if var current = value {
        body(&current)
        value = current
      }
    }
  }
}

/// `csar init --group`: a team on one host, tried with a second OS account.
@Suite("Team database end to end", .serialized)
struct TeamDatabaseEndToEndTests {
  /// Runs csar as `nobody` (uid 65534), in group `users` (100) or in no group.
  /// With `config`, its own config folder (a member's `provider_key` line, as init prints).
  static func asNobody(inUsers: Bool, config: String? = nil, _ arguments: [String]) throws
    -> (status: Int32, out: String, err: String)
  {
    try Subprocess.run(
      ["setpriv", "--reuid=65534", "--regid=65534", inUsers ? "--groups=100" : "--clear-groups",
       try CsarBinary.path] + arguments,
      overrides: ["XDG_CONFIG_HOME": config ?? CsarBinary.configHome, "HOME": "/nonexistent"])
  }

  /// A config folder of nobody's naming the team's key (every member uses it: the audit key
  /// derives from it).
  static func memberConfig(_ directory: String, key: String) throws -> String {
    let config = directory + "/nobody-config"
    try FileManager.default.createDirectory(
      atPath: config + "/csar", withIntermediateDirectories: true)
    try "provider_key = \"\(key)\"\n".write(
      toFile: config + "/csar/config.toml", atomically: false, encoding: .utf8)
    for path in [config, config + "/csar", config + "/csar/config.toml"] {
      #expect(chown(path, 65534, 65534) == 0)
    }
    return config
  }

  @Test func membersOfTheGroupShareTheDatabaseAndOthersCannotReadIt() throws {
    guard geteuid() == 0 else {
      print("skipped: a second OS account needs root (setpriv)")
      return
    }
    let directory = try CsarBinary.temporaryDirectory()
    let database = directory + "/team/data/csar.sqlite"
    let key = directory + "/team/key/provider.key"
    let made = try CsarBinary.run(
      ["init", "--db", database, "--group", "users", "--key", key])
    try #require(made.status == 0, "\(made.err)")
    #expect(made.out.contains("provider_key = \"\(key)\""))
    let mode = PrivateFilesEndToEndTests.mode
    #expect(mode(directory + "/team/data") == 0o2770)
    #expect(mode(database) == 0o660)
    #expect(mode(key) == 0o640)
    var info = stat()
    #expect(stat(database, &info) == 0 && info.st_gid == 100)

    // A member (another account, in group users) works on it; its files stay the team's.
    let member = try Self.asNobody(
      inUsers: true, config: try Self.memberConfig(directory, key: key),
      ["deadlines", "--db", database])
    #expect(member.status == 0, "\(member.err)")
    for file in [database + "-wal", database + "-shm"] where stat(file, &info) == 0 {
      #expect(info.st_gid == 100 && info.st_mode & 0o777 == 0o660, "\(file)")
    }
    // Someone outside the group cannot even reach it.
    let outsider = try Self.asNobody(inUsers: false, ["deadlines", "--db", database])
    #expect(outsider.status != 0)
    #expect(
      outsider.err.contains("Permission denied") || outsider.err.contains("no database there"),
      "\(outsider.err)")
    // A second init does not replace it.
    #expect(try CsarBinary.run(["init", "--db", database]).status != 0)
  }
}
