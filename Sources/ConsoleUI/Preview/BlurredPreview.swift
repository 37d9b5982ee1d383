import Imaging
import Terminal

// MARK: - Blur levels

/// How much of an item's image the reviewer sees: five steps from fully blurred to clear.
///
/// Every preview starts at ``fullyBlurred`` and greyscale; the reviewer reduces the blur one
/// step at a time (each step is an audit event), and the preview returns to the default when
/// they move to another item or stay idle.
public struct BlurLevel: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// 0 = clear … 4 = fully blurred.
  public let value: Int

  public static let clear = BlurLevel(0)
  public static let fullyBlurred = BlurLevel(4)

  public init(_ value: Int) { self.value = min(max(0, value), 4) }

  public static func < (a: BlurLevel, b: BlurLevel) -> Bool { a.value < b.value }

  /// One step clearer (never below clear).
  public var clearer: BlurLevel { BlurLevel(value - 1) }
  /// One step more blurred (never above fully blurred).
  public var blurrier: BlurLevel { BlurLevel(value + 1) }

  /// Gaussian sigma in preview pixels for an image whose longer side is `side` pixels.
  func sigma(longerSide side: Int) -> Double {
    let divisors = [0.0, 64, 32, 14, 6]
    guard value > 0 else { return 0 }
    return max(0.8, Double(side) / divisors[value])
  }

  /// `blur ████░` style gauge for the pane title.
  public var description: String {
    String(repeating: "█", count: value) + String(repeating: "░", count: 4 - value)
  }
}

// MARK: - Rendering

/// Turns an image into terminal cells: fitted to the pane, blurred, greyscale unless colour is
/// asked, then encoded for the terminal's depth by ``ImageCellEncoder`` (two pixels per cell,
/// palette entries chosen for pictures, not text) — the chafa approach.
public enum PreviewRenderer {
  /// The image scaled to fit `columns` x `rows` cells (two pixels per row, one per half
  /// block), keeping its aspect ratio on screen. `halfCellAspect` is how much taller than
  /// wide half a cell is (``halfCellAspect(_:)``): 1 for cells twice as tall as wide, which
  /// the half blocks undo; on other cells (7x17 pixels in a common kitty setup) the picture
  /// gets fewer rows per column, else it is drawn that much too tall.
  public static func fit(
    _ image: RGBImage, columns: Int, rows: Int, halfCellAspect: Double = 1
  ) -> RGBImage {
    guard columns > 0, rows > 0, image.width > 0, image.height > 0 else {
      return RGBImage(width: 1, height: 1)
    }
    let aspect = halfCellAspect > 0 ? halfCellAspect : 1
    // Picture pixels per source pixel across; down it is `aspect` times fewer. Never more
    // than one either way (`min(1, aspect)`): a picture is never scaled up.
    let scale = min(
      Double(columns) / Double(image.width),
      Double(rows * 2) * aspect / Double(image.height), 1, aspect)
    let width = max(1, min(columns, Int((Double(image.width) * scale).rounded())))
    let height = max(
      1, min(rows * 2, Int((Double(image.height) * scale / aspect).rounded())))
    return image.downscaled(width: width, height: height)
  }

  /// Half a cell's height over its width, from the cell's size in pixels (1 when unknown).
  public static func halfCellAspect(_ cellPixels: (width: Int, height: Int)?) -> Double {
    guard let cellPixels, cellPixels.width > 0, cellPixels.height > 0 else { return 1 }
    return Double(cellPixels.height) / 2 / Double(cellPixels.width)
  }

  /// Applies the blur and, unless `colour` is on, greyscale.
  public static func filter(_ small: RGBImage, blur: BlurLevel, colour: Bool) -> RGBImage {
    var image = small
    let sigma = blur.sigma(longerSide: max(image.width, image.height))
    if sigma > 0 { image = image.blurred(sigma: sigma) }
    if !colour {
      let grey = image.greyscale()
      var pixels = [UInt8](repeating: 0, count: grey.pixels.count * 3)
      for (index, value) in grey.pixels.enumerated() {
        pixels[index * 3] = value
        pixels[index * 3 + 1] = value
        pixels[index * 3 + 2] = value
      }
      image = RGBImage(width: grey.width, height: grey.height, pixels: pixels)
    }
    return image
  }

  /// The cells of a filtered image for a terminal of `depth` (see ``ImageCellEncoder``):
  /// nearest palette entries, shading and error diffusion in 16 and 8 colours, greys only
  /// for a greyscale image.
  public static func cells(_ image: RGBImage, depth: ColorDepth, greyscale: Bool) -> [Cell] {
    ImageCellEncoder(depth: depth, greyscale: greyscale).encode(
      width: image.width, height: image.height
    ) { x, y in image[x, y] }
  }

  /// Draws cells of an image `width` cells wide (from ``cells(_:depth:greyscale:)``)
  /// centred in an area.
  public static func draw(_ cells: [Cell], width: Int, in rect: Rect, on screen: inout Screen) {
    guard width > 0 else { return }
    let rows = cells.count / width
    let left = rect.x + max(0, (rect.width - width) / 2)
    let top = rect.y + max(0, (rect.height - rows) / 2)
    for row in 0..<min(rows, rect.height) {
      for column in 0..<min(width, rect.width) {
        screen[left + column, top + row] = cells[row * width + column]
      }
    }
  }
}
