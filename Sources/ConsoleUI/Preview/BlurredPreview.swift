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

/// Turns an image into terminal cells: two pixels per cell with the upper-half block (`▀`,
/// foreground = upper pixel, background = lower pixel) in colour terminals, and shading
/// characters (` ░▒▓█`) by brightness in monochrome ones — the chafa approach.
public enum PreviewRenderer {
  /// The image scaled to fit `columns` x `rows` cells (two pixels per row), keeping its aspect
  /// ratio (terminal cells are about twice as tall as wide, which the half blocks undo).
  public static func fit(_ image: RGBImage, columns: Int, rows: Int) -> RGBImage {
    guard columns > 0, rows > 0, image.width > 0, image.height > 0 else {
      return RGBImage(width: 1, height: 1)
    }
    let maxWidth = Double(columns)
    let maxHeight = Double(rows * 2)
    let scale = min(maxWidth / Double(image.width), maxHeight / Double(image.height), 1)
    let width = max(1, Int((Double(image.width) * scale).rounded()))
    let height = max(1, Int((Double(image.height) * scale).rounded()))
    return image.downscaled(width: width, height: height)
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

  /// Draws a filtered image centred in an area. With `shading` (monochrome terminals, and
  /// greyscale in 8-colour ones, whose palette has only two greys) each cell is one shading
  /// character by brightness: five tones instead of two per half cell.
  public static func draw(
    _ image: RGBImage, in rect: Rect, on screen: inout Screen, depth: ColorDepth,
    shading: Bool = false
  ) {
    let rows = (image.height + 1) / 2
    let left = rect.x + max(0, (rect.width - image.width) / 2)
    let top = rect.y + max(0, (rect.height - rows) / 2)
    for row in 0..<min(rows, rect.height) {
      for column in 0..<min(image.width, rect.width) {
        let upper = image[column, row * 2]
        let lower = row * 2 + 1 < image.height ? image[column, row * 2 + 1] : upper
        screen[left + column, top + row] = cell(
          upper: upper, lower: lower, depth: shading ? .monochrome : depth)
      }
    }
  }

  static func cell(
    upper: (red: UInt8, green: UInt8, blue: UInt8), lower: (red: UInt8, green: UInt8, blue: UInt8),
    depth: ColorDepth
  ) -> Cell {
    if depth == .monochrome {
      let brightness = (luma(upper) + luma(lower)) / 2
      let shades: [Character] = [" ", "░", "▒", "▓", "█"]
      let index = min(4, brightness * 5 / 256)
      return Cell(character: shades[index], style: .plain, isContinuation: false)
    }
    let style = CellStyle(
      foreground: .rgb(upper.red, upper.green, upper.blue),
      background: .rgb(lower.red, lower.green, lower.blue))
    return Cell(character: "▀", style: style, isContinuation: false)
  }

  static func luma(_ pixel: (red: UInt8, green: UInt8, blue: UInt8)) -> Int {
    (299 * Int(pixel.red) + 587 * Int(pixel.green) + 114 * Int(pixel.blue)) / 1000
  }
}
