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

  @Test func flagsNamingFilesOutsideTheMediaRootsAreBadLines() throws {
    let f = try Fixture()
    let (account, service) = try f.account("granted")
    let who = #""account":"\#(account)","service":"\#(service)","model":"nm","score":0.9"#
    let file = try f.write(
      "flags.jsonl",
      """
      {\(who),"media":"/etc/shadow"}
      {\(who),"media":"\(f.database)"}
      {\(who),"media":"media/2.png"}
      """)
    let refused = try f.csar("flags", "import", file)
    #expect(refused.status != 0)
    let roots = "(\(f.directory)/media)"
    let first = "\(file):1: media path \"/etc/shadow\" is outside the media roots \(roots)"
    #expect(refused.err.contains(first), "\(refused.err)")
    #expect(refused.err.contains("\(file):2: media path \"\(f.database)\" is outside"))
    #expect(!refused.err.contains("\(file):3:"))
    let imported = try f.csar("flags", "import", file, "--skip-invalid")
    #expect(imported.status == 0, "\(imported.err)")
    let recorded = try f.sql(
      "SELECT sha256 FROM flagged_item WHERE media_path = 'media/2.png' ORDER BY id DESC LIMIT 1")
    let hashed = try CsarBinary.run(["hash", "--json", f.media(2)])
    #expect(f.json(hashed.out).first?["sha256"] as? String == recorded)
  }
}
