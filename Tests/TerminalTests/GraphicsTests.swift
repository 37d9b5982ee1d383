import Foundation
import Testing

@testable import Terminal

// MARK: - Decoders (the tests' own, to read the encoders' output back)

/// Reads kitty graphics commands back: the control keys of the first and the decoded payload.
func decodeKitty(_ bytes: [UInt8]) throws -> (keys: [String: String], payload: [UInt8], chunks: Int)
{
  let text = String(decoding: bytes, as: UTF8.self)
  var keys: [String: String] = [:]
  var base64 = ""
  var chunks = 0
  for command in text.components(separatedBy: "\u{1B}\\") where !command.isEmpty {
    #expect(command.hasPrefix("\u{1B}_G"))
    let body = command.dropFirst(3)
    let parts = body.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
    if chunks == 0 {
      for pair in parts[0].split(separator: ",") {
        let kv = pair.split(separator: "=")
        keys[String(kv[0])] = String(kv[1])
      }
    }
    #expect(parts[1].count <= KittyEncoder.chunkSize)
    base64 += parts[1]
    chunks += 1
  }
  let data = try #require(Data(base64Encoded: base64))
  return (keys, [UInt8](data), chunks)
}

/// Reads a sixel image back to RGB (registers given in percent, `!n` runs, `$`, `-`).
func decodeSixel(_ bytes: [UInt8]) throws -> (width: Int, height: Int, pixels: [UInt8]) {
  var text = Substring(String(decoding: bytes, as: UTF8.self))
  #expect(text.hasPrefix("\u{1B}P0;1;0q\""))
  #expect(text.hasSuffix("\u{1B}\\"))
  text = text.dropFirst(9).dropLast(2)
  func number() -> Int {
    let digits = text.prefix { $0.isNumber }
    text = text.dropFirst(digits.count)
    return Int(digits) ?? 0
  }
  _ = number()
  text = text.dropFirst()
  _ = number()
  text = text.dropFirst()
  let width = number()
  text = text.dropFirst()
  let height = number()
  var registers: [Int: (UInt8, UInt8, UInt8)] = [:]
  var pixels = [UInt8](repeating: 0, count: width * height * 3)
  var current = 0
  var x = 0
  var band = 0
  func paint(_ character: Character, count: Int) {
    let bits = Int(character.asciiValue!) - 63
    for _ in 0..<count {
      for bit in 0..<6 where bits & (1 << bit) != 0 {
        let y = band * 6 + bit
        guard y < height, x < width, let c = registers[current] else { continue }
        pixels[(y * width + x) * 3] = c.0
        pixels[(y * width + x) * 3 + 1] = c.1
        pixels[(y * width + x) * 3 + 2] = c.2
      }
      x += 1
    }
  }
  while let c = text.first {
    text = text.dropFirst()
    switch c {
    case "#":
      current = number()
      if text.first == ";" {
        text = text.dropFirst()
        _ = number()
        text = text.dropFirst()
        let r = number()
        text = text.dropFirst()
        let g = number()
        text = text.dropFirst()
        let b = number()
        func byte(_ p: Int) -> UInt8 { UInt8((p * 255 + 50) / 100) }
        registers[current] = (byte(r), byte(g), byte(b))
      }
    case "!":
      let count = number()
      let character = text.removeFirst()
      paint(character, count: count)
    case "$": x = 0
    case "-":
      x = 0
      band += 1
    default: paint(c, count: 1)
    }
  }
  return (width, height, pixels)
}

/// A picture with a grey ramp left to right and colour bands top to bottom.
func chart(width: Int, height: Int) -> [UInt8] {
  var pixels: [UInt8] = []
  for y in 0..<height {
    for x in 0..<width {
      let v = UInt8(x * 255 / max(1, width - 1))
      switch y * 4 / height {
      case 0: pixels += [v, v, v]
      case 1: pixels += [v, 0, 0]
      case 2: pixels += [0, v, 255 - v]
      default: pixels += [200, 150, v]
      }
    }
  }
  return pixels
}

@Suite("Graphics protocols: encoders and detection")
struct GraphicsTests {
  @Test func kittyCarriesThePixelsExactlyInChunks() throws {
    let pixels = chart(width: 70, height: 41)
    let graphic = ScreenGraphic(
      x: 3, y: 2, columns: 35, rows: 10, width: 70, height: 41, pixels: pixels)
    let decoded = try decodeKitty(KittyEncoder.encode(graphic, id: 7))
    #expect(decoded.payload == pixels)
    #expect(
      decoded.chunks == (pixels.count * 4 / 3 + KittyEncoder.chunkSize - 1) / KittyEncoder.chunkSize
    )
    #expect(decoded.keys["a"] == "T" && decoded.keys["f"] == "24")
    #expect(decoded.keys["s"] == "70" && decoded.keys["v"] == "41")
    #expect(decoded.keys["c"] == "35" && decoded.keys["r"] == "10")
    #expect(decoded.keys["i"] == "7" && decoded.keys["C"] == "1" && decoded.keys["q"] == "2")
    #expect(
      String(decoding: KittyEncoder.delete(id: 7), as: UTF8.self)
        == "\u{1B}_Ga=d,d=I,i=7,q=2\u{1B}\\")
  }

  @Test(arguments: [(1, 1), (2, 1), (3, 1), (5, 2)])
  func base64MatchesFoundation(count: Int, seed: Int) {
    let bytes = (0..<count * 7 + seed).map { UInt8(truncatingIfNeeded: $0 * 37 + seed) }
    #expect(
      String(decoding: KittyEncoder.base64(bytes), as: UTF8.self)
        == Data(bytes).base64EncodedString())
  }

  @Test func sixelDecodesBackToTheNearestPaletteColours() throws {
    let (width, height) = (53, 29)  // not a multiple of six rows
    let pixels = chart(width: width, height: height)
    let decoded = try decodeSixel(SixelEncoder.encode(width: width, height: height, pixels: pixels))
    #expect(decoded.width == width && decoded.height == height)
    var worst = 0
    for i in 0..<(width * height) {
      let expected = SixelEncoder.palette[
        SixelEncoder.register(pixels[i * 3], pixels[i * 3 + 1], pixels[i * 3 + 2])]
      // Registers are given in percent: the palette entry, within that rounding.
      let channels = [expected.0, expected.1, expected.2]
      for c in 0..<3 { #expect(abs(Int(decoded.pixels[i * 3 + c]) - Int(channels[c])) <= 2) }
      for c in 0..<3 {
        worst = max(worst, abs(Int(decoded.pixels[i * 3 + c]) - Int(pixels[i * 3 + c])))
      }
    }
    #expect(worst <= 28, "every channel within half a cube step")
  }

  /// Before, greys went through the fixed palette's 40: a blurred preview, its greys in a
  /// narrow range, showed in a few hard-edged bands. Now a grey picture gets every grey level
  /// sixel can name (percent: 101).
  @Test func aGreyPictureKeepsEveryGreyLevelSixelCanName() throws {
    let (width, height) = (256, 7)
    var pixels: [UInt8] = []
    for _ in 0..<height { for x in 0..<width { pixels += [UInt8(x), UInt8(x), UInt8(x)] } }
    let decoded = try decodeSixel(SixelEncoder.encode(width: width, height: height, pixels: pixels))
    var levels = Set<UInt8>()
    for i in 0..<(width * height) {
      let value = decoded.pixels[i * 3]
      levels.insert(value)
      #expect(value == decoded.pixels[i * 3 + 1] && value == decoded.pixels[i * 3 + 2])
      #expect(abs(Int(value) - Int(pixels[i * 3])) <= 2, "pixel \(i): \(value)")
    }
    #expect(levels.count == 101, "\(levels.count) grey levels")
  }

  @Test func greysUseTheGreyRamp() {
    for v in stride(from: 0, through: 255, by: 5) {
      let entry = SixelEncoder.palette[SixelEncoder.register(UInt8(v), UInt8(v), UInt8(v))]
      #expect(entry.0 == entry.1 && entry.1 == entry.2)
      #expect(abs(Int(entry.0) - v) <= 4)
    }
  }

  @Test func resamplingKeepsAFlatPictureFlat() {
    let graphic = ScreenGraphic(
      x: 0, y: 0, columns: 2, rows: 1, width: 4, height: 4,
      pixels: [UInt8](repeating: 90, count: 48))
    #expect(graphic.resampled(width: 9, height: 7).allSatisfy { $0 == 90 })
  }

  // MARK: Detection

  @Test func askedOnlyWhereAnAnswerCanComeFromTheTerminal() {
    #expect(GraphicsDetection.plan(environment: [:], tmuxPassthrough: nil) == (true, false))
    let tmux = ["TMUX": "/tmp/tmux-0/default,1,0"]
    #expect(GraphicsDetection.plan(environment: tmux, tmuxPassthrough: "off\n") == (false, false))
    #expect(GraphicsDetection.plan(environment: tmux, tmuxPassthrough: nil) == (false, false))
    #expect(GraphicsDetection.plan(environment: tmux, tmuxPassthrough: "on\n") == (true, true))
    #expect(GraphicsDetection.plan(environment: tmux, tmuxPassthrough: "all") == (true, true))
    #expect(
      GraphicsDetection.plan(environment: ["STY": "1.pts"], tmuxPassthrough: nil) == (false, false))
    #expect(
      GraphicsDetection.plan(environment: ["CSAR_GRAPHICS": "off"], tmuxPassthrough: nil) == (
        false, false
      ))
    // TERM never decides: a terminal named like kitty is still asked.
    #expect(
      GraphicsDetection.plan(environment: ["TERM": "xterm-kitty"], tmuxPassthrough: nil) == (
        true, false
      ))
  }

  @Test func kittyWhenItAnswersOK() {
    var reply = GraphicsDetection.Reply()
    reply.append(Array("\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[6;20;10t".utf8))
    #expect(!reply.isComplete, "waits for the device attributes")
    reply.append(Array("\u{1B}[?62;22c".utf8))
    #expect(reply.isComplete)
    let support = reply.support(throughTmux: false)
    #expect(support.graphicsProtocol == .kitty)
    #expect(support.cellPixels?.width == 10 && support.cellPixels?.height == 20)
  }

  @Test func sixelWhenTheDeviceAttributesListIt() {
    var reply = GraphicsDetection.Reply()
    reply.append(Array("\u{1B}[6;16;8t\u{1B}[?64;1;2;4;6;9;15;18;21;22c".utf8))
    #expect(reply.support(throughTmux: true).graphicsProtocol == .sixel)
    #expect(reply.support(throughTmux: true).throughTmux)
    // Without the cell size a sixel picture cannot be sized: text cells.
    var unsized = GraphicsDetection.Reply()
    unsized.append(Array("\u{1B}[?62;4c".utf8))
    #expect(unsized.support(throughTmux: false).graphicsProtocol == nil)
  }

  /// xterm (with `-ti vt340`) lists sixel but, its window operations being off by default,
  /// never answers `CSI 16 t`: before, it got text cells only. The cell size now comes from
  /// the window's size in pixels the terminal gives the tty; an answer to `CSI 16 t` wins.
  @Test func sixelWithTheWindowsCellSizeWhenTheTerminalDoesNotAnswerIt() {
    var xterm = GraphicsDetection.Reply()
    xterm.append(Array("\u{1B}[?63;1;2;4;6;9;15;16;22;28c".utf8))
    let support = xterm.support(throughTmux: false, windowCellPixels: (9, 18))
    #expect(support.graphicsProtocol == .sixel)
    #expect(support.cellPixels?.width == 9 && support.cellPixels?.height == 18)
    #expect(xterm.support(throughTmux: false, windowCellPixels: nil).graphicsProtocol == nil)
    var answered = GraphicsDetection.Reply()
    answered.append(Array("\u{1B}[6;16;8t\u{1B}[?64;4c".utf8))
    let both = answered.support(throughTmux: false, windowCellPixels: (9, 18))
    #expect(both.cellPixels?.width == 8 && both.cellPixels?.height == 16)
  }

  /// The background colour (OSC 11) as xterm, kitty and tmux answer it: light or not.
  @Test func theBackgroundSaysWhetherItIsLight() {
    func light(_ answer: String) -> Bool? {
      var reply = GraphicsDetection.Reply()
      reply.append(Array(answer.utf8))
      return reply.backgroundIsLight
    }
    #expect(light("\u{1B}]11;rgb:ffff/ffff/ffff\u{1B}\\\u{1B}[?64;1;2c") == true)  // xterm
    #expect(light("\u{1B}]11;rgb:0000/0000/0000\u{1B}\\\u{1B}[?62;c") == false)  // kitty
    #expect(light("\u{1B}]11;rgb:c0c0/c0c0/c0c0\u{1B}\\") == true)  // tmux, bg=white
    #expect(light("\u{1B}]11;rgb:fd/f6/e3\u{7}") == true)  // two digits, ended by BEL
    #expect(light("\u{1B}]11;rgb:1c1c/1c1c/1c1c\u{7}") == false)
    #expect(light("\u{1B}[?1;2c") == nil, "no answer")
    #expect(light("\u{1B}]11;rgb:zz/00/00\u{7}") == nil)
    #expect(light("\u{1B}]11;rgb:ffff/ffff\u{7}") == nil)
    // Asked before the device attributes, whose answer ends the wait, with or without graphics.
    for query in [GraphicsDetection.query, GraphicsDetection.backgroundOnlyQuery] {
      let text = String(decoding: query, as: UTF8.self)
      #expect(
        text.contains("\u{1B}]11;?\u{1B}\\") && text.hasSuffix("\u{1B}[c"),
        "\(text.debugDescription)")
    }
  }

  @Test func nothingWhenTheTerminalOnlyAnswersItsAttributes() {
    var reply = GraphicsDetection.Reply()
    reply.append(Array("\u{1B}[?1;2c".utf8))
    #expect(reply.isComplete)
    #expect(reply.support(throughTmux: false) == .none)
    var refused = GraphicsDetection.Reply()
    refused.append(Array("\u{1B}_Gi=31;ENOTSUPPORTED:no\u{1B}\\\u{1B}[?62;22c".utf8))
    #expect(refused.support(throughTmux: false).graphicsProtocol == nil)
    #expect(GraphicsDetection.Reply().support(throughTmux: false) == .none, "no answer at all")
  }

  @Test func tmuxPassthroughDoublesEveryEscape() {
    let wrapped = GraphicsDetection.wrapForTmux(Array("\u{1B}_Ga=q\u{1B}\\".utf8))
    #expect(
      String(decoding: wrapped, as: UTF8.self)
        == "\u{1B}Ptmux;\u{1B}\u{1B}_Ga=q\u{1B}\u{1B}\\\u{1B}\\")
  }
}
