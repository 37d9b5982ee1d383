// Decoding PNG and JPEG files into RGB pixels through the CImageCodecs shim.

import CImageCodecs

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - Types

/// An image file format, recognised from its first bytes.
public enum ImageFormat: String, Sendable, CaseIterable {
  /// Portable Network Graphics.
  case png
  /// JPEG (JFIF / Exif).
  case jpeg

  /// The format of `bytes` from its magic number, or `nil` when it is neither PNG nor JPEG.
  public static func sniff(_ bytes: some Collection<UInt8>) -> ImageFormat? {
    let head = Array(bytes.prefix(8))
    if head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
    if head.count >= 3, head[0] == 0xFF, head[1] == 0xD8, head[2] == 0xFF { return .jpeg }
    return nil
  }

  /// A name for formats we recognise but do not decode (for error messages).
  static func otherFormatName(_ bytes: [UInt8]) -> String? {
    func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
      bytes.count >= offset + prefix.count
        && Array(bytes[offset..<offset + prefix.count]) == prefix
    }
    if starts(Array("GIF8".utf8)) { return "GIF" }
    if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return "WebP" }
    if starts(Array("BM".utf8)) { return "BMP" }
    if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "TIFF" }
    if starts(Array("ftyp".utf8), at: 4) { return "HEIF/AVIF/MP4 (ISO media)" }
    if starts([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50]) { return "JPEG 2000" }
    return nil
  }
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

/// Receives an image row by row from ``ImageDecoder/decodeRows(data:name:maxPixels:into:)``.
public protocol ImageRowSink: AnyObject {
  /// The size (and EXIF orientation) before any row; false stops the decode (out of memory).
  func begin(width: Int, height: Int, orientation: ImageOrientation?) -> Bool
  /// Row `y` as `width * 3` bytes of 8-bit RGB, valid only during the call; rows come in
  /// order, each once.
  func row(_ rgb: UnsafePointer<UInt8>, y: Int)
}

/// Why an image could not be decoded: names the file (or data source) and the problem.
public struct ImageDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The kind of failure.
  public enum Kind: String, Sendable, Equatable {
    /// The file could not be opened or read.
    case unreadable
    /// The file or buffer has no bytes.
    case empty
    /// Not a PNG or JPEG.
    case unknownFormat
    /// The data is damaged or not a valid image.
    case corrupt
    /// The data ends before the image does.
    case truncated
    /// The header claims more pixels than allowed (decompression-bomb guard), or the file is
    /// larger than allowed.
    case tooLarge
    /// Memory ran out.
    case outOfMemory
    /// A valid image in a variant we do not decode.
    case unsupported
    /// The path names something other than a regular file (a FIFO, device, folder or
    /// symbolic link): refused without reading.
    case notRegularFile
  }

  /// The kind of failure.
  public var kind: Kind
  /// The file path, or a name given to in-memory data.
  public var source: String
  /// What went wrong, for a person.
  public var detail: String

  /// Creates an error.
  public init(kind: Kind, source: String, detail: String) {
    self.kind = kind
    self.source = source
    self.detail = detail
  }

  /// "`source`: `detail`".
  public var description: String { "\(source): \(detail)" }
}

// MARK: - Decoder

/// Decodes PNG and JPEG images (format sniffed from magic bytes) into 8-bit RGB.
public enum ImageDecoder {
  /// Default pixel limit: 100 megapixels.
  public static let defaultMaxPixels = 100_000_000
  /// Files larger than this are refused before reading (512 MiB).
  public static let maxFileBytes = 512 * 1024 * 1024

  /// Reads and decodes the image file at `path`.
  public static func decode(
    path: String, maxPixels: Int = defaultMaxPixels
  ) throws(ImageDecodingError) -> DecodedImage {
    let bytes = try readFile(path)
    return try decode(data: bytes, name: path, maxPixels: maxPixels)
  }

  /// Decodes an image held in memory; `name` identifies it in errors.
  public static func decode(
    data: [UInt8], name: String = "<data>", maxPixels: Int = defaultMaxPixels
  ) throws(ImageDecodingError) -> DecodedImage {
    let format = try sniffed(data, name: name)
    var raw = csar_decoded_image()
    var message = [CChar](repeating: 0, count: 512)
    let limit = UInt64(max(0, maxPixels))
    let status = data.withUnsafeBufferPointer { buffer in
      message.withUnsafeMutableBufferPointer { text in
        switch format {
        case .png:
          csar_decode_png(buffer.baseAddress, buffer.count, limit, &raw, text.baseAddress,
                          text.count)
        case .jpeg:
          csar_decode_jpeg(buffer.baseAddress, buffer.count, limit, &raw, text.baseAddress,
                           text.count)
        }
      }
    }
    guard status == CSAR_CODEC_OK, let pointer = raw.pixels else {
      let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                          as: UTF8.self)
      throw ImageDecodingError(kind: Kind(status), source: name, detail: detail)
    }
    defer { csar_codec_free(pointer) }
    let width = Int(raw.width)
    let height = Int(raw.height)
    let count = width * height * 3
    let pixels = [UInt8](unsafeUninitializedCapacity: count) { target, initialised in
      target.baseAddress!.initialize(from: pointer, count: count)
      initialised = count
    }
    return DecodedImage(
      image: RGBImage(width: width, height: height, pixels: pixels),
      format: format,
      orientation: ImageOrientation(rawValue: Int(raw.orientation)),
      sourceDescription: describe(format: format, raw: raw))
  }

  // MARK: - Row by row

  /// Decodes image bytes row by row into `sink`, keeping about one row in memory (interlaced
  /// PNGs and progressive JPEGs excepted, and bounded): for hashing and previews of large
  /// images without holding their pixels. Returns what `decode` would, without pixels.
  public static func decodeRows(
    data: [UInt8], name: String = "<data>", maxPixels: Int = defaultMaxPixels,
    into sink: some ImageRowSink
  ) throws(ImageDecodingError) -> ImageHeader {
    let format = try sniffed(data, name: name)
    var raw = csar_decoded_image()
    var message = [CChar](repeating: 0, count: 512)
    let limit = UInt64(max(0, maxPixels))
    let box = SinkBox(sink)
    let context = Unmanaged.passUnretained(box).toOpaque()
    let onSize: csar_size_sink = { context, width, height, orientation in
      let box = Unmanaged<SinkBox>.fromOpaque(context!).takeUnretainedValue()
      return box.sink.begin(
        width: Int(width), height: Int(height),
        orientation: ImageOrientation(rawValue: Int(orientation))) ? 0 : 1
    }
    let onRow: csar_row_sink = { context, rgb, y in
      let box = Unmanaged<SinkBox>.fromOpaque(context!).takeUnretainedValue()
      box.sink.row(rgb!, y: Int(y))
    }
    let status = data.withUnsafeBufferPointer { buffer in
      message.withUnsafeMutableBufferPointer { text in
        switch format {
        case .png:
          csar_decode_png_rows(
            buffer.baseAddress, buffer.count, limit, onSize, onRow, context, &raw,
            text.baseAddress, text.count)
        case .jpeg:
          csar_decode_jpeg_rows(
            buffer.baseAddress, buffer.count, limit, onSize, onRow, context, &raw,
            text.baseAddress, text.count)
        }
      }
    }
    guard status == CSAR_CODEC_OK else {
      let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                          as: UTF8.self)
      throw ImageDecodingError(kind: Kind(status), source: name, detail: detail)
    }
    return ImageHeader(
      width: Int(raw.width), height: Int(raw.height), format: format,
      orientation: ImageOrientation(rawValue: Int(raw.orientation)),
      sourceDescription: describe(format: format, raw: raw))
  }

  /// Holds a sink for the C callbacks.
  private final class SinkBox {
    let sink: any ImageRowSink
    init(_ sink: any ImageRowSink) { self.sink = sink }
  }

  // MARK: - Helpers

  typealias Kind = ImageDecodingError.Kind

  /// The format of `data`, or an error naming what it is instead.
  static func sniffed(_ data: [UInt8], name: String) throws(ImageDecodingError) -> ImageFormat {
    if data.isEmpty {
      throw ImageDecodingError(kind: .empty, source: name, detail: "file is empty (0 bytes)")
    }
    guard let format = ImageFormat.sniff(data) else {
      if let other = ImageFormat.otherFormatName(data) {
        throw ImageDecodingError(
          kind: .unknownFormat, source: name,
          detail: "\(other) images are not supported (only PNG and JPEG)")
      }
      let head = data.prefix(4).map { hex($0) }.joined(separator: " ")
      throw ImageDecodingError(
        kind: .unknownFormat, source: name,
        detail: "not a PNG or JPEG image (starts with bytes \(head))")
    }
    return format
  }

  /// Reads a whole regular file (at most `maxFileBytes`) through ``MediaFile``, with errors
  /// naming the path: a FIFO, device, folder or symbolic link is refused, never waited on.
  public static func readFile(_ path: String) throws(ImageDecodingError) -> [UInt8] {
    try MediaFile(path: path).readAll()
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
    }
  }
}

extension ImageDecodingError.Kind {
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
