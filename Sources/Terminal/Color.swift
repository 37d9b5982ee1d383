// How many colours the terminal can show, and how to get there from any colour.

// MARK: - Depth

/// How many colours the terminal can show.
public enum ColorDepth: String, Sendable, CaseIterable {
  case trueColor = "truecolor"
  case color256 = "256"
  case color16 = "16"
  case color8 = "8"
  case monochrome = "mono"

  /// Decides from the environment and the colour count ncurses reports:
  /// - `NO_COLOR` set and non-empty, or no colour support: monochrome;
  /// - direct-colour terminfo (2^24 colours or more, e.g. TERM=xterm-direct): trueColor
  ///   (so `COLORTERM=truecolor` alone, with a 256-colour terminfo, stays 256: ncurses can
  ///   only send what the terminfo describes);
  /// - otherwise the largest of 256, 16, 8 the reported count reaches, else monochrome.
  public static func detect(
    environment: [String: String], reportedColors: Int, hasColors: Bool
  ) -> ColorDepth {
    if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .monochrome }
    guard hasColors else { return .monochrome }
    if reportedColors >= 1 << 24 { return .trueColor }
    if reportedColors >= 256 { return .color256 }
    if reportedColors >= 16 { return .color16 }
    if reportedColors >= 8 { return .color8 }
    return .monochrome
  }

  /// Number of distinct colours: 2^24, 256, 16, 8, or 0 for monochrome.
  public var colorCount: Int {
    switch self {
    case .trueColor: return 1 << 24
    case .color256: return 256
    case .color16: return 16
    case .color8: return 8
    case .monochrome: return 0
    }
  }

  /// The poorer of two depths: a requested depth capped by what the terminal can show.
  public func limited(to capability: ColorDepth) -> ColorDepth {
    colorCount <= capability.colorCount ? self : capability
  }
}

// MARK: - Approximation

/// Maps a colour to the nearest one a depth can show: rgb -> xterm-256 colour cube or grey
/// ramp -> 16 ANSI colours -> 8; monochrome -> `.default`. Pure.
public enum ColorApproximation {
  /// The nearest colour `depth` can show. `.default` always stays `.default`.
  public static func approximate(_ color: TerminalColor, depth: ColorDepth) -> TerminalColor {
    switch (color, depth) {
    case (.default, _), (_, .trueColor): return color
    case (_, .monochrome): return .default
    case (.indexed, .color256): return color
    case let (.rgb(r, g, b), .color256): return .indexed(nearest256(r, g, b))
    case let (.indexed(i), .color16):
      if i < 16 { return color }
      let (r, g, b) = components(ofIndexed: i)
      return .indexed(nearestANSI(r, g, b, count: 16))
    case let (.rgb(r, g, b), .color16): return .indexed(nearestANSI(r, g, b, count: 16))
    case let (.indexed(i), .color8):
      if i < 8 { return color }
      if i < 16 { return .indexed(i - 8) }
      let (r, g, b) = components(ofIndexed: i)
      return .indexed(nearestANSI(r, g, b, count: 8))
    case let (.rgb(r, g, b), .color8): return .indexed(nearestANSI(r, g, b, count: 8))
    }
  }

  /// Approximates both colours of a style and keeps its attributes. When two different
  /// colours of text collapse into the same one (text would vanish), the foreground becomes
  /// black or white, whichever contrasts with the background. Image cells are pixels, not
  /// text: each colour goes to its nearest entry and nothing is forced.
  public static func approximate(_ style: CellStyle, depth: ColorDepth) -> CellStyle {
    var result = style
    result.foreground = approximate(style.foreground, depth: depth)
    result.background = approximate(style.background, depth: depth)
    if !style.isImage, result.foreground == result.background, result.foreground != .default,
      style.foreground != style.background
    {
      let (r, g, b) = components(of: result.background)
      let luminance = 299 * Int(r) + 587 * Int(g) + 114 * Int(b)
      let white: UInt8 = depth == .color8 ? 7 : 15
      result.foreground = .indexed(luminance > 128_000 ? 0 : white)
    }
    return result
  }

  // MARK: - Palette

  /// The RGB value xterm uses for a palette entry.
  public static func components(ofIndexed index: UInt8) -> (UInt8, UInt8, UInt8) {
    switch index {
    case 0..<16:
      return ansiPalette[Int(index)]
    case 16..<232:
      let n = Int(index) - 16
      return (cubeLevels[n / 36], cubeLevels[(n / 6) % 6], cubeLevels[n % 6])
    default:
      let grey = UInt8(8 + 10 * (Int(index) - 232))
      return (grey, grey, grey)
    }
  }

  /// The RGB value of a colour (`.default` counts as black).
  public static func components(of color: TerminalColor) -> (UInt8, UInt8, UInt8) {
    switch color {
    case .default: return (0, 0, 0)
    case .indexed(let i): return components(ofIndexed: i)
    case let .rgb(r, g, b): return (r, g, b)
    }
  }

  static let cubeLevels: [UInt8] = [0, 95, 135, 175, 215, 255]

  /// xterm's default 16 colours.
  static let ansiPalette: [(UInt8, UInt8, UInt8)] = [
    (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
    (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
    (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
    (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
  ]

  // MARK: - Nearest colour

  static func nearest256(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
    func cubeIndex(_ v: UInt8) -> Int {
      // Midpoints between the levels 0, 95, 135, 175, 215, 255.
      v < 48 ? 0 : v < 115 ? 1 : (Int(v) - 35) / 40
    }
    let (ri, gi, bi) = (cubeIndex(r), cubeIndex(g), cubeIndex(b))
    let cube = (cubeLevels[ri], cubeLevels[gi], cubeLevels[bi])
    let cubeColor = UInt8(16 + 36 * ri + 6 * gi + bi)

    let average = (Int(r) + Int(g) + Int(b)) / 3
    let greyStep = average < 8 ? 0 : min(23, (average - 3) / 10)
    let greyLevel = UInt8(8 + 10 * greyStep)
    let greyColor = UInt8(232 + greyStep)

    let cubeDistance = distance((r, g, b), cube)
    let greyDistance = distance((r, g, b), (greyLevel, greyLevel, greyLevel))
    return greyDistance < cubeDistance ? greyColor : cubeColor
  }

  static func nearestANSI(_ r: UInt8, _ g: UInt8, _ b: UInt8, count: Int) -> UInt8 {
    var best = 0
    var bestDistance = Int.max
    for index in 0..<count {
      let d = distance((r, g, b), ansiPalette[index])
      if d < bestDistance {
        best = index
        bestDistance = d
      }
    }
    return UInt8(best)
  }

  /// "Redmean" weighted distance: cheap and closer to perception than plain RGB distance.
  public static func distance(_ a: (UInt8, UInt8, UInt8), _ b: (UInt8, UInt8, UInt8)) -> Int {
    let meanRed = (Int(a.0) + Int(b.0)) / 2
    let dr = Int(a.0) - Int(b.0)
    let dg = Int(a.1) - Int(b.1)
    let db = Int(a.2) - Int(b.2)
    return (((512 + meanRed) * dr * dr) >> 8) + 4 * dg * dg + (((767 - meanRed) * db * db) >> 8)
  }
}
