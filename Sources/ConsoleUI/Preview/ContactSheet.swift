// A video's (or an animation's) preview: evenly spaced frames decoded when the item opens,
// tiled into one picture, and kept one by one so the reviewer can step through them. Both go
// through the same blur, greyscale, zoom and audit rules as a picture.

import Foundation
import Imaging
import Store
import Video

// MARK: - Frames

/// One frame of a video or an animation that the reviewer can step to.
public struct SheetFrame: Sendable {
  /// 0-based frame number in the file (decoding order).
  public var number: Int
  /// Its time in the video, in seconds (nil for an animation's frames).
  public var seconds: Double?
  /// Its pixels, at most ``ContactSheet/frameSide`` on the longer side.
  public var image: RGBImage
}

/// Evenly spaced frames kept while a video or an animation decodes: every `stride`-th frame,
/// the stride doubling (every other kept frame dropped) whenever more than `capacity` are
/// kept, so memory stays bounded when the length was not known in advance.
struct FrameReservoir {
  private(set) var stride: Int
  let capacity: Int
  private(set) var frames: [SheetFrame] = []

  init(stride: Int, capacity: Int) {
    self.stride = max(1, stride)
    self.capacity = max(1, capacity)
  }

  /// Whether frame `number` is one to keep (decoding and shrinking the others is wasted).
  func wants(_ number: Int) -> Bool { number % stride == 0 }

  mutating func keep(_ frame: SheetFrame) {
    guard wants(frame.number) else { return }
    frames.append(frame)
    while frames.count > capacity {
      stride *= 2
      frames = frames.filter { $0.number % stride == 0 }
    }
  }
}

// MARK: - The sheet

/// A contact sheet of a video's or an animation's frames (3x3), the frames a reviewer steps
/// through (up to ``maxFrames``, evenly spaced; the sheet's tiles are nine of them), and what
/// the item pane says about the file.
public struct ContactSheet: Sendable {
  /// What the frames come from.
  public enum Source: Sendable {
    /// A video, with what its container says.
    case video(VideoInfo)
    /// An animated GIF or WebP; `moreFrames` when it has more frames than the preview's
    /// frame limits let through.
    case animation(ImageFormat, moreFrames: Bool)
  }

  /// What the frames come from.
  public var source: Source
  /// Size of the stored frames (the video's or the animation's canvas).
  public var width: Int
  /// Height of the stored frames.
  public var height: Int
  /// The frames to step through, in order.
  public var frames: [SheetFrame]
  /// The sheet's tiles, in reading order, as indexes into ``frames``.
  public var tileIndexes: [Int]
  /// The tiled frames (at most ``side`` pixels wide).
  public var image: RGBImage
  /// Size of one tile on the sheet, in pixels.
  public var tileWidth: Int
  /// Height of one tile.
  public var tileHeight: Int
  /// Frames decoded in all (the frame count when the file was read to its end).
  public var decodedFrames: Int
  /// Why decoding stopped early (damage or a cap), if it did.
  public var stopped: String?

  /// Tiles on a sheet: a 3x3 grid.
  public static let tileCount = 9
  /// Columns of the grid.
  public static let columns = 3
  /// Gap between tiles, in pixels of the sheet.
  static let gutter = 2
  /// Width of the sheet in pixels.
  static let side = 480
  /// Longest side of a frame kept for stepping (shown large, zoomed with `z`).
  static let frameSide = 384
  /// Most frames kept for stepping (about 9 MB at 384x216).
  public static let maxFrames = 36

  /// Tiles `frames` (at least one) into a sheet; nine evenly spaced ones when there are more.
  init(
    source: Source, width: Int, height: Int, frames: [SheetFrame], decodedFrames: Int,
    stopped: String?
  ) {
    precondition(!frames.isEmpty, "a contact sheet needs a frame")
    self.source = source
    self.width = width
    self.height = height
    self.frames = frames
    self.decodedFrames = decodedFrames
    self.stopped = stopped
    let count = min(Self.tileCount, frames.count)
    tileIndexes =
      count == 1
      ? [0]
      : (0..<count).map { index in
        Int((Double(index * (frames.count - 1)) / Double(count - 1)).rounded())
      }
    let columns = Self.columns
    tileWidth = max(1, (Self.side - Self.gutter * (columns - 1)) / columns)
    tileHeight = max(1, tileWidth * max(1, height) / max(1, width))
    let rows = (count + columns - 1) / columns
    let sheetWidth = columns * tileWidth + (columns - 1) * Self.gutter
    let sheetHeight = rows * tileHeight + (rows - 1) * Self.gutter
    var pixels = [UInt8](repeating: 0, count: sheetWidth * sheetHeight * 3)
    for (tile, index) in tileIndexes.enumerated() {
      let small = frames[index].image.downscaled(width: tileWidth, height: tileHeight)
      let origin = Self.origin(ofTile: tile, width: tileWidth, height: tileHeight)
      for y in 0..<tileHeight {
        let source = y * tileWidth * 3
        let target = ((origin.y + y) * sheetWidth + origin.x) * 3
        pixels.replaceSubrange(
          target..<target + tileWidth * 3, with: small.pixels[source..<source + tileWidth * 3])
      }
    }
    image = RGBImage(width: sheetWidth, height: sheetHeight, pixels: pixels)
  }

  /// Top-left pixel of tile `tile` (0-based, reading order) on the sheet.
  static func origin(ofTile tile: Int, width: Int, height: Int) -> (x: Int, y: Int) {
    ((tile % columns) * (width + gutter), (tile / columns) * (height + gutter))
  }

  /// Top-left pixel of tile `tile` on this sheet.
  func origin(ofTile tile: Int) -> (x: Int, y: Int) {
    Self.origin(ofTile: tile, width: tileWidth, height: tileHeight)
  }

  /// Frame number and time of each tile, in reading order.
  public var tiles: [(frame: Int, seconds: Double?)] {
    tileIndexes.map { (frames[$0].number, frames[$0].seconds) }
  }

  /// The video's facts, when the frames come from a video.
  public var video: VideoInfo? {
    if case .video(let info) = source { return info }
    return nil
  }

  // MARK: What the panes say

  /// The video's duration: the container's, else frames decoded / frame rate; nil for an
  /// animation.
  public var duration: Double? {
    guard let info = video else { return nil }
    return info.duration ?? Double(decodedFrames) / max(info.frameRate, 1e-9)
  }

  /// Frames the file has: the container's count, else those decoded.
  public var frameCount: Int { max(video?.declaredFrames ?? 0, decodedFrames) }

  /// For the pane title: "video 3.0 s · 75 frames", "GIF animation · 12 frames" ("… · 4
  /// shown" when decoding stopped before the end, "100+ frames" past the frame limits).
  public var summary: String {
    switch source {
    case .video:
      return String(format: "video %.1f s", duration ?? 0) + " · \(frameCount) frames"
        + (stopped == nil ? "" : " · \(tiles.count) shown")
    case .animation(let format, let more):
      return "\(format.rawValue.uppercased()) animation · \(frameCount)\(more ? "+" : "") frames"
        + (stopped == nil ? "" : " · \(tiles.count) shown")
    }
  }

  /// Where frame `index` (of ``frames``) lies, short enough for a pane title at 80 columns:
  /// "frame 4/25 0.4 s" (no time for an animation).
  public func position(of index: Int) -> String {
    "frame \(index + 1)/\(frames.count)"
      + (frames[index].seconds.map { String(format: " %.1f s", $0) } ?? "")
  }
}

// MARK: - Videos

extension ContactSheet {
  /// Caps for decoding at open time: the scan's defaults, and at most 20 s of decoding so
  /// opening an item never hangs the console for long.
  public static let videoLimits = VideoLimits(maxDecodeSeconds: 20)

  /// The contact sheet of `bytes` when they are a video (nil when they are not: an image);
  /// throws the decoder's error for a damaged or over-limit video. `name` names it in errors.
  public static func video(
    bytes: [UInt8], name: String, limits: VideoLimits = videoLimits
  ) throws(MediaDecodingError) -> ContactSheet? {
    guard ImageFormat.sniff(bytes) == nil, VideoContainer.sniff(bytes) != nil else { return nil }
    let reader = try VideoReader(data: bytes, name: name, limits: limits)
    let info = reader.info
    let expected = max(
      info.declaredFrames, Int(((info.duration ?? 0) * info.frameRate).rounded()), 1)
    var kept = FrameReservoir(
      stride: (expected + maxFrames - 1) / maxFrames, capacity: maxFrames)
    var stopped: String?
    while true {
      let next: VideoFrame?
      do {
        next = try reader.next(frameMod: kept.stride)
      } catch {
        // A damaged tail or a cap: the frames so far still make a sheet.
        guard !kept.frames.isEmpty else { throw error }
        stopped = error.detail
        break
      }
      guard let frame = next else { break }
      kept.keep(
        SheetFrame(
          number: frame.number, seconds: Double(frame.number) / max(info.frameRate, 1e-9),
          image: frame.image.downscaled(toFit: frameSide)))
    }
    guard !kept.frames.isEmpty else {
      throw MediaDecodingError(kind: .corrupt, source: name, detail: "no frame could be decoded")
    }
    return ContactSheet(
      source: .video(info), width: info.width, height: info.height, frames: kept.frames,
      decodedFrames: reader.decodedFrames, stopped: stopped)
  }
}

// MARK: - Animations

extension ContactSheet {
  /// The contact sheet of an animated GIF or WebP (nil for any other file, and for a GIF or
  /// WebP of one frame: a still picture). Frames are composited as the scan decodes them,
  /// under `maxPixels` a frame and `limits` in all; `name` names the file in errors.
  public static func animation(
    bytes: [UInt8], name: String, maxPixels: Int, limits: FrameLimits = .default
  ) throws(MediaDecodingError) -> ContactSheet? {
    guard let format = ImageFormat.sniff(bytes), mayAnimate(bytes, format: format) else {
      return nil
    }
    var kept = FrameReservoir(stride: 1, capacity: maxFrames)
    let summary = try ImageDecoder.decodeFrames(
      data: bytes, name: name, maxPixels: maxPixels, limits: limits
    ) { image, index in
      if kept.wants(index) {
        kept.keep(
          SheetFrame(number: index, seconds: nil, image: image.downscaled(toFit: frameSide)))
      }
      return true
    }
    guard summary.frames > 1, !kept.frames.isEmpty else { return nil }
    return ContactSheet(
      source: .animation(format, moreFrames: summary.moreFrames), width: summary.width,
      height: summary.height, frames: kept.frames, decodedFrames: summary.frames,
      stopped: summary.damagedAfter.map { "damaged after frame \($0)" })
  }

  /// Whether the file can hold more than one frame: any GIF (only decoding tells), a WebP
  /// whose extended header (VP8X) sets the animation flag. A still WebP is not decoded twice.
  static func mayAnimate(_ bytes: [UInt8], format: ImageFormat) -> Bool {
    switch format {
    case .gif: return true
    case .webp:
      return bytes.count > 20 && Array(bytes[12..<16]) == Array("VP8X".utf8)
        && bytes[20] & 0x02 != 0
    default: return false
    }
  }
}

// MARK: - Matches

extension ContactSheet {
  /// The frames (indexes into ``frames``) that show a matched segment of the video: those
  /// whose time lies in it, else (a segment between two kept frames, such as one frame's
  /// match) the one nearest to it. Empty for an animation.
  public func matchedFrames(_ segment: ClosedRange<Double>) -> [Int] {
    let timed = frames.indices.compactMap { index in frames[index].seconds.map { (index, $0) } }
    let inside = timed.filter { segment.contains($0.1) }.map(\.0)
    guard inside.isEmpty else { return inside }
    let middle = (segment.lowerBound + segment.upperBound) / 2
    return timed.min { abs($0.1 - middle) < abs($1.1 - middle) }.map { [$0.0] } ?? []
  }

  /// The tiles (0-based, reading order) whose frame shows the matched segment.
  public func matchedTiles(_ segment: ClosedRange<Double>) -> [Int] {
    let matched = Set(matchedFrames(segment))
    return tileIndexes.indices.filter { matched.contains(tileIndexes[$0]) }
  }

  /// "tiles 1-6" (1-based), "tile 3", "tiles 2, 5"; nil when no tile shows the segment.
  static func tileList(_ tiles: [Int]) -> String? {
    guard let first = tiles.first, let last = tiles.last else { return nil }
    if first == last { return "tile \(first + 1)" }
    if last - first + 1 == tiles.count { return "tiles \(first + 1)-\(last + 1)" }
    return "tiles " + tiles.map { String($0 + 1) }.joined(separator: ", ")
  }

  /// The item pane's line about the video: "3.0 s · 75 frames · 25 fps"; about an
  /// animation, "GIF · 12 frames".
  public var videoLine: String {
    let shown = stopped == nil ? "" : " · \(tiles.count) shown"
    switch source {
    case .video(let info):
      let rate = String(format: " · %g fps", (info.frameRate * 100).rounded() / 100)
      return String(format: "%.1f s", duration ?? 0) + " · \(frameCount) frames" + rate + shown
    case .animation(let format, let more):
      return format.rawValue.uppercased() + " · \(frameCount)\(more ? "+" : "") frames" + shown
    }
  }

  /// The item pane's line about what matched, the marked tiles first: "0.0-2.0 s (2.0 s, 51
  /// frames) · ► tiles 1-6 · vPDQ q 100% c 12%" (q: share of the upload's frames, c: of the
  /// known video's); "frame 50 at 2.0 s · ► tile 6 · image bank PDQ" for one frame that
  /// matched an image ("near tile 7" when no tile shows it); "the whole file (SHA-256 or MD5
  /// digest)".
  public static func describe(_ match: FlaggedVideoMatch, sheet: ContactSheet?) -> String {
    guard match.kind != .digest, let start = match.startSeconds else {
      return "the whole file (SHA-256 or MD5 digest)"
    }
    let end = max(match.endSeconds ?? start, start)
    var parts: [String] = []
    switch match.kind {
    case .vpdq:
      var range = String(format: "%.1f-%.1f s (%.1f s", start, end, end - start)
      if let rate = match.frameRate ?? sheet?.video?.frameRate, rate > 0 {
        range += ", \(Int(((end - start) * rate).rounded()) + 1) frames"
      }
      parts.append(range + ")")
    default:
      parts.append("frame \(match.frame ?? 0)" + String(format: " at %.1f s", start))
    }
    if let sheet {
      let times = sheet.tiles.map { $0.seconds ?? 0 }
      if let tiles = tileList(sheet.matchedTiles(start...end)) {
        parts.append("► \(tiles)")
      } else if let near = times.indices.min(by: {
        abs(times[$0] - start) < abs(times[$1] - start)
      }) {
        parts.append("near tile \(near + 1)")
      }
    }
    switch match.kind {
    case .vpdq:
      parts.append(
        String(
          format: "vPDQ q %.0f%% c %.0f%%", match.queryPercent ?? 0, match.comparedPercent ?? 0))
    default:
      parts.append("image bank PDQ")
    }
    return parts.joined(separator: " · ")
  }
}
