// A video item's preview: evenly spaced frames decoded when the item opens, tiled into one
// picture that then goes through the same blur, greyscale, zoom and audit rules as an image.

import Foundation
import Imaging
import Store
import Video

/// A contact sheet of a video's frames, and what the item pane says about the video.
public struct VideoContactSheet: Sendable {
  /// The tiled frames (at most ``ItemPreview/workingSide`` on the longer side).
  public var image: RGBImage
  /// What the container says (size, frame rate, duration).
  public var info: VideoInfo
  /// Frames decoded in all (the video's frame count when it was read to the end).
  public var decodedFrames: Int
  /// Frame number and time (seconds) of each tile, in reading order.
  public var tiles: [(frame: Int, seconds: Double)]
  /// Columns of the grid.
  public var columns: Int
  /// Why decoding stopped before the last tile (damage or a cap), if it did.
  public var stopped: String?

  /// Tiles on a sheet: a 3x3 grid.
  public static let tileCount = 9
  /// Gap between tiles, in pixels of the sheet.
  static let gutter = 2

  /// Caps for decoding at open time: the scan's defaults, and at most 20 s of decoding so
  /// opening an item never hangs the console for long.
  public static let limits = VideoLimits(maxDecodeSeconds: 20)

  /// The contact sheet of `bytes` when they are a video (nil when they are not: an image);
  /// throws the decoder's error for a damaged or over-limit video. `name` names it in errors.
  public static func make(
    bytes: [UInt8], name: String, limits: VideoLimits = limits, side: Int = 480
  ) throws(VideoDecodingError) -> VideoContactSheet? {
    guard ImageFormat.sniff(bytes) == nil, VideoContainer.sniff(bytes) != nil else { return nil }
    let reader = try VideoReader(data: bytes, name: name, limits: limits)
    let info = reader.info
    let expected = max(
      info.declaredFrames, Int(((info.duration ?? 0) * info.frameRate).rounded()), 1)
    // Evenly spaced: every `step`-th frame from the first, at most tileCount of them.
    let step = max(1, Int((Double(expected) / Double(tileCount)).rounded(.up)))
    let columns = 3
    let tileWidth = max(1, (side - gutter * (columns - 1)) / columns)
    let tileHeight = max(1, tileWidth * max(1, info.height) / max(1, info.width))
    var frames: [(frame: Int, seconds: Double, image: RGBImage)] = []
    var stopped: String?
    while frames.count < tileCount {
      let next: VideoFrame?
      do {
        next = try reader.next(frameMod: step)
      } catch {
        // A damaged tail or the decode-time cap: the frames so far still make a sheet.
        guard !frames.isEmpty else { throw error }
        stopped = error.detail
        break
      }
      guard let frame = next else { break }
      frames.append(
        (
          frame.number, Double(frame.number) / max(info.frameRate, 1e-9),
          frame.image.downscaled(width: tileWidth, height: tileHeight)
        ))
    }
    guard !frames.isEmpty else {
      throw VideoDecodingError(kind: .corrupt, source: name, detail: "no frame could be decoded")
    }
    let rows = (frames.count + columns - 1) / columns
    let width = columns * tileWidth + (columns - 1) * gutter
    let height = rows * tileHeight + (rows - 1) * gutter
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for (index, tile) in frames.enumerated() {
      let left = (index % columns) * (tileWidth + gutter)
      let top = (index / columns) * (tileHeight + gutter)
      for y in 0..<tileHeight {
        let source = y * tileWidth * 3
        let target = ((top + y) * width + left) * 3
        pixels.replaceSubrange(
          target..<target + tileWidth * 3,
          with: tile.image.pixels[source..<source + tileWidth * 3])
      }
    }
    return VideoContactSheet(
      image: RGBImage(width: width, height: height, pixels: pixels), info: info,
      decodedFrames: reader.decodedFrames, tiles: frames.map { ($0.frame, $0.seconds) },
      columns: columns, stopped: stopped)
  }

  /// The video's duration: the container's, else frames decoded / frame rate.
  public var duration: Double {
    info.duration ?? Double(decodedFrames) / max(info.frameRate, 1e-9)
  }

  /// Frames the video has: the container's count, else those decoded.
  public var frameCount: Int { max(info.declaredFrames, decodedFrames) }

  /// For the pane title: "video 3.0 s · 75 frames" ("… · 4 shown" when decoding stopped
  /// before the last tile).
  public var summary: String {
    String(format: "video %.1f s", duration) + " · \(frameCount) frames"
      + (stopped == nil ? "" : " · \(tiles.count) shown")
  }

  /// Which tiles (1-based, reading order) fall in a matched segment of the video, as
  /// "tiles 1-5"; nil when none does.
  public func tilesIn(_ segment: ClosedRange<Double>) -> String? {
    let inside = tiles.indices.filter { segment.contains(tiles[$0].seconds) }.map { $0 + 1 }
    guard let first = inside.first, let last = inside.last else {
      // Between two tiles: the nearest one.
      let nearest = tiles.indices.min {
        abs(tiles[$0].seconds - segment.lowerBound) < abs(tiles[$1].seconds - segment.lowerBound)
      }
      return nearest.map { "near tile \($0 + 1)" }
    }
    return first == last ? "tile \(first)" : "tiles \(first)-\(last)"
  }

  /// What the item pane says about a video match: "vPDQ q 100% c 12%, match 0.0-2.0 s
  /// (tiles 1-6 of 9)" (q: share of the upload's frames, c: of the known video's), or for one
  /// frame "frame 50 at 2.0 s (near tile 6 of 9)".
  public static func describe(_ match: FlaggedVideoMatch, sheet: VideoContactSheet?) -> String {
    var text: String
    switch match.kind {
    case .vpdq:
      text = String(
        format: "vPDQ q %.0f%% c %.0f%%", match.queryPercent ?? 0, match.comparedPercent ?? 0)
      if let start = match.startSeconds, let end = match.endSeconds {
        text += String(format: ", match %.1f-%.1f s", start, end)
      }
    case .framePDQ:
      text = "frame \(match.frame ?? 0)"
        + (match.startSeconds.map { String(format: " at %.1f s", $0) } ?? "")
    case .digest:
      return "the whole file (digest)"
    }
    if let start = match.startSeconds, let end = match.endSeconds,
      let tiles = sheet?.tilesIn(start...max(end, start))
    {
      text += " (\(tiles) of \(sheet?.tiles.count ?? 0))"
    }
    return text
  }
}
