// MARK: - kitty graphics protocol

/// Encodes a picture as kitty graphics commands: RGB (`f=24`), base64 in chunks of at most
/// 4096 bytes, scaled by the terminal to `columns` x `rows` cells, the cursor left where it
/// was (`C=1`), answers suppressed (`q=2`).
public enum KittyEncoder {
  static let chunkSize = 4096

  /// The commands that transmit and place `graphic` as image `id` at the cursor.
  public static func encode(_ graphic: ScreenGraphic, id: Int) -> [UInt8] {
    let payload = base64(graphic.pixels)
    var out: [UInt8] = []
    out.reserveCapacity(payload.count + payload.count / chunkSize * 16 + 96)
    var offset = 0
    repeat {
      let end = min(offset + chunkSize, payload.count)
      let more = end < payload.count ? 1 : 0
      let control =
        offset == 0
        ? "a=T,f=24,s=\(graphic.width),v=\(graphic.height),c=\(graphic.columns),"
          + "r=\(graphic.rows),i=\(id),C=1,q=2,m=\(more)"
        : "m=\(more)"
      out += Array("\u{1B}_G\(control);".utf8)
      out += payload[offset..<end]
      out += Array("\u{1B}\\".utf8)
      offset = end
    } while offset < payload.count
    return out
  }

  /// Deletes image `id` and frees its data.
  public static func delete(id: Int) -> [UInt8] {
    Array("\u{1B}_Ga=d,d=I,i=\(id),q=2\u{1B}\\".utf8)
  }

  private static let alphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  /// Standard base64 with padding.
  static func base64(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index < bytes.count {
      let b0 = Int(bytes[index])
      let b1 = index + 1 < bytes.count ? Int(bytes[index + 1]) : 0
      let b2 = index + 2 < bytes.count ? Int(bytes[index + 2]) : 0
      out.append(alphabet[b0 >> 2])
      out.append(alphabet[(b0 & 3) << 4 | b1 >> 4])
      out.append(index + 1 < bytes.count ? alphabet[(b1 & 15) << 2 | b2 >> 6] : UInt8(ascii: "="))
      out.append(index + 2 < bytes.count ? alphabet[b2 & 63] : UInt8(ascii: "="))
      index += 3
    }
    return out
  }
}

// MARK: - Sixel

/// Encodes pixels as sixel, six rows per band, runs compressed with `!n`. A grey picture (every
/// preview unless colour is asked) gets one register per grey level sixel can name (its
/// colours are given in percent: 101 levels); a colour one a fixed 256-register palette (the
/// 6x6x6 colour cube and 40 greys, the nearest entry per pixel). With the fixed palette for
/// greys too, a blurred preview, whose greys span a narrow range, showed in five or six
/// bands with hard edges, in xterm, where kitty showed it smooth.
public enum SixelEncoder {
  /// The palette as R, G, B bytes: 216 cube colours, then 40 greys.
  static let palette: [(UInt8, UInt8, UInt8)] = {
    let steps: [UInt8] = [0, 51, 102, 153, 204, 255]
    var entries: [(UInt8, UInt8, UInt8)] = []
    for r in steps { for g in steps { for b in steps { entries.append((r, g, b)) } } }
    for n in 0..<40 {
      let v = UInt8((n * 255 + 19) / 39)
      entries.append((v, v, v))
    }
    return entries
  }()

  /// The palette register nearest to a colour (squared distance over the cube's six
  /// candidates around it and the nearest grey).
  static func register(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int {
    func step(_ v: UInt8) -> Int { (Int(v) + 25) / 51 }
    let cube = step(r) * 36 + step(g) * 6 + step(b)
    let grey = 216 + min(39, (Int((Int(r) + Int(g) + Int(b)) / 3) * 39 + 127) / 255)
    func distance(_ index: Int) -> Int {
      let e = palette[index]
      let dr = Int(e.0) - Int(r)
      let dg = Int(e.1) - Int(g)
      let db = Int(e.2) - Int(b)
      return dr * dr + dg * dg + db * db
    }
    return distance(grey) < distance(cube) ? grey : cube
  }

  /// Each pixel's register, and the colour (in percent) of each register used (nil: unused).
  static func registers(_ pixels: [UInt8], count: Int) -> (
    indices: [Int], colours: [(r: Int, g: Int, b: Int)?]
  ) {
    func percent(_ v: UInt8) -> Int { (Int(v) * 100 + 127) / 255 }
    var indices = [Int](repeating: 0, count: count)
    var isGrey = true
    for i in 0..<count where pixels[i * 3] != pixels[i * 3 + 1]
      || pixels[i * 3 + 1] != pixels[i * 3 + 2]
    {
      isGrey = false
      break
    }
    if isGrey {
      var colours = [(r: Int, g: Int, b: Int)?](repeating: nil, count: 101)
      for i in 0..<count {
        let level = percent(pixels[i * 3])
        indices[i] = level
        colours[level] = (level, level, level)
      }
      return (indices, colours)
    }
    var colours = [(r: Int, g: Int, b: Int)?](repeating: nil, count: palette.count)
    for i in 0..<count {
      let index = register(pixels[i * 3], pixels[i * 3 + 1], pixels[i * 3 + 2])
      indices[i] = index
      let entry = palette[index]
      colours[index] = (percent(entry.0), percent(entry.1), percent(entry.2))
    }
    return (indices, colours)
  }

  /// A complete sixel image (DCS … ST) of `width` x `height` RGB pixels.
  public static func encode(width: Int, height: Int, pixels: [UInt8]) -> [UInt8] {
    precondition(pixels.count == width * height * 3, "pixel buffer does not match the size")
    let (indices, registers) = Self.registers(pixels, count: width * height)
    // Pixel aspect 1:1 (P1 = 0 with raster attributes), background left as is (P2 = 1).
    var out = Array("\u{1B}P0;1;0q\"1;1;\(width);\(height)".utf8)
    for (index, colour) in registers.enumerated() {
      guard let colour else { continue }
      out += Array("#\(index);2;\(colour.r);\(colour.g);\(colour.b)".utf8)
    }
    var band = 0
    while band * 6 < height {
      let top = band * 6
      var colours: [Int] = []
      var seen = Set<Int>()
      for y in top..<min(top + 6, height) {
        for x in 0..<width where seen.insert(indices[y * width + x]).inserted {
          colours.append(indices[y * width + x])
        }
      }
      for (n, colour) in colours.enumerated() {
        out += Array("#\(colour)".utf8)
        var run: UInt8 = 0
        var count = 0
        func flush() {
          guard count > 0 else { return }
          if count > 3 {
            out += Array("!\(count)".utf8)
            out.append(run)
          } else {
            out += [UInt8](repeating: run, count: count)
          }
        }
        for x in 0..<width {
          var bits: UInt8 = 0
          for bit in 0..<6 where top + bit < height && indices[(top + bit) * width + x] == colour {
            bits |= 1 << UInt8(bit)
          }
          let character = 63 + bits
          if character == run {
            count += 1
          } else {
            flush()
            run = character
            count = 1
          }
        }
        flush()
        if n < colours.count - 1 { out.append(UInt8(ascii: "$")) }
      }
      out.append(UInt8(ascii: "-"))
      band += 1
    }
    out += Array("\u{1B}\\".utf8)
    return out
  }
}
