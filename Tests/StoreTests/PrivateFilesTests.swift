import Foundation
import Testing

@testable import Store

/// The mode bits of `path` (not following a symlink).
func fileMode(_ path: String) -> mode_t {
  var info = stat()
  guard lstat(path, &info) == 0 else { return 0 }
  return info.st_mode & 0o7777
}

/// The group of `path`.
func fileGroup(_ path: String) -> gid_t {
  var info = stat()
  guard lstat(path, &info) == 0 else { return gid_t.max }
  return info.st_gid
}

/// The umask most systems start with: group and others may read what is created.
func looseUmask() { umask(0o022) }

/// A value set on one thread and read on another.
final class Locked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value?

  func set(_ newValue: Value) { lock.withLock { value = newValue } }
  func get() -> Value? { lock.withLock { value } }
}

/// A group other than root's for team-folder tests (`users`, gid 100, on Debian).
let teamGid: gid_t = 100

@Suite struct PrivateFilesTests {
  @Test func foldersAndFilesArePrivateWhateverTheUmask() throws {
    looseUmask()
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let folder = temp.file("a/b/data")
    #expect(try PrivateFiles.makeFolder(folder) == .owner)
    #expect(fileMode(folder) == 0o700)
    #expect(fileMode(temp.file("a")) == 0o700)
    let file = folder + "/x"
    #expect(try PrivateFiles.createEmptyFile(file))
    #expect(fileMode(file) == 0o600)
    #expect(try PrivateFiles.createEmptyFile(file) == false)
    try PrivateFiles.writeAtomically("hello\n", to: folder + "/anchor")
    #expect(fileMode(folder + "/anchor") == 0o600)
    #expect(try PrivateFiles.readPrivate(folder + "/anchor", what: "anchor")
      == Array("hello\n".utf8))
  }

  @Test func folderOfRelativeAndOddPaths() {
    // A one-part folder that an earlier call returned (`--db d/csar.sqlite`) used to trap
    // in Foundation's deletingLastPathComponent.
    #expect(PrivateFiles.folder(of: PrivateFiles.folder(of: "d/csar.sqlite")) == ".")
    #expect(PrivateFiles.folder(of: "d/csar.sqlite") == "d")
    #expect(PrivateFiles.folder(of: "csar.sqlite") == ".")
    #expect(PrivateFiles.folder(of: "/csar.sqlite") == "/")
    #expect(PrivateFiles.folder(of: "/srv//csar/csar.sqlite") == "/srv//csar")
    #expect(PrivateFiles.folder(of: "/srv/csar//data/") == "/srv/csar")
    #expect(PrivateFiles.folder(of: "a/b/c") == "a/b")
  }

  @Test func aTeamFolderIsSetgidAndItsFilesGroupReadable() throws {
    guard geteuid() == 0 else {
      print("skipped: giving a folder to another group needs root")
      return
    }
    looseUmask()
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let folder = temp.file("team")
    try PrivateFiles.makeFolder(folder, sharing: .group(teamGid))
    #expect(fileMode(folder) == 0o2770)
    #expect(fileGroup(folder) == teamGid)
    #expect(FileSharing.of(folder: folder) == .group(teamGid))
    // A folder made inside it (anchors, media) is the team's too.
    #expect(try PrivateFiles.makeFolder(folder + "/anchors") == .group(teamGid))
    #expect(fileMode(folder + "/anchors") == 0o2770)
    #expect(fileGroup(folder + "/anchors") == teamGid)
    let file = folder + "/csar.sqlite"
    try PrivateFiles.createEmptyFile(file)
    #expect(fileMode(file) == 0o660)
    #expect(fileGroup(file) == teamGid)
    try PrivateFiles.checkFile(file, what: "database")
    // A key may be read by the team, never written.
    #expect(throws: PrivateFileError.self) {
      try PrivateFiles.checkFile(file, what: "provider key", groupMayWrite: false)
    }
    chmod(file, 0o640)
    try PrivateFiles.checkFile(file, what: "provider key", groupMayWrite: false)
    try PrivateFiles.checkFolder(folder, what: "data folder")
  }

  @Test func aFileOthersCanReadIsRefusedNamingTheChmod() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let file = temp.file("csar.sqlite")
    _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
    chmod(file, 0o644)
    do {
      try PrivateFiles.checkFile(file, what: "database")
      Issue.record("a 0644 database was accepted")
    } catch {
      #expect(error == .tooOpen(path: file, what: "database", mode: 0o644, fix: 0o600))
      #expect(error.description.contains("`chmod 600 \(file)`"))
    }
    // Group access outside a team folder is refused too.
    chmod(file, 0o640)
    #expect(throws: PrivateFileError.self) { try PrivateFiles.checkFile(file, what: "database") }
    chmod(file, 0o600)
    #expect(try PrivateFiles.checkFile(file, what: "database"))
    #expect(try PrivateFiles.checkFile(temp.file("missing"), what: "database") == false)
  }

  @Test func aFileOfAnotherAccountIsRefused() throws {
    guard geteuid() == 0 else {
      print("skipped: giving a file to another account needs root")
      return
    }
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let file = temp.file("csar.key")
    try PrivateFiles.createEmptyFile(file)
    chown(file, 65534, 65534)
    #expect(throws: PrivateFileError.wrongOwner(path: file, what: "key", owner: 65534)) {
      try PrivateFiles.checkFile(file, what: "key")
    }
  }

  @Test func aFolderOthersCanWriteIsRefused() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let folder = temp.file("shared")
    mkdir(folder, 0o777)
    chmod(folder, 0o777)
    do {
      try PrivateFiles.checkFolder(folder, what: "outbox")
      Issue.record("a world-writable folder was accepted")
    } catch {
      #expect(error.description.contains("`chmod go-w \(folder)`"))
    }
    chmod(folder, 0o1777)
    #expect(throws: PrivateFileError.self) { try PrivateFiles.checkFolder(folder, what: "x") }
    chmod(folder, 0o775)
    #expect(throws: PrivateFileError.self) { try PrivateFiles.checkFolder(folder, what: "x") }
    chmod(folder, 0o755)
    try PrivateFiles.checkFolder(folder, what: "x")
    let link = temp.file("link")
    symlink(folder, link)
    try PrivateFiles.checkFolder(link, what: "x")
    #expect(throws: PrivateFileError.symlink(path: link, what: "outbox")) {
      try PrivateFiles.checkFolder(link, what: "outbox", mayBeSymlink: false)
    }
  }

  @Test func atomicWritesNeverFollowASymlink() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let victim = temp.file("victim")
    _ = FileManager.default.createFile(atPath: victim, contents: Data("mine".utf8))
    let anchor = temp.file("anchor")
    symlink(victim, anchor)
    #expect(throws: PrivateFileError.symlink(path: anchor, what: "file to replace")) {
      try PrivateFiles.writeAtomically("evil", to: anchor)
    }
    #expect(try String(contentsOfFile: victim, encoding: .utf8) == "mine")
    #expect(throws: PrivateFileError.symlink(path: anchor, what: "anchor")) {
      _ = try PrivateFiles.readPrivate(anchor, what: "anchor")
    }
    // Creating never opens what is there, file or symlink.
    #expect(throws: PrivateFileError.exists(path: anchor)) {
      _ = try PrivateFiles.createFile(anchor)
    }
    #expect(try String(contentsOfFile: victim, encoding: .utf8) == "mine")
    // No temporary is left behind.
    let names = try FileManager.default.contentsOfDirectory(atPath: temp.path)
    #expect(names.sorted() == ["anchor", "victim"])
  }

  @Test func readingRefusesASymlinkAndAnOpenFile() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let real = temp.file("real")
    try PrivateFiles.writeAtomically("k", to: real)
    let link = temp.file("link")
    symlink(real, link)
    #expect(throws: PrivateFileError.symlink(path: link, what: "key")) {
      _ = try PrivateFiles.readPrivate(link, what: "key")
    }
    chmod(real, 0o604)
    #expect(throws: PrivateFileError.self) { _ = try PrivateFiles.readPrivate(real, what: "key") }
  }

  /// Before, a folder where no file could be made was reported under the temporary file's
  /// random name (`.x.anchor.k3j9.123.tmp`), which the operator never saw and cannot fix.
  @Test func aTemporaryThatCannotBeCreatedIsReportedUnderTheFinalFileAndItsFolder() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let missing = folder.file("gone")
    let final = missing + "/x.anchor"
    do {
      try PrivateFiles.writeAtomically("text\n", to: final)
      Issue.record("written into a folder that does not exist")
    } catch {
      #expect(error.path == final)
      #expect(
        error.description
          == "\(final): cannot create a file in its folder \(missing): No such file or directory")
    }
  }
}

@Suite struct DatabaseFilesTests {
  @Test func theDatabaseItsJournalsAndFolderArePrivateUnderALooseUmask() throws {
    looseUmask()
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let path = temp.file("data/csar.sqlite")
    let db = try AppDatabase.open(path: path, auditKey: temp.auditKey)
    try db.ensureOperator(name: "alice", role: .reviewer)
    #expect(fileMode(temp.file("data")) == 0o700)
    for file in [path, path + "-wal", path + "-shm"] {
      #expect(FileManager.default.fileExists(atPath: file))
      #expect(fileMode(file) == 0o600, "\(file)")
    }
  }

  @Test func aDatabaseOthersCanReadIsRefusedNamingTheChmod() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let path = temp.file("csar.sqlite")
    _ = try AppDatabase.open(path: path)
    chmod(path, 0o644)
    do {
      _ = try AppDatabase.open(path: path)
      Issue.record("a 0644 database was opened")
    } catch let error as StoreError {
      #expect(
        error == .unsafeFile(.tooOpen(path: path, what: "database", mode: 0o644, fix: 0o600)))
      #expect(error.description.contains("`chmod 600 \(path)`"))
    }
    // Its journals too, all named in one command.
    let db = try { () throws -> AppDatabase in
      chmod(path, 0o600)
      return try AppDatabase.open(path: path, auditKey: temp.auditKey)
    }()
    try db.ensureOperator(name: "alice", role: .reviewer)
    for file in [path] + AppDatabase.journalPaths(of: path) { chmod(file, 0o664) }
    #expect(throws: StoreError.unsafeFile(.filesTooOpen(
      paths: [path] + AppDatabase.journalPaths(of: path), fix: 0o600))
    ) {
      _ = try AppDatabase.open(path: path)
    }
  }

  @Test func aDatabaseInAFolderOthersCanWriteIsRefused() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let folder = temp.file("shared")
    mkdir(folder, 0o700)
    chmod(folder, 0o1777)
    #expect(throws: StoreError.self) { _ = try AppDatabase.open(path: folder + "/csar.sqlite") }
    #expect(!FileManager.default.fileExists(atPath: folder + "/csar.sqlite"))
  }

  @Test func aTeamDatabaseIsGroupShared() throws {
    guard geteuid() == 0 else {
      print("skipped: giving a folder to another group needs root")
      return
    }
    looseUmask()
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let folder = temp.file("team")
    try PrivateFiles.makeFolder(folder, sharing: .group(teamGid))
    let path = folder + "/csar.sqlite"
    let db = try AppDatabase.open(path: path, auditKey: temp.auditKey)
    try db.ensureOperator(name: "alice", role: .reviewer)
    for file in [path, path + "-wal", path + "-shm"] {
      #expect(fileMode(file) == 0o660, "\(file)")
      #expect(fileGroup(file) == teamGid, "\(file)")
    }
  }
}
