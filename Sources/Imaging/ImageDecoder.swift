// Decoding image files into RGB pixels through the CImageCodecs shim (BMP in Swift).

import CImageCodecs

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - Types

/// An image file format, recognised from its first bytes (never from a file name).
public enum ImageFormat: String, Sendable, CaseIterable {
  /// Portable Network Graphics.
  case png
  /// JPEG (JFIF / Exif).
  case jpeg
  /// WebP (lossy, lossless, extended, animated), through libwebp.
  case webp
  /// GIF (87a/89a, animated), through giflib.
  case gif
  /// Windows and OS/2 bitmaps, read by ``BMPDecoder``.
  case bmp
  /// TIFF (first image), through libtiff.
  case tiff
  /// HEIF still images: HEIC (HEVC) and AVIF (AV1), through libheif.
  case heif

  /// HEIF brands of still images (major brand of the `ftyp` box).
  static let heifBrands: Set<String> = ["heic", "heix", "heim", "heis", "mif1", "avif"]

  /// The format of `bytes` from its magic number, or `nil` when it is none of the above.
  public static func sniff(_ bytes: some Collection<UInt8>) -> ImageFormat? {
    let head = Array(bytes.prefix(18))
    func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
      head.count >= offset + prefix.count
        && Array(head[offset..<offset + prefix.count]) == prefix
    }
    if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
    if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
    if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
    if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
    // "BM" then a header size the reader knows (the file size field is often wrong).
    if starts(Array("BM".utf8)), head.count >= 18,
      [12, 40, 52, 56, 64, 108, 124].contains(
        Int(head[14]) | Int(head[15]) << 8 | Int(head[16]) << 16 | Int(head[17]) << 24)
    {
      return .bmp
    }
    if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A])
      || starts([0x49, 0x49, 0x2B, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2B])
    {
      return .tiff
    }
    if starts(Array("ftyp".utf8), at: 4), head.count >= 12,
      heifBrands.contains(String(decoding: head[8..<12], as: UTF8.self))
    {
      return .heif
    }
    return nil
  }

  /// A name for formats we recognise but do not decode (for error messages).
  static func otherFormatName(_ bytes: [UInt8]) -> String? {
    func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
      bytes.count >= offset + prefix.count
        && Array(bytes[offset..<offset + prefix.count]) == prefix
    }
    if starts(Array("GIF8".utf8)) { return "GIF (unknown version)" }
    if starts(Array("BM".utf8)) { return "BMP (unknown header)" }
    if starts(Array("ftyp".utf8), at: 4) { return "ISO media (not a HEIF still image)" }
    if starts([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50]) { return "JPEG 2000" }
    if starts([0x00, 0x00, 0x01, 0x00]) { return "ICO" }
    if starts(Array("8BPS".utf8)) { return "Photoshop" }
    return nil
  }

  /// The formats in words, for messages: "PNG, JPEG, WebP, GIF, BMP, TIFF and HEIF".
  public static let supportedNames = "PNG, JPEG, WebP, GIF, BMP, TIFF and HEIF/HEIC/AVIF"

  /// The format's usual name.
  public var name: String {
    switch self {
    case .png: "PNG"
    case .jpeg: "JPEG"
    case .webp: "WebP"
    case .gif: "GIF"
    case .bmp: "BMP"
    case .tiff: "TIFF"
    case .heif: "HEIF"
    }
  }

  /// Whether the format can hold an animation (several frames).
  public var canAnimate: Bool { self == .gif || self == .webp }
}

/// A decoded image with what the file said about itself.
public struct DecodedImage: Sendable {
  /// Stored pixels as 8-bit RGB (not rotated by the EXIF orientation).
  public var image: RGBImage
  /// The file format.
  public var format: ImageFormat
  /// The EXIF orientation, when the file has one (JPEG only).
  public var orientation: ImageOrientation?
  /// How the source stored its pixels, e.g. "PNG palette 4-bit" or "JPEG CMYK".
  public var sourceDescription: String

  /// Width of the stored pixels.
  public var width: Int { image.width }
  /// Height of the stored pixels.
  public var height: Int { image.height }
}

/// What a row-by-row decode said about the image (its pixels went to the sink).
public struct ImageHeader: Sendable, Equatable {
  /// Width of the stored pixels.
  public var width: Int
  /// Height of the stored pixels.
  public var height: Int
  /// The file format.
  public var format: ImageFormat
  /// The EXIF orientation, when the file has one (JPEG only).
  public var orientation: ImageOrientation?
  /// How the source stored its pixels.
  public var sourceDescription: String
}

/// How much of an animation ``ImageDecoder/decodeFrames(data:name:maxPixels:limits:_:)``
/// decodes: decoding costs every frame's area, so both the frame count and the pixels of all
/// frames together are capped (a small GIF can hold thousands of large frames).
public struct FrameLimits: Sendable, Equatable {
  /// At most this many frames.
  public var maxFrames: Int
  /// At most this many frame pixels in all.
  public var maxTotalPixels: Int

  /// Limits; the defaults take 100 frames, or 400 megapixels of frames.
  public init(maxFrames: Int = 100, maxTotalPixels: Int = 400_000_000) {
    self.maxFrames = maxFrames
    self.maxTotalPixels = maxTotalPixels
  }

  /// 100 frames, 400 megapixels.
  public static let `default` = FrameLimits()
}

/// What ``ImageDecoder/decodeFrames(data:name:maxPixels:limits:_:)`` went through.
public struct FrameSummary: Sendable, Equatable {
  /// Canvas width.
  public var width: Int
  /// Canvas height.
  public var height: Int
  /// The file format.
  public var format: ImageFormat
  /// Frames decoded and given to the caller.
  public var frames: Int
  /// The file has more frames than the limits let through (not decoded).
  public var moreFrames: Bool
  /// The data was damaged or cut after this many complete frames.
  public var damagedAfter: Int?
}

/// Receives an image row by row from ``ImageDecoder/decodeRows(data:name:maxPixels:into:)``.
public protocol ImageRowSink: AnyObject {
  /// The size (and EXIF orientation) before any row; false stops the decode (out of memory).
  func begin(width: Int, height: Int, orientation: ImageOrientation?) -> Bool
  /// Row `y` as `width * 3` bytes of 8-bit RGB, valid only during the call; rows come in
  /// order, each once.
  func row(_ rgb: UnsafePointer<UInt8>, y: Int)
}

// MARK: - Decoder

/// Decodes PNG, JPEG, WebP, GIF, BMP, TIFF and HEIF images (format sniffed from magic bytes,
/// never from the name) into 8-bit RGB, each under the same pixel limit and memory bounds.
public enum ImageDecoder {
  /// Default pixel limit: 100 megapixels.
  public static let defaultMaxPixels = 100_000_000
  /// Files larger than this are refused before reading (512 MiB).
  public static let maxFileBytes = 512 * 1024 * 1024

  /// Reads and decodes the image file at `path`.
  public static func decode(
    path: String, maxPixels: Int = defaultMaxPixels
  ) throws(MediaDecodingError) -> DecodedImage {
    let bytes = try readFile(path)
    return try decode(data: bytes, name: path, maxPixels: maxPixels)
  }

  /// Decodes an image held in memory; `name` identifies it in errors.
  public static func decode(
    data: [UInt8], name: String = "<data>", maxPixels: Int = defaultMaxPixels
  ) throws(MediaDecodingError) -> DecodedImage {
    let collector = CollectingSink()
    let header = try decodeRows(data: data, name: name, maxPixels: maxPixels, into: collector)
    return DecodedImage(
      image: RGBImage(width: header.width, height: header.height, pixels: collector.pixels),
      format: header.format, orientation: header.orientation,
      sourceDescription: header.sourceDescription)
  }

  // MARK: - Row by row

  /// Decodes image bytes row by row into `sink`, keeping about one row in memory (interlaced
  /// PNGs, progressive JPEGs, WebP, GIF and HEIF excepted, and bounded): for hashing and
  /// previews of large images without holding their pixels. Returns what `decode` would,
  /// without pixels. A GIF or animated WebP gives its first frame.
  public static func decodeRows(
    data: [UInt8], name: String = "<data>", maxPixels: Int = defaultMaxPixels,
    into sink: some ImageRowSink
  ) throws(MediaDecodingError) -> ImageHeader {
    let format = try sniffed(data, name: name)
    if format == .bmp {
      return try BMPDecoder.decodeRows(data: data, name: name, maxPixels: maxPixels, into: sink)
    }
    var raw = csar_decoded_image()
    var message = [CChar](repeating: 0, count: 512)
    let limit = UInt64(max(0, maxPixels))
    let box = SinkBox(sink)
    let context = Unmanaged.passUnretained(box).toOpaque()
    let decoder = rowDecoder(format)
    let status = data.withUnsafeBufferPointer { buffer in
      message.withUnsafeMutableBufferPointer { text in
        decoder(
          buffer.baseAddress, buffer.count, limit, SinkBox.onSize, SinkBox.onRow, context, &raw,
          text.baseAddress, text.count)
      }
    }
    guard status == CSAR_CODEC_OK else {
      throw MediaDecodingError(kind: Kind(status), source: name, detail: text(message))
    }
    return ImageHeader(
      width: Int(raw.width), height: Int(raw.height), format: format,
      orientation: ImageOrientation(rawValue: Int(raw.orientation)),
      sourceDescription: describe(format: format, raw: raw))
  }

  /// The shim's row decoder for a format the C libraries read.
  private static func rowDecoder(
    _ format: ImageFormat
  ) -> @convention(c) (
    UnsafePointer<UInt8>?, Int, UInt64, csar_size_sink?, csar_row_sink?, UnsafeMutableRawPointer?,
    UnsafeMutablePointer<csar_decoded_image>?, UnsafeMutablePointer<CChar>?, Int
  ) -> csar_codec_status {
    switch format {
    case .png: csar_decode_png_rows
    case .jpeg: csar_decode_jpeg_rows
    case .webp: csar_decode_webp_rows
    case .gif: csar_decode_gif_rows
    case .tiff: csar_decode_tiff_rows
    case .heif, .bmp: csar_decode_heif_rows  // BMP never gets here (read in Swift).
    }
  }

  // MARK: - Frames of an animation

  /// Decodes the frames of an animation (GIF, animated WebP), each composited on the canvas,
  /// under `limits`; other images are one frame. `body` gets each frame and its 0-based index
  /// and returns false to stop. Frames beyond the limits are counted as ``FrameSummary/
  /// moreFrames``, not decoded; damage after complete frames ends the animation there.
  public static func decodeFrames(
    data: [UInt8], name: String = "<data>", maxPixels: Int = defaultMaxPixels,
    limits: FrameLimits = .default, _ body: (RGBImage, Int) -> Bool
  ) throws(MediaDecodingError) -> FrameSummary {
    let format = try sniffed(data, name: name)
    guard format.canAnimate else {
      let decoded = try decode(data: data, name: name, maxPixels: maxPixels)
      _ = body(decoded.image, 0)
      return FrameSummary(
        width: decoded.width, height: decoded.height, format: format, frames: 1,
        moreFrames: false, damagedAfter: nil)
    }
    var raw = csar_decoded_image()
    var message = [CChar](repeating: 0, count: 512)
    var frameLimits = csar_frame_limits(
      max_frames: Int32(clamping: max(0, limits.maxFrames)),
      max_total_pixels: UInt64(max(0, limits.maxTotalPixels)))
    let status = withoutActuallyEscaping(body) { escaping in
      let box = FrameBox(escaping)
      let context = Unmanaged.passUnretained(box).toOpaque()
      let onFrame: csar_frame_sink = { context, rgb, width, height, index in
        let box = Unmanaged<FrameBox>.fromOpaque(context!).takeUnretainedValue()
        let count = Int(width) * Int(height) * 3
        let pixels = [UInt8](UnsafeBufferPointer(start: rgb, count: count))
        let image = RGBImage(width: Int(width), height: Int(height), pixels: pixels)
        return box.body(image, Int(index)) ? 0 : 1
      }
      return data.withUnsafeBufferPointer { buffer in
        message.withUnsafeMutableBufferPointer { text in
          format == .gif
            ? csar_decode_gif_frames(
              buffer.baseAddress, buffer.count, UInt64(max(0, maxPixels)), &frameLimits,
              onFrame, context, &raw, text.baseAddress, text.count)
            : csar_decode_webp_frames(
              buffer.baseAddress, buffer.count, UInt64(max(0, maxPixels)), &frameLimits,
              onFrame, context, &raw, text.baseAddress, text.count)
        }
      }
    }
    guard status == CSAR_CODEC_OK else {
      throw MediaDecodingError(kind: Kind(status), source: name, detail: text(message))
    }
    return FrameSummary(
      width: Int(raw.width), height: Int(raw.height), format: format, frames: Int(raw.frames),
      moreFrames: raw.more_frames != 0,
      damagedAfter: raw.damaged_after > 0 ? Int(raw.damaged_after) : nil)
  }

  /// Holds a frame callback for the C decoders.
  private final class FrameBox {
    let body: (RGBImage, Int) -> Bool
    init(_ body: @escaping (RGBImage, Int) -> Bool) { self.body = body }
  }

  /// Collects rows into one RGB buffer (``decode(data:name:maxPixels:)``).
  private final class CollectingSink: ImageRowSink {
    var pixels: [UInt8] = []
    var stride = 0

    func begin(width: Int, height: Int, orientation: ImageOrientation?) -> Bool {
      stride = width * 3
      pixels = [UInt8](repeating: 0, count: stride * height)
      return true
    }

    func row(_ rgb: UnsafePointer<UInt8>, y: Int) {
      pixels.withUnsafeMutableBufferPointer { target in
        (target.baseAddress! + y * stride).update(from: rgb, count: stride)
      }
    }
  }

  /// Holds a sink for the C callbacks.
  final class SinkBox {
    let sink: any ImageRowSink
    init(_ sink: any ImageRowSink) { self.sink = sink }

    /// The size callback: the box is the context.
    static let onSize: csar_size_sink = { context, width, height, orientation in
      let box = Unmanaged<SinkBox>.fromOpaque(context!).takeUnretainedValue()
      return box.sink.begin(
        width: Int(width), height: Int(height),
        orientation: ImageOrientation(rawValue: Int(orientation))) ? 0 : 1
    }

    /// The row callback.
    static let onRow: csar_row_sink = { context, rgb, y in
      let box = Unmanaged<SinkBox>.fromOpaque(context!).takeUnretainedValue()
      box.sink.row(rgb!, y: Int(y))
    }
  }

  // MARK: - Helpers

  typealias Kind = MediaDecodingError.Kind

  /// The format of `data`, or an error naming what it is instead.
  static func sniffed(_ data: [UInt8], name: String) throws(MediaDecodingError) -> ImageFormat {
    if data.isEmpty {
      throw MediaDecodingError(kind: .empty, source: name, detail: "file is empty (0 bytes)")
    }
    guard let format = ImageFormat.sniff(data) else {
      if let other = ImageFormat.otherFormatName(data) {
        throw MediaDecodingError(
          kind: .unknownFormat, source: name,
          detail: "\(other) images are not supported (only \(ImageFormat.supportedNames))")
      }
      let head = data.prefix(4).map { hex($0) }.joined(separator: " ")
      throw MediaDecodingError(
        kind: .unknownFormat, source: name,
        detail: "not an image csar reads (\(ImageFormat.supportedNames)); it starts with "
          + "bytes \(head)")
    }
    return format
  }

  /// Reads a whole regular file (at most `maxFileBytes`) through ``MediaFile``, with errors
  /// naming the path: a FIFO, device, folder or symbolic link is refused, never waited on.
  public static func readFile(_ path: String) throws(MediaDecodingError) -> [UInt8] {
    try MediaFile(path: path).readAll()
  }


  /// The shim's NUL-terminated message.
  static func text(_ message: [CChar]) -> String {
    String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  static func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
  }

  static func describe(format: ImageFormat, raw: csar_decoded_image) -> String {
    switch format {
    case .png:
      let model =
        switch raw.source_color {
        case 0: "grey"
        case 2: "RGB"
        case 3: "palette"
        case 4: "grey+alpha"
        case 6: "RGBA"
        default: "colour type \(raw.source_color)"
        }
      return "PNG \(model) \(raw.source_bit_depth)-bit"
    case .jpeg:
      let model =
        switch raw.source_color {
        case 1: "greyscale"
        case 2: "RGB"
        case 3: "YCbCr"
        case 4: "CMYK"
        case 5: "YCCK"
        default: "colour space \(raw.source_color)"
        }
      return "JPEG \(model) \(raw.source_components) components"
    case .webp:
      let kind = raw.animated != 0 ? "animated" : ["extended", "lossy", "lossless"][
        Int(min(2, max(0, raw.source_color)))]
      return "WebP \(kind)\(raw.source_components == 4 ? " with alpha" : "")"
    case .gif:
      return "GIF palette \(raw.source_color)-bit"
    case .tiff:
      let model =
        switch raw.source_color {
        case 0, 1: "greyscale"
        case 2: "RGB"
        case 3: "palette"
        case 5: "CMYK"
        case 6: "YCbCr"
        default: "photometric \(raw.source_color)"
        }
      return "TIFF \(model) \(raw.source_components)x\(raw.source_bit_depth)-bit"
    case .heif:
      return "HEIF \(raw.source_bit_depth)-bit\(raw.source_components == 4 ? " with alpha" : "")"
    case .bmp:
      return "BMP"
    }
  }
}

extension MediaDecodingError.Kind {
  init(_ status: csar_codec_status) {
    switch status {
    case CSAR_CODEC_TRUNCATED: self = .truncated
    case CSAR_CODEC_TOO_LARGE: self = .tooLarge
    case CSAR_CODEC_NO_MEMORY: self = .outOfMemory
    case CSAR_CODEC_UNSUPPORTED: self = .unsupported
    default: self = .corrupt
    }
  }
}
