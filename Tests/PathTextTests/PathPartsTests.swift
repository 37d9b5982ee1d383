import Foundation
import Testing

@testable import PathText

/// The one "folder of a path" helper, against what NSString's `deletingLastPathComponent`
/// answered where it did not trap.
@Suite("Folder of a path")
struct PathPartsTests {
  @Test func parentsAndFolders() {
    #expect(PathParts.parent(of: "d/csar.sqlite") == "d")
    #expect(PathParts.parent(of: "csar.sqlite") == "")
    #expect(PathParts.folder(of: "csar.sqlite") == ".")
    #expect(PathParts.parent(of: "/csar.sqlite") == "/")
    #expect(PathParts.parent(of: "/") == "/")
    #expect(PathParts.parent(of: "") == "")
    #expect(PathParts.parent(of: "/srv//csar/csar.sqlite") == "/srv//csar")
    #expect(PathParts.parent(of: "/srv/csar//data/") == "/srv/csar")
    #expect(PathParts.parent(of: "a/b/c") == "a/b")
    #expect(PathParts.parent(of: "/srv/media/../x.png") == "/srv/media/..")
    #expect(PathParts.name(of: "/srv/csar/csar.sqlite") == "csar.sqlite")
    #expect(PathParts.name(of: "csar.sqlite") == "csar.sqlite")
    #expect(PathParts.name(of: "d/data/") == "data")
  }

  /// A one-part string returned by an earlier path call: NSString's
  /// `deletingLastPathComponent` trapped on it (`--db d/demo.sqlite`).
  @Test func aOnePartFolderFromAnEarlierCallHasNoParent() {
    let first = PathParts.parent(of: "d/demo.sqlite")
    #expect(first == "d")
    #expect(PathParts.parent(of: first) == "")
    #expect(PathParts.folder(of: PathParts.folder(of: "d/demo.sqlite")) == ".")
    let fromFoundation = ("d/demo.sqlite" as NSString).deletingLastPathComponent
    #expect(PathParts.folder(of: fromFoundation) == ".")
  }
}
