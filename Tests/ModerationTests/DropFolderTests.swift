import Foundation
import Synchronization
import Testing

@testable import Moderation
@testable import Store

/// `csar bank sync`: each file of a drop folder taken once, bad ones named, the rest taken.
@Suite("Drop-folder sync")
struct DropFolderTests {
  static func pdq(_ byte: Int) -> String {
    String(repeating: String(format: "%02x", byte), count: 32)
  }

  @Test func takesEachNewFileOnceAndAChangedFileAgain() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    try scratch.write("2026-11-29.csv", "pdq,\(Self.pdq(1))\npdq,\(Self.pdq(2))\n")
    try scratch.write("2026-11-30.txt", "pdq \(Self.pdq(3))\n")
    try scratch.write(".2026-12-01.csv", "pdq,\(Self.pdq(4))\n")
    try scratch.write("2026-12-01.csv.part", "pdq,\(Self.pdq(4))\n")
    let first = try DropFolder.sync(
      folder: scratch.path, target: .bank("feed"), database: db, by: "mod")
    #expect(first.taken.map(\.name) == ["2026-11-29.csv", "2026-11-30.txt"])
    #expect(first.ignored == [".2026-12-01.csv", "2026-12-01.csv.part"])
    #expect(first.failed.isEmpty)
    let versions = try db.bankVersions(name: "feed")
    #expect(versions.map(\.source.file) == ["2026-11-29.csv", "2026-11-30.txt"])
    #expect(versions.map(\.source.format) == ["csv", "te-lines"])
    #expect(versions.map(\.total) == [2, 3])

    let again = try DropFolder.sync(
      folder: scratch.path, target: .bank("feed"), database: db, by: "mod")
    #expect(again.taken.isEmpty && again.alreadyTaken.count == 2)
    #expect(try db.bankVersions(name: "feed").count == 2)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'bank.sync'") == 2)

    // The fetcher finished a file (renamed it) and rewrote another.
    try FileManager.default.moveItem(
      atPath: scratch.path + "/2026-12-01.csv.part", toPath: scratch.path + "/2026-12-01.csv")
    try scratch.write("2026-11-30.txt", "pdq \(Self.pdq(3))\npdq \(Self.pdq(5))\n")
    let third = try DropFolder.sync(
      folder: scratch.path, target: .bank("feed"), database: db, by: "mod")
    #expect(third.taken.map(\.name) == ["2026-11-30.txt", "2026-12-01.csv"])
    #expect(try db.hashBank(name: "feed").total == 5)
  }

  /// A fetcher drops the lists as the field writes them: HMA and StopNCII JSON and NCMEC XML
  /// are read as such (each used to be read as CSV and refused), and a file that is not
  /// UTF-8 is named.
  @Test func takesListsInEveryFormat() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    try scratch.write("a.json", "[{\"pdq\": \"\(Self.pdq(1))\"}]\n")
    try scratch.write(
      "b.json",
      "{\"hashRecords\": [{\"signalType\": \"ImagePDQ\", \"hashValue\": \"\(Self.pdq(2))\"}]}")
    try scratch.write(
      "c.xml",
      "<queryResult><images><image><id>i3</id><fingerprints><pdq>\(Self.pdq(3))</pdq>"
        + "</fingerprints></image></images></queryResult>\n")
    _ = FileManager.default.createFile(
      atPath: scratch.path + "/d.csv", contents: Data([0x70, 0x64, 0x71, 0x2C, 0xFF, 0x0A]))
    let report = try DropFolder.sync(
      folder: scratch.path, target: .bank("feed"), database: db, by: "mod")
    #expect(report.taken.map(\.name) == ["a.json", "b.json", "c.xml"])
    #expect(report.failed.map(\.name) == ["d.csv"])
    #expect(report.failed.first?.reason.contains("d.csv") == true)
    let versions = try db.bankVersions(name: "feed")
    #expect(versions.map(\.source.format) == ["hma-json", "stopncii-json", "ncmec-xml"])
    #expect(try db.hashBank(name: "feed").total == 3)
  }

  @Test func badFilesAreNamedAndNotTakenTheRestAre() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let good = try scratch.write("a-good.csv", "pdq,\(Self.pdq(1))\n")
    try scratch.write("b-bad.csv", "pdq,\(Self.pdq(2))\npdq,nothex\n")
    try FileManager.default.createSymbolicLink(
      atPath: scratch.path + "/c-link.csv", withDestinationPath: good)
    #expect(mkfifo(scratch.path + "/d-fifo.csv", 0o600) == 0)
    try FileManager.default.createDirectory(
      atPath: scratch.path + "/e-folder", withIntermediateDirectories: false)
    try scratch.write("f-good.csv", "pdq,\(Self.pdq(6))\n")
    let report = try DropFolder.sync(
      folder: scratch.path, target: .bank("feed"), database: db, by: "mod")
    #expect(report.taken.map(\.name) == ["a-good.csv", "f-good.csv"])
    #expect(report.failed.map(\.name) == ["b-bad.csv", "c-link.csv", "d-fifo.csv", "e-folder"])
    #expect(report.failed[0].problems.map(\.line) == [2])
    #expect(report.failed[0].problems[0].description.contains("b-bad.csv:2: "))
    #expect(report.failed[1].reason.contains("symbolic link"))
    #expect(report.failed[2].reason.contains("not a regular file"))
    #expect(try db.hashBank(name: "feed").total == 2)
    // A refused file is not remembered: fixed, it is taken by the next run.
    try scratch.write("b-bad.csv", "pdq,\(Self.pdq(2))\n")
    let next = try DropFolder.sync(
      folder: scratch.path, target: .bank("feed"), database: db, by: "mod")
    #expect(next.taken.map(\.name) == ["b-bad.csv"])
  }

  @Test func retractionFoldersNeedALeadAndApplyToEveryBank() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    try db.importBank(name: "a", entries: [.init(type: .pdq, hash: Self.pdq(1))], by: "mod")
    try db.importBank(name: "b", entries: [.init(type: .pdq, hash: Self.pdq(1))], by: "mod")
    try db.ensureOperator(name: "rev", role: .reviewer)
    try scratch.write("retract-1.csv", "pdq,\(Self.pdq(1))\n")
    let refused = try DropFolder.sync(
      folder: scratch.path, target: .retract, database: db, by: "rev")
    #expect(refused.failed.map(\.name) == ["retract-1.csv"])
    #expect(refused.failed[0].reason.contains("only a lead or an admin"))
    #expect(try count(db, "SELECT count(*) FROM bank_sync_file") == 0)
    let report = try DropFolder.sync(
      folder: scratch.path, target: .retract, database: db, by: "mod")
    guard case .retracted(let summary) = report.taken.first?.result else {
      Issue.record("not retracted: \(report)")
      return
    }
    #expect(summary.versions.map(\.label) == ["a@v2", "b@v2"])
  }

  @Test func aFolderAnyoneCanWriteIntoIsRefused() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    chmod(scratch.path, 0o777)
    #expect(throws: DropFolder.FolderError.worldWritable(scratch.path)) {
      try DropFolder.sync(folder: scratch.path, target: .bank("feed"), database: db, by: "mod")
    }
    #expect(throws: DropFolder.FolderError.notAFolder(scratch.path + "/missing")) {
      try DropFolder.sync(
        folder: scratch.path + "/missing", target: .bank("feed"), database: db, by: "mod")
    }
  }

  /// Two syncs at once (as overlapping cron runs) on one database file: every file is taken
  /// once. Without the lock, the checkpoint written in the import's transaction still keeps
  /// the second from taking a file twice.
  @Test func concurrentSyncsTakeEachFileOnce() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let drop = scratch.path + "/drop"
    try FileManager.default.createDirectory(atPath: drop, withIntermediateDirectories: false)
    for n in 0..<12 {
      try "pdq,\(Self.pdq(n + 1))\n".write(
        toFile: drop + "/list-\(n).csv", atomically: true, encoding: .utf8)
    }
    let key = AuditKey.random(anchorFolder: scratch.path)
    let path = scratch.path + "/csar.sqlite"
    let setup = try AppDatabase.open(path: path, auditKey: key)
    try setup.ensureOperator(name: "mod", role: .lead)
    let reports = Mutex<[DropFolder.Report]>([])
    let errors = Mutex<[String]>([])
    DispatchQueue.concurrentPerform(iterations: 3) { _ in
      do {
        let db = try AppDatabase.open(path: path, auditKey: key)
        let report = try DropFolder.sync(
          folder: drop, target: .bank("feed"), database: db, by: "mod")
        reports.withLock { $0.append(report) }
      } catch {
        errors.withLock { $0.append("\(error)") }
      }
    }
    #expect(errors.withLock { $0 }.isEmpty)
    let taken = reports.withLock { $0.flatMap { $0.taken.map(\.name) } }
    #expect(taken.sorted() == (0..<12).map { "list-\($0).csv" }.sorted())
    #expect(try setup.bankVersions(name: "feed").count == 12)

    // The transaction's own check, without the lock: the same file offered twice.
    let file = BankSyncFile(folder: drop, name: "x.csv", size: 3, sha256: Self.pdq(9))
    let entries = [BankHashEntry(type: .pdq, hash: Self.pdq(40))]
    let first = try setup.takeSyncFile(
      file, target: .bank("feed"), entries: entries, format: "csv", by: "mod")
    let second = try setup.takeSyncFile(
      file, target: .bank("feed"), entries: entries, format: "csv", by: "mod")
    guard case .imported = first, case .alreadyTaken = second else {
      Issue.record("\(first), \(second)")
      return
    }
  }
}
