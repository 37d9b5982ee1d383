// Pictures through a terminal graphics protocol (kitty graphics, sixel): detection and the
// image a screen asks to show.
import Foundation


// MARK: - What a screen asks to show

/// An RGB picture a screen wants shown over a rectangle of its cells through the terminal's
/// graphics protocol. The cells under it hold the same picture as text cells, which is what a
/// terminal without graphics (or a capture) shows.
public struct ScreenGraphic: Sendable, Equatable {
  /// Cell rectangle (columns and rows of the screen) the picture fills.
  public var x: Int
  public var y: Int
  public var columns: Int
  public var rows: Int
  /// Pixel size and interleaved R, G, B bytes, row after row.
  public var width: Int
  public var height: Int
  public var pixels: [UInt8]

  public init(
    x: Int, y: Int, columns: Int, rows: Int, width: Int, height: Int, pixels: [UInt8]
  ) {
    precondition(pixels.count == width * height * 3, "pixel buffer does not match the size")
    self.x = x
    self.y = y
    self.columns = columns
    self.rows = rows
    self.width = width
    self.height = height
    self.pixels = pixels
  }

  /// The picture resampled (bilinear) to `width` x `height` pixels, for sixel, which draws
  /// pixels one to one.
  public func resampled(width newWidth: Int, height newHeight: Int) -> [UInt8] {
    let w = max(1, newWidth)
    let h = max(1, newHeight)
    var out = [UInt8](repeating: 0, count: w * h * 3)
    guard width > 0, height > 0 else { return out }
    for y in 0..<h {
      let sy = max(0, (Double(y) + 0.5) * Double(height) / Double(h) - 0.5)
      let y0 = min(Int(sy), height - 1)
      let y1 = min(y0 + 1, height - 1)
      let fy = sy - Double(y0)
      for x in 0..<w {
        let sx = max(0, (Double(x) + 0.5) * Double(width) / Double(w) - 0.5)
        let x0 = min(Int(sx), width - 1)
        let x1 = min(x0 + 1, width - 1)
        let fx = sx - Double(x0)
        for c in 0..<3 {
          func p(_ px: Int, _ py: Int) -> Double { Double(pixels[(py * width + px) * 3 + c]) }
          let top = p(x0, y0) * (1 - fx) + p(x1, y0) * fx
          let bottom = p(x0, y1) * (1 - fx) + p(x1, y1) * fx
          out[(y * w + x) * 3 + c] = UInt8(clamping: Int((top * (1 - fy) + bottom * fy).rounded()))
        }
      }
    }
    return out
  }
}

// MARK: - Detection

/// The graphics protocol a terminal speaks, as it answered when asked.
public enum GraphicsProtocol: String, Sendable, Equatable {
  case kitty, sixel
}

/// What the console learned from asking the terminal (never from TERM or other guesses).
public struct GraphicsSupport: Sendable, Equatable {
  /// The protocol to draw pictures with; nil: text cells only.
  public var graphicsProtocol: GraphicsProtocol?
  /// Pixel size of one cell (from `CSI 16 t`), needed to size sixel pictures.
  public var cellPixels: (width: Int, height: Int)?
  /// Every sequence must be wrapped for tmux's passthrough.
  public var throughTmux: Bool

  public static let none = GraphicsSupport(
    graphicsProtocol: nil, cellPixels: nil, throughTmux: false)

  public init(
    graphicsProtocol: GraphicsProtocol?, cellPixels: (width: Int, height: Int)?,
    throughTmux: Bool
  ) {
    self.graphicsProtocol = graphicsProtocol
    self.cellPixels = cellPixels
    self.throughTmux = throughTmux
  }

  public static func == (a: GraphicsSupport, b: GraphicsSupport) -> Bool {
    a.graphicsProtocol == b.graphicsProtocol && a.throughTmux == b.throughTmux
      && a.cellPixels?.width == b.cellPixels?.width && a.cellPixels?.height == b.cellPixels?.height
  }
}

/// Asks the terminal what it can draw and reads its answer. Pure: the backend writes
/// ``query`` and feeds the bytes it reads to ``Reply``.
public enum GraphicsDetection {
  /// The kitty image id of the query (an image is never stored by it: `a=q`).
  static let queryId = 31

  /// A 1x1 kitty query, the cell size in pixels, the background colour, then primary device
  /// attributes: every terminal answers the last, so its reply ends the wait.
  public static let query: [UInt8] = Array(
    ("\u{1B}_Gi=\(queryId),s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\" + "\u{1B}[16t"
      + backgroundQuery + "\u{1B}[c").utf8)

  /// The background colour (OSC 11) then the device attributes: where graphics are not asked
  /// for (inside GNU screen or a tmux without passthrough, which answer both themselves, or
  /// with `CSAR_GRAPHICS=off`), the console still learns whether the background is light.
  public static let backgroundOnlyQuery: [UInt8] = Array((backgroundQuery + "\u{1B}[c").utf8)

  static let backgroundQuery = "\u{1B}]11;?\u{1B}\\"

  /// Whether to ask at all, and through tmux's passthrough: never inside GNU screen or a tmux
  /// without `allow-passthrough` (the answer would be tmux's own, the picture lost), never
  /// when `CSAR_GRAPHICS=off`. `tmuxPassthrough`: tmux's `allow-passthrough` value, when
  /// inside tmux.
  public static func plan(environment: [String: String], tmuxPassthrough: String?)
    -> (ask: Bool, throughTmux: Bool)
  {
    if environment["CSAR_GRAPHICS"]?.lowercased() == "off" { return (false, false) }
    if let sty = environment["STY"], !sty.isEmpty { return (false, false) }
    let inTmux = !(environment["TMUX"] ?? "").isEmpty
    guard inTmux else { return (true, false) }
    let passthrough = (tmuxPassthrough ?? "").filter { !$0.isWhitespace }
    return passthrough == "on" || passthrough == "all" ? (true, true) : (false, false)
  }

  /// The terminal's answer to ``query``, read as it arrives.
  public struct Reply: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func append(_ more: [UInt8]) { bytes += more }

    /// The device-attributes answer arrived: nothing more will come.
    public var isComplete: Bool { deviceAttributes != nil }

    /// Parameters of the primary device attributes answer `ESC [ ? 62 ; 4 ; … c`.
    public var deviceAttributes: [Int]? {
      guard let body = sequence(after: Array("\u{1B}[?".utf8), endingWith: UInt8(ascii: "c"))
      else { return nil }
      return body.split(separator: UInt8(ascii: ";")).compactMap {
        Int(String(decoding: $0, as: UTF8.self))
      }
    }

    /// The kitty query was answered OK.
    public var kittyOK: Bool {
      guard let body = sequence(after: Array("\u{1B}_G".utf8), endingWith: 0x1B) else {
        return false
      }
      let text = String(decoding: body, as: UTF8.self)
      return text.hasPrefix("i=\(GraphicsDetection.queryId)") && text.hasSuffix(";OK")
    }

    /// The background colour from the OSC 11 answer `ESC ] 11 ; rgb:RRRR/GGGG/BBBB` (one to
    /// four hex digits a channel, ended by BEL or `ESC \\`), each channel 0...1.
    public var background: (red: Double, green: Double, blue: Double)? {
      guard let body = sequence(after: Array("\u{1B}]11;rgb:".utf8), endingWithAnyOf: [0x07, 0x1B])
      else { return nil }
      let channels = body.split(separator: UInt8(ascii: "/")).map {
        String(decoding: $0, as: UTF8.self)
      }
      guard channels.count == 3 else { return nil }
      var values: [Double] = []
      for channel in channels {
        guard (1...4).contains(channel.count), let value = Int(channel, radix: 16) else {
          return nil
        }
        values.append(Double(value) / Double((1 << (4 * channel.count)) - 1))
      }
      return (values[0], values[1], values[2])
    }

    /// Whether the background is light (relative luminance over one half), when the terminal
    /// said what it is.
    public var backgroundIsLight: Bool? {
      guard let background else { return nil }
      func linear(_ c: Double) -> Double {
        c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
      }
      let luminance =
        0.2126 * linear(background.red) + 0.7152 * linear(background.green)
        + 0.0722 * linear(background.blue)
      return luminance > 0.5
    }

    /// Cell size from `ESC [ 6 ; height ; width t`.
    public var cellPixels: (width: Int, height: Int)? {
      guard let body = sequence(after: Array("\u{1B}[6;".utf8), endingWith: UInt8(ascii: "t"))
      else { return nil }
      let numbers = body.split(separator: UInt8(ascii: ";")).compactMap {
        Int(String(decoding: $0, as: UTF8.self))
      }
      guard numbers.count == 2, numbers[0] > 0, numbers[1] > 0 else { return nil }
      return (numbers[1], numbers[0])
    }

    /// What to draw with: kitty when it answered OK, else sixel when the device attributes
    /// list 4 and the cell size is known; nothing otherwise. The cell size is the answer to
    /// `CSI 16 t`, else `windowCellPixels` (from the window size in pixels the terminal gives
    /// the tty): xterm, the reference sixel terminal, does not answer `CSI 16 t` unless its
    /// window operations are allowed, so it used to get text cells only.
    public func support(
      throughTmux: Bool, windowCellPixels: (width: Int, height: Int)? = nil
    ) -> GraphicsSupport {
      let cell = cellPixels ?? windowCellPixels
      if kittyOK {
        return GraphicsSupport(graphicsProtocol: .kitty, cellPixels: cell, throughTmux: throughTmux)
      }
      if deviceAttributes?.contains(4) == true, cell != nil {
        return GraphicsSupport(graphicsProtocol: .sixel, cellPixels: cell, throughTmux: throughTmux)
      }
      return GraphicsSupport(graphicsProtocol: nil, cellPixels: cell, throughTmux: throughTmux)
    }

    /// The bytes between `start` and the first `end` after it.
    private func sequence(after start: [UInt8], endingWith end: UInt8) -> ArraySlice<UInt8>? {
      sequence(after: start, endingWithAnyOf: [end])
    }

    /// The bytes between `start` and the first of `ends` after it.
    private func sequence(after start: [UInt8], endingWithAnyOf ends: Set<UInt8>)
      -> ArraySlice<UInt8>?
    {
      guard start.count <= bytes.count else { return nil }
      var index = 0
      while index + start.count <= bytes.count {
        if Array(bytes[index..<index + start.count]) == start {
          let from = index + start.count
          guard let stop = bytes[from...].firstIndex(where: ends.contains) else { return nil }
          return bytes[from..<stop]
        }
        index += 1
      }
      return nil
    }
  }

  /// `bytes` wrapped for tmux's passthrough: `ESC P tmux ;` with every ESC doubled, `ESC \`.
  public static func wrapForTmux(_ bytes: [UInt8]) -> [UInt8] {
    var out = Array("\u{1B}Ptmux;".utf8)
    out.reserveCapacity(bytes.count + 16)
    for byte in bytes {
      if byte == 0x1B { out.append(0x1B) }
      out.append(byte)
    }
    out += Array("\u{1B}\\".utf8)
    return out
  }
}
