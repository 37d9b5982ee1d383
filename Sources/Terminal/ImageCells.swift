// Pictures as terminal cells: two pixels per cell, coloured with what the depth can show.

// MARK: - Encoder

/// Turns a picture into cells that a terminal of a given depth shows faithfully: two pixels
/// per cell with the upper half block (`▀`, foreground = upper pixel, background = lower).
///
/// - truecolor: the pixels as they are;
/// - 256 colours: each half its nearest palette entry (the grey ramp and the colour cube),
///   with the error left over diffused onto the pixels right of and below it;
/// - 16 and 8 colours: the palette is too coarse for half blocks alone, so each cell is
///   either a half block of the two nearest entries or a shading character (`░▒▓`, a quarter,
///   half or three quarters of the foreground over the background) mixing two entries,
///   whichever is closer to both pixels; the error left over is diffused onto the cells right
///   of and below it (Floyd–Steinberg), so a smooth ramp stays smooth;
/// - monochrome: one shading character per cell by brightness (` ░▒▓█`).
///
/// Greyscale pictures only ever use the palette's greys. Every cell is marked as an image
/// cell, so text-contrast rules never change its colours.
public struct ImageCellEncoder: Sendable {
  /// One pixel.
  public typealias Pixel = (red: UInt8, green: UInt8, blue: UInt8)

  public let depth: ColorDepth
  public let greyscale: Bool

  /// How a cell can look in 16 and 8 colours: a character, its two palette entries and the
  /// colour the eye sees.
  struct Ink {
    let character: Character
    let foreground: UInt8
    let background: UInt8
    let colour: (Int, Int, Int)
  }

  private let base: [UInt8]
  private let inks: [Ink]

  /// Shading characters by the share of the foreground they show.
  static let shades: [(Character, Int)] = [("░", 1), ("▒", 2), ("▓", 3)]

  public init(depth: ColorDepth, greyscale: Bool) {
    self.depth = depth
    self.greyscale = greyscale
    switch depth {
    case .color16: base = greyscale ? [0, 8, 7, 15] : Array(0..<16)
    case .color8: base = greyscale ? [0, 7] : Array(0..<8)
    default: base = []
    }
    var inks: [Ink] = []
    for a in base {
      let ca = ColorApproximation.components(ofIndexed: a)
      inks.append(Ink(character: "█", foreground: a, background: a, colour: Self.ints(ca)))
      for b in base where b > a {
        let cb = ColorApproximation.components(ofIndexed: b)
        for (character, quarters) in Self.shades {
          func mix(_ x: UInt8, _ y: UInt8) -> Int {
            (Int(x) * quarters + Int(y) * (4 - quarters) + 2) / 4
          }
          inks.append(
            Ink(
              character: character, foreground: a, background: b,
              colour: (mix(ca.0, cb.0), mix(ca.1, cb.1), mix(ca.2, cb.2))))
        }
      }
    }
    self.inks = inks
  }

  /// Encodes a picture of `width` x `height` pixels (`pixel(x, y)` for y below `height`) into
  /// `width` x ceil(height / 2) cells, row after row. An odd last row repeats its upper pixel.
  public func encode(width: Int, height: Int, pixel: (Int, Int) -> Pixel) -> [Cell] {
    let rows = (height + 1) / 2
    guard width > 0, rows > 0 else { return [] }
    var cells: [Cell] = []
    cells.reserveCapacity(width * rows)
    switch depth {
    case .trueColor, .monochrome:
      for row in 0..<rows {
        for x in 0..<width {
          let upper = pixel(x, row * 2)
          let lower = row * 2 + 1 < height ? pixel(x, row * 2 + 1) : upper
          cells.append(direct(upper: upper, lower: lower))
        }
      }
    case .color256, .color16, .color8:
      cells = diffused(width: width, height: height, pixel: pixel)
    }
    return cells
  }

  // MARK: - Direct depths

  private func direct(upper: Pixel, lower: Pixel) -> Cell {
    switch depth {
    case .monochrome:
      let brightness = (Self.luma(upper) + Self.luma(lower)) / 2
      let shades: [Character] = [" ", "░", "▒", "▓", "█"]
      return Cell(
        character: shades[min(4, brightness * 5 / 256)], style: CellStyle(isImage: true))
    case .color256:
      return Cell(
        character: "▀",
        style: CellStyle(
          foreground: .indexed(ColorApproximation.nearest256(upper.red, upper.green, upper.blue)),
          background: .indexed(ColorApproximation.nearest256(lower.red, lower.green, lower.blue)),
          isImage: true))
    default:
      return Cell(
        character: "▀",
        style: CellStyle(
          foreground: .rgb(upper.red, upper.green, upper.blue),
          background: .rgb(lower.red, lower.green, lower.blue), isImage: true))
    }
  }

  // MARK: - 16 and 8 colours

  /// Chooses each cell's ink with the error of the cells before it added, then spreads its own
  /// error as Floyd–Steinberg does where it can: the lower half's 7/16 to the right and
  /// 3/16, 5/16, 1/16 to the upper halves of the row below; the upper half's 7/16 to the right,
  /// 1/16 to the lower half right of it and the rest to the row below (its own lower half is
  /// chosen together with it).
  private func diffused(width: Int, height: Int, pixel: (Int, Int) -> Pixel) -> [Cell] {
    let rows = (height + 1) / 2
    var cells = [Cell](repeating: .blank, count: width * rows)
    // Error per half pixel (upper and lower) for this row of cells and the next one.
    var current = [Int](repeating: 0, count: (width + 2) * 6)
    var next = current
    var cache: [Int: Int] = [:]
    for row in 0..<rows {
      for x in 0..<width {
        let upperPixel = pixel(x, row * 2)
        let lowerPixel = row * 2 + 1 < height ? pixel(x, row * 2 + 1) : upperPixel
        let slot = (x + 1) * 6
        let upper = Self.adding(upperPixel, current, at: slot)
        let lower = Self.adding(lowerPixel, current, at: slot + 3)
        let (cell, shownUpper, shownLower) = choose(upper: upper, lower: lower, cache: &cache)
        cells[row * width + x] = cell
        let (ahead, behind) = (slot + 6, slot - 6)
        for (channel, (upperError, lowerError)) in [
          (upper.0 - shownUpper.0, lower.0 - shownLower.0),
          (upper.1 - shownUpper.1, lower.1 - shownLower.1),
          (upper.2 - shownUpper.2, lower.2 - shownLower.2),
        ].enumerated() {
          current[ahead + channel] += upperError * 7 / 16
          current[ahead + 3 + channel] += upperError / 16 + lowerError * 7 / 16
          next[behind + channel] += (upperError * 2 + lowerError * 3) / 16
          next[slot + channel] += (upperError * 4 + lowerError * 5) / 16
          next[ahead + channel] += (upperError * 2 + lowerError) / 16
        }
      }
      current = next
      next = [Int](repeating: 0, count: next.count)
    }
    return cells
  }

  private static func adding(_ pixel: Pixel, _ errors: [Int], at slot: Int) -> (Int, Int, Int) {
    (
      min(255, max(0, Int(pixel.red) + errors[slot])),
      min(255, max(0, Int(pixel.green) + errors[slot + 1])),
      min(255, max(0, Int(pixel.blue) + errors[slot + 2]))
    )
  }

  /// The closer of: a half block of the nearest entry for each half, or the one ink nearest
  /// to both halves. Returns the cell and the colours it shows for each half.
  private func choose(upper: (Int, Int, Int), lower: (Int, Int, Int), cache: inout [Int: Int])
    -> (Cell, (Int, Int, Int), (Int, Int, Int))
  {
    let upperEntry = nearestBase(upper)
    let lowerEntry = nearestBase(lower)
    let upperColour = Self.ints(ColorApproximation.components(ofIndexed: upperEntry))
    let lowerColour = Self.ints(ColorApproximation.components(ofIndexed: lowerEntry))
    guard !inks.isEmpty else {
      let style = CellStyle(
        foreground: .indexed(upperEntry), background: .indexed(lowerEntry), isImage: true)
      return (Cell(character: "▀", style: style), upperColour, lowerColour)
    }
    let split = Self.distance(upper, upperColour) + Self.distance(lower, lowerColour)
    let mean = ((upper.0 + lower.0) / 2, (upper.1 + lower.1) / 2, (upper.2 + lower.2) / 2)
    let key = mean.0 << 16 | mean.1 << 8 | mean.2
    let inkIndex: Int
    if let cached = cache[key] {
      inkIndex = cached
    } else {
      inkIndex = nearestInk(mean)
      cache[key] = inkIndex
    }
    let ink = inks[inkIndex]
    let uniform = Self.distance(upper, ink.colour) + Self.distance(lower, ink.colour)
    if uniform < split {
      let style = CellStyle(
        foreground: .indexed(ink.foreground), background: .indexed(ink.background),
        isImage: true)
      return (Cell(character: ink.character, style: style), ink.colour, ink.colour)
    }
    let style = CellStyle(
      foreground: .indexed(upperEntry), background: .indexed(lowerEntry), isImage: true)
    return (Cell(character: "▀", style: style), upperColour, lowerColour)
  }

  private func nearestBase(_ colour: (Int, Int, Int)) -> UInt8 {
    if depth == .color256 {
      return ColorApproximation.nearest256(UInt8(colour.0), UInt8(colour.1), UInt8(colour.2))
    }
    var best = base[0]
    var bestDistance = Int.max
    for entry in base {
      let d = Self.distance(colour, Self.ints(ColorApproximation.components(ofIndexed: entry)))
      if d < bestDistance {
        best = entry
        bestDistance = d
      }
    }
    return best
  }

  private func nearestInk(_ colour: (Int, Int, Int)) -> Int {
    var best = 0
    var bestDistance = Int.max
    for (index, ink) in inks.enumerated() {
      let d = Self.distance(colour, ink.colour)
      if d < bestDistance {
        best = index
        bestDistance = d
      }
    }
    return best
  }

  // MARK: - Helpers

  static func ints(_ c: (UInt8, UInt8, UInt8)) -> (Int, Int, Int) {
    (Int(c.0), Int(c.1), Int(c.2))
  }

  /// The redmean distance of ``ColorApproximation``, on integers that may leave 0...255.
  static func distance(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Int {
    let meanRed = (a.0 + b.0) / 2
    let dr = a.0 - b.0
    let dg = a.1 - b.1
    let db = a.2 - b.2
    return (((512 + meanRed) * dr * dr) >> 8) + 4 * dg * dg + (((767 - meanRed) * db * db) >> 8)
  }

  static func luma(_ pixel: Pixel) -> Int {
    (299 * Int(pixel.red) + 587 * Int(pixel.green) + 114 * Int(pixel.blue)) / 1000
  }
}

// MARK: - Decoder

/// What a terminal shows for an image cell, as two pixels (upper, lower): the inverse of
/// ``ImageCellEncoder``, after the backend's colour approximation. For checking that a
/// rendering keeps the picture (tests, benchmarks); `.default` colours count as white text on
/// black.
public enum ImageCellDecoder {
  public static func pixels(of cell: Cell, depth: ColorDepth)
    -> (upper: (Int, Int, Int), lower: (Int, Int, Int))
  {
    let style = ColorApproximation.approximate(cell.style, depth: depth)
    func rgb(_ colour: TerminalColor, isForeground: Bool) -> (Int, Int, Int) {
      if colour == .default { return isForeground ? (255, 255, 255) : (0, 0, 0) }
      return ImageCellEncoder.ints(ColorApproximation.components(of: colour))
    }
    let fg = rgb(style.foreground, isForeground: true)
    let bg = rgb(style.background, isForeground: false)
    func mix(_ quarters: Int) -> (Int, Int, Int) {
      (
        (fg.0 * quarters + bg.0 * (4 - quarters)) / 4,
        (fg.1 * quarters + bg.1 * (4 - quarters)) / 4,
        (fg.2 * quarters + bg.2 * (4 - quarters)) / 4
      )
    }
    switch cell.character {
    case "▀": return (fg, bg)
    case "▄": return (bg, fg)
    case "█": return (fg, fg)
    case "░": return (mix(1), mix(1))
    case "▒": return (mix(2), mix(2))
    case "▓": return (mix(3), mix(3))
    default: return (bg, bg)
    }
  }
}
