import Foundation
import GRDB
import Testing

@testable import Store

/// The database's own anchor written anew where there was none to check. Before, the next
/// change wrote it as if it had always been there: events cut from the log's end while the
/// anchor was gone verified as intact, with nothing said. Now the anchor records the event it
/// was written anew at, and verify says that the events before it rest on the keyed chain
/// alone, until an admin who has checked the log accepts it with `csar audit reanchor`.
@Suite("Audit anchor written anew")
struct AuditAnchorAnewTests {
  @Test func aLogCutWhileItsAnchorWasGoneIsNotVouchedForAsAWhole() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, anchor) = try AuditAnchorFileTests.anchored(folder)
    #expect(try AuditAnchorCopyTests.anchorText(folder).hasPrefix(AuditAnchor.format + "\n"))
    #expect(try db.verifyAudit().notes == [], "a log anchored from its start")

    // The anchor deleted and the log's last three events cut, its guards put back.
    try FileManager.default.removeItem(atPath: anchor)
    try db.writer.write { db in
      try AuditKeyedChainTests.dropGuards(db)
      try db.execute(sql: "DELETE FROM audit_event WHERE id >= 9")
      try db.execute(sql: "UPDATE sqlite_sequence SET seq = 8 WHERE name = 'audit_event'")
      for guardSQL in AuditGuard.all.values { try db.execute(sql: guardSQL) }
    }
    guard case .broken(_, let missing) = try db.verifyAuditChain() else {
      Issue.record("a log without its anchor verified")
      return
    }
    #expect(missing.contains("no anchor at \(anchor)"), "\(missing)")

    // The next change writes the anchor, saying from which event it vouches for the log.
    try AuditKeyedChainTests.write(db)
    let text = try AuditAnchorCopyTests.anchorText(folder)
    #expect(text.hasPrefix(AuditAnchor.formatWithSince + "\n"), "\(text)")
    #expect(text.contains("events 9\n") && text.contains("\nsince 9\n"), "\(text)")
    let check = try db.verifyAudit()
    #expect(check.isOK, "\(check.problems)")
    let note = try #require(check.notes.first, "verify said nothing of the anchor written anew")
    #expect(note.contains("the anchor (\(anchor)) was written anew at event 9"), "\(note)")
    #expect(note.contains("events 1–8 are vouched for only by the keyed chain"), "\(note)")
    #expect(note.contains("`csar audit reanchor`"), "\(note)")

    // An admin accepts the log as a whole: recorded, and the note goes.
    try db.ensureOperator(name: "ada", role: .admin, uid: 4242)
    let done = try #require(try db.reanchorAuditLog(by: "ada"))
    #expect(done.events == 11)
    let details = try db.read { db in
      try String.fetchOne(
        db, sql: "SELECT details_json FROM audit_event WHERE action = 'audit.reanchor'")
    }
    #expect(details?.contains("since event 9") == true, "\(details ?? "")")
    #expect(try db.verifyAudit().notes == [])
    #expect(try AuditAnchorCopyTests.anchorText(folder).hasPrefix(AuditAnchor.format + "\n"))
    #expect(try db.reanchorAuditLog(by: "ada") == nil, "nothing more to accept")
  }

  /// The same for an anchor csar could not trust (open to others): replaced by a private one
  /// that vouches from the change that wrote it.
  @Test func anAnchorOthersCouldWriteIsReplacedByOneThatVouchesFromThen() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, anchor) = try AuditAnchorFileTests.anchored(folder)
    #expect(chmod(anchor, 0o666) == 0)
    try AuditKeyedChainTests.write(db)
    let text = try AuditAnchorCopyTests.anchorText(folder)
    #expect(text.contains("\nsince 12\n"), "\(text)")
    let note = try #require(try db.verifyAudit().notes.first)
    #expect(note.contains("written anew at event 12"), "\(note)")
  }
}
