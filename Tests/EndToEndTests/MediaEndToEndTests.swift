import Foundation
import Testing

/// Hostile media paths on the real binary: FIFOs, paths outside the media roots, files
/// replaced after scanning.
@Suite("Media end to end", .serialized)
struct MediaEndToEndTests {
  typealias Fixture = DetectionCommandsEndToEndTests.Fixture

  /// A FIFO in the demo's media folder (nothing ever writes to it).
  func fifo(_ f: Fixture, _ name: String = "fifo.png") throws -> String {
    let path = f.directory + "/media/" + name
    #expect(mkfifo(path, 0o600) == 0)
    return path
  }

  @Test func hashAndScanRefuseAFIFOAtOnce() throws {
    let f = try Fixture()
    let fifo = try fifo(f)
    let hashed = try CsarBinary.run(["hash", fifo], timeout: 60)
    #expect(hashed.status == 1, "\(hashed.err)")
    #expect(hashed.err.contains("\(fifo): not a regular file (a FIFO)"), "\(hashed.err)")
    let scanned = try CsarBinary.run(["scan", "--json", "--db", f.database, fifo], timeout: 60)
    #expect(scanned.status == 1, "\(scanned.err)")
    #expect(scanned.out.contains("not a regular file (a FIFO)"), "\(scanned.out)")
  }

  @Test func theConsoleShowsAPlaceholderForAFIFOAndQuits() throws {
    let f = try Fixture()
    _ = try fifo(f)
    _ = try f.sql("UPDATE flagged_item SET media_path = 'media/fifo.png'")
    let claims = "SELECT count(*) FROM flagged_item WHERE claimed_by IS NOT NULL"
    let claimedBefore = try f.sql(claims)
    let session = try TmuxSession(width: 120, height: 40, directory: f.directory)
    try session.type("\(try CsarBinary.path) --db \(f.database); echo \"EXIT=$?\"")
    try session.send("Enter")
    try session.waitFor("Re-categorisation deadlines", timeout: 60)
    try session.send("3")
    try session.waitFor("Review queue ·", timeout: 30)
    try session.send("Enter")
    try session.waitFor("not a regular file", timeout: 30)
    try session.send("Escape")
    try session.send("q")
    try session.waitFor("EXIT=0", timeout: 30)
    // Quitting gave the item back: no claim is left behind.
    #expect(try f.sql(claims) == claimedBefore)
  }
}
