import Foundation
import Testing

/// Two reviewers work the queue of one database at once, in real terminals.
@Suite("Review end to end (tmux)", .serialized)
struct ReviewEndToEndTests {
  let directory: String
  let database: String

  init() throws {
    directory = try CsarBinary.temporaryDirectory()
    database = directory + "/demo.sqlite"
    let result = try CsarBinary.run(["demo", "--db", database, "--items", "200"])
    #expect(result.status == 0, "csar demo failed: \(result.err)")
  }

  func open(_ operatorName: String) throws -> TmuxSession {
    let session = try TmuxSession(width: 120, height: 40, directory: directory)
    try session.type(
      "\(try CsarBinary.path) --db \(database) --operator \(operatorName); echo \"EXIT=$?\"")
    try session.send("Enter")
    try session.waitFor("Re-categorisation deadlines")
    try session.send("3")
    try session.waitFor("Review queue ·")
    return session
  }

  func sql(_ query: String) throws -> String {
    try Subprocess.run(["sqlite3", database, query]).out
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// A reviewer's queue in order (escalated items go to leads).
  func queue() throws -> [String] {
    try sql(
      """
      SELECT id FROM flagged_item WHERE state = 'pending'
      ORDER BY priority, created_at, id LIMIT 3
      """
    ).split(separator: "\n").map(String.init)
  }

  @Test func twoReviewersNeverDecideOneItemTwice() throws {
    let order = try queue()
    try #require(order.count == 3)
    let pending = Int(try sql("SELECT count(*) FROM flagged_item WHERE state = 'pending'")) ?? 0
    let alice = try open("alice")
    let chen = try open("chen")

    // Alice opens the first item: it is hers, blurred, and Chen's screen shows it without a key.
    try alice.send("Enter")
    try alice.waitFor("Item \(order[0]) · claimed until")
    try alice.waitFor("blur ████ · grey")
    try chen.waitFor("@alice")
    try chen.send("Enter")
    try chen.waitFor("being reviewed by alice")
    try chen.send("j")
    try chen.send("Enter")
    try chen.waitFor("Item \(order[1]) · claimed until")

    // One step clearer is audited; Alice dismisses; Chen holds the next row, so her next free
    // item opens: the one after it. Chen's list follows without a key.
    try alice.send("-")
    try alice.waitFor("blur ███░")
    try alice.waitFor("seen 1")
    try alice.send("d")
    try alice.waitFor("Item \(order[2]) · claimed until")
    try alice.waitFor("blur ████ · grey")
    try chen.waitFor("of \(pending - 1)")
    try alice.send("e")
    try alice.waitFor("escalated")
    try chen.send("d")
    try chen.waitFor("dismissed")

    #expect(try sql("SELECT state FROM flagged_item WHERE id = \(order[0])") == "dismissed")
    #expect(try sql("SELECT state FROM flagged_item WHERE id = \(order[1])") == "dismissed")
    #expect(try sql("SELECT state FROM flagged_item WHERE id = \(order[2])") == "escalated")
    #expect(
      try sql(
        """
        SELECT count(*) FROM (SELECT item_id FROM review_decision WHERE decision <> 'skip'
          AND undone_at IS NULL GROUP BY item_id HAVING count(*) > 1)
        """) == "0")
    #expect(
      try sql(
        "SELECT count(*) FROM audit_event WHERE action = 'preview.unblur' AND operator = 'alice'")
        == "1")

    try alice.send("q")
    try chen.send("q")
    try alice.waitFor("EXIT=0")
    try chen.waitFor("EXIT=0")
  }
}
