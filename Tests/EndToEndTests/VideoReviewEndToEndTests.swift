// A video item in the real console, in tmux: it opens as a blurred grey contact sheet with
// the video's duration, frame count and what matched; unblurring is audited as for pictures,
// and so is every frame stepped to with Left/Right.

import Foundation
import Testing

@Suite("Video review end to end (tmux)", .serialized)
struct VideoReviewEndToEndTests {
  typealias Fixture = DetectionCommandsEndToEndTests.Fixture

  /// A demo with a known video in bank `videos` and the same video scanned for an account:
  /// the item it made (nil without ffmpeg).
  static func videoItem() throws -> (Fixture, Int)? {
    let f = try Fixture()
    guard let clip = try VideoCommandsEndToEndTests.clip(f) else { return nil }
    let file = try f.write("pattern.txt", try VideoBankEndToEndTests.sampleHashes(of: clip))
    #expect(try f.csar("bank", "import", "videos", file).status == 0)
    let (account, service) = try f.account("granted")
    let scan = try f.csar("scan", "--account", account, "--service", service, "--json", clip)
    let item = try #require(f.json(scan.out).first?["item"] as? Int, "\(scan.out) \(scan.err)")
    return (f, item)
  }

  /// The console in tmux (`environment` before the command, `options` after it), the video
  /// item open.
  static func openItem(
    _ item: Int, _ f: Fixture, width: Int, height: Int, environment: String = "",
    options: String = ""
  ) throws -> TmuxSession {
    let session = try TmuxSession(width: width, height: height, directory: f.directory)
    try session.type(
      "\(environment) \(try CsarBinary.path) --db \(f.database) \(options); echo \"EXIT=$?\"")
    try session.send("Enter")
    try session.waitFor("Re-categorisation deadlines", timeout: 60)
    try session.send("3")
    try session.waitFor("Review queue ·")
    try session.send("/")
    try session.type("bank=videos")
    try session.send("Enter")
    try session.waitFor("bank=videos")
    try session.send("Enter")
    try session.waitFor("Item \(item) · claimed until", timeout: 30)
    return session
  }

  /// The Linux console (8 colours, no underline on colour) at 80x24: the marks are text, so
  /// they show there as anywhere.
  @Test func theMatchedTilesAreMarkedOnTheLinuxConsole() throws {
    guard let (f, item) = try Self.videoItem() else { return }
    let session = try Self.openItem(item, f, width: 80, height: 24, environment: "TERM=linux")
    let pane = try session.waitFor("►6", "►1", timeout: 30)
    #expect(!pane.contains("►7"), "\(pane)")
    try session.waitFor("► tiles 1-6")
    try session.send("Right")
    try session.waitFor("► matched")
    try session.send("Escape")
    try session.send("q")
    try session.waitFor("EXIT=0", timeout: 30)
  }

  /// Before: the console decoded a video item under fixed caps, whatever `video_max_*` in the
  /// config said. Now the config's caps apply to the preview.
  @Test func theConfigsVideoCapsApplyInTheConsole() throws {
    guard let (f, item) = try Self.videoItem() else { return }
    let config = try f.write("capped.toml", "video_max_frames = 40\n")
    let session = try Self.openItem(
      item, f, width: 200, height: 40, options: "--config \(config)")
    try session.waitFor("the video declares 75 frames, over", timeout: 30)
    try session.send("Escape")
    try session.send("q")
    try session.waitFor("EXIT=0", timeout: 30)
  }

  @Test func aVideoItemOpensAsABlurredContactSheet() throws {
    guard let (f, item) = try Self.videoItem() else { return }
    let session = try Self.openItem(item, f, width: 120, height: 40)
    // What the operator sees: the sheet's facts in the title, the match in the item pane,
    // fully blurred and grey.
    let pane = try session.waitFor(
      "sheet of 9 · 320x240 · video 3.0 s", "blur ████ · grey", timeout: 30)
    // The video's length and frames, and the matched segment, marked on the sheet's tiles.
    try session.waitFor("3.0 s · 75 frames · 25 fps")
    try session.waitFor("0.0-2.0 s (2.0 s, 51 frames) · ► tiles 1-6 · vPDQ q 100% c ")
    try session.waitFor("►6")
    // Picture cells, not a placeholder.
    #expect(!pane.contains("No preview"), "\(pane)")
    #expect(pane.contains("▀") || pane.contains("▄"), "\(pane)")

    // One step clearer is audited before it is shown; zoom keeps the same rules.
    try session.send("-")
    try session.waitFor("blur ███░")
    try session.send("z")
    try session.waitFor("Item \(item) · Preview · blur ███░")
    try session.send("z")
    let events = try f.sql(
      "SELECT count(*) FROM audit_event WHERE entity_id = '\(item)' AND action LIKE 'preview.%'")
    #expect(Int(events) ?? 0 >= 1, "unblurring a video item is audited")

    // Right/Left (and l/h) step through the frames, one shown large, and back to the sheet;
    // each frame shown with less blur is audited with its number.
    try session.waitFor("←/→ frames")
    try session.send("Right")
    try session.waitFor("blur ███░ · grey · frame 1/25 0.0 s")
    try session.send("l")
    try session.waitFor("frame 2/25 0.1 s")
    try session.send("h")
    try session.waitFor("frame 1/25 0.0 s")
    try session.send("Left")
    try session.waitFor("blur ███░ · grey · sheet of 9")
    let frames = try f.sql(
      """
      SELECT group_concat(json_extract(details_json, '$.after.frame'), ',') FROM audit_event
      WHERE entity_id = '\(item)' AND action = 'preview.unblur'
        AND json_extract(details_json, '$.after.frame') IS NOT NULL
      """)
    #expect(frames == "0,3,0,sheet", "\(frames)")
    try session.send("Escape")
    try session.send("q")
    try session.waitFor("EXIT=0", timeout: 30)
  }
}
