import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

/// Someone who can write the database file but not read the key: recomputing the unkeyed
/// SHA-256 chain after an edit is no longer enough, and chains from before keyed chains are
/// keyed once, if intact.
@Suite("Keyed audit chain")
struct AuditKeyedChainTests {
  /// A file database with eleven events (an operator and ten services).
  static func database(_ folder: TempFolder) throws -> AppDatabase {
    let db = try AppDatabase.open(
      path: folder.file("audit.sqlite"), clock: { fixedNow }, auditKey: folder.auditKey)
    try db.ensureOperator(name: "alice", role: .reviewer)
    for n in 0..<10 {
      try db.createService(code: "svc-\(n)", name: "S\(n)", kind: .hosting, by: "alice")
    }
    #expect(try db.verifyAuditChain() == .ok(count: 11))
    return db
  }

  /// Recomputes `prev_hash` and `hash` of every event from `from` on, as anyone can: the
  /// unkeyed chain needs no secret.
  static func recomputeUnkeyedChain(_ db: Database, from: Int64) throws {
    var prev =
      try String.fetchOne(
        db, sql: "SELECT hash FROM audit_event WHERE id = ?", arguments: [from - 1])
      ?? AuditChain.genesis
    let rows = try Row.fetchAll(
      db, sql: "SELECT * FROM audit_event WHERE id >= ? ORDER BY id", arguments: [from])
    for row in rows {
      let hash = AuditChain.hash(
        prev: prev, at: row["at"], operatorName: row["operator"], action: row["action"],
        entity: row["entity"], entityId: row["entity_id"], detailsJSON: row["details_json"])
      try db.execute(
        sql: "UPDATE audit_event SET prev_hash = ?, hash = ? WHERE id = ?",
        arguments: [prev, hash, row["id"]])
      prev = hash
    }
  }

  static func dropGuards(_ db: Database) throws {
    try db.execute(
      sql: "DROP TRIGGER audit_event_no_update; DROP TRIGGER audit_event_no_delete")
  }

  @Test func anEditWithTheUnkeyedChainRecomputedIsNamed() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try Self.database(folder)
    try db.writer.write { db in
      try Self.dropGuards(db)
      try db.execute(
        sql: """
          UPDATE audit_event SET details_json = replace(details_json, 'S4', 'S9') WHERE id = 6
          """)
      try Self.recomputeUnkeyedChain(db, from: 6)
    }
    guard case .broken(let id, let reason) = try db.verifyAuditChain() else {
      Issue.record("a recomputed chain verified")
      return
    }
    #expect(id == 6)
    #expect(reason.contains("MAC"))
  }

  @Test func aDeletedAndRenumberedEventIsNamed() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try Self.database(folder)
    try db.writer.write { db in
      try Self.dropGuards(db)
      try db.execute(sql: "DELETE FROM audit_event WHERE id = 7")
      for id in 8...11 {
        try db.execute(sql: "UPDATE audit_event SET id = id - 1 WHERE id = ?", arguments: [id])
      }
      try db.execute(sql: "UPDATE sqlite_sequence SET seq = 10 WHERE name = 'audit_event'")
      try Self.recomputeUnkeyedChain(db, from: 7)
    }
    guard case .broken(let id, let reason) = try db.verifyAuditChain() else {
      Issue.record("a renumbered chain verified")
      return
    }
    #expect(id == 7)
    #expect(reason.contains("MAC"))
  }

  @Test func aChainMovedToAnotherDatabaseDoesNotVerify() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try Self.database(folder)
    try db.writer.write { db in
      try db.execute(sql: "UPDATE audit_chain SET database_id = 'another database'")
    }
    guard case .broken(let id, _) = try db.verifyAuditChain() else {
      Issue.record("a moved chain verified")
      return
    }
    #expect(id == 1)
  }

  @Test func anotherKeyCannotWriteAndVerifySaysSo() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = try Self.database(folder).path
    let other = try AppDatabase.open(path: path, auditKey: .random())
    #expect(throws: AuditError.wrongKey(path: path)) {
      try other.createService(code: "x", name: "X", kind: .hosting, by: "alice")
    }
    #expect(try other.verifyAuditChain().description.contains("another provider key"))
    let keyless = try AppDatabase.open(path: path)
    #expect(throws: AuditError.noAuditKey(path: path)) {
      try keyless.createService(code: "x", name: "X", kind: .hosting, by: "alice")
    }
  }

  /// A savepoint rolled back inside an audited write (as group commit does for a failing
  /// request) takes its event away; the next event links to the one before it.
  @Test func anEventRolledBackInASavepointIsNotLinkedTo() throws {
    struct Refused: Error {}
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try Self.database(folder)
    try db.audited(by: "alice") { db, trail in
      try trail.record(action: "test.kept", entity: "test", entityId: "1")
      try? db.inSavepoint {
        try trail.record(action: "test.rolled_back", entity: "test", entityId: "2")
        throw Refused()
      }
      try trail.record(action: "test.kept", entity: "test", entityId: "3")
    }
    #expect(try db.verifyAuditChain() == .ok(count: 13))
  }

  // MARK: - Chains from before keyed chains

  /// A database as the release before keyed chains left it: migrated up to `v2-review`, with
  /// `events` events in the unkeyed chain.
  static func legacyDatabase(_ path: String, events: Int) throws {
    let queue = try DatabaseQueue(path: path)
    try Schema.migrator.migrate(queue, upTo: "v2-review")
    try queue.write { db in
      var prev = AuditChain.genesis
      for n in 1...events {
        let details = "{\"after\":{\"n\":\(n)},\"before\":null}"
        let hash = AuditChain.hash(
          prev: prev, at: fixedNow + Int64(n), operatorName: "alice", action: "service.create",
          entity: "service", entityId: String(n), detailsJSON: details)
        try db.execute(
          sql: """
            INSERT INTO audit_event
              (at, operator, action, entity, entity_id, details_json, prev_hash, hash)
            VALUES (?, 'alice', 'service.create', 'service', ?, ?, ?, ?)
            """, arguments: [fixedNow + Int64(n), String(n), details, prev, hash])
        prev = hash
      }
    }
    try queue.close()
    chmod(path, 0o600)
  }

  /// One audited write of one event.
  static func write(_ db: AppDatabase) throws {
    _ = try db.audited(by: "alice") { _, trail in
      try trail.record(action: "test.write", entity: "test", entityId: "1")
    }
  }

  @Test func anIntactUnkeyedChainIsKeyedOnceAtTheFirstOpenWithTheKey() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("old.sqlite")
    try Self.legacyDatabase(path, events: 12)
    let db = try AppDatabase.open(path: path, clock: { fixedNow }, auditKey: folder.auditKey)
    #expect(try db.verifyAuditChain() == .ok(count: 13))
    let rekey = try #require(try db.auditPage(beforeId: nil, limit: 1).first)
    #expect(rekey.action == "audit.rekey")
    #expect(rekey.detailsJSON.contains("\"events\":12"))
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE mac IS NULL") == 0)
    // The update guard is back, exactly as before.
    #expect(throws: DatabaseError.self) {
      try db.writer.write { try $0.execute(sql: "UPDATE audit_event SET operator = 'x'") }
    }
    let again = try AppDatabase.open(path: path, clock: { fixedNow }, auditKey: folder.auditKey)
    try Self.write(again)
    #expect(try again.verifyAuditChain() == .ok(count: 14))
    #expect(try count(again, "SELECT count(*) FROM audit_event WHERE action = 'audit.rekey'") == 1)
  }

  @Test func aBrokenUnkeyedChainIsLeftAsItIsAndNotWritten() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("old.sqlite")
    try Self.legacyDatabase(path, events: 12)
    let queue = try DatabaseQueue(path: path)
    try queue.write { db in
      try Self.dropGuards(db)
      try db.execute(sql: "UPDATE audit_event SET operator = 'mallory' WHERE id = 5")
    }
    try queue.close()
    let db = try AppDatabase.open(path: path, clock: { fixedNow }, auditKey: folder.auditKey)
    guard case .broken(let id, _) = try db.verifyAuditChain() else {
      Issue.record("a broken unkeyed chain verified")
      return
    }
    #expect(id == 5)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE mac IS NOT NULL") == 0)
    #expect(throws: AuditError.self) { try Self.write(db) }
  }
}

/// The anchor beside the key: a log cut at the end (with `sqlite_sequence` fixed) no longer
/// reaches it; a log ahead of it is fine; a missing anchor is an error.
@Suite("Audit anchor")
struct AuditAnchorTests {
  @Test func aCutTailWithTheSequenceFixedIsFoundThroughTheAnchor() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try AuditKeyedChainTests.database(folder)
    try db.writer.write { db in
      try AuditKeyedChainTests.dropGuards(db)
      try db.execute(sql: "DELETE FROM audit_event WHERE id >= 9")
      try db.execute(sql: "UPDATE sqlite_sequence SET seq = 8 WHERE name = 'audit_event'")
    }
    guard case .broken(let id, let reason) = try db.verifyAuditChain() else {
      Issue.record("a cut log verified")
      return
    }
    #expect(id == 9)
    #expect(reason.contains("anchor records 11"))
  }

  @Test func aLogAheadOfItsAnchorIsFineAMissingAnchorIsNot() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try AuditKeyedChainTests.database(folder)
    let anchors = try FileManager.default.contentsOfDirectory(atPath: folder.file("anchors"))
    #expect(anchors.count == 1)
    let anchor = folder.file("anchors/" + anchors[0])
    let older = try String(contentsOfFile: anchor, encoding: .utf8)
    try AuditKeyedChainTests.write(db)
    #expect(try db.verifyAuditChain() == .ok(count: 12))
    try older.write(toFile: anchor, atomically: true, encoding: .utf8)
    chmod(anchor, 0o600)
    #expect(try db.verifyAuditChain() == .ok(count: 12))
    try FileManager.default.removeItem(atPath: anchor)
    #expect(try db.verifyAuditChain().isOK == false)
  }
}

/// The anchor is read as csar reads its private files: before, `FileManager.contents` waited
/// forever on a FIFO at its path (`csar audit verify` and the console's `V` hung), followed a
/// symlink, and took a file others can write or another account's as csar's own.
@Suite("Audit anchor file checks")
struct AuditAnchorFileTests {
  /// A keyed database in `folder` and the path of its anchor file.
  static func anchored(_ folder: TempFolder) throws -> (AppDatabase, String) {
    let db = try AuditKeyedChainTests.database(folder)
    let anchors = try FileManager.default.contentsOfDirectory(atPath: folder.file("anchors"))
    #expect(anchors.count == 1)
    return (db, folder.file("anchors/" + (anchors.first ?? "")))
  }

  /// The reason of a broken chain, or nil (recorded) when it verified.
  static func reason(_ db: AppDatabase) throws -> String? {
    guard case .broken(_, let reason) = try db.verifyAuditChain() else {
      Issue.record("the chain verified")
      return nil
    }
    return reason
  }

  @Test func aFifoAtTheAnchorIsRefusedWithoutWaitingForAWriter() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, anchor) = try Self.anchored(folder)
    try FileManager.default.removeItem(atPath: anchor)
    #expect(mkfifo(anchor, 0o600) == 0)
    let watchdog = FifoWriterWatchdog(path: anchor, after: 10)
    let reason = try Self.reason(db)
    // The next audited write does not replace the FIFO either (nor block on it).
    try AuditKeyedChainTests.write(db)
    let again = try Self.reason(db)
    #expect(watchdog.finish() == false, "reading the anchor waited for a FIFO writer")
    #expect(reason?.contains("\(anchor): the audit anchor is not a regular file") == true)
    #expect(reason?.contains("`rm \(anchor)`") == true)
    #expect(again?.contains("not a regular file") == true)
  }

  @Test func aSymlinkAtTheAnchorIsRefused() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, anchor) = try Self.anchored(folder)
    let elsewhere = folder.file("elsewhere.anchor")
    try FileManager.default.moveItem(atPath: anchor, toPath: elsewhere)
    #expect(symlink(elsewhere, anchor) == 0)
    let reason = try Self.reason(db)
    #expect(reason?.contains("\(anchor): the audit anchor is a symbolic link") == true)
  }

  @Test func anAnchorOthersCanWriteOrInAFolderOthersCanWriteIsRefused() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, anchor) = try Self.anchored(folder)
    #expect(try db.verifyAuditChain().isOK)
    chmod(anchor, 0o666)
    let reason = try Self.reason(db)
    #expect(reason?.contains("permissions 0666 for the audit anchor are too open") == true)
    #expect(reason?.contains("`chmod 600 \(anchor)`") == true)
    chmod(anchor, 0o600)
    #expect(try db.verifyAuditChain().isOK)
    chmod(folder.file("anchors"), 0o777)
    #expect(try Self.reason(db)?.contains("others can create or replace files in it") == true)
  }

  @Test func anAnchorOfAnotherAccountIsRefused() throws {
    guard geteuid() == 0 else {
      print("skipped: giving the anchor to another account needs root")
      return
    }
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, anchor) = try Self.anchored(folder)
    #expect(chown(anchor, 65534, 65534) == 0)
    let reason = try Self.reason(db)
    #expect(reason?.contains("\(anchor): the audit anchor belongs to") == true)
  }
}

/// Plays the writer of a FIFO once `seconds` have passed (and again until finished), so that
/// a reader blocked opening or reading it wakes up: a test of a read that must never wait on
/// a FIFO fails instead of hanging the suite.
final class FifoWriterWatchdog: @unchecked Sendable {
  private let lock = NSLock()
  private var finished = false
  private var fired = false
  private let stopped = DispatchSemaphore(value: 0)

  init(path: String, after seconds: Double) {
    let thread = Thread { [self] in
      let deadline = Date(timeIntervalSinceNow: seconds)
      while !lock.withLock({ finished }) {
        if Date() >= deadline {
          let fd = open(path, O_WRONLY | O_NONBLOCK)
          if fd >= 0 {
            lock.withLock { fired = true }
            close(fd)
          }
        }
        usleep(20_000)
      }
      stopped.signal()
    }
    thread.start()
  }

  /// Stops the watchdog; whether it had to play the writer.
  func finish() -> Bool {
    lock.withLock { finished = true }
    stopped.wait()
    return lock.withLock { fired }
  }
}
