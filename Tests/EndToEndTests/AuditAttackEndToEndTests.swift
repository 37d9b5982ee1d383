import Foundation
import Testing

/// Someone who can write the database file (but cannot read the provider key) attacks the
/// audit log with the real `sqlite3` shell; each attack must make `csar audit verify` exit 1
/// naming what was done. Runs the built binary on a demo database.
@Suite("Audit log attacks with sqlite3 end to end", .serialized)
struct AuditAttackEndToEndTests {
  typealias Demo = ReportCommandsEndToEndTests.Fixture

  /// A demo database (200 items) that verifies before the attack.
  static func fixture() throws -> Demo {
    let demo = try Demo(items: 200)
    let verify = try demo.verify()
    #expect(verify.status == 0, "a fresh demo does not verify: \(verify.out)\(verify.err)")
    return demo
  }
}

extension ReportCommandsEndToEndTests.Fixture {
  func verify(_ extra: [String] = []) throws -> (status: Int32, out: String, err: String) {
    try CsarBinary.run(["audit", "verify", "--db", database] + extra)
  }

  /// Verify fails at event `id`: its MAC cannot be made without the key.
  func expectBrokenAt(_ id: Int) throws {
    let result = try verify()
    #expect(result.status == 1)
    #expect(result.out.contains("broken at event \(id)"), "\(result.out)")
    #expect(result.out.contains("MAC does not match"), "\(result.out)")
  }

  var lastEvent: Int { get throws { Int(try sql("SELECT max(id) FROM audit_event")) ?? 0 } }

  /// SHA-256 (lowercase hex) of `text`, by coreutils' sha256sum.
  func sha256(_ text: String) throws -> String {
    let file = directory + "/canonical-\(UUID().uuidString)"
    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
    defer { try? FileManager.default.removeItem(atPath: file) }
    let out = try Subprocess.run(["sha256sum", file]).out
    return String(out.prefix(64))
  }

  /// Recomputes the unkeyed chain (`prev_hash`, `hash`) from event `from` on, as anyone
  /// can: `hash = SHA-256(prev ‖ fields)`, each field `<utf-8 length>:<text>\n`.
  func recomputeUnkeyedChain(from: Int) throws {
    var prev = try sql("SELECT hash FROM audit_event WHERE id = \(from - 1)")
    let rows = try Subprocess.run([
      "sqlite3", "-json", database,
      "SELECT id, at, operator, action, entity, entity_id, details_json FROM audit_event "
        + "WHERE id >= \(from) ORDER BY id",
    ]).out
    let events =
      try JSONSerialization.jsonObject(with: Data(rows.utf8)) as? [[String: Any]] ?? []
    #expect(!events.isEmpty)
    var updates: [String] = []
    for event in events {
      let fields = [
        prev, "\(event["at"] as? Int ?? 0)", event["operator"] as? String ?? "",
        event["action"] as? String ?? "", event["entity"] as? String ?? "",
        event["entity_id"] as? String ?? "", event["details_json"] as? String ?? "",
      ]
      let canonical = fields.map { "\($0.utf8.count):\($0)\n" }.joined()
      let hash = try sha256(canonical)
      updates.append(
        "UPDATE audit_event SET prev_hash = '\(prev)', hash = '\(hash)' "
          + "WHERE id = \(event["id"] as? Int ?? 0);")
      prev = hash
    }
    _ = try sql(updates.joined(separator: "\n"))
  }

  static let dropGuards =
    "DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete;"
  static let restoreGuards = """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event BEGIN
      SELECT RAISE(ABORT, 'audit_event is append-only: rows cannot be updated');
    END;
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event BEGIN
      SELECT RAISE(ABORT, 'audit_event is append-only: rows cannot be deleted');
    END;
    """
}

extension AuditAttackEndToEndTests {
  @Test func anEditedEventWithTheUnkeyedChainRecomputedFails() throws {
    let f = try Self.fixture()
    let target = try f.lastEvent - 3
    _ = try f.sql(
      Demo.dropGuards
        + "UPDATE audit_event SET operator = 'mallory' WHERE id = \(target);")
    try f.recomputeUnkeyedChain(from: target)
    _ = try f.sql(Demo.restoreGuards)
    try f.expectBrokenAt(target)
  }

  @Test func aDeletedAndRenumberedEventFails() throws {
    let f = try Self.fixture()
    let last = try f.lastEvent
    let target = last - 4
    var renumber = Demo.dropGuards + "DELETE FROM audit_event WHERE id = \(target);"
    for id in (target + 1)...last {
      renumber += "UPDATE audit_event SET id = \(id - 1) WHERE id = \(id);"
    }
    renumber += "UPDATE sqlite_sequence SET seq = \(last - 1) WHERE name = 'audit_event';"
    _ = try f.sql(renumber)
    try f.recomputeUnkeyedChain(from: target)
    _ = try f.sql(Demo.restoreGuards)
    try f.expectBrokenAt(target)
  }

  @Test func aCutTailWithTheSequenceFixedFails() throws {
    let f = try Self.fixture()
    let last = try f.lastEvent
    _ = try f.sql(
      Demo.dropGuards + "DELETE FROM audit_event WHERE id > \(last - 3);"
        + "UPDATE sqlite_sequence SET seq = \(last - 3) WHERE name = 'audit_event';"
        + Demo.restoreGuards)
    let result = try f.verify()
    #expect(result.status == 1)
    #expect(
      result.out.contains("events \(last - 2)–\(last) were cut"), "\(result.out)")
  }

  @Test func aDroppedGuardTriggerFails() throws {
    let f = try Self.fixture()
    _ = try f.sql("DROP TRIGGER audit_event_no_delete")
    let result = try f.verify()
    #expect(result.status == 1)
    #expect(result.out.contains("trigger audit_event_no_delete: it is missing"), "\(result.out)")
    _ = try f.sql("DROP TRIGGER operator_uid_bound_once")
    let json = try f.verify(["--json"])
    #expect(json.status == 1 && json.out.contains("\"ok\":false"))
    #expect(json.out.contains("operator_uid_bound_once"), "\(json.out)")
  }

  /// The finding: a report reset to `ready` by hand was exported four times while verify said
  /// ok. Now verify names it and the export refuses it, writing nothing.
  @Test func aReportResetToReadyFailsVerifyAndIsNotExported() throws {
    let f = try Self.fixture()
    let ref = try f.sql("SELECT case_ref FROM report WHERE state = 'sent' ORDER BY id LIMIT 1")
    try #require(!ref.isEmpty)
    let outbox = f.directory + "/outbox"
    let first = try CsarBinary.run(
      ["report", "export", "--outbox", outbox, "--db", f.database, "--operator", "alice"])
    #expect(first.status == 0, "\(first.err)")
    let exported = try FileManager.default.contentsOfDirectory(atPath: outbox)
    _ = try f.sql("UPDATE report SET state = 'ready', sent_at = NULL WHERE case_ref = '\(ref)'")
    let result = try f.verify()
    #expect(result.status == 1)
    #expect(
      result.out.contains("report \(ref): state is ready, the audit log says sent"),
      "\(result.out)")
    let again = try CsarBinary.run(
      ["report", "export", "--outbox", outbox, "--db", f.database, "--operator", "alice"])
    #expect(again.status != 0)
    #expect(again.err.contains("refused: report \(ref)"), "\(again.err)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: outbox) == exported)
    #expect(try f.sql("SELECT state FROM report WHERE case_ref = '\(ref)'") == "ready")
  }

  /// The re-key loophole: the log rewritten as an old unkeyed one under a new database id
  /// was keyed (blessed) by the next open. Now it stays unkeyed, verify fails, and only an
  /// admin's `csar audit rekey` keys it (audited).
  @Test func aLogRewrittenAsUnkeyedIsNotKeyedByTheNextOpen() throws {
    let f = try Self.fixture()
    _ = try f.sql(
      Demo.dropGuards + "UPDATE audit_event SET mac = NULL;"
        + "UPDATE audit_chain SET key_check = NULL, database_id = 'forged-id';"
        + Demo.restoreGuards)
    let result = try f.verify()
    #expect(result.status == 1)
    #expect(result.out.contains("csar audit rekey"), "\(result.out)")
    #expect(try f.sql("SELECT count(*) FROM audit_event WHERE mac IS NOT NULL") == "0")
    let reviewer = try CsarBinary.run(
      ["audit", "rekey", "--db", f.database, "--operator", "alice"])
    #expect(reviewer.status != 0 && reviewer.err.contains("not an admin"), "\(reviewer.err)")
    #expect(try f.verify().status == 1)
    // The admin (the account that made the demo) decides to accept it: recorded.
    let admin = try CsarBinary.run(["audit", "rekey", "--db", f.database])
    #expect(admin.status == 0 && admin.out.contains("audit log keyed by"), "\(admin.err)")
    #expect(
      try f.sql(
        "SELECT count(*) FROM audit_event WHERE action = 'audit.rekey' "
          + "AND json_extract(details_json, '$.after.explicit') = 1") == "1")
    #expect(try f.verify().status == 0)
  }

  @Test func theHeadIsPrintedCarriedByExportsAndChecked() throws {
    let f = try Self.fixture()
    let ok = try f.verify()
    let line = try #require(ok.out.split(separator: "\n").first { $0.hasPrefix("head: ") })
    let head = String(line.dropFirst("head: ".count))
    #expect(try f.verify(["--expect-head", head]).status == 0)
    let outbox = f.directory + "/outbox"
    let export = try CsarBinary.run(
      ["report", "export", "--outbox", outbox, "--db", f.database, "--operator", "alice"])
    #expect(export.status == 0, "\(export.err)")
    let name = try #require(try FileManager.default.contentsOfDirectory(atPath: outbox).first)
    let data = try #require(FileManager.default.contents(atPath: outbox + "/" + name))
    let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let carried = try #require(document["audit_head"] as? [String: Any])
    #expect("\(carried["events"] as? Int ?? 0):\(carried["mac"] as? String ?? "")" == head)
    let later = try f.verify(["--expect-head", head])
    #expect(later.status == 0 && later.out.contains("event(s) added since"), "\(later.out)")
    let bogus = try f.verify(["--expect-head", "5:" + String(repeating: "0", count: 64)])
    #expect(bogus.status == 1 && bogus.out.contains("is not in the log"), "\(bogus.out)")
    let malformed = try f.verify(["--expect-head", "yesterday"])
    #expect(malformed.status != 0 && malformed.err.contains("--expect-head"))
  }
}
