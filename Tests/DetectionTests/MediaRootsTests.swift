import Foundation
import Testing

@testable import Imaging

/// The media roots find the database's folder with the String helper: NSString's
/// `deletingLastPathComponent` trapped on a one-part path returned by an earlier path call.
@Suite("Media roots beside a database given by a one-part path")
struct MediaRootsTests {
  @Test func aDatabaseNamedByAOnePartPathFromAnEarlierCallGetsRoots() {
    let cwd = FileManager.default.currentDirectoryPath
    let onePart = ("d/demo.sqlite" as NSString).deletingLastPathComponent
    #expect(onePart == "d")
    let roots = MediaRoots(databasePath: onePart)
    #expect(roots.folders == [cwd + "/media"])
    #expect(MediaRoots(databasePath: "d/demo.sqlite").folders == [cwd + "/d/media"])
    #expect(MediaRoots(databasePath: "/srv/csar/csar.sqlite").folders == ["/srv/csar/media"])
  }
}
