import Foundation
import GRDB
import Synchronization
import Testing

@testable import Store

/// A failed anchor write after a committed change: before, `try?` dropped it and nobody
/// learned of it until a later `csar audit verify`. Now the change stays committed and the
/// failure reaches the database's ``AnchorWrites`` (and its handler) as it happens.
@Suite("Audit anchor writes that fail")
struct AuditAnchorWriteTests {
  /// The failures a handler was told of.
  final class Told: Sendable {
    private let list = Mutex<[AnchorWriteFailure]>([])
    var all: [AnchorWriteFailure] { list.withLock { $0 } }
    func append(_ failure: AnchorWriteFailure) { list.withLock { $0.append(failure) } }
    /// Sets the database's handler to one that collects here.
    func listen(to db: AppDatabase) {
      db.anchorWrites.onFailure { failure in self.list.withLock { $0.append(failure) } }
    }
  }

  /// A keyed database with an anchor, the anchor's path, and a collector of failures.
  static func anchored(_ folder: TempFolder) throws -> (AppDatabase, String, Told) {
    let (db, anchor) = try AuditAnchorFileTests.anchored(folder)
    #expect(db.anchorWrites.failures == 0)
    return (db, anchor, Told())
  }

  /// One audited write that creates a service; whether it is in the database afterwards.
  static func writeService(_ db: AppDatabase, _ code: String) throws -> Bool {
    try db.createService(code: code, name: code, kind: .hosting, by: "alice")
    let count = try db.read { db in
      try Int.fetchOne(db, sql: "SELECT count(*) FROM service WHERE code = ?", arguments: [code])
    }
    return count == 1
  }

  @Test func aFifoAtTheAnchorPathIsToldAndTheChangeStays() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, anchor, told) = try Self.anchored(folder)
    told.listen(to: db)
    try FileManager.default.removeItem(atPath: anchor)
    #expect(mkfifo(anchor, 0o600) == 0)
    let watchdog = FifoWriterWatchdog(path: anchor, after: 10)
    #expect(try Self.writeService(db, "fifo-1"))
    #expect(watchdog.finish() == false, "the anchor write waited for a FIFO reader")
    let failures = told.all
    #expect(failures.count == 1)
    #expect(failures.first?.error == .notARegularFile(path: anchor, what: "file to replace"))
    #expect(failures.first?.events == 12)
    #expect(failures.first?.path == anchor)
    let text = failures.first?.description ?? ""
    #expect(
      text.contains("the change is saved, but the audit anchor was not written (the log has 12 "
        + "events)"), "\(text)")
    #expect(text.contains("`rm \(anchor)`"), "\(text)")
    #expect(db.anchorWrites.isBehind)
    #expect(db.anchorWrites.lastFailure == failures.first)
    var info = stat()
    #expect(lstat(anchor, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "FIFO replaced")

    // Removed, the next audited change anchors again and the log verifies.
    try FileManager.default.removeItem(atPath: anchor)
    #expect(try Self.writeService(db, "fifo-2"))
    #expect(!db.anchorWrites.isBehind)
    #expect(db.anchorWrites.failures == 1)
    #expect(try db.verifyAuditChain() == .ok(count: 13))
  }

  @Test func aSymlinkAtTheAnchorPathIsToldAndNotFollowed() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, anchor, told) = try Self.anchored(folder)
    told.listen(to: db)
    let elsewhere = folder.file("elsewhere.txt")
    try "someone else's file\n".write(toFile: elsewhere, atomically: false, encoding: .utf8)
    try FileManager.default.removeItem(atPath: anchor)
    #expect(symlink(elsewhere, anchor) == 0)
    #expect(try Self.writeService(db, "link-1"))
    let failures = told.all
    #expect(failures.map(\.error) == [.symlink(path: anchor, what: "file to replace")])
    #expect(failures.first?.description.contains("`rm \(anchor)`") == true)
    #expect(try String(contentsOfFile: elsewhere, encoding: .utf8) == "someone else's file\n")
  }

  @Test func aFolderTheAnchorCannotBeWrittenToIsTold() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, _, told) = try Self.anchored(folder)
    told.listen(to: db)
    let anchors = folder.file("anchors")

    // A file where the anchor folder should be.
    try FileManager.default.removeItem(atPath: anchors)
    try "not a folder\n".write(toFile: anchors, atomically: false, encoding: .utf8)
    #expect(try Self.writeService(db, "folder-1"))
    // A folder others can write to (they could plant or replace the anchor): not written
    // into, as it would not be read from.
    try FileManager.default.removeItem(atPath: anchors)
    try FileManager.default.createDirectory(atPath: anchors, withIntermediateDirectories: false)
    chmod(anchors, 0o777)
    #expect(try Self.writeService(db, "folder-2"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: anchors).isEmpty)

    let failures = told.all
    #expect(failures.count == 2)
    #expect(failures.first?.error == .notAFolder(path: anchors, what: "audit anchor folder"))
    #expect(failures.first?.description.contains("`mv \(anchors) \(anchors).moved`") == true)
    #expect(
      failures.last?.error
        == .folderWritable(
          path: anchors, what: "audit anchor folder", mode: 0o777, byGroup: false))
    #expect(failures.last?.description.contains("`chmod go-w \(anchors)`") == true)
    #expect(try db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM service") } == 12)
  }

  @Test func aFailureBeforeTheHandlerIsSetIsToldOnceWhenItIs() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, anchor, told) = try Self.anchored(folder)
    try FileManager.default.removeItem(atPath: anchor)
    #expect(mkfifo(anchor, 0o600) == 0)
    #expect(try Self.writeService(db, "early"))
    told.listen(to: db)
    told.listen(to: db)
    #expect(told.all.count == 1)
  }

  /// Before, a database without a handler (the demo's, a benchmark's scratch one) only
  /// counted its failures: nobody was told. The process's handler hears them now, until the
  /// database gets a handler of its own, which is still told of the one it missed.
  @Test func aDatabaseWithoutAHandlerOfItsOwnTellsTheProcesssHandler() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let (db, anchor, own) = try Self.anchored(folder)
    let process = Told()
    // Other tests' databases may fail meanwhile: only this one's anchor counts.
    AnchorWrites.onFailureOfAnyDatabase { failure in
      if failure.path == anchor { process.append(failure) }
    }
    defer { AnchorWrites.onFailureOfAnyDatabase(nil) }
    try FileManager.default.removeItem(atPath: anchor)
    #expect(mkfifo(anchor, 0o600) == 0)
    #expect(try Self.writeService(db, "unheard-1"))
    #expect(process.all.map(\.events) == [12])

    own.listen(to: db)
    #expect(own.all.map(\.events) == [12], "the failure the process's handler heard")
    #expect(try Self.writeService(db, "unheard-2"))
    #expect(own.all.map(\.events) == [12, 13])
    #expect(process.all.count == 1, "a database with a handler of its own tells only it")
  }
}
