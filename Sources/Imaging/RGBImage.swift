// Pixel containers shared by decoding, filtering, previews and hashing.

/// An 8-bit RGB image: `width * height * 3` bytes, row-major, no padding.
public struct RGBImage: Sendable, Equatable {
  /// Width in pixels (at least 1 for a decoded image).
  public var width: Int
  /// Height in pixels.
  public var height: Int
  /// Interleaved R, G, B bytes, row after row.
  public var pixels: [UInt8]

  /// Wraps existing pixels; `pixels.count` must be `width * height * 3`.
  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(width >= 0 && height >= 0, "negative image size")
    precondition(pixels.count == width * height * 3, "pixel buffer does not match the size")
    self.width = width
    self.height = height
    self.pixels = pixels
  }

  /// An image filled with one colour.
  public init(width: Int, height: Int, red: UInt8 = 0, green: UInt8 = 0, blue: UInt8 = 0) {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for i in stride(from: 0, to: pixels.count, by: 3) {
      pixels[i] = red
      pixels[i + 1] = green
      pixels[i + 2] = blue
    }
    self.init(width: width, height: height, pixels: pixels)
  }

  /// An image whose pixel `(x, y)` is `colour(x, y)`.
  public init(
    width: Int, height: Int, colour: (_ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8)
  ) {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    var i = 0
    for y in 0..<height {
      for x in 0..<width {
        let (r, g, b) = colour(x, y)
        pixels[i] = r
        pixels[i + 1] = g
        pixels[i + 2] = b
        i += 3
      }
    }
    self.init(width: width, height: height, pixels: pixels)
  }

  /// The pixel at `(x, y)`.
  public subscript(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
    let i = (y * width + x) * 3
    return (pixels[i], pixels[i + 1], pixels[i + 2])
  }
}

/// An 8-bit single-channel (luma) image: `width * height` bytes, row-major.
public struct GreyImage: Sendable, Equatable {
  /// Width in pixels.
  public var width: Int
  /// Height in pixels.
  public var height: Int
  /// One byte per pixel, row after row.
  public var pixels: [UInt8]

  /// Wraps existing pixels; `pixels.count` must be `width * height`.
  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(width >= 0 && height >= 0, "negative image size")
    precondition(pixels.count == width * height, "pixel buffer does not match the size")
    self.width = width
    self.height = height
    self.pixels = pixels
  }

  /// The pixel at `(x, y)`.
  public subscript(x: Int, y: Int) -> UInt8 { pixels[y * width + x] }
}

// MARK: - Orientation

/// The eight EXIF orientations (TIFF tag 0x0112): how stored pixels must be turned for display.
public enum ImageOrientation: Int, Sendable, CaseIterable {
  /// Stored as displayed.
  case up = 1
  /// Mirrored left-right.
  case upMirrored = 2
  /// Rotated 180 degrees.
  case down = 3
  /// Mirrored top-bottom.
  case downMirrored = 4
  /// Transposed (mirrored along the main diagonal).
  case leftMirrored = 5
  /// Needs a 90-degree clockwise turn for display.
  case right = 6
  /// Transversed (mirrored along the anti-diagonal).
  case rightMirrored = 7
  /// Needs a 90-degree counter-clockwise turn for display.
  case left = 8
}

extension RGBImage {
  /// The image as it should be displayed given its EXIF `orientation` (hashes use stored
  /// pixels; previews use this).
  public func oriented(_ orientation: ImageOrientation) -> RGBImage {
    if orientation == .up { return self }
    let swaps = orientation.rawValue >= 5
    let outW = swaps ? height : width
    let outH = swaps ? width : height
    var out = [UInt8](repeating: 0, count: pixels.count)
    pixels.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        for oy in 0..<outH {
          for ox in 0..<outW {
            // Source coordinates of display pixel (ox, oy).
            let sx: Int
            let sy: Int
            switch orientation {
            case .up: (sx, sy) = (ox, oy)
            case .upMirrored: (sx, sy) = (width - 1 - ox, oy)
            case .down: (sx, sy) = (width - 1 - ox, height - 1 - oy)
            case .downMirrored: (sx, sy) = (ox, height - 1 - oy)
            case .leftMirrored: (sx, sy) = (oy, ox)
            case .right: (sx, sy) = (oy, height - 1 - ox)
            case .rightMirrored: (sx, sy) = (width - 1 - oy, height - 1 - ox)
            case .left: (sx, sy) = (width - 1 - oy, ox)
            }
            let s = (sy * width + sx) * 3
            let d = (oy * outW + ox) * 3
            dst[d] = src[s]
            dst[d + 1] = src[s + 1]
            dst[d + 2] = src[s + 2]
          }
        }
      }
    }
    return RGBImage(width: outW, height: outH, pixels: out)
  }

  /// Rotated by 90 degrees clockwise.
  public func rotatedClockwise() -> RGBImage { oriented(.right) }

  /// Mirrored left-right.
  public func mirroredHorizontally() -> RGBImage { oriented(.upMirrored) }
}
