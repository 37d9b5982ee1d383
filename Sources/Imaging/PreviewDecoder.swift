// Decoding a picture straight to preview size: rows are averaged into the small image as they
// arrive, and JPEGs are decoded at 1/2, 1/4 or 1/8 scale by libjpeg-turbo itself, so a
// camera-sized photo never lies in memory at full size.

import CImageCodecs

// MARK: - Downscaling sink

/// Averages rows into an image that fits `maxSide` as they arrive (the same area average as
/// ``RGBImage/downscaled(toFit:)``, bit for bit): memory is one row of sums plus the small
/// image.
final class DownscalingSink: ImageRowSink {
  let maxSide: Int
  private(set) var width = 0
  private(set) var height = 0
  private var outWidth = 0
  private var outHeight = 0
  /// Box of output column ox: source columns x0[ox] ..< x1[ox].
  private var x0: [Int] = []
  private var x1: [Int] = []
  private var sums: [UInt32] = []
  private var out: [UInt8] = []
  /// The output row being summed, and its source rows.
  private var outRow = 0
  private var rowStart = 0
  private var rowEnd = 0

  init(maxSide: Int) { self.maxSide = maxSide }

  func begin(width: Int, height: Int, orientation: ImageOrientation?) -> Bool {
    self.width = width
    self.height = height
    (outWidth, outHeight) = PixelOps.fit(width: width, height: height, maxSide: maxSide)
    x0 = (0..<outWidth).map { $0 * width / outWidth }
    x1 = (0..<outWidth).map { max($0 * width / outWidth + 1, ($0 + 1) * width / outWidth) }
    sums = [UInt32](repeating: 0, count: outWidth * 3)
    out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
    outRow = 0
    (rowStart, rowEnd) = rows(of: 0)
    return true
  }

  /// Source rows of output row `oy`.
  private func rows(of oy: Int) -> (Int, Int) {
    let start = oy * height / outHeight
    return (start, max(start + 1, (oy + 1) * height / outHeight))
  }

  func row(_ rgb: UnsafePointer<UInt8>, y: Int) {
    guard outRow < outHeight, y >= rowStart, y < rowEnd else { return }
    sums.withUnsafeMutableBufferPointer { acc in
      x0.withUnsafeBufferPointer { x0 in
        x1.withUnsafeBufferPointer { x1 in PixelOps.addRGBRow(rgb, x0: x0, x1: x1, into: acc) }
      }
    }
    guard y == rowEnd - 1 else { return }
    let count = UInt32(rowEnd - rowStart)
    let base = outRow * outWidth * 3
    for ox in 0..<outWidth {
      let n = UInt32(x1[ox] - x0[ox]) * count
      for c in 0..<3 {
        let i = ox * 3 + c
        out[base + i] = UInt8((sums[i] + n / 2) / n)
        sums[i] = 0
      }
    }
    outRow += 1
    if outRow < outHeight { (rowStart, rowEnd) = rows(of: outRow) }
  }

  /// The small image (call after the decode).
  var image: RGBImage { RGBImage(width: outWidth, height: outHeight, pixels: out) }
}

// MARK: - Preview decode

/// A picture decoded for showing: at most `maxSide` pixels on its longer side.
public struct PreviewPicture: Sendable {
  /// The small image, as stored (not turned by the orientation).
  public var image: RGBImage
  /// The file's own size.
  public var width: Int
  /// The file's own height.
  public var height: Int
  /// How the picture is meant to be turned (EXIF, TIFF).
  public var orientation: ImageOrientation?
  /// The file format.
  public var format: ImageFormat

  /// The small image turned the way the camera meant.
  public var upright: RGBImage { orientation.map { image.oriented($0) } ?? image }
}

extension ImageDecoder {
  /// Decodes image bytes to at most `maxSide` pixels on the longer side without holding the
  /// full-size picture: a JPEG is decoded by libjpeg-turbo at the smallest of 1/2, 1/4, 1/8
  /// that still gives `maxSide` pixels, then every format's rows are averaged down as they
  /// arrive. Formats decoded whole anyway (interlaced PNG, progressive JPEG coefficients,
  /// WebP, GIF, HEIF) stay within their usual bound.
  public static func decodePreview(
    data: [UInt8], name: String = "<data>", maxPixels: Int = defaultMaxPixels, maxSide: Int
  ) throws(MediaDecodingError) -> PreviewPicture {
    let sink = DownscalingSink(maxSide: maxSide)
    let header: ImageHeader
    if ImageFormat.sniff(data) == .jpeg {
      header = try decodeScaledJPEG(
        data: data, name: name, maxPixels: maxPixels, maxSide: maxSide, into: sink)
    } else {
      header = try decodeRows(data: data, name: name, maxPixels: maxPixels, into: sink)
    }
    return PreviewPicture(
      image: sink.image, width: header.width, height: header.height,
      orientation: header.orientation, format: header.format)
  }

  /// A JPEG decoded at reduced scale into `sink`; the header keeps the file's own size.
  static func decodeScaledJPEG(
    data: [UInt8], name: String, maxPixels: Int, maxSide: Int, into sink: some ImageRowSink
  ) throws(MediaDecodingError) -> ImageHeader {
    var raw = csar_decoded_image()
    var message = [CChar](repeating: 0, count: 512)
    let box = SinkBox(sink)
    let context = Unmanaged.passUnretained(box).toOpaque()
    let status = data.withUnsafeBufferPointer { buffer in
      message.withUnsafeMutableBufferPointer { text in
        csar_decode_jpeg_rows_scaled(
          buffer.baseAddress, buffer.count, UInt64(max(0, maxPixels)),
          Int32(clamping: maxSide), SinkBox.onSize, SinkBox.onRow, context, &raw,
          text.baseAddress, text.count)
      }
    }
    guard status == CSAR_CODEC_OK else {
      throw MediaDecodingError(kind: Kind(status), source: name, detail: text(message))
    }
    return ImageHeader(
      width: Int(raw.width), height: Int(raw.height), format: .jpeg,
      orientation: ImageOrientation(rawValue: Int(raw.orientation)),
      sourceDescription: describe(format: .jpeg, raw: raw))
  }
}
