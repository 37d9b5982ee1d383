import Testing

@testable import Terminal

// MARK: - Detection

@Test func noColorWinsWhenSetAndNonEmpty() {
  #expect(
    ColorDepth.detect(environment: ["NO_COLOR": "1"], reportedColors: 256, hasColors: true)
      == .monochrome)
  #expect(
    ColorDepth.detect(environment: ["NO_COLOR": ""], reportedColors: 256, hasColors: true)
      == .color256)
  #expect(
    ColorDepth.detect(
      environment: ["NO_COLOR": "yes", "COLORTERM": "truecolor"], reportedColors: 1 << 24,
      hasColors: true) == .monochrome)
}

@Test func colorTermNeedsDirectColourTerminfo() {
  #expect(
    ColorDepth.detect(
      environment: ["COLORTERM": "truecolor"], reportedColors: 1 << 24, hasColors: true)
      == .trueColor)
  #expect(
    ColorDepth.detect(
      environment: ["COLORTERM": "24bit"], reportedColors: 0x100_0000, hasColors: true)
      == .trueColor)
  #expect(
    ColorDepth.detect(
      environment: ["COLORTERM": "truecolor"], reportedColors: 256, hasColors: true)
      == .color256)
}

@Test func colourCountsMapToDepths() {
  let cases: [(Int, ColorDepth)] = [
    (256, .color256), (88, .color16), (16, .color16), (8, .color8), (2, .monochrome),
    (0, .monochrome), (-1, .monochrome),
  ]
  for (count, depth) in cases {
    #expect(ColorDepth.detect(environment: [:], reportedColors: count, hasColors: true) == depth)
  }
  let noColors = ColorDepth.detect(environment: [:], reportedColors: 256, hasColors: false)
  #expect(noColors == .monochrome)
}

@Test func depthsCapAtCapability() {
  #expect(ColorDepth.trueColor.limited(to: .color256) == .color256)
  #expect(ColorDepth.color8.limited(to: .color256) == .color8)
  #expect(ColorDepth.color16.limited(to: .monochrome) == .monochrome)
  #expect(ColorDepth(rawValue: "mono") == .monochrome)
  #expect(ColorDepth.allCases.map(\.rawValue) == ["truecolor", "256", "16", "8", "mono"])
}

// MARK: - Approximation

@Test func pureRedApproximations() {
  let red = TerminalColor.rgb(255, 0, 0)
  #expect(ColorApproximation.approximate(red, depth: .trueColor) == red)
  #expect(ColorApproximation.approximate(red, depth: .color256) == .indexed(196))
  let sixteen = ColorApproximation.approximate(red, depth: .color16)
  #expect(sixteen == .indexed(9) || sixteen == .indexed(1))
  #expect(ColorApproximation.approximate(red, depth: .color8) == .indexed(1))
  #expect(ColorApproximation.approximate(red, depth: .monochrome) == .default)
}

@Test func greysUseTheRamp() {
  #expect(ColorApproximation.approximate(.rgb(128, 128, 128), depth: .color256) == .indexed(244))
  #expect(ColorApproximation.approximate(.rgb(8, 8, 8), depth: .color256) == .indexed(232))
  #expect(ColorApproximation.approximate(.rgb(238, 238, 238), depth: .color256) == .indexed(255))
  #expect(ColorApproximation.approximate(.rgb(0, 0, 0), depth: .color256) == .indexed(16))
  #expect(ColorApproximation.approximate(.rgb(255, 255, 255), depth: .color256) == .indexed(231))
  #expect(ColorApproximation.approximate(.rgb(95, 135, 175), depth: .color256) == .indexed(67))
}

@Test func indexedColoursDowngrade() {
  #expect(ColorApproximation.approximate(.indexed(196), depth: .color256) == .indexed(196))
  #expect(ColorApproximation.approximate(.indexed(196), depth: .color16) == .indexed(9))
  #expect(ColorApproximation.approximate(.indexed(196), depth: .color8) == .indexed(1))
  #expect(ColorApproximation.approximate(.indexed(12), depth: .color8) == .indexed(4))
  #expect(ColorApproximation.approximate(.indexed(3), depth: .color8) == .indexed(3))
  #expect(ColorApproximation.approximate(.indexed(21), depth: .color16) == .indexed(4))
  #expect(ColorApproximation.approximate(.indexed(231), depth: .color16) == .indexed(15))
}

@Test func monochromeAndDefaultStayDefault() {
  for depth in ColorDepth.allCases {
    #expect(ColorApproximation.approximate(.default, depth: depth) == .default)
  }
  #expect(ColorApproximation.approximate(.indexed(2), depth: .monochrome) == .default)
}

@Test func everyApproximationFitsItsDepth() {
  for r in stride(from: 0, through: 255, by: 17) {
    for g in stride(from: 0, through: 255, by: 51) {
      for b in stride(from: 0, through: 255, by: 85) {
        let color = TerminalColor.rgb(UInt8(r), UInt8(g), UInt8(b))
        for (depth, limit) in [(ColorDepth.color256, 256), (.color16, 16), (.color8, 8)] {
          guard case .indexed(let i) = ColorApproximation.approximate(color, depth: depth) else {
            Issue.record("\(color) at \(depth) is not indexed")
            continue
          }
          #expect(Int(i) < limit)
        }
      }
    }
  }
}

@Test func stylesKeepAttributesAndStayReadable() {
  let style = CellStyle(
    foreground: .rgb(60, 60, 60), background: .rgb(20, 20, 20), attributes: [.bold, .reverse])
  let eight = ColorApproximation.approximate(style, depth: .color8)
  #expect(eight.attributes == [.bold, .reverse])
  #expect(eight.foreground != eight.background)
  let mono = ColorApproximation.approximate(style, depth: .monochrome)
  #expect(mono == CellStyle(attributes: [.bold, .reverse]))
}

@Test func paletteComponents() {
  #expect(ColorApproximation.components(ofIndexed: 196) == (255, 0, 0))
  #expect(ColorApproximation.components(ofIndexed: 232) == (8, 8, 8))
  #expect(ColorApproximation.components(ofIndexed: 9) == (255, 0, 0))
}
