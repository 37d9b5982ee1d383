import Foundation
import Testing

/// `csar report`, `csar purge` and `csar audit verify` run as a script would, on a demo
/// database (operators alice: reviewer, bahar: lead).
@Suite("Report commands end to end", .serialized)
struct ReportCommandsEndToEndTests {
  struct Fixture {
    let directory: String
    let database: String

    init(items: Int = 40) throws {
      directory = try CsarBinary.temporaryDirectory()
      database = directory + "/demo.sqlite"
      let result = try CsarBinary.run(["demo", "--db", database, "--items", String(items)])
      #expect(result.status == 0, "csar demo failed: \(result.err)")
    }

    func csar(_ arguments: [String], as name: String = "alice") throws
      -> (status: Int32, out: String, err: String)
    {
      try CsarBinary.run(arguments + ["--db", database, "--operator", name])
    }

    func write(_ name: String, _ text: String) throws -> String {
      let path = directory + "/" + name
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }

    func sql(_ query: String) throws -> String {
      try Subprocess.run(["sqlite3", database, query]).out
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func reports() throws -> [[String: Any]] {
      let result = try CsarBinary.run(["report", "list", "--json", "--db", database])
      #expect(result.status == 0, "\(result.err)")
      return result.out.split(separator: "\n").map {
        (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:]
      }
    }

    func state(_ ref: String) throws -> String? {
      try reports().first { $0["case_ref"] as? String == ref }?["state"] as? String
    }

    /// Exports the ready reports and marks the first one founded; returns its case reference.
    func foundedCase() throws -> String {
      let ready = try reports().filter { $0["state"] as? String == "ready" }
        .compactMap { $0["case_ref"] as? String }
      let ref = try #require(ready.first)
      let export = try csar(["report", "export", "--outbox", directory + "/outbox"])
      #expect(export.status == 0, "\(export.err)")
      let verdicts = try write(
        "founded.csv", "case_ref,verdict\n\(ref),not_manifestly_unfounded\n")
      let applied = try csar(["report", "verdict", verdicts])
      #expect(applied.status == 0, "\(applied.err)")
      return ref
    }
  }

  @Test func exportVerdictAndFourEyesReveal() throws {
    let fixture = try Fixture()
    let ready = try fixture.reports().filter { $0["state"] as? String == "ready" }
      .compactMap { $0["case_ref"] as? String }
    #expect(!ready.isEmpty)
    let outbox = fixture.directory + "/outbox"
    let export = try fixture.csar(["report", "export", "--outbox", outbox, "--json"])
    #expect(export.status == 0, "\(export.err)")
    let files = try FileManager.default.contentsOfDirectory(atPath: outbox).sorted()
    #expect(files == ready.map { $0 + ".json" }.sorted())
    let key = CsarBinary.configHome + "/csar/provider.key"
    let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    let bytes = try #require(FileManager.default.contents(atPath: outbox + "/" + files[0]))
    let report = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
    #expect(report["pseudonymised"] as? Bool == true)
    let clearAccount = try fixture.sql(
      "SELECT a.external_id FROM report r JOIN account a ON a.id = r.account_id "
        + "WHERE r.case_ref = '\(ready[0])'")
    let sent = (report["account"] as? [String: Any])?["account_id"] as? String
    #expect(sent?.count == 64 && sent != clearAccount)
    let ips = (report["account"] as? [String: Any])?["ip_addresses"] as? [String] ?? []
    #expect(ips.count == 2 && ips.allSatisfy { $0.count == 64 && !$0.contains(".") })
    let file = try String(contentsOfFile: outbox + "/" + files[0], encoding: .utf8)
    #expect(!file.contains("203.0.113.") && !file.contains(clearAccount))
    // A re-run writes nothing new.
    let again = try fixture.csar(["report", "export", "--outbox", outbox, "--json"])
    #expect(again.status == 0 && again.out.isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: outbox).count == files.count)

    // Verdicts: a bad file is refused whole, naming its lines.
    let ref = ready[0]
    let bad = try fixture.write(
      "bad.jsonl",
      """
      {"case_ref":"\(ref)","verdict":"not_manifestly_unfounded"}
      {"case_ref":"CSAR-1999-000001","verdict":"manifestly_unfounded"}
      """)
    let refused = try fixture.csar(["report", "verdict", bad])
    #expect(refused.status != 0)
    #expect(refused.err.contains("bad.jsonl:2:") && refused.err.contains("CSAR-1999-000001"))
    #expect(try fixture.state(ref) == "sent")
    let good = try fixture.write(
      "good.csv", "case_ref,verdict\n\(ref),not_manifestly_unfounded\n")
    let applied = try fixture.csar(["report", "verdict", good])
    #expect(applied.status == 0, "\(applied.err)")
    #expect(try fixture.state(ref) == "founded")

    // Four eyes: a reviewer cannot approve, the requester cannot reveal alone (the rest,
    // with a second OS account, in FourEyesEndToEndTests).
    let revealBox = fixture.directory + "/reveal"
    #expect(try fixture.csar(["report", "request-reveal", ref]).status == 0)
    let early = try fixture.csar(["report", "reveal", ref, "--outbox", revealBox])
    #expect(early.status != 0 && early.err.contains("approval of a lead"))
    let notLead = try fixture.csar(["report", "approve", ref])
    #expect(notLead.status != 0 && notLead.err.contains("not a lead"))
    #expect(!FileManager.default.fileExists(atPath: revealBox + "/\(ref)-reveal.json"))
    #expect(try CsarBinary.run(["audit", "verify", "--db", fixture.database]).status == 0)
  }

  @Test func keyFileOthersCanReadIsRefused() throws {
    let fixture = try Fixture()
    let key = fixture.directory + "/demo.key"
    try String(repeating: "ab", count: 32).write(toFile: key, atomically: false, encoding: .utf8)
    chmod(key, 0o644)
    let result = try fixture.csar(["report", "export", "--outbox", fixture.directory + "/o"])
    #expect(result.status != 0)
    #expect(result.err.contains("chmod 600"))
    // Every command refuses the key now; nothing was sent.
    #expect(try fixture.sql("SELECT count(*) FROM report WHERE state = 'ready'") != "0")
  }

  @Test func auditVerifyNamesTheEditedRow() throws {
    let fixture = try Fixture()
    let ok = try CsarBinary.run(["audit", "verify", "--json", "--db", fixture.database])
    #expect(ok.status == 0 && ok.out.contains("\"ok\":true"), "\(ok.err)")
    let head = try fixture.sql("SELECT mac FROM audit_event ORDER BY id DESC LIMIT 1")
    #expect(ok.out.contains("\"head_hash\":\"\(head)\""))
    // The sqlite3 shell can edit the log only after dropping the append-only trigger.
    let blocked = try Subprocess.run(
      ["sqlite3", fixture.database, "UPDATE audit_event SET operator = 'mallory' WHERE id = 5"])
    #expect(blocked.status != 0)
    _ = try fixture.sql(
      "DROP TRIGGER audit_event_no_update; "
        + "UPDATE audit_event SET operator = 'mallory' WHERE id = 5")
    let broken = try CsarBinary.run(["audit", "verify", "--json", "--db", fixture.database])
    #expect(broken.status == 1)
    #expect(broken.out.contains("\"event\":5") && broken.out.contains("\"ok\":false"))
    let plain = try CsarBinary.run(["audit", "verify", "--db", fixture.database])
    #expect(plain.status == 1 && plain.out.contains("broken at event 5"))
  }

  @Test func auditVerifyNamesAnOperatorEditedOutsideCsar() throws {
    let fixture = try Fixture()
    _ = try fixture.sql("UPDATE operator SET role = 'admin' WHERE name = 'alice'")
    let broken = try CsarBinary.run(["audit", "verify", "--db", fixture.database])
    #expect(broken.status == 1)
    #expect(
      broken.out.contains(
        "operator \"alice\" (id 1): role is admin, the audit log says reviewer"),
      "\(broken.out)")
  }

  @Test func purgeDryRunThenPurge() throws {
    let fixture = try Fixture()
    // Age everything decided by two years.
    _ = try fixture.sql(
      """
      UPDATE flagged_item SET decided_at = decided_at - 730 * 86400 WHERE decided_at IS NOT NULL;
      UPDATE report SET created_at = created_at - 730 * 86400,
        sent_at = sent_at - 730 * 86400, verdict_at = verdict_at - 730 * 86400;
      """)
    let kept = try fixture.sql("SELECT case_ref FROM report WHERE state = 'closed' LIMIT 1")
    let hold = try fixture.csar(
      ["hold", "place", "--case", kept, "--reason", "LKA request 17"], as: "bahar")
    #expect(hold.status == 0, "\(hold.err)")
    let dry = try fixture.csar(["purge", "--dry-run", "--json"])
    #expect(dry.status == 0, "\(dry.err)")
    let all = dry.out.split(separator: "\n")
    let held = all.filter { $0.contains("\"action\":\"held\"") }
    #expect(held.contains { $0.contains("\"label\":\"\(kept)\"") })
    let lines = all.filter { !$0.contains("\"action\":\"held\"") }
    #expect(!lines.isEmpty && lines.allSatisfy { $0.contains("\"action\":\"would_purge\"") })
    let purgedBefore = try fixture.sql("SELECT count(*) FROM flagged_item WHERE state = 'purged'")
    let auditBefore = Int(try fixture.sql("SELECT count(*) FROM audit_event")) ?? 0
    let run = try fixture.csar(["purge"], as: "bahar")
    #expect(run.status == 0, "\(run.err)")
    #expect(run.out.split(separator: "\n").count == all.count)
    #expect(
      try fixture.sql("SELECT purged_at IS NULL FROM report WHERE case_ref = '\(kept)'") == "1")
    let details = try fixture.sql(
      "SELECT count(*) FROM account_detail WHERE account_id IN "
        + "(SELECT account_id FROM report WHERE case_ref = '\(kept)')")
    #expect(details != "0")
    let purgedAfter = try fixture.sql("SELECT count(*) FROM flagged_item WHERE state = 'purged'")
    #expect(Int(purgedAfter)! > Int(purgedBefore)!)
    #expect(
      try fixture.sql(
        "SELECT count(*) FROM flagged_item WHERE state = 'purged' AND media_path IS NOT NULL")
        == "0")
    #expect(Int(try fixture.sql("SELECT count(*) FROM audit_event"))! > auditBefore)
    #expect(try CsarBinary.run(["audit", "verify", "--db", fixture.database]).status == 0)
    let nothing = try fixture.csar(["purge", "--dry-run", "--json"])
    #expect(!nothing.out.contains("would_purge") && nothing.out.contains(kept))
  }
}
