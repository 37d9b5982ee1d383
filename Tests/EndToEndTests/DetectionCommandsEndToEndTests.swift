import Foundation
import Testing

/// `csar bank`, `csar url import|match`, `csar scan` and `csar flags import` run as a script
/// would, against a demo database and its synthetic images (`media/13.png` is truncated).
@Suite("Detection commands end to end", .serialized)
struct DetectionCommandsEndToEndTests {
  struct Fixture {
    let directory: String
    let database: String

    init() throws {
      directory = try CsarBinary.temporaryDirectory()
      database = directory + "/demo.sqlite"
      let result = try CsarBinary.run(["demo", "--db", database, "--items", "30"])
      #expect(result.status == 0, "csar demo failed: \(result.err)")
    }

    func media(_ n: Int) -> String { directory + "/media/\(n).png" }

    func write(_ name: String, _ text: String) throws -> String {
      let path = directory + "/" + name
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }

    /// Runs csar with `--db` appended.
    func csar(_ arguments: String...) throws -> (status: Int32, out: String, err: String) {
      try CsarBinary.run(arguments + ["--db", database])
    }

    func sql(_ query: String) throws -> String {
      try Subprocess.run(["sqlite3", database, query]).out
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func json(_ text: String) -> [[String: Any]] {
      text.split(separator: "\n").map {
        (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:]
      }
    }

    /// An account with consent in `state` on some service: (account, service).
    func account(_ state: String) throws -> (String, String) {
      let row = try sql(
        """
        SELECT a.external_id || '|' || s.code FROM consent_current c
        JOIN account a ON a.id = c.account_id JOIN service s ON s.id = c.service_id
        WHERE c.state = '\(state)' ORDER BY a.id, s.id LIMIT 1
        """
      ).split(separator: "|").map(String.init)
      return (row[0], row[1])
    }
  }

  @Test func bankImportIsAllOrNothingThenScansFlagAndBlock() throws {
    let f = try Fixture()
    let hashed = try CsarBinary.run(["hash", "--json", f.media(1)])
    let pdq = try #require(f.json(hashed.out).first?["pdq"] as? String)
    let bankFile = try f.write(
      "bank.csv", "type,hash,label\npdq,\(pdq),demo sample\nmd5,12345\n")

    let refused = try f.csar("bank", "import", "known", bankFile)
    #expect(refused.status != 0)
    #expect(refused.err.contains("bank.csv:3: md5 hash must have 32 hex digits, not 5"))
    #expect(refused.err.contains("nothing imported"))
    // The demo's banks (the ones its queue names) are listed; no bank "known" was made.
    let before = try f.csar("bank", "list").out
    #expect(before.contains("NCMEC\tenabled") && !before.contains("known\t"), "\(before)")

    let imported = try f.csar("bank", "import", "known", bankFile, "--skip-invalid")
    #expect(imported.status == 0, "\(imported.err)")
    #expect(imported.out.contains("bank known (new): 1 hash added"))
    #expect(imported.err.contains("skipped: \(bankFile):3:"))
    let again = try f.csar("bank", "import", "known", bankFile, "--skip-invalid", "--json")
    #expect(f.json(again.out).first?["already_present"] as? Int == 1)
    #expect(try f.csar("bank", "threshold", "known", "20").status == 0)
    let listed = f.json(try f.csar("bank", "list", "--json").out)
    let known = listed.first { $0["name"] as? String == "known" }
    #expect(known?["pdq_threshold"] as? Int == 20)
    #expect(known?["pdq"] as? Int == 1)
    #expect(
      try f.sql(
        "SELECT count(*) FROM audit_event WHERE action LIKE 'bank.%' AND entity_id = "
          + "(SELECT id FROM bank WHERE name = 'known')") == "2")

    let (account, service) = try f.account("granted")
    let items = try f.sql("SELECT count(*) FROM flagged_item")
    let scan = try f.csar(
      "scan", "--account", account, "--service", service, "--json", f.media(1), f.media(13),
      f.media(2))
    #expect(scan.status == 1, "a truncated image fails the run: \(scan.err)")
    let decisions = f.json(scan.out)
    #expect(decisions.map { $0["decision"] as? String } == ["flagged", "error", "allowed"])
    #expect((decisions[1]["error"] as? String)?.contains("13.png") == true)
    let matches = decisions[0]["matches"] as? [[String: Any]]
    #expect(matches?.first?["bank"] as? String == "known")
    #expect(matches?.first?["distance"] as? Int == 0)
    let itemId = try #require(decisions[0]["item"] as? Int)
    #expect(
      try f.sql(
        "SELECT kind || ' ' || bank || ' ' || label FROM flagged_item WHERE id = \(itemId)")
        == "known_match known demo sample")
    #expect(try f.sql("SELECT count(*) FROM flagged_item") == String(Int(items)! + 1))

    let (other, otherService) = try f.account("refused")
    let blocked = try f.csar(
      "scan", "--account", other, "--service", otherService, f.media(1), "http://a.example/")
    #expect(blocked.status == 0)
    #expect(blocked.out.split(separator: "\n").allSatisfy { $0.contains("\tblocked: no consent") })
    #expect(try f.sql("SELECT count(*) FROM flagged_item") == String(Int(items)! + 1))

    let lookup = try f.csar("scan", f.media(1))
    #expect(lookup.out.contains("\tmatched\tknown_match: bank known pdq distance 0"))
    #expect(try f.csar("bank", "disable", "known").out.contains("disabled"))
    #expect(try f.csar("scan", f.media(1)).out.contains("\tallowed\t"))
  }

  @Test func urlListsImportAndMatch() throws {
    let f = try Fixture()
    let list = try f.write("urls.txt", "evil.example/\tphishing kit\nnot a url\n")
    let refused = try f.csar("url", "import", "sb", list)
    #expect(refused.status != 0 && refused.err.contains("urls.txt:2: not a URL"))
    let imported = try f.csar("url", "import", "sb", list, "--skip-invalid")
    #expect(imported.status == 0, "\(imported.err)")
    let matched = try f.csar("url", "match", "--json", "HTTP://WWW.Evil.Example/a/../b?c#d",
                             "http://good.example/")
    let rows = f.json(matched.out)
    #expect(rows.first?["canonical"] as? String == "http://www.evil.example/b?c")
    let hits = rows.first?["matches"] as? [[String: Any]]
    #expect(hits?.first?["expression"] as? String == "evil.example/")
    #expect(hits?.first?["label"] as? String == "phishing kit")
    #expect((rows.last?["matches"] as? [Any])?.isEmpty == true)
    // After the demo's lists (the ones its URL items name).
    #expect(try f.csar("url", "list").out.contains("\nsb\tenabled\t1 expression"))
    #expect(try f.csar("url", "disable", "sb").status == 0)
    let off = try f.csar("url", "match", "http://www.evil.example/")
    #expect(off.out == "http://www.evil.example/\n  no match\n")
    #expect(try f.csar("url", "disable", "nope").err.contains("nope"))
  }

  @Test func flagsImportIsIdempotent() throws {
    let f = try Fixture()
    let (account, service) = try f.account("granted")
    let who = #""account":"\#(account)","service":"\#(service)","model":"nm""#
    let file = try f.write(
      "flags.jsonl",
      """
      {\(who),"media":"media/2.png","score":0.98,"id":"ev-1"}
      {\(who),"media":"media/3.png","score":0.91}
      {\(who),"media":"media/4.png","score":0.1}
      """)
    let first = try f.csar("flags", "import", file)
    #expect(first.status == 0, "\(first.err)")
    #expect(first.out == "2 items queued, 1 below the threshold, 0 imported before\n")
    let second = try f.csar("flags", "import", file, "--json")
    #expect(f.json(second.out).first?["queued"] as? Int == 0)
    #expect(f.json(second.out).first?["already_imported"] as? Int == 3)
    let bad = try f.write("bad.jsonl", "{\"account\": 1}\n")
    let refused = try f.csar("flags", "import", bad)
    #expect(refused.status != 0 && refused.err.contains("bad.jsonl:1: "))
  }
}
