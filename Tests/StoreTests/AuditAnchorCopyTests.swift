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
    _ = try db.writer.writeWithoutTransaction { try $0.checkpoint(.truncate) }
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

  /// Rewrites the database's anchor in the format from before anchors named their file.
  static func writeOldFormatAnchor(_ folder: TempFolder, of db: AppDatabase) throws {
    let databaseId = try db.read { try AuditChain.identity($0).databaseId }
    let path = AuditAnchor.path(folder: folder.file("anchors"), databaseId: databaseId)
    guard
      case .success(var anchor) = AuditAnchor.read(
        file: path, folder: folder.file("anchors"), databaseId: databaseId,
        key: folder.auditKey)
    else { throw CocoaError(.fileReadCorruptFile) }
    anchor.file = nil
    try anchor.write(to: path, key: folder.auditKey)
    #expect(try Self.anchorText(folder).hasPrefix(AuditAnchor.formatWithoutFile + "\n"))
  }

  /// The text of the database's own anchor (the one file in `anchors/`).
  static func anchorText(_ folder: TempFolder) throws -> String {
    let names = try Self.anchors(folder)
    try #require(names.count == 1, "\(names)")
    return try String(contentsOfFile: folder.file("anchors/" + names[0]), encoding: .utf8)
  }

  /// Before, an anchor from before anchors named their file was taken over by the first file
  /// of its database id to change: a copy written to moved it to its own log, and the
  /// original then failed verify as cut. Now it names the file at its first open whose log
  /// reaches it; an older copy opened first leaves it as it is.
  @Test func anOldFormatAnchorNamesTheFileAtItsFirstOpenSoACopyCannotTakeItOver() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    do {
      let original = try AuditKeyedChainTests.database(folder)
      try Self.copy(original, to: folder.file("older.sqlite"))
      try AuditKeyedChainTests.write(original)
      try Self.writeOldFormatAnchor(folder, of: original)
    }
    // The older copy (11 events) does not reach the anchor (12): it stays as it was.
    do { _ = try Self.open(folder, "older.sqlite") }
    #expect(try Self.anchorText(folder).hasPrefix(AuditAnchor.formatWithoutFile + "\n"))

    let original = try Self.open(folder, "audit.sqlite")
    let text = try Self.anchorText(folder)
    let resolved = URL(fileURLWithPath: original.path).resolvingSymlinksInPath().path
    #expect(text.hasPrefix(AuditAnchor.format + "\n"), "\(text)")
    #expect(text.contains("path \(resolved)\n"), "\(text)")
    #expect(text.contains("events 12\n"), "\(text)")
    #expect(try original.verifyAuditChain() == .ok(count: 12))

    // A copy made now, written to, gets an anchor of its own; the original still verifies.
    try Self.copy(original, to: folder.file("copy.sqlite"))
    let copy = try Self.open(folder, "copy.sqlite")
    let told = Self.listen(copy)
    try AuditKeyedChainTests.write(copy)
    #expect(told.all.isEmpty, "\(told.all)")
    #expect(try copy.verifyAuditChain() == .ok(count: 13))
    #expect(try original.verifyAuditChain() == .ok(count: 12))
    try AuditKeyedChainTests.write(original)
    #expect(try original.verifyAuditChain() == .ok(count: 13))
  }

  /// Before, a copy's own anchor, written at its first change, was checked like any anchor
  /// and verify said nothing: the events before that change, never checked against it, looked
  /// as vouched for as the rest. Now the anchor records the event it started at, and verify
  /// says from which event it vouches for the log.
  @Test func verifySaysFromWhichEventACopysOwnAnchorVouchesForItsLog() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let original = try AuditKeyedChainTests.database(folder)
    try Self.copy(original, to: folder.file("copy.sqlite"))
    let copy = try Self.open(folder, "copy.sqlite")
    #expect(try copy.verifyAudit().notes == [], "checked against its original's anchor")
    try AuditKeyedChainTests.write(copy)
    try AuditKeyedChainTests.write(copy)

    let check = try copy.verifyAudit()
    #expect(check.isOK, "\(check.problems)")
    let note = try #require(check.notes.first, "verify said nothing of the copy's anchor")
    let resolved = URL(fileURLWithPath: original.path).resolvingSymlinksInPath().path
    #expect(note.contains("this file is a copy of the database file \(resolved)"), "\(note)")
    #expect(note.contains("vouches for the end of the log from event 12 on"), "\(note)")
    #expect(note.contains("events 1–11 are vouched for only by the keyed chain"), "\(note)")
    let name = try #require(try Self.anchors(folder).first { $0.contains(".copy-") })
    let text = try String(contentsOfFile: folder.file("anchors/" + name), encoding: .utf8)
    #expect(text.hasPrefix(AuditAnchor.formatWithSince + "\n"), "\(text)")
    #expect(text.contains("events 13\nhead "), "\(text)")
    #expect(text.contains("\nsince 12\n"), "kept from the first change on: \(text)")
    #expect(try original.verifyAudit().notes == [])

    // The recorded event is covered by the anchor's MAC.
    let path = folder.file("anchors/" + name)
    try text.replacingOccurrences(of: "since 12", with: "since 2")
      .write(toFile: path, atomically: false, encoding: .utf8)
    #expect(try copy.verifyAuditChain().isOK == false)
  }

  /// What `/metrics` reports, read from the files: behind when the log was cut under its
  /// anchor or a commit was not anchored; a copy without an anchor of its own is compared
  /// with its original's.
  @Test func theAnchorStateComparesTheAnchorOnDiskWithTheLogsNewestEvent() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let original = try AuditKeyedChainTests.database(folder)
    var state = try original.anchorState()
    #expect(state.isBehind == false && state.events == 11 && state.anchoredEvents == 11)
    #expect(state.writtenAt != nil)

    try Self.copy(original, to: folder.file("copy.sqlite"))
    let copy = try Self.open(folder, "copy.sqlite")
    #expect(try copy.anchorState().isBehind == false, "the original's anchor records its end")
    try AuditKeyedChainTests.write(original)
    state = try copy.anchorState()
    #expect(state.isBehind && state.anchoredEvents == 12 && state.events == 11)
    try AuditKeyedChainTests.write(copy)
    state = try copy.anchorState()
    #expect(state.isBehind == false && state.anchoredEvents == 12, "its own anchor now")

    // A commit another process made without anchoring it, then events cut under the anchor.
    try original.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO audit_event (at, operator, action, entity, entity_id, details_json,
            prev_hash, hash, mac) VALUES (0, 'x', 'x', 'x', 'x', '{}', '', '', '')
          """)
    }
    state = try original.anchorState()
    #expect(state.isBehind && state.events == 13 && state.anchoredEvents == 12)
    try original.writer.write { db in
      try AuditKeyedChainTests.dropGuards(db)
      try db.execute(sql: "DELETE FROM audit_event WHERE id >= 12")
    }
    state = try original.anchorState()
    #expect(state.isBehind && state.events == 11 && state.anchoredEvents == 12)
  }
}
