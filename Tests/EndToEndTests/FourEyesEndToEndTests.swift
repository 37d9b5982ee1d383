import Foundation
import Testing

/// Four eyes are two OS accounts: the real binary, run as root and as `nobody` (with
/// `setpriv`), on a demo database whose operators are all bound to root.
@Suite(
  "Four eyes end to end (two OS accounts)", .serialized,
  .enabled(
    if: geteuid() == 0,
    "needs root to run csar as a second OS account (nobody) with setpriv; skipped"))
struct FourEyesEndToEndTests {
  /// csar as `nobody` (uid 65534), with group `users` (gid 100) to reach the shared database,
  /// a home of its own and no operator chosen by the environment.
  func asNobody(_ fixture: ReportCommandsEndToEndTests.Fixture, _ arguments: [String])
    throws -> (status: Int32, out: String, err: String)
  {
    try shareWithUsers(fixture.directory)
    let home = fixture.directory + "/nobody-home"
    try teamKey(fixture.directory, home: home)
    return try Subprocess.run(
      [
        "setpriv", "--reuid=65534", "--regid=65534", "--groups=100", "env", "-u",
        "CSAR_OPERATOR", "HOME=\(home)", "XDG_CONFIG_HOME=\(home)/.config",
        try CsarBinary.path,
      ] + arguments + ["--db", fixture.database])
  }

  /// Lets group `users` (gid 100) read and write the database folder and its files.
  // TODO(lead): once `csar init --group users` is on main, create the test database through
  // it instead of changing owners and modes here.
  func shareWithUsers(_ directory: String) throws {
    #expect(chown(directory, 0, 100) == 0 && chmod(directory, 0o2770) == 0)
    for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
      let path = directory + "/" + name
      guard name.hasPrefix("demo.sqlite") else { continue }
      #expect(chown(path, 0, 100) == 0 && chmod(path, 0o660) == 0)
    }
  }

  /// Every account that writes the audit log needs the team's key (its audit key derives from
  /// it): a copy of the demo's key in a team folder (2770, key 0640, group `users`), named by
  /// `provider_key` in nobody's config.
  func teamKey(_ directory: String, home: String) throws {
    let team = directory + "/team"
    guard !FileManager.default.fileExists(atPath: team) else { return }
    #expect(mkdir(team, 0o700) == 0 && chown(team, 0, 100) == 0 && chmod(team, 0o2770) == 0)
    let key = team + "/provider.key"
    try FileManager.default.copyItem(
      atPath: CsarBinary.configHome + "/csar/provider.key", toPath: key)
    #expect(chown(key, 0, 100) == 0 && chmod(key, 0o640) == 0)
    let config = home + "/.config/csar"
    try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
    try "provider_key = \"\(key)\"\n".write(
      toFile: config + "/config.toml", atomically: false, encoding: .utf8)
    for path in [home, home + "/.config", config, config + "/config.toml"] {
      #expect(chown(path, 65534, 65534) == 0)
    }
  }

  @Test func approvalNeedsASecondOSAccountWhateverTheNames() throws {
    let fixture = try ReportCommandsEndToEndTests.Fixture()
    defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
    let ref = try fixture.foundedCase()
    let box = fixture.directory + "/reveal"
    let request = try fixture.csar(["report", "request-reveal", ref], as: "alice")
    #expect(request.status == 0, "\(request.err)")

    // One account, any names: bahar is a lead, but bound to the same uid as alice.
    let sameAccount = try fixture.csar(["report", "approve", ref], as: "bahar")
    #expect(sameAccount.status != 0)
    #expect(sameAccount.err.contains("same OS account"), "\(sameAccount.err)")
    let asRoot = try CsarBinary.run(["report", "approve", ref, "--db", fixture.database])
    #expect(asRoot.status != 0 && asRoot.err.contains("same OS account"), "\(asRoot.err)")
    let alone = try fixture.csar(["report", "reveal", ref, "--outbox", box], as: "alice")
    #expect(alone.status != 0 && alone.err.contains("approval of a lead"), "\(alone.err)")
    // A name of another account cannot be borrowed.
    let borrowed = try fixture.csar(["report", "approve", ref], as: "nobody")
    #expect(borrowed.status != 0 && borrowed.err.contains("no operator \"nobody\""))

    // A second account that is no operator is refused, naming the admin command.
    let stranger = try asNobody(fixture, ["report", "approve", ref])
    #expect(stranger.status != 0)
    #expect(stranger.err.contains("csar operator add nobody --role reviewer"), "\(stranger.err)")
    let impostor = try asNobody(fixture, ["report", "approve", ref, "--operator", "bahar"])
    #expect(impostor.status != 0 && impostor.err.contains("belongs to another OS account"))

    // The admin (root, who made the demo) adds nobody as a lead; nobody can approve.
    let added = try CsarBinary.run(
      ["operator", "add", "nobody", "--role", "lead", "--db", fixture.database])
    #expect(added.status == 0 && added.out.contains("nobody (uid 65534): lead"), "\(added.err)")
    let notAdmin = try asNobody(fixture, ["operator", "list"])
    #expect(notAdmin.status != 0 && notAdmin.err.contains("not an admin"), "\(notAdmin.err)")
    let approved = try asNobody(fixture, ["report", "approve", ref])
    #expect(approved.status == 0, "\(approved.err)")
    let revealed = try fixture.csar(["report", "reveal", ref, "--outbox", box], as: "alice")
    #expect(revealed.status == 0, "\(revealed.err)")
    let package = try String(contentsOfFile: box + "/\(ref)-reveal.json", encoding: .utf8)
    #expect(package.contains("\"approved_by\":[\"nobody\"]"))
    #expect(try fixture.state(ref) == "revealed")
    let actions = try fixture.sql(
      "SELECT group_concat(action || ':' || operator, ' ') FROM (SELECT * FROM audit_event "
        + "WHERE entity = 'report' AND entity_id = (SELECT id FROM report "
        + "WHERE case_ref = '\(ref)') ORDER BY id DESC LIMIT 3)")
    #expect(
      actions
        == "report.reveal:alice report.approve_reveal:nobody report.request_reveal:alice")
    let listed = try CsarBinary.run(["operator", "list", "--json", "--db", fixture.database])
    #expect(listed.status == 0, "\(listed.err)")
    #expect(listed.out.contains("{\"name\":\"nobody\",\"uid\":65534,\"role\":\"lead\""))
    // Disabled by the admin, nobody can act no more.
    let disabled = try CsarBinary.run(["operator", "disable", "nobody", "--db", fixture.database])
    #expect(disabled.status == 0, "\(disabled.err)")
    let refused = try asNobody(fixture, ["report", "approve", ref])
    #expect(refused.status != 0)
    #expect(refused.err.contains("\"nobody\" is disabled"), "\(refused.err)")
    #expect(try CsarBinary.run(["audit", "verify", "--db", fixture.database]).status == 0)
  }
}
