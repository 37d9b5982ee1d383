import Foundation
import Imaging
import Terminal
import Testing

@testable import ConsoleUI

// MARK: - Synthetic pictures

/// Benign synthetic pictures whose order of brightness a preview must keep.
enum TestPictures {
  /// Black on the left to white on the right.
  static let greyRamp = RGBImage(width: 96, height: 48) { x, _ in
    let v = UInt8(x * 255 / 95)
    return (v, v, v)
  }

  /// Twelve hues across, dark to light down: a colour chart of 12 x 6 patches.
  static let colourChart = RGBImage(width: 96, height: 48) { x, y in
    let hue = Double(x / 8) / 12
    let lightness = 0.1 + 0.8 * Double(y / 8) / 5
    return hsl(hue, 0.8, lightness)
  }

  /// Photo-like: a sky gradient, a sunlit disc, a dark hill and soft texture.
  static let photo = RGBImage(width: 96, height: 64) { x, y in
    let fx = Double(x) / 95
    let fy = Double(y) / 63
    var r = 60 + 120 * fy
    var g = 110 + 90 * fy
    var b = 220 - 60 * fy
    let sun = (fx - 0.7) * (fx - 0.7) + (fy - 0.3) * (fy - 0.3)
    if sun < 0.02 { (r, g, b) = (250, 230, 150) }
    if fy > 0.65 + 0.15 * sin(fx * 6) { (r, g, b) = (40 + 50 * fx, 90 - 40 * fy, 30) }
    let texture = 12 * sin(Double(x) * 0.9) * cos(Double(y) * 0.7)
    func clamp(_ v: Double) -> UInt8 { UInt8(max(0, min(255, v + texture))) }
    return (clamp(r), clamp(g), clamp(b))
  }

  static func hsl(_ h: Double, _ s: Double, _ l: Double) -> (UInt8, UInt8, UInt8) {
    let c = (1 - abs(2 * l - 1)) * s
    let hp = h * 6
    let x = c * (1 - abs(hp.truncatingRemainder(dividingBy: 2) - 1))
    let (r, g, b): (Double, Double, Double)
    switch Int(hp) {
    case 0: (r, g, b) = (c, x, 0)
    case 1: (r, g, b) = (x, c, 0)
    case 2: (r, g, b) = (0, c, x)
    case 3: (r, g, b) = (0, x, c)
    case 4: (r, g, b) = (x, 0, c)
    default: (r, g, b) = (c, 0, x)
    }
    let m = l - c / 2
    return (UInt8((r + m) * 255), UInt8((g + m) * 255), UInt8((b + m) * 255))
  }
}

// MARK: - Measuring

/// Spearman's rank correlation (ties get their average rank).
func rankCorrelation(_ a: [Double], _ b: [Double]) -> Double {
  func ranks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var ranks = [Double](repeating: 0, count: values.count)
    var start = 0
    while start < order.count {
      var end = start
      while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
      for k in start...end { ranks[order[k]] = Double(start + end) / 2 }
      start = end + 1
    }
    return ranks
  }
  let (ra, rb) = (ranks(a), ranks(b))
  let ma = ra.reduce(0, +) / Double(ra.count)
  let mb = rb.reduce(0, +) / Double(rb.count)
  var (sab, saa, sbb) = (0.0, 0.0, 0.0)
  for i in ra.indices {
    sab += (ra[i] - ma) * (rb[i] - mb)
    saa += (ra[i] - ma) * (ra[i] - ma)
    sbb += (rb[i] - mb) * (rb[i] - mb)
  }
  return saa == 0 || sbb == 0 ? 0 : sab / (saa * sbb).squareRoot()
}

func luma(_ p: (Int, Int, Int)) -> Double {
  0.299 * Double(p.0) + 0.587 * Double(p.1) + 0.114 * Double(p.2)
}

/// A preview rendered at a depth and read back from its cells as the terminal shows them.
struct RenderedPreview {
  /// The blurred (and maybe greyscale) picture the cells stand for.
  let source: RGBImage
  /// What the terminal shows, pixel by pixel (two per cell).
  let shown: [(Int, Int, Int)]
  let cells: [Cell]

  init(_ image: RGBImage, depth: ColorDepth, blur: BlurLevel, colour: Bool) {
    let small = PreviewRenderer.fit(image, columns: 48, rows: 16)
    source = PreviewRenderer.filter(small, blur: blur, colour: colour)
    cells = PreviewRenderer.cells(source, depth: depth, greyscale: !colour)
    var shown = [(Int, Int, Int)](repeating: (0, 0, 0), count: source.width * source.height)
    for (index, cell) in cells.enumerated() {
      let (x, row) = (index % source.width, index / source.width)
      let (upper, lower) = ImageCellDecoder.pixels(of: cell, depth: depth)
      shown[row * 2 * source.width + x] = upper
      if row * 2 + 1 < source.height { shown[(row * 2 + 1) * source.width + x] = lower }
    }
    self.shown = shown
  }

  func sourcePixel(_ index: Int) -> (Int, Int, Int) {
    let p = source[index % source.width, index / source.width]
    return (Int(p.red), Int(p.green), Int(p.blue))
  }

  /// Brightness as the eye sees it from a normal distance: each pixel averaged with its
  /// neighbours (5 x 5 pixels: five columns by two and a half rows of cells), which is what
  /// makes dithering and shading read as tones.
  func smoothed(_ values: [Double]) -> [Double] {
    let (w, h) = (source.width, source.height)
    var out = values
    for y in 0..<h {
      for x in 0..<w {
        var (sum, n) = (0.0, 0.0)
        for dy in -2...2 {
          for dx in -2...2 where x + dx >= 0 && x + dx < w && y + dy >= 0 && y + dy < h {
            sum += values[(y + dy) * w + x + dx]
            n += 1
          }
        }
        out[y * w + x] = sum / n
      }
    }
    return out
  }

  /// Rank correlation of shown and source brightness.
  var correlation: Double {
    let shownLuma = smoothed(shown.map(luma))
    let sourceLuma = smoothed(shown.indices.map { luma(sourcePixel($0)) })
    return rankCorrelation(shownLuma, sourceLuma)
  }
}

// MARK: - Tests

@Suite("Preview fidelity")
struct PreviewFidelityTests {
  static let depths: [ColorDepth] = [.trueColor, .color256, .color16, .color8]
  static let pictures: [(String, RGBImage)] = [
    ("grey ramp", TestPictures.greyRamp), ("colour chart", TestPictures.colourChart),
    ("photo", TestPictures.photo),
  ]

  @Test(arguments: depths)
  func everyPictureKeepsItsBrightnessOrder(depth: ColorDepth) {
    for (name, picture) in Self.pictures {
      for colour in [false, true] {
        for level in [0, 2, 4] {
          let rendered = RenderedPreview(
            picture, depth: depth, blur: BlurLevel(level), colour: colour)
          let rho = rendered.correlation
          #expect(
            rho >= 0.95,
            "\(name) at \(depth.rawValue), blur \(level), colour \(colour): rho \(rho)")
        }
      }
    }
  }

  @Test(arguments: depths)
  func aGreyRampHasNoForcedBlackOrWhiteCell(depth: ColorDepth) {
    for level in [0, 2, 4] {
      let rendered = RenderedPreview(
        TestPictures.greyRamp, depth: depth, blur: BlurLevel(level), colour: false)
      var forced = 0
      for index in rendered.shown.indices {
        let source = luma(rendered.sourcePixel(index))
        let shown = luma(rendered.shown[index])
        if source >= 64, source <= 191, shown <= 10 || shown >= 245 { forced += 1 }
      }
      #expect(forced == 0, "\(depth.rawValue) blur \(level): \(forced) forced pixels")
    }
  }

  @Test(arguments: depths)
  func aGreyscalePreviewShowsOnlyGreys(depth: ColorDepth) {
    let rendered = RenderedPreview(
      TestPictures.photo, depth: depth, blur: .clear, colour: false)
    #expect(rendered.shown.allSatisfy { $0.0 == $0.1 && $0.1 == $0.2 })
  }

  @Test func imageCellsAreNeverGivenTextContrast() {
    // Two greys that share one 256-colour entry: text would get a contrasting foreground,
    // a picture must keep the grey in both halves.
    let text = CellStyle(foreground: .rgb(100, 100, 100), background: .rgb(101, 101, 101))
    var image = text
    image.isImage = true
    let shownText = ColorApproximation.approximate(text, depth: .color256)
    let shownImage = ColorApproximation.approximate(image, depth: .color256)
    #expect(shownText.foreground != shownText.background)
    #expect(shownImage.foreground == shownImage.background)
    #expect(shownImage.foreground == .indexed(241))
  }

  @Test func aRampInTheConsoleReadsLeftToRightIn256Colours() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice", depth: .color256)
    console.press(.enter)
    let screen = console.render(width: 120, height: 40)
    var cells = 0
    for y in 0..<screen.height {
      for x in 0..<screen.width where screen[x, y].character == "▀" {
        let style = screen[x, y].style
        #expect(style.isImage)
        let shown = ColorApproximation.approximate(style, depth: .color256)
        if case .indexed(let fg) = shown.foreground, case .indexed(let bg) = shown.background {
          // Greys only, never black or white forced onto a grey picture.
          #expect(fg >= 232 || [16, 59, 102, 145, 188, 231].contains(fg))
          #expect(bg >= 232 || [16, 59, 102, 145, 188, 231].contains(bg))
        }
        cells += 1
      }
    }
    #expect(cells > 200)
  }
}
