import Detection
import Foundation
import Imaging
import Store
import Terminal
import Video

// MARK: - The preview of one open item

/// The preview of the one item a reviewer has open: the decoded image (or why there is none),
/// and how it is shown right now.
///
/// A new value starts fully blurred and greyscale; nothing but an explicit ``clearer()`` or
/// ``toggleColour()`` on this very value shows more. Moving to another item makes a new
/// value, so a reviewer never meets an item unblurred because of what they did on another.
public final class ItemPreview {
  /// Why an item has no picture.
  enum Placeholder: Equatable {
    /// The item is a URL, not a file.
    case url(String)
    /// The item names no media file.
    case noMedia
    /// The file could not be read or decoded, or lies outside the media roots (the message
    /// names the file and the problem).
    case unreadable(String)
    /// The file's SHA-256 is not the one recorded when it was scanned or imported: it was
    /// replaced or changed since, and is not shown.
    case mismatch(path: String, recorded: String, found: String)
  }

  let itemId: Int64
  private(set) var blur = BlurLevel.fullyBlurred
  private(set) var colour = false
  /// The reviewer reduced the blur or turned colour on for this item at least once.
  private(set) var exposed = false
  /// The reviewer reduced the blur at least once (new material needs this before `y`).
  private(set) var lookedCloser = false
  /// The picture shown now, reduced to at most ``workingSide`` pixels on its longer side:
  /// the decoded image, or for a video the contact sheet or the frame stepped to.
  private var image: RGBImage?
  let placeholder: Placeholder?
  /// Size of the stored image, for the pane title.
  let originalSize: (width: Int, height: Int)?

  /// Longest side kept after decoding; panes are never wider than a few hundred cells.
  static let workingSide = 480
  /// Largest picture decoded for a preview (a 6000x4000 camera photo): a bigger upload gets a
  /// placeholder, so one item can never freeze the console or swell its memory.
  public static let maxPixels = 24_000_000

  private var fitted: (columns: Int, rows: Int, aspect: Double, image: RGBImage)?
  private var filtered: (blur: BlurLevel, colour: Bool, image: RGBImage)?
  private var encoded: (depth: ColorDepth, cells: [Cell])?
  /// The picture for a graphics protocol: the same fit, blur and colour at up to 8 pixels a
  /// cell column (and per half row), so it shows detail where the blur allows and never more.
  private var graphic: (blur: BlurLevel, colour: Bool, columns: Int, rows: Int, image: RGBImage)?

  /// For a video or an animation: its contact sheet and the frames to step through (duration,
  /// frame count).
  private(set) var sheet: ContactSheet?
  /// The frame shown large (an index into the sheet's frames); nil: the contact sheet.
  private(set) var frameIndex: Int?
  /// For a video item: what matched and where ("0.0-2.0 s (2.0 s, 51 frames) · ► tiles 1-6
  /// · vPDQ q 100% c 12%").
  private(set) var videoMatchText: String?
  /// The sheet's frames (indexes) and tiles (reading order) showing the matched segment:
  /// marked with ► on the preview.
  private(set) var matchedFrames: Set<Int> = []
  private(set) var matchedTiles: Set<Int> = []

  /// The SHA-256 recorded for the item (at scan or import), if any.
  let recordedSHA256: String?
  /// The SHA-256 of the bytes read now (nil when nothing could be read).
  private(set) var foundSHA256: String?

  /// Reads the item's media file (relative paths are beside the database file) if it lies
  /// inside `roots` (default: the `media` folder beside the database), checks its SHA-256
  /// against `recordedSHA256`, and decodes it.
  public init(
    itemId: Int64, mediaPath: String?, url: String?, databasePath: String,
    recordedSHA256: String? = nil, roots: MediaRoots? = nil, videoMatch: FlaggedVideoMatch? = nil,
    videoLimits: VideoLimits = ContactSheet.videoLimits, frameLimits: FrameLimits = .default
  ) {
    self.itemId = itemId
    self.recordedSHA256 = recordedSHA256?.lowercased()
    guard let mediaPath, !mediaPath.isEmpty else {
      image = nil
      originalSize = nil
      placeholder = url.map { .url($0) } ?? .noMedia
      return
    }
    var path = mediaPath
    do {
      path = try (roots ?? MediaRoots(databasePath: databasePath)).resolve(mediaPath)
      let bytes = try MediaFile(path: path).readAll()
      let found = FileDigests.sha256(of: bytes)
      foundSHA256 = found
      if let recorded = self.recordedSHA256, recorded != found {
        image = nil
        originalSize = nil
        placeholder = .mismatch(path: mediaPath, recorded: recorded, found: found)
        return
      }
      // A video opens as a contact sheet of evenly spaced frames, decoded now.
      if let sheet = try ContactSheet.video(bytes: bytes, name: path, limits: videoLimits) {
        image = sheet.image
        originalSize = (sheet.width, sheet.height)
        placeholder = nil
        self.sheet = sheet
        videoMatchText = videoMatch.map { ContactSheet.describe($0, sheet: sheet) }
        if let match = videoMatch, match.kind != .digest, let start = match.startSeconds {
          let segment = start...max(start, match.endSeconds ?? start)
          matchedFrames = Set(sheet.matchedFrames(segment))
          matchedTiles = Set(sheet.matchedTiles(segment))
        }
        return
      }
      // An animation opens as a contact sheet of its frames too.
      if let sheet = try ContactSheet.animation(
        bytes: bytes, name: path, maxPixels: Self.maxPixels, limits: frameLimits)
      {
        image = sheet.image
        originalSize = (sheet.width, sheet.height)
        placeholder = nil
        self.sheet = sheet
        return
      }
      // Shrunk while it decodes (a JPEG at 1/8 scale, rows averaged as they come), so a
      // camera photo never lies in memory at full size; shown the way the camera meant (EXIF
      // orientation), while hashes use the stored pixels.
      let decoded = try ImageDecoder.decodePreview(
        data: bytes, name: path, maxPixels: Self.maxPixels, maxSide: Self.workingSide)
      image = decoded.upright
      originalSize = (decoded.width, decoded.height)
      placeholder = nil
    } catch {
      image = nil
      originalSize = nil
      placeholder = .unreadable("\(error)".replacingOccurrences(of: path, with: mediaPath))
    }
  }

  // MARK: Changing what is shown

  /// True when the preview shows more than the default (less blur, or colour).
  var isRevealed: Bool { blur < .fullyBlurred || colour }

  /// One step clearer; false when already clear (nothing changed).
  public func clearer() -> Bool {
    guard image != nil, blur > .clear else { return false }
    blur = blur.clearer
    exposed = true
    lookedCloser = true
    return true
  }

  /// Jumps to `level` (the operator's preferred one); false when nothing changed. Going
  /// clearer counts as looking closer, as with ``clearer()``.
  func setBlur(_ level: BlurLevel) -> Bool {
    guard image != nil, level != blur else { return false }
    if level < blur {
      exposed = true
      lookedCloser = true
    }
    blur = level
    return true
  }

  /// Puts a blur level back after its audit event could not be written.
  func restoreBlur(_ level: BlurLevel) { blur = level }

  /// One step more blurred; false when already fully blurred.
  func blurrier() -> Bool {
    guard blur < .fullyBlurred else { return false }
    blur = blur.blurrier
    return true
  }

  /// Colour on or off; returns the new setting.
  func toggleColour() -> Bool {
    guard image != nil else { return colour }
    colour.toggle()
    if colour { exposed = true }
    return colour
  }

  /// Shows the next (`delta` 1) or previous (-1) frame of a video or an animation: from the
  /// contact sheet to the first frame, and from the first frame back to the sheet. False at
  /// either end, and for a still picture (nothing changed). The blur and colour stay as they
  /// are: the caller audits a frame newly shown with less than full blur, as a step clearer is.
  func step(by delta: Int) -> Bool {
    guard let sheet else { return false }
    let position = (frameIndex.map { $0 + 1 } ?? 0) + delta  // 0: the sheet
    guard (0...sheet.frames.count).contains(position) else { return false }
    show(frame: position == 0 ? nil : position - 1)
    return true
  }

  /// Shows frame `index` of the sheet (nil: the sheet itself); also puts a frame back after
  /// its audit event could not be written.
  func show(frame index: Int?) {
    guard let sheet, index.map({ sheet.frames.indices.contains($0) }) ?? true else { return }
    frameIndex = index
    image = index.map { sheet.frames[$0].image } ?? sheet.image
    fitted = nil
    filtered = nil
    encoded = nil
    graphic = nil
  }

  /// The frame shown large: its number in the file (nil on the contact sheet or a picture).
  var shownFrameNumber: Int? { frameIndex.flatMap { sheet?.frames[$0].number } }

  /// For the pane title: "frame 4/25 0.4 s", or "sheet of 9" (nil for a picture).
  var framePosition: String? {
    guard let sheet else { return nil }
    guard let frameIndex else { return "sheet of \(sheet.tiles.count)" }
    return sheet.position(of: frameIndex)
  }

  /// Back to fully blurred and greyscale (idle time, or the reviewer asked).
  func reset() {
    blur = .fullyBlurred
    colour = false
  }

  // MARK: Drawing

  /// Draws the picture, or a placeholder saying why there is none, centred in `rect`; with a
  /// graphics protocol, also asks for the picture over its cells (blurred the same way).
  public func draw(
    in rect: Rect, on screen: inout Screen, depth: ColorDepth, theme: Theme,
    graphics: GraphicsProtocol? = nil, cellPixels: (width: Int, height: Int)? = nil
  ) {
    guard !rect.isEmpty else { return }
    guard let image else {
      let text: String
      switch placeholder {
      case .url(let url): text = "URL item (no picture): \(url)"
      case .unreadable(let why): text = "No preview: \(why)"
      case .mismatch(let path, let recorded, let found):
        text =
          "No preview: \(path) changed since it was scanned (SHA-256 \(recorded.prefix(12))… "
          + "recorded, \(found.prefix(12))… now)"
      case .noMedia, nil: text = "No preview: the item names no media file"
      }
      drawPlaceholder(text, in: rect, on: &screen, theme: theme)
      return
    }
    let aspect = PreviewRenderer.halfCellAspect(cellPixels)
    if fitted?.columns != rect.width || fitted?.rows != rect.height || fitted?.aspect != aspect {
      let small = PreviewRenderer.fit(
        image, columns: rect.width, rows: rect.height, halfCellAspect: aspect)
      fitted = (rect.width, rect.height, aspect, small)
      filtered = nil
      encoded = nil
    }
    guard let small = fitted?.image else { return }
    if filtered?.blur != blur || filtered?.colour != colour {
      filtered = (blur, colour, PreviewRenderer.filter(small, blur: blur, colour: colour))
      encoded = nil
    }
    guard let shown = filtered?.image else { return }
    if encoded?.depth != depth {
      encoded = (depth, PreviewRenderer.cells(shown, depth: depth, greyscale: !colour))
    }
    if let cells = encoded?.cells {
      PreviewRenderer.draw(cells, width: shown.width, in: rect, on: &screen)
      drawMarks(pictureWidth: shown.width, pictureHeight: shown.height, in: rect, on: &screen,
        theme: theme)
      if graphics != nil, let fitted = fitted?.image {
        screen.graphics.append(graphicCells(fitted, source: image, cells: cells, in: rect))
      }
    }
  }

  /// On a video's sheet, each tile's number in its corner, `►` before the ones showing the
  /// matched segment; on a frame of it, `► matched`. Text cells, so they read the same in
  /// monochrome and on the Linux console.
  private func drawMarks(
    pictureWidth: Int, pictureHeight: Int, in rect: Rect, on screen: inout Screen, theme: Theme
  ) {
    guard let sheet else { return }
    let left = rect.x + max(0, (rect.width - pictureWidth) / 2)
    let rows = (pictureHeight + 1) / 2
    let top = rect.y + max(0, (rect.height - rows) / 2)
    func put(_ text: String, column: Int, row: Int, matched: Bool) {
      guard row < min(rows, rect.height), column < min(pictureWidth, rect.width) else { return }
      screen.put(
        text, x: left + column, y: top + row, style: theme[matched ? .accent : .muted],
        maxWidth: min(pictureWidth, rect.width) - column)
    }
    guard frameIndex == nil else {
      if let frameIndex, matchedFrames.contains(frameIndex) {
        put("► matched", column: 0, row: 0, matched: true)
      }
      return
    }
    let scaleX = Double(pictureWidth) / Double(max(1, sheet.image.width))
    let scaleY = Double(pictureHeight) / Double(max(1, sheet.image.height))
    for tile in sheet.tileIndexes.indices {
      let origin = sheet.origin(ofTile: tile)
      let matched = matchedTiles.contains(tile)
      put(
        (matched ? "►" : "") + String(tile + 1),
        column: Int((Double(origin.x) * scaleX).rounded(.up)),
        row: Int((Double(origin.y) * scaleY / 2).rounded(.up)), matched: matched)
    }
  }

  /// The graphics-protocol picture over the cells ``PreviewRenderer/draw`` filled.
  private func graphicCells(
    _ fitted: RGBImage, source: RGBImage, cells: [Cell], in rect: Rect
  ) -> ScreenGraphic {
    let columns = min(fitted.width, rect.width)
    let rows = min(cells.count / max(1, fitted.width), rect.height)
    if graphic?.blur != blur || graphic?.colour != colour || graphic?.columns != columns
      || graphic?.rows != rows
    {
      let image = Self.graphicImage(source, fitted: fitted, blur: blur, colour: colour)
      graphic = (blur, colour, columns, rows, image)
    }
    let image = graphic!.image
    return ScreenGraphic(
      x: rect.x + max(0, (rect.width - fitted.width) / 2),
      y: rect.y + max(0, (rect.height - cells.count / max(1, fitted.width)) / 2),
      columns: columns, rows: rows, width: image.width, height: image.height,
      pixels: image.pixels)
  }

  /// `source` at the fitted picture's aspect, through the same blur and greyscale as the
  /// cells (the blur's sigma is relative to the picture's size, so both show the same): 8
  /// pixels per fitted pixel when clear, fewer as the blur leaves less to see (the terminal
  /// scales the picture to its cells), never more than the source has.
  static func graphicImage(
    _ source: RGBImage, fitted: RGBImage, blur: BlurLevel, colour: Bool
  ) -> RGBImage {
    let detail = [8.0, 4, 2, 2, 2][blur.value]
    let scale = min(detail, Double(source.width) / Double(max(1, fitted.width)))
    let width = max(1, Int((Double(fitted.width) * max(1, scale)).rounded()))
    // The source's own aspect: the terminal stretches the picture over the fitted cells,
    // whose shape on screen is the source's (the fitted grid is not, on cells of other shapes).
    let height = max(1, Int((Double(width) * Double(source.height) / Double(source.width))
      .rounded()))
    return PreviewRenderer.filter(
      source.downscaled(width: width, height: height), blur: blur, colour: colour)
  }

  /// A framed message in the middle of the pane, wrapped to its width.
  private func drawPlaceholder(
    _ text: String, in rect: Rect, on screen: inout Screen, theme: Theme
  ) {
    let width = max(1, rect.width - 2)
    var lines: [String] = []
    var line = ""
    for word in text.split(separator: " ") {
      if !line.isEmpty, DisplayWidth.of(line) + 1 + DisplayWidth.of(String(word)) > width {
        lines.append(line)
        line = ""
      }
      line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty { lines.append(line) }
    let top = rect.y + max(0, (rect.height - lines.count) / 2)
    for (index, text) in lines.enumerated() where top + index < rect.maxY {
      screen.put(text, in: rect, row: top + index - rect.y, column: 1, style: theme[.muted])
    }
  }
}
