import Foundation
import Testing

@testable import TestSupport

/// The tests' scratch folders: all inside one folder of the test process, and the folders of
/// runs that ended without removing theirs are removed by the next run.
@Suite("Scratch space")
struct ScratchSpaceTests {
  @Test func everyFolderAndPathIsInsideTheProcesssOwnFolder() throws {
    let root = try ScratchSpace.root
    #expect(root.hasPrefix(NSTemporaryDirectory() + "csar-tests-\(getpid())-"))
    let first = try ScratchSpace.folder("a")
    let second = try ScratchSpace.folder("a")
    #expect(first != second)
    for path in [first, second, try ScratchSpace.path("x.jpg")] {
      #expect(path.hasPrefix(root + "/"), "\(path)")
    }
    var isFolder: ObjCBool = false
    #expect(FileManager.default.fileExists(atPath: first, isDirectory: &isFolder))
    #expect(isFolder.boolValue)
    // Others may pass through it (a test may run a command as another OS account).
    let mode = try FileManager.default.attributesOfItem(atPath: root)[.posixPermissions] as? Int
    #expect(mode == 0o755)
  }

  @Test func theFolderOfARunThatEndedIsRemovedAndOneOfARunningProcessIsKept() throws {
    let ended = Process()
    ended.executableURL = URL(fileURLWithPath: "/bin/true")
    try ended.run()
    ended.waitUntilExit()
    let temporary = NSTemporaryDirectory()
    let left = temporary + "csar-tests-\(ended.processIdentifier)-Left01"
    let running = temporary + "csar-tests-\(getpid())-Other1"
    defer { try? FileManager.default.removeItem(atPath: running) }
    for folder in [left, running] {
      try FileManager.default.createDirectory(
        atPath: folder + "/e2e-1/media", withIntermediateDirectories: true)
      _ = FileManager.default.createFile(
        atPath: folder + "/e2e-1/demo.sqlite", contents: Data([1]))
    }
    ScratchSpace.removeFoldersOfEndedRuns()
    #expect(!FileManager.default.fileExists(atPath: left))
    #expect(FileManager.default.fileExists(atPath: running + "/e2e-1/demo.sqlite"))
    #expect(FileManager.default.fileExists(atPath: try ScratchSpace.root))
  }
}
