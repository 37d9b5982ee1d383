// Encoding PNG and JPEG (test fixtures, the demo database's generated images).

import CImageCodecs

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why an image could not be encoded or written.
public struct ImageEncodingError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The destination (a path, or "<memory>").
  public var destination: String
  /// What went wrong.
  public var detail: String

  /// Creates an error.
  public init(destination: String, detail: String) {
    self.destination = destination
    self.detail = detail
  }

  /// "`destination`: `detail`".
  public var description: String { "\(destination): \(detail)" }
}

/// A PNG described at the level of its rows, for producing every colour type and bit depth.
public struct RawPNG: Sendable {
  /// PNG colour types.
  public enum ColorType: Int32, Sendable, CaseIterable {
    /// Greyscale (bit depth 1, 2, 4, 8, 16).
    case grey = 0
    /// RGB (bit depth 8, 16).
    case rgb = 2
    /// Palette indices (bit depth 1, 2, 4, 8).
    case palette = 3
    /// Greyscale with alpha (bit depth 8, 16).
    case greyAlpha = 4
    /// RGBA (bit depth 8, 16).
    case rgba = 6

    /// Samples per pixel.
    public var channels: Int {
      switch self {
      case .grey, .palette: 1
      case .greyAlpha: 2
      case .rgb: 3
      case .rgba: 4
      }
    }
  }

  /// Width in pixels.
  public var width: Int
  /// Height in pixels.
  public var height: Int
  /// Colour type.
  public var colorType: ColorType
  /// Bits per sample.
  public var bitDepth: Int
  /// Rows as PNG stores them: samples packed most-significant-bit first, 16-bit big-endian.
  public var rows: [[UInt8]]
  /// RGB triples for palette images.
  public var palette: [(UInt8, UInt8, UInt8)]
  /// Alpha per palette entry (tRNS), may be shorter than the palette.
  public var paletteAlpha: [UInt8]
  /// Adam7 interlacing.
  public var interlaced: Bool

  /// Builds a raw PNG from unpacked samples (one `Int` per sample, row-major, `channels`
  /// samples per pixel), packing them for `bitDepth`.
  public init(
    width: Int, height: Int, colorType: ColorType, bitDepth: Int, samples: [Int],
    palette: [(UInt8, UInt8, UInt8)] = [], paletteAlpha: [UInt8] = [], interlaced: Bool = false
  ) {
    precondition(samples.count == width * height * colorType.channels, "sample count")
    self.width = width
    self.height = height
    self.colorType = colorType
    self.bitDepth = bitDepth
    self.palette = palette
    self.paletteAlpha = paletteAlpha
    self.interlaced = interlaced
    let perRow = width * colorType.channels
    var rows: [[UInt8]] = []
    rows.reserveCapacity(height)
    for y in 0..<height {
      let rowSamples = samples[(y * perRow)..<((y + 1) * perRow)]
      var row: [UInt8] = []
      switch bitDepth {
      case 16:
        for s in rowSamples {
          row.append(UInt8((s >> 8) & 0xFF))
          row.append(UInt8(s & 0xFF))
        }
      case 8:
        row = rowSamples.map { UInt8($0 & 0xFF) }
      default:
        let perByte = 8 / bitDepth
        row = [UInt8](repeating: 0, count: (perRow + perByte - 1) / perByte)
        for (i, s) in rowSamples.enumerated() {
          let shift = 8 - bitDepth * (i % perByte + 1)
          row[i / perByte] |= UInt8((s & ((1 << bitDepth) - 1)) << shift)
        }
      }
      rows.append(row)
    }
    self.rows = rows
  }
}

/// Encodes images as PNG or JPEG, in memory or to a file.
public enum ImageEncoder {
  /// An 8-bit RGB PNG.
  public static func encodePNG(_ image: RGBImage) throws(ImageEncodingError) -> [UInt8] {
    let row = image.width * 3
    return try callEncoder("<memory>") { out, length, text, size in
      image.pixels.withUnsafeBufferPointer { p in
        csar_encode_png(p.baseAddress, Int32(image.width), Int32(image.height), row, 2, 8,
                        nil, 0, nil, 0, 0, out, length, text, size)
      }
    }
  }

  /// A PNG of any colour type and bit depth.
  public static func encodePNG(_ raw: RawPNG) throws(ImageEncodingError) -> [UInt8] {
    let rowBytes = raw.rows.first?.count ?? 0
    let flat = raw.rows.flatMap { $0 }
    let palette = raw.palette.flatMap { [$0.0, $0.1, $0.2] }
    return try callEncoder("<memory>") { out, length, text, size in
      flat.withUnsafeBufferPointer { rows in
        palette.withUnsafeBufferPointer { pal in
          raw.paletteAlpha.withUnsafeBufferPointer { alpha in
            csar_encode_png(
              rows.baseAddress, Int32(raw.width), Int32(raw.height), rowBytes,
              raw.colorType.rawValue, Int32(raw.bitDepth), pal.baseAddress,
              Int32(raw.palette.count), alpha.baseAddress, Int32(raw.paletteAlpha.count),
              raw.interlaced ? 1 : 0, out, length, text, size)
          }
        }
      }
    }
  }

  /// A baseline RGB JPEG at `quality` (1...100).
  public static func encodeJPEG(
    _ image: RGBImage, quality: Int = 90
  ) throws(ImageEncodingError) -> [UInt8] {
    try encodeJPEG(samples: image.pixels, width: image.width, height: image.height,
                   components: 3, quality: quality)
  }

  /// A greyscale JPEG.
  public static func encodeJPEG(
    _ image: GreyImage, quality: Int = 90
  ) throws(ImageEncodingError) -> [UInt8] {
    try encodeJPEG(samples: image.pixels, width: image.width, height: image.height,
                   components: 1, quality: quality)
  }

  /// A JPEG from raw samples: 1 (grey), 3 (RGB) or 4 (CMYK as stored in Adobe files, i.e.
  /// inverted) components per pixel.
  public static func encodeJPEG(
    samples: [UInt8], width: Int, height: Int, components: Int, quality: Int
  ) throws(ImageEncodingError) -> [UInt8] {
    guard samples.count == width * height * components else {
      throw ImageEncodingError(destination: "<memory>", detail: "sample count does not match")
    }
    return try callEncoder("<memory>") { out, length, text, size in
      samples.withUnsafeBufferPointer { p in
        csar_encode_jpeg(p.baseAddress, Int32(width), Int32(height), Int32(components),
                         Int32(quality), out, length, text, size)
      }
    }
  }

  /// Writes `image` as a PNG file.
  public static func writePNG(_ image: RGBImage, to path: String) throws(ImageEncodingError) {
    try write(encodePNG(image), to: path)
  }

  /// Writes `image` as a JPEG file.
  public static func writeJPEG(
    _ image: RGBImage, to path: String, quality: Int = 90
  ) throws(ImageEncodingError) {
    try write(encodeJPEG(image, quality: quality), to: path)
  }

  /// Writes bytes to a file (created or truncated, mode 0644).
  public static func write(_ bytes: [UInt8], to path: String) throws(ImageEncodingError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if fd < 0 {
      throw ImageEncodingError(destination: path, detail: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    var written = 0
    var failure: String?
    bytes.withUnsafeBytes { buffer in
      while written < buffer.count {
        let n = posixWrite(fd, buffer.baseAddress! + written, buffer.count - written)
        if n < 0 {
          if errno == EINTR { continue }
          failure = String(cString: strerror(errno))
          return
        }
        written += n
      }
    }
    if let failure { throw ImageEncodingError(destination: path, detail: failure) }
  }

  // MARK: - Helpers

  private static func callEncoder(
    _ destination: String,
    _ body: (
      UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>,
      UnsafeMutablePointer<CChar>, Int
    ) -> csar_codec_status
  ) throws(ImageEncodingError) -> [UInt8] {
    var out: UnsafeMutablePointer<UInt8>?
    var length = 0
    var message = [CChar](repeating: 0, count: 256)
    let status = message.withUnsafeMutableBufferPointer { text in
      body(&out, &length, text.baseAddress!, text.count)
    }
    guard status == CSAR_CODEC_OK, let out else {
      let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                          as: UTF8.self)
      throw ImageEncodingError(destination: destination,
                               detail: detail.isEmpty ? "encoder failed" : detail)
    }
    defer { csar_codec_free(out) }
    return Array(UnsafeBufferPointer(start: out, count: length))
  }
}

/// `write(2)`, under a name the encoder's own `write` does not shadow.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
  write(fd, buffer, count)
}
