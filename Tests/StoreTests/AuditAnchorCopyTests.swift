import Foundation
import GRDB
import Testing

@testable import Store

/// A copy of a database file holds the same database id, so before, it answered to the same
/// anchor: a copy written to moved the anchor to its own log, and its original then looked
/// cut or diverging; and any audited change wrote the anchor over, so an older file put in
/// the original's place (or a log cut in place) was anchored as genuine by the next change.
@Suite("Audit anchor of copied, moved and replaced database files", .serialized)
struct AuditAnchorCopyTests {
  /// The database at `name` in `folder`, with the folder's key (anchors in `anchors/`).
  static func open(_ folder: TempFolder, _ name: String) throws -> AppDatabase {
    try AppDatabase.open(path: folder.file(name), clock: { fixedNow }, auditKey: folder.auditKey)
  }

  /// Copies the database file of `db` (checkpointed first, so the file holds every commit).
  static func copy(_ db: AppDatabase, to path: String) throws {
    try db.writer.writeWithoutTransaction { try $0.checkpoint(.truncate) }
    try FileManager.default.copyItem(atPath: db.path, toPath: path)
  }

  static func remove(_ path: String) {
    for suffix in ["", "-wal", "-shm"] {
      try? FileManager.default.removeItem(atPath: path + suffix)
    }
  }

  static func anchors(_ folder: TempFolder) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder.file("anchors")).sorted()
  }

  /// The failures told by `db` from now on.
  static func listen(_ db: AppDatabase) -> AuditAnchorWriteTests.Told {
    let told = AuditAnchorWriteTests.Told()
    told.listen(to: db)
    return told
  }

  @Test func aCopyWrittenBesideItsOriginalGetsAnAnchorOfItsOwn() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let original = try AuditKeyedChainTests.database(folder)
    try Self.copy(original, to: folder.file("copy.sqlite"))
    let copy = try Self.open(folder, "copy.sqlite")
    let copyTold = Self.listen(copy)
    try AuditKeyedChainTests.write(copy)
    try AuditKeyedChainTests.write(copy)
    try AuditKeyedChainTests.write(original)

    #expect(try original.verifyAuditChain() == .ok(count: 12))
    #expect(try copy.verifyAuditChain() == .ok(count: 13))
    #expect(copyTold.all.isEmpty, "\(copyTold.all)")
    let names = try Self.anchors(folder)
    #expect(names.count == 2, "\(names)")
    #expect(names.contains { $0.contains(".copy-") })
    // The database's own anchor names the original's file, and records its head.
    let own = try #require(names.first { !$0.contains(".copy-") })
    let text = try String(contentsOfFile: folder.file("anchors/" + own), encoding: .utf8)
    let resolved = URL(fileURLWithPath: original.path).resolvingSymlinksInPath().path
    #expect(text.contains("path \(resolved)"), "\(text)")
    #expect(text.contains("events 12"), "\(text)")
  }

  @Test func aCopyWithoutAnAnchorOfItsOwnIsCheckedAgainstItsOriginals() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let original = try AuditKeyedChainTests.database(folder)
    try Self.copy(original, to: folder.file("copy.sqlite"))
    let copy = try Self.open(folder, "copy.sqlite")
    #expect(try copy.verifyAuditChain() == .ok(count: 11))
    try AuditKeyedChainTests.write(original)
    guard case .broken(_, let reason) = try copy.verifyAuditChain() else {
      Issue.record("an older copy verified as if its end could be checked")
      return
    }
    #expect(reason.contains("this file is a copy of the database file"), "\(reason)")
    #expect(reason.contains("the log ends at event 11 but its anchor records 12"), "\(reason)")
    #expect(try original.verifyAuditChain() == .ok(count: 12))
  }

  @Test func aFileMovedToAnotherFileSystemAnswersToAnAnchorOfItsOwn() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    // A move across file systems is a copy, then the original removed: another inode.
    do {
      let original = try AuditKeyedChainTests.database(folder)
      try Self.copy(original, to: folder.file("moved.sqlite"))
    }
    Self.remove(folder.file("audit.sqlite"))
    let moved = try Self.open(folder, "moved.sqlite")
    let told = Self.listen(moved)
    #expect(try moved.verifyAuditChain() == .ok(count: 11))
    try AuditKeyedChainTests.write(moved)
    #expect(told.all.isEmpty, "\(told.all)")
    #expect(try moved.verifyAuditChain() == .ok(count: 12))
  }

  /// The anchor names the path its file had when last written: a file renamed since, then
  /// copied, is still the database's own file (same inode), and its copy is a copy.
  @Test func aRenamedOriginalStaysTheOriginalWhenItIsCopied() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    do { _ = try AuditKeyedChainTests.database(folder) }
    #expect(rename(folder.file("audit.sqlite"), folder.file("renamed.sqlite")) == 0)
    let renamed = try Self.open(folder, "renamed.sqlite")
    try Self.copy(renamed, to: folder.file("copy.sqlite"))
    let copy = try Self.open(folder, "copy.sqlite")
    try AuditKeyedChainTests.write(copy)
    #expect(try renamed.verifyAuditChain() == .ok(count: 11))
    #expect(try copy.verifyAuditChain() == .ok(count: 12))
    try AuditKeyedChainTests.write(renamed)
    #expect(try renamed.verifyAuditChain() == .ok(count: 12))
    #expect(try copy.verifyAuditChain() == .ok(count: 12))
  }

  @Test func anOlderFileInTheOriginalsPlaceIsNotAnchoredByTheNextChange() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("audit.sqlite")
    do {
      let original = try AuditKeyedChainTests.database(folder)
      try Self.copy(original, to: folder.file("older.sqlite"))
      try AuditKeyedChainTests.write(original)
      try AuditKeyedChainTests.write(original)
    }
    // The older file (11 events) takes the place of the original (13).
    Self.remove(path)
    #expect(rename(folder.file("older.sqlite"), path) == 0)
    let swapped = try Self.open(folder, "audit.sqlite")
    let told = Self.listen(swapped)
    #expect(try swapped.verifyAuditChain().isOK == false)
    try AuditKeyedChainTests.write(swapped)
    let failure = try #require(told.all.first)
    #expect(failure.cause.description.contains("its anchor records 13 events"), "\(failure)")
    #expect(failure.description.contains("The anchor is kept as it is"), "\(failure)")
    #expect(try AuditAnchorFileTests.reason(swapped)?.contains("anchor records 13") == true)

    // Restored on purpose: an admin accepts the log, on the record.
    #expect(throws: IdentityError.notAnAdmin(name: "alice")) {
      try swapped.reanchorAuditLog(by: "alice")
    }
    try swapped.ensureOperator(name: "ada", role: .admin, uid: 4242)
    let done = try #require(try swapped.reanchorAuditLog(by: "ada"))
    #expect(done.replaced.hasPrefix("13 events, head "), "\(done)")
    #expect(done.events == 14)
    #expect(try swapped.verifyAuditChain() == .ok(count: 14))
    let details = try swapped.read { db in
      try String.fetchOne(
        db, sql: "SELECT details_json FROM audit_event WHERE action = 'audit.reanchor'")
    }
    #expect(details?.contains(#""recorded":"13 events, head "#) == true, "\(details ?? "")")
    #expect(try swapped.reanchorAuditLog(by: "ada") == nil, "it reaches its anchor now")
    try AuditKeyedChainTests.write(swapped)
    #expect(try swapped.verifyAuditChain() == .ok(count: 15))
  }

  @Test func aLogCutInPlaceIsNotAnchoredByTheNextChange() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try AuditKeyedChainTests.database(folder)
    let told = Self.listen(db)
    try db.writer.write { db in
      try AuditKeyedChainTests.dropGuards(db)
      try db.execute(sql: "DELETE FROM audit_event WHERE id >= 9")
      try db.execute(sql: "UPDATE sqlite_sequence SET seq = 8 WHERE name = 'audit_event'")
    }
    try AuditKeyedChainTests.write(db)
    #expect(told.all.count == 1)
    #expect(told.all.first?.cause == .kept(reason: "the log diverges from its anchor at event 11")
      || told.all.first?.cause.description.contains("were cut") == true, "\(told.all)")
    guard case .broken = try db.verifyAuditChain() else {
      Issue.record("a log cut in place was anchored as genuine by the next change")
      return
    }
  }
}
