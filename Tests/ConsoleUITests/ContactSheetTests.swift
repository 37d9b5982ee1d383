// A video item's preview: a contact sheet of evenly spaced frames, decoded at open time,
// blurred and grey like any picture; a damaged video gets a placeholder naming the file.

import Foundation
import Imaging
import Store
import Terminal
import Testing
import TestSupport

@testable import ConsoleUI

@Suite struct ContactSheetTests {
  /// A 3 s 320x240 test pattern at 25 frames/s made with the ffmpeg CLI (H.264 in MP4, or
  /// lossless FFV1 in Matroska, whose decoded pixels never depend on an encoder's choices);
  /// nil without ffmpeg.
  static func clip(at given: String? = nil, lossless: Bool = false) throws -> String? {
    let path: String
    if let given {
      path = given
    } else {
      let dir = try ScratchSpace.folder("sheet")
      path = dir + (lossless ? "/clip.mkv" : "/clip.mp4")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments =
      [
        "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
        "testsrc2=size=320x240:rate=25:duration=3",
      ]
      + (lossless
        ? ["-c:v", "ffv1", "-pix_fmt", "yuv420p"]
        : ["-c:v", "libx264", "-pix_fmt", "yuv420p"]) + [path]
    process.standardInput = FileHandle.nullDevice
    guard (try? process.run()) != nil else {
      print("skipped: ffmpeg is not installed")
      return nil
    }
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      print("skipped: ffmpeg could not make the clip")
      return nil
    }
    return path
  }

  static func roots(_ path: String) -> MediaRoots {
    MediaRoots(
      configured: [(path as NSString).deletingLastPathComponent], databasePath: ":memory:")
  }

  @Test func nineEvenlySpacedFramesInAGrid() throws {
    guard let path = try Self.clip() else { return }
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let sheet = try #require(try ContactSheet.video(bytes: bytes, name: path))
    #expect(sheet.tiles.map(\.frame) == [0, 9, 18, 27, 36, 45, 54, 63, 72])
    // The frames to step through: every third of the 75, the tiles among them.
    #expect(sheet.frames.map(\.number) == Array(stride(from: 0, through: 72, by: 3)))
    #expect(sheet.frames.allSatisfy { $0.image.width == 320 && $0.image.height == 240 })
    #expect(sheet.position(of: 3) == "frame 4/25 0.4 s")
    #expect(sheet.image.width <= 480 && sheet.image.height <= 480)
    #expect(sheet.image.width == 3 * 158 + 2 * 2)
    #expect(sheet.summary == "video 3.0 s · 75 frames")
    // Tiles differ: the sheet shows frames from across the video, not one frame nine times.
    let first = Array(sheet.image.pixels.prefix(158 * 3))
    let middle = (118 + 2) * sheet.image.width * 3 + (158 + 2) * 3
    #expect(first != Array(sheet.image.pixels[middle..<middle + 158 * 3]))
    // A picture is not a video.
    let png = try ImageEncoder.encodePNG(RGBImage(width: 8, height: 8, red: 9))
    #expect(try ContactSheet.video(bytes: png, name: "p.png") == nil)
  }

  /// The preview of the clip as an item whose first 2 s matched a known video by vPDQ (nil
  /// without ffmpeg).
  static func matchedPreview() throws -> ItemPreview? {
    guard let path = try clip() else { return nil }
    let match = FlaggedVideoMatch(
      kind: .vpdq, duration: 3, frameRate: 25, hashedFrames: 3, bankVideoId: 1,
      queryPercent: 100, comparedPercent: 12, frame: 0, startSeconds: 0, endSeconds: 2)
    return ItemPreview(
      itemId: 7, mediaPath: path, url: nil, databasePath: ":memory:", roots: roots(path),
      videoMatch: match)
  }

  /// Before: a video item showed "No preview: ... not a PNG or JPEG". Now it opens as a
  /// contact sheet, fully blurred and grey, and one step clearer works as for pictures.
  @Test func aVideoItemOpensBlurredAndGreyWithWhatMatched() throws {
    guard let preview = try Self.matchedPreview() else { return }
    #expect(preview.placeholder == nil)
    #expect(preview.blur == .fullyBlurred && !preview.colour)
    #expect(preview.originalSize?.width == 320)
    #expect(
      preview.videoMatchText
        == "0.0-2.0 s (2.0 s, 51 frames) · ► tiles 1-6 · vPDQ q 100% c 12%")
    var screen = Screen(width: 40, height: 14)
    preview.draw(
      in: Rect(x: 0, y: 0, width: 40, height: 14), on: &screen, depth: .trueColor,
      theme: try Theme.load(nameOrPath: "default"))
    let cells = (0..<14).flatMap { y in (0..<40).map { screen[$0, y] } }
    #expect(cells.filter(\.style.isImage).count > 100, "a picture is drawn")
    #expect(preview.clearer())
  }

  /// Before: the item pane named the matched tiles but nothing on the sheet showed them. Now
  /// each tile carries its number and the matched ones a ►, in text cells that read the same
  /// in monochrome; a frame of the segment, stepped to, says "► matched".
  @Test func theMatchedTilesAndFramesAreMarked() throws {
    guard let preview = try Self.matchedPreview() else { return }
    #expect(preview.matchedTiles == Set(0..<6))
    func text() throws -> String {
      var screen = Screen(width: 40, height: 14)
      preview.draw(
        in: Rect(x: 0, y: 0, width: 40, height: 14), on: &screen, depth: .monochrome,
        theme: try Theme.load(nameOrPath: "mono"))
      return screen.text
    }
    let sheet = try text()
    for tile in 1...6 { #expect(sheet.contains("►\(tile)"), "\(sheet)") }
    for tile in 7...9 {
      #expect(sheet.contains("\(tile)") && !sheet.contains("►\(tile)"), "\(sheet)")
    }
    #expect(preview.step(by: 1))
    #expect(try text().contains("► matched"), "frame 1 at 0.0 s is in the segment")
    for _ in 0..<24 { _ = preview.step(by: 1) }
    #expect(preview.framePosition == "frame 25/25 2.9 s")
    #expect(!(try text().contains("►")), "2.9 s is after the segment")
  }

  /// One frame that matched an image bank: the frame kept nearest to it is marked, and the
  /// pane names the nearest tile when no tile shows it.
  @Test func aFrameMatchMarksTheNearestFrame() throws {
    guard let path = try Self.clip() else { return }
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let sheet = try #require(try ContactSheet.video(bytes: bytes, name: path))
    let match = FlaggedVideoMatch(
      kind: .framePDQ, duration: 3, frameRate: 25, frame: 50, startSeconds: 2, endSeconds: 2)
    #expect(sheet.matchedFrames(2...2) == [17], "frame 51 at 2.04 s is the nearest kept")
    #expect(sheet.matchedTiles(2...2).isEmpty)
    #expect(
      ContactSheet.describe(match, sheet: sheet)
        == "frame 50 at 2.0 s · near tile 7 · image bank PDQ")
    #expect(
      ContactSheet.describe(FlaggedVideoMatch(kind: .digest), sheet: sheet)
        == "the whole file (SHA-256 or MD5 digest)")
    #expect(sheet.videoLine == "3.0 s · 75 frames · 25 fps")
  }

  /// A video whose length is not known in advance keeps evenly spaced frames all the same,
  /// never more than the cap: the stride doubles and every other kept frame goes.
  @Test func framesKeptStayEvenlySpacedAndBounded() {
    var kept = FrameReservoir(stride: 1, capacity: 8)
    let pixel = RGBImage(width: 1, height: 1)
    for number in 0..<100 where kept.wants(number) {
      kept.keep(SheetFrame(number: number, seconds: nil, image: pixel))
    }
    #expect(kept.stride == 16)
    #expect(kept.frames.map(\.number) == [0, 16, 32, 48, 64, 80, 96])
  }

  @Test func aDamagedVideoGetsAPlaceholderNamingIt() throws {
    guard let path = try Self.clip() else { return }
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(600).write(to: URL(fileURLWithPath: path))
    let preview = ItemPreview(
      itemId: 8, mediaPath: path, url: nil, databasePath: ":memory:", roots: Self.roots(path))
    guard case .unreadable(let why)? = preview.placeholder else {
      Issue.record("expected a placeholder, got \(String(describing: preview.placeholder))")
      return
    }
    #expect(why.contains("clip.mp4"), "\(why)")
    #expect(!preview.clearer())
  }

  /// The image fixtures (animations of three pictures, and stills of each format).
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../DetectionTests/Fixtures/images").standardized.path

  /// Before: an animated GIF or WebP showed its first frame only (every frame is matched).
  /// Now it opens as a contact sheet of its frames, stepped through like a video's; a still
  /// GIF or WebP stays a picture.
  @Test func animationsOpenAsASheetOfTheirFrames() throws {
    for (name, format) in [("animated.gif", "GIF"), ("animated.webp", "WEBP")] {
      let preview = ItemPreview(
        itemId: 1, mediaPath: Self.fixtures + "/" + name, url: nil, databasePath: ":memory:",
        roots: MediaRoots(configured: [Self.fixtures], databasePath: ":memory:"))
      let sheet = try #require(preview.sheet, "\(name): \(String(describing: preview.placeholder))")
      #expect(sheet.frames.map(\.number) == [0, 1, 2], "\(name)")
      #expect(sheet.summary == "\(format) animation · 3 frames")
      #expect(sheet.videoLine == "\(format) · 3 frames")
      #expect(preview.framePosition == "sheet of 3")
      #expect(preview.blur == .fullyBlurred && !preview.colour)
      var pictures: [[UInt8]] = []
      for step in 1...3 {
        #expect(preview.step(by: 1))
        #expect(preview.framePosition == "frame \(step)/3")
        pictures.append(sheet.frames[step - 1].image.pixels)
      }
      #expect(!preview.step(by: 1), "\(name): three frames, no more")
      #expect(Set(pictures).count == 3, "\(name): three different pictures")
    }
    for name in ["picture.gif", "picture.webp"] {
      let preview = ItemPreview(
        itemId: 1, mediaPath: Self.fixtures + "/" + name, url: nil, databasePath: ":memory:",
        roots: MediaRoots(configured: [Self.fixtures], databasePath: ":memory:"))
      #expect(preview.placeholder == nil && preview.sheet == nil, "\(name)")
      #expect(!preview.step(by: 1))
    }
  }
}
