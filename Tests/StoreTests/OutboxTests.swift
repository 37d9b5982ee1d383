import Foundation
import Testing

@testable import Store

/// The outbox refuses to write through symlinks or into folders others control.
@Suite struct OutboxSafetyTests {
  /// A file owned by "someone else" that a planted symlink points at.
  static func victim(in temp: TempFolder) throws -> String {
    let victim = temp.file("victim.txt")
    try "do not touch\n".write(toFile: victim, atomically: false, encoding: .utf8)
    return victim
  }

  static func untouched(_ victim: String) -> Bool {
    (try? String(contentsOfFile: victim, encoding: .utf8)) == "do not touch\n"
  }

  @Test func theOutboxAndItsFilesArePrivateUnderALooseUmask() throws {
    looseUmask()
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let outbox = try Outbox(directory: temp.file("outbox"))
    let paths = try outbox.write([("a.json", "{}\n"), ("b.json", "{}\n")])
    #expect(fileMode(outbox.directory) == 0o700)
    for path in paths { #expect(fileMode(path) == 0o600, "\(path)") }
  }

  @Test func aSymlinkAtTheTemporaryNameIsNeverFollowed() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let victim = try Self.victim(in: temp)
    let outbox = try Outbox(directory: temp.file("outbox"))
    // The temporary name an earlier csar used (`.NAME.PID.tmp`), planted in advance.
    symlink(victim, outbox.path(".CSAR-1.json.\(getpid()).tmp"))
    try outbox.write("{\"report\":1}\n", as: "CSAR-1.json")
    #expect(Self.untouched(victim))
    #expect(try String(contentsOfFile: outbox.path("CSAR-1.json"), encoding: .utf8)
      == "{\"report\":1}\n")
  }

  @Test func aSymlinkAtTheFinalNameIsRefused() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let victim = try Self.victim(in: temp)
    let outbox = try Outbox(directory: temp.file("outbox"))
    let final = outbox.path("CSAR-1-reveal.json")
    symlink(victim, final)
    #expect(
      throws: ReportError.unsafeFile(.symlink(path: final, what: "file to replace"))
    ) { try outbox.write("clear text\n", as: "CSAR-1-reveal.json") }
    #expect(Self.untouched(victim))
    var info = stat()
    #expect(lstat(final, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK)
    // Nothing else is left behind.
    let names = try FileManager.default.contentsOfDirectory(atPath: outbox.directory)
    #expect(names == ["CSAR-1-reveal.json"])
  }

  @Test func anExportIntoAPlantedSymlinkLeavesTheReportReady() throws {
    let (db, refs) = try ReportTests.withReadyReports(1)
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let victim = try Self.victim(in: temp)
    let outbox = try Outbox(directory: temp.file("outbox"))
    symlink(victim, outbox.path(refs[0] + ".json"))
    #expect(throws: ReportError.self) {
      try db.exportReadyReports(to: outbox, provider: "P", key: ReportTests.key, by: "alice")
    }
    #expect(Self.untouched(victim))
    #expect(try db.reportListings(state: .ready).map(\.caseRef) == refs)
  }

  @Test func anOutboxThatIsASymlinkOrThatOthersCanWriteIsRefused() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let real = temp.file("real")
    mkdir(real, 0o700)
    let link = temp.file("outbox")
    symlink(real, link)
    #expect(throws: ReportError.unsafeFile(.symlink(path: link, what: "outbox"))) {
      _ = try Outbox(directory: link)
    }
    chmod(real, 0o777)
    do {
      _ = try Outbox(directory: real)
      Issue.record("a world-writable outbox was accepted")
    } catch {
      #expect(error.description.contains("`chmod go-w \(real)`"))
    }
  }

  @Test func anOutboxOfAnotherAccountIsRefused() throws {
    guard geteuid() == 0 else {
      print("skipped: giving a folder to another account needs root")
      return
    }
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let folder = temp.file("theirs")
    mkdir(folder, 0o755)
    chown(folder, 65534, 65534)
    #expect(
      throws: ReportError.unsafeFile(.wrongOwner(path: folder, what: "outbox", owner: 65534))
    ) { _ = try Outbox(directory: folder) }
  }
}

/// Two exports of one database at the same time.
@Suite struct ConcurrentExportTests {
  /// The inode of each file in `folder`, by name.
  static func inodes(_ folder: String) throws -> [String: UInt64] {
    var result: [String: UInt64] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
      var info = stat()
      if lstat(folder + "/" + name, &info) == 0 { result[name] = UInt64(info.st_ino) }
    }
    return result
  }

  @Test func aSecondExportWaitsAndWritesNothingTwice() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let path = temp.file("csar.sqlite")
    let (first, refs) = try ReportTests.withReadyReports(4, path: path)
    let second = try AppDatabase.open(path: path, auditKey: temp.auditKey)
    let outbox = try Outbox(directory: temp.file("outbox"))
    let otherDone = DispatchSemaphore(value: 0)
    let other = Locked<Result<[ExportedReport], any Error>>()
    var atFirstWrite: [String: UInt64] = [:]
    var finishedMeanwhile = false
    // The first export has written its files and not marked them yet: a second export
    // starts now, in another thread with its own connection, as another process would.
    let exported = try first.exportReadyReports(
      to: outbox, provider: "P", key: ReportTests.key, by: "alice", batchSize: 100,
      beforeMarking: {
        atFirstWrite = try Self.inodes(outbox.directory)
        Thread.detachNewThread {
          let result = Result {
            try second.exportReadyReports(
              to: outbox, provider: "P", key: ReportTests.key, by: "bahar")
          }
          other.set(result)
          otherDone.signal()
        }
        // Give it the chance to write meanwhile (it must wait for this export instead).
        finishedMeanwhile = otherDone.wait(timeout: .now() + 2) == .success
      })
    if !finishedMeanwhile { otherDone.wait() }
    let secondExported = try #require(other.get()).get()
    #expect(exported.map(\.caseRef) == refs)
    #expect(secondExported.isEmpty)
    #expect(try Self.inodes(outbox.directory) == atFirstWrite, "a file was written again")
    #expect(
      try count(first, "SELECT count(*) FROM audit_event WHERE action = 'report.export'") == 4)
  }
}
