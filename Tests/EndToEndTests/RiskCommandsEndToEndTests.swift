import Foundation
import Testing

/// `csar deadlines`, `csar assess` and `csar order` against a demo database.
@Suite("Risk commands end to end", .serialized)
struct RiskCommandsEndToEndTests {
  static let answersTOML = """
    # a large messaging service open to children
    users = 25_000_000
    child_access = "yes"
    service_type = "messaging"
    realtime = ["direct_messages", "group_chats", "video_calls"]
    e2ee = true
    anonymous_use = "pseudonymous"
    vpn_tor = "yes"
    p2p = "no"
    crypto_payments = "no"
    saving_content = "yes"
    clear_rules = "yes"
    reporting_tools = "yes"
    age_assurance = "self_declaration"
    parental_controls = "yes"
    law_enforcement = "yes"
    behavioural_signals = "yes"
    public_private = "mainly_private"
    report_history = "few"

    """

  struct Fixture {
    let directory: String
    let database: String

    init() throws {
      directory = try CsarBinary.temporaryDirectory()
      database = directory + "/demo.sqlite"
      let result = try CsarBinary.run(["demo", "--db", database, "--items", "40"])
      #expect(result.status == 0, "csar demo failed: \(result.err)")
    }

    func write(_ name: String, _ text: String) throws -> String {
      let path = directory + "/" + name
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }

    func deadlines(_ today: String = "2026-11-25") throws -> [[String: Any]] {
      let result = try CsarBinary.run(["deadlines", "--json", "--today", today, "--db", database])
      #expect(result.status == 0, "\(result.err)")
      return result.out.split(separator: "\n").map {
        (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:]
      }
    }

    func sql(_ query: String) throws -> String {
      try Subprocess.run(["sqlite3", database, query]).out
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }
  }

  @Test func deadlinesJSONLinesOverdueFirst() throws {
    let fixture = try Fixture()
    let rows = try fixture.deadlines()
    #expect(rows.count == 12)
    let keys: Set<String> = [
      "service", "name", "category", "last_assessed", "due", "state", "days_left",
    ]
    #expect(rows.allSatisfy { Set($0.keys) == keys })
    let states = rows.compactMap { $0["state"] as? String }
    let rank = ["overdue": 0, "never_assessed": 1, "due_soon": 2, "ok": 3]
    #expect(states.map { rank[$0]! } == states.map { rank[$0]! }.sorted())
    #expect(states.first == "overdue")
    let never = try #require(rows.first { $0["state"] as? String == "never_assessed" })
    #expect(never["due"] is NSNull && never["category"] is NSNull && never["days_left"] is NSNull)
    for row in rows where row["state"] as? String == "overdue" {
      #expect((row["days_left"] as? Int ?? 0) < 0)
    }
    // Plain output: one tab-separated line per service.
    let plain = try CsarBinary.run(
      ["deadlines", "--today", "2026-11-25", "--db", fixture.database])
    #expect(plain.out.split(separator: "\n").count == 12)
    #expect(plain.out.hasPrefix("!!"))
    let bad = try CsarBinary.run(["deadlines", "--today", "2026-02-30", "--db", fixture.database])
    #expect(bad.status != 0)
    #expect(bad.err.contains("--today"))
  }

  @Test func assessStoresAndAudits() throws {
    let fixture = try Fixture()
    let answers = try fixture.write("answers.toml", Self.answersTOML)
    let auditBefore = Int(try fixture.sql("SELECT count(*) FROM audit_event")) ?? 0
    let result = try CsarBinary.run([
      "assess", "--service", "search-eu", "--answers", answers, "--today", "2026-11-25",
      "--db", fixture.database, "--operator", "alice", "--json",
    ])
    #expect(result.status == 0, "\(result.err)")
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
    #expect(object["category"] as? String == "high")
    #expect(object["due"] as? String == "2027-11-25")
    #expect(object["questionnaire"] as? String == "csar-2024@1")
    let row = try #require(try fixture.deadlines().first { $0["service"] as? String == "search-eu" })
    #expect(row["category"] as? String == "high")
    #expect(row["last_assessed"] as? String == "2026-11-25")
    #expect(row["state"] as? String == "ok")
    #expect(row["days_left"] as? Int == 365)
    let auditAfter = Int(try fixture.sql("SELECT count(*) FROM audit_event")) ?? 0
    #expect(auditAfter > auditBefore)
    #expect(
      try fixture.sql(
        "SELECT operator FROM audit_event WHERE action = 'assessment.complete' "
          + "ORDER BY id DESC LIMIT 1") == "alice")
    // The same file as JSON works too.
    let json = try fixture.write(
      "answers.json",
      "{\n" + Self.answersTOML.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
        let parts = $0.split(separator: "=", maxSplits: 1)
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        // TOML's 25_000_000 is 25000000 in JSON; strings keep their underscores.
        let json = value.first?.isNumber == true ? value.replacingOccurrences(of: "_", with: "") : value
        return "  \"\(parts[0].trimmingCharacters(in: .whitespaces))\": " + json
      }.joined(separator: ",\n") + "\n}\n")
    let again = try CsarBinary.run([
      "assess", "--service", "forum-fr", "--answers", json, "--today", "2026-11-25",
      "--db", fixture.database, "--operator", "alice",
    ])
    #expect(again.status == 0, "\(again.err)")
    #expect(again.out.contains("HIGH"))
    #expect(again.out.contains("Next re-categorisation due: 2027-11-25"))
  }

  @Test func badAnswersNameFileLineAndQuestion() throws {
    let fixture = try Fixture()
    let broken = Self.answersTOML.replacingOccurrences(of: "p2p = \"no\"", with: "p2p = \"nope\"")
    let answers = try fixture.write("broken.toml", broken)
    let before = try fixture.sql("SELECT count(*) FROM assessment")
    let result = try CsarBinary.run([
      "assess", "--service", "search-eu", "--answers", answers, "--db", fixture.database,
    ])
    #expect(result.status != 0)
    #expect(result.err.contains("broken.toml:9: p2p: \"nope\" is not an answer"))
    let missing = try fixture.write(
      "missing.toml", Self.answersTOML.replacingOccurrences(of: "e2ee = true\n", with: ""))
    let second = try CsarBinary.run([
      "assess", "--service", "search-eu", "--answers", missing, "--db", fixture.database,
    ])
    #expect(second.err.contains("missing.toml: e2ee: not answered"))
    #expect(try fixture.sql("SELECT count(*) FROM assessment") == before)
  }

  @Test func questionnaireTypoChangesNothing() throws {
    let fixture = try Fixture()
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let shipped = try String(
      contentsOf: root.appendingPathComponent("data/questionnaires/csar-2024.toml"),
      encoding: .utf8)
    let typo = try fixture.write(
      "typo.toml", shipped.replacingOccurrences(of: "weight = 25", with: "wieght = 25"))
    let line = shipped.split(separator: "\n", omittingEmptySubsequences: false)
      .firstIndex { $0 == "weight = 25" }! + 1
    let answers = try fixture.write("answers.toml", Self.answersTOML)
    let before = try fixture.deadlines()
    let audit = try fixture.sql("SELECT count(*) FROM audit_event")
    let result = try CsarBinary.run([
      "assess", "--service", "search-eu", "--answers", answers, "--db", fixture.database,
      "--questionnaire", typo,
    ])
    #expect(result.status != 0)
    #expect(result.err.contains("typo.toml:\(line): sections.architecture.wieght: unknown key"))
    let after = try fixture.deadlines()
    #expect(NSArray(array: before).isEqual(to: after))
    #expect(try fixture.sql("SELECT count(*) FROM audit_event") == audit)
  }

  @Test func orderAddAndList() throws {
    let fixture = try Fixture()
    let add = try CsarBinary.run([
      "order", "add", "--service", "chat-eu", "--authority", "Coimisiún na Meán",
      "--reference", "DO-2026-99", "--from", "2026-11-01", "--to", "2026-12-31",
      "--scope", "known,new,images,urls", "--e2ee", "--db", fixture.database,
      "--operator", "bahar",
    ])
    #expect(add.status == 0, "\(add.err)")
    let list = try CsarBinary.run([
      "order", "list", "--json", "--today", "2026-11-25", "--db", fixture.database,
    ])
    let rows = list.out.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    let mine = try #require(rows.first { $0["reference"] as? String == "DO-2026-99" })
    #expect(mine["scope"] as? String == "known,new,images,urls")
    #expect(mine["e2ee"] as? Bool == true)
    #expect(mine["ending_soon"] as? Bool == true)
    #expect(mine["days_left"] as? Int == 36)
    #expect(
      try fixture.sql("SELECT count(*) FROM audit_event WHERE action = 'order.create'") == "1")
    let bad = try CsarBinary.run([
      "order", "add", "--service", "chat-eu", "--authority", "A", "--reference", "R",
      "--from", "2026-11-01", "--to", "2026-12-31", "--scope", "audio", "--db", fixture.database,
    ])
    #expect(bad.status != 0)
    #expect(bad.err.contains("scope"))
  }
}
