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
  ) throws(VideoDecodingError) -> ContactSheet? {
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
      throw VideoDecodingError(kind: .corrupt, source: name, detail: "no frame could be decoded")
    }
    return ContactSheet(
      source: .video(info), width: info.width, height: info.height, frames: kept.frames,
      decodedFrames: reader.decodedFrames, stopped: stopped)
  }
}

// MARK: - Matches

extension ContactSheet {
  /// Which tiles (1-based, reading order) fall in a matched segment of the video, as
  /// "tiles 1-5"; nil when none does.
  public func tilesIn(_ segment: ClosedRange<Double>) -> String? {
    let times = tiles.map { $0.seconds ?? 0 }
    let inside = times.indices.filter { segment.contains(times[$0]) }.map { $0 + 1 }
    guard let first = inside.first, let last = inside.last else {
      // Between two tiles: the nearest one.
      let nearest = times.indices.min {
        abs(times[$0] - segment.lowerBound) < abs(times[$1] - segment.lowerBound)
      }
      return nearest.map { "near tile \($0 + 1)" }
    }
    return first == last ? "tile \(first)" : "tiles \(first)-\(last)"
  }

  /// What the item pane says about a video match: "vPDQ q 100% c 12%, match 0.0-2.0 s
  /// (tiles 1-6 of 9)" (q: share of the upload's frames, c: of the known video's), or for one
  /// frame "frame 50 at 2.0 s (near tile 6 of 9)".
  public static func describe(_ match: FlaggedVideoMatch, sheet: ContactSheet?) -> String {
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
