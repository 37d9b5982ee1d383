import Foundation
import Testing

/// The assessment wizard in the real binary: answer, save a draft, quit, reopen, resume,
/// complete; then the Dashboard and `csar deadlines` show the new due date.
@Suite("Assessment wizard end to end (tmux)", .serialized)
struct WizardEndToEndTests {
  static let today = "2026-11-25"

  func open(_ fixture: ConsoleEndToEndTests.Fixture, extra: String = "") throws -> TmuxSession {
    let session = try TmuxSession(width: 100, height: 32, directory: fixture.directory)
    try session.type(
      "\(try fixture.command) --today \(Self.today) \(extra); echo \"EXIT=$?\"")
    try session.send("Enter")
    return session
  }

  func deadline(_ fixture: ConsoleEndToEndTests.Fixture, code: String) throws -> [String: Any] {
    let result = try CsarBinary.run(
      ["deadlines", "--json", "--today", Self.today, "--db", fixture.database])
    #expect(result.status == 0, "\(result.err)")
    let rows = result.out.split(separator: "\n").compactMap {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
    }
    return rows.first { $0["service"] as? String == code } ?? [:]
  }

  /// The first service without a draft, and its row in the Services list (ordered by code).
  func serviceWithoutDraft(_ fixture: ConsoleEndToEndTests.Fixture) throws
    -> (code: String, name: String, row: Int)
  {
    let out = try Subprocess.run([
      "sqlite3", "-separator", "|", fixture.database,
      """
      SELECT code, name, (SELECT count(*) FROM service t WHERE t.code < s.code) FROM service s
      WHERE NOT EXISTS (SELECT 1 FROM assessment a WHERE a.service_id = s.id
        AND a.status = 'draft')
      ORDER BY code LIMIT 1
      """,
    ]).out.trimmingCharacters(in: .whitespacesAndNewlines)
    let parts = out.split(separator: "|").map(String.init)
    return (parts[0], parts[1], Int(parts[2]) ?? 0)
  }

  @Test func answerSaveQuitReopenResumeComplete() throws {
    let fixture = try ConsoleEndToEndTests.Fixture(items: 40)
    let service = try serviceWithoutDraft(fixture)
    var session = try open(fixture)
    try session.waitFor("Re-categorisation deadlines")
    try session.send("2")
    try session.waitFor("Services ·")
    for _ in 0..<service.row { try session.send("j") }
    try session.send("Enter")
    try session.waitFor("a starts an assessment")
    try session.send("a")
    try session.waitFor("question 1 of 18")
    try session.type("250000")
    try session.waitFor("> 250000")
    try session.send("Enter")
    try session.waitFor("question 2 of 18")
    try session.send("Enter")
    try session.waitFor("question 3 of 18")
    try session.send("s")
    try session.waitFor("Draft saved: 2 of 18 answered")
    try session.send("Escape")
    try session.waitFor("Draft: 2 of 18 answered")
    try session.send("q")
    try session.waitFor("EXIT=0")

    session = try open(fixture)
    try session.waitFor("Re-categorisation deadlines")
    try session.send("2")
    try session.waitFor("Services ·")
    for _ in 0..<service.row { try session.send("j") }
    try session.send("a")
    try session.waitFor("Resumed the draft: 2 of 18 answered")
    try session.waitFor("question 3 of 18")
    for number in 4...18 {
      try session.send("Enter")
      try session.waitFor("question \(number) of 18")
    }
    try session.send("Enter")
    try session.waitFor("Review answers")
    try session.send("c")
    try session.waitFor("Complete the assessment")
    try session.send("Enter")
    let result = try session.waitFor(
      "RISK · score", "next re-categorisation due ", "Obligations of ", "Score by section")
    let category = try #require(["HIGH", "MEDIUM", "LOW"].first { result.contains("\($0) RISK") })
    let months = ["HIGH": 12, "MEDIUM": 24, "LOW": 36][category]!
    let due = "\(2026 + months / 12)-11-25"
    #expect(result.contains("next re-categorisation due \(due)"))
    #expect(result.contains("Obligations of \(category)"))
    #expect(result.contains("Score by section"))
    try session.send("Escape")
    try session.waitFor("next due \(due)")
    try session.send("1")
    try session.waitFor("Re-categorisation deadlines")
    // Wait for the row itself: a capture can land while the terminal is still being redrawn.
    // The Services screen showed the due date too: wait for the Dashboard's whole frame (its
    // status bar is the last row drawn) before reading the row.
    let dashboard = try session.waitFor(due, "Enter Open the service in Services")
    let row = try #require(
      dashboard.split(separator: "\n").first { $0.contains(service.name.prefix(8)) })
    #expect(row.contains(due))
    try session.send("q")
    try session.waitFor("EXIT=0")

    let line = try deadline(fixture, code: service.code)
    #expect(line["due"] as? String == due)
    #expect(line["category"] as? String == category.lowercased())
    #expect(line["last_assessed"] as? String == Self.today)
    #expect(line["state"] as? String == "ok")
  }

  @Test func questionnaireTypoStopsTheConsoleBeforeAnythingChanges() throws {
    let fixture = try ConsoleEndToEndTests.Fixture(items: 40)
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let shipped = try String(
      contentsOf: root.appendingPathComponent("data/questionnaires/csar-2024.toml"),
      encoding: .utf8)
    let typo = fixture.directory + "/typo.toml"
    var text = shipped
    let first = try #require(text.range(of: "kind = \"yes_no\""))
    text.replaceSubrange(first, with: "kind = \"yes_on\"")
    try text.write(toFile: typo, atomically: true, encoding: .utf8)
    let line = shipped.split(separator: "\n", omittingEmptySubsequences: false)
      .firstIndex { $0 == "kind = \"yes_no\"" }! + 1
    let count = ["sqlite3", fixture.database, "SELECT count(*) FROM audit_event"]
    let audit = try Subprocess.run(count).out
    let session = try open(fixture, extra: "--questionnaire \(typo)")
    let pane = try session.waitFor("\nEXIT=1")
    #expect(pane.contains("typo.toml:\(line): sections.architecture.questions.e2ee.kind: "))
    #expect(pane.contains("\"yes_on\" is not valid"))
    let after = try Subprocess.run(count).out
    #expect(after == audit)
  }
}
