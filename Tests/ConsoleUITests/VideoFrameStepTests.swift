// Stepping through a video item's frames in the review queue: Left/Right (h/l) show one frame
// large, from the contact sheet and back, with the blur kept and every frame shown with less
// than full blur audited first.

import Foundation
import GRDB
import Store
import Terminal
import Testing

@testable import ConsoleUI

@Suite("Video frames in the review queue")
struct VideoFrameStepTests {
  /// The first item of the queue, made a video item: its media a lossless 3 s test pattern in
  /// the media folder (nil without ffmpeg).
  static func videoItem(_ fixture: ReviewFixture) throws -> Int64? {
    guard try ContactSheetTests.clip(at: fixture.folder + "/media/clip.mkv", lossless: true) != nil
    else { return nil }
    let first = try fixture.firstItemId()
    try fixture.open().writer.write {
      try $0.execute(
        sql: "UPDATE flagged_item SET media_path = 'media/clip.mkv', sha256 = NULL WHERE id = ?",
        arguments: [first])
    }
    return first
  }

  /// Records that 1.0-2.0 s of the item's video matched (vPDQ, query 100%, compared 40%).
  static func markMatched(_ fixture: ReviewFixture, item: Int64) throws {
    try fixture.open().writer.write {
      try $0.execute(
        sql: """
          INSERT INTO flagged_item_video (item_id, match, duration, frame_rate, hashed_frames,
            query_percent, compared_percent, frame, start_seconds, end_seconds)
          VALUES (?, 'vpdq', 3, 25, 3, 100, 40, 25, 1.0, 2.0)
          """, arguments: [item])
    }
  }

  static func unblurEvents(_ fixture: ReviewFixture, item: Int64) throws -> [String] {
    try fixture.open().writer.read { db in
      try String.fetchAll(
        db,
        sql: """
          SELECT details_json FROM audit_event WHERE action = 'preview.unblur'
            AND entity_id = ? ORDER BY id
          """, arguments: [String(item)])
    }
  }

  /// Before: Left and Right did nothing on a video item; only the 3x3 sheet could be seen.
  @Test func leftAndRightStepThroughTheFramesAndBackToTheSheet() throws {
    let fixture = try ReviewFixture()
    guard let item = try Self.videoItem(fixture) else { return }
    let console = try fixture.console("alice")
    console.press(.enter)
    var screen = console.render(width: 80, height: 24)
    #expect(screen.text.contains("blur ████ · grey · sheet of 9 · 320x2"), "\(screen.text)")
    #expect(screen.text.contains("←/→ frames"))
    assertSnapshot(screen, named: "review-video-sheet-80x24")
    let sheetText = screen.text

    console.press(.right)
    screen = console.render(width: 80, height: 24)
    #expect(screen.text.contains("blur ████ · grey · frame 1/25 0.0 s"), "\(screen.text)")
    assertSnapshot(screen, named: "review-video-frame1-80x24")
    // The picture differs, not only the title.
    let rows = { (text: String) in text.split(separator: "\n").dropFirst(9).joined() }
    #expect(rows(screen.text) != rows(sheetText), "a frame is drawn, not the sheet")

    console.press(.character("l"))
    #expect(console.shows("frame 2/25 0.1 s"))
    console.press(.character("h"), .left)
    #expect(console.shows("sheet of 9"))
    console.press(.left)
    #expect(console.shows("This is the contact sheet; → steps through the frames"))
    // Fully blurred and grey, frames are shown without an audit event (as the sheet is).
    #expect(try Self.unblurEvents(fixture, item: item).isEmpty)

    // Less blur: that step is audited, and so is every frame shown so, with its number.
    console.press(.character("-"), .right, .right)
    #expect(console.shows("blur ███░"), "the blur stays as the reviewer set it")
    let events = try Self.unblurEvents(fixture, item: item)
    #expect(events.count == 3, "\(events)")
    #expect(events.dropFirst().map { $0.contains("\"frame\":0") || $0.contains("\"frame\":3") }
      == [true, true], "\(events)")
    console.press(.left, .left)
    let last = try Self.unblurEvents(fixture, item: item).last
    #expect(last?.contains("\"frame\":\"sheet\"") == true)

    // To the last frame and no further; zoomed, the same keys and the same title.
    for _ in 0..<30 { console.press(.right) }
    #expect(console.shows("frame 25/25 2.9 s"))
    #expect(console.shows("The last frame (25 of 25); ← goes back"))
    console.press(.character("z"))
    #expect(console.shows("Item \(item) · Preview · blur ███░ · grey · frame 25/25 2.9 s"))
    console.press(.left)
    #expect(console.shows("frame 24/25 2.8 s"))
    #expect(console.shows("←/→ frames"))
  }

  /// The matched segment on the sheet at 80x24 in monochrome: ► on the tiles that show it,
  /// and the range with its length and frame count in the item pane.
  @Test func theMatchedSegmentIsMarkedOnTheSheet() throws {
    let fixture = try ReviewFixture()
    guard let item = try Self.videoItem(fixture) else { return }
    try Self.markMatched(fixture, item: item)
    let console = try fixture.console("alice")
    console.press(.enter)
    let screen = console.render(width: 80, height: 24)
    assertSnapshot(screen, named: "review-video-matched-80x24")
    // Tiles at 1.08, 1.44 and 1.8 s lie in 1.0-2.0 s.
    for tile in 4...6 { #expect(screen.text.contains("►\(tile)"), "\(screen.text)") }
    #expect(!screen.text.contains("►3") && !screen.text.contains("►7"))
    #expect(screen.text.contains("1.0-2.0 s (1.0 s,"), "\(screen.text)")
    let matched = "1.0-2.0 s (1.0 s, 26 frames) · ► tiles 4-6 · vPDQ q 100% c 40%"
    #expect(console.shows(matched, width: 160))
    // Narrower, the line wraps once.
    #expect(console.shows(String(matched.dropLast(6))))
    #expect(console.shows("3.0 s · 75 frames · 25 fps"))
  }

  /// Before: at 80x24 a video item's extra rows (its length, what matched, a note) pushed the
  /// decision keys out of the item pane's left column. Now they keep their rows, and every
  /// detail keeps its label.
  @Test func theDecisionKeysStayInViewAt80x24() throws {
    let fixture = try ReviewFixture()
    guard let item = try Self.videoItem(fixture) else { return }
    try Self.markMatched(fixture, item: item)
    let console = try fixture.console("alice")
    console.press(.enter)
    let labels = ["Kind", "Evidence", "Service", "Account", "Flagged", "Video", "Matched"]
    func check(_ what: String, labels: [String]) {
      let rows = console.render(width: 80, height: 24).text.split(separator: "\n")
      // The item pane's left column: after the frame's edge, up to the preview's frame.
      let column = rows.dropFirst(7).prefix(15).map { $0.dropFirst().prefix(25) }
      let text = column.joined(separator: "\n")
      for keys in QueueScreen.keyHelp.prefix(QueueScreen.decisionKeyRows) {
        #expect(text.contains(keys), "\(what): \(keys) is not in view:\n\(text)")
      }
      for label in labels {
        #expect(column.contains { $0.hasPrefix(label) }, "\(what): no \(label):\n\(text)")
      }
    }
    check("a matched video", labels: labels)
    #expect(console.shows("1.0-2.0 s", width: 80, height: 24))
    console.press(.character("m"))
    console.type("asked a lead")
    console.press(.enter)
    check("with a note", labels: labels + ["Note"])
    #expect(console.shows("asked a lead", width: 80, height: 24))
    // Shorter still, the decisions keep their rows before any detail or preview key.
    let short = console.render(width: 80, height: 18).text
    for keys in QueueScreen.keyHelp.prefix(QueueScreen.decisionKeyRows) {
      #expect(short.contains(keys), "80x18: \(keys) is not in view:\n\(short)")
    }
  }

  /// Before: the console decoded previews under its own fixed caps, whatever the config said.
  /// Now `video_max_*` applies there too (decoding held to at most 20 s).
  @Test func theConfigsVideoCapsApplyToThePreview() throws {
    let fixture = try ReviewFixture()
    guard try Self.videoItem(fixture) != nil else { return }
    let configuration = try ConsoleUI.Configuration.parse(
      "video_max_pixels = 1000\nvideo_max_decode_seconds = 600\n", file: "config.toml")
    #expect(configuration.video.previewLimits.maxPixels == 1000)
    #expect(configuration.video.previewLimits.maxDecodeSeconds == 20)
    #expect(configuration.video.limits.maxDecodeSeconds == 600)
    let console = try fixture.console("alice", configuration: configuration)
    console.press(.enter)
    #expect(
      console.shows(
        "frames are 320x240 (76800 pixels), over the limit of 1000 pixels", width: 300))
  }

  /// `animation_max_frames` caps the frames an animation item shows, as it caps the scan's.
  @Test func theConfigsAnimationCapAppliesToThePreview() throws {
    let fixture = try ReviewFixture()
    let first = try fixture.firstItemId()
    try FileManager.default.copyItem(
      atPath: ContactSheetTests.fixtures + "/animated.gif",
      toPath: fixture.folder + "/media/animated.gif")
    try fixture.open().writer.write {
      try $0.execute(
        sql: """
          UPDATE flagged_item SET media_path = 'media/animated.gif', sha256 = NULL WHERE id = ?
          """, arguments: [first])
    }
    let uncapped = try fixture.console("alice")
    uncapped.press(.enter)
    #expect(uncapped.shows("GIF animation · 3 frames", width: 200))
    uncapped.press(.escape)
    let configuration = try ConsoleUI.Configuration.parse(
      "animation_max_frames = 2\n", file: "config.toml")
    let capped = try fixture.console("alice", configuration: configuration)
    capped.press(.enter)
    #expect(capped.shows("GIF animation · 2+ frames", width: 200))
    #expect(capped.shows("GIF · 2+ frames"))
    capped.press(.right, .right, .right)
    #expect(capped.shows("frame 2/2"))
  }

  /// A frame is an exposure like a step clearer: when its audit event cannot be written, the
  /// frame before stays on screen.
  @Test func aFrameWhoseAuditFailsIsNotShown() throws {
    let fixture = try ReviewFixture()
    guard try Self.videoItem(fixture) != nil else { return }
    let console = try fixture.console("alice")
    console.press(.enter, .character("-"), .right)
    #expect(console.shows("frame 1/25"))
    try fixture.open().writer.write {
      try $0.execute(sql: "UPDATE operator SET disabled_at = 1 WHERE name = 'alice'")
    }
    console.press(.right)
    #expect(console.shows("Frame not shown: the audit log could not be written"))
    #expect(console.shows("frame 1/25"))
  }

  @Test func aPictureHasNoFramesAndHelpListsTheKeys() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    console.press(.enter, .right)
    #expect(console.shows("is a still picture: ←/→ step through videos and animations"))
    console.press(.character("?"))
    let help = (0..<12).map { _ -> String in
      defer { console.press(.character("j")) }
      return console.render(width: 120, height: 40).text
    }.joined()
    #expect(help.contains("Video or animation: next frame, shown large"), "\(help)")
    #expect(help.contains("→/l"), "\(help)")
    #expect(help.contains("←/h"), "\(help)")
  }
}
