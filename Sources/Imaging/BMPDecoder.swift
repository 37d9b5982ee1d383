// A small, careful BMP reader in Swift.
//
// Why our own: Debian has no small maintained BMP library (the readers live inside large
// toolkits: ImageMagick, GDK-Pixbuf, SDL_image, FFmpeg), the format is simple, and written in
// Swift every read is bounds-checked, so a hostile header cannot make it read out of bounds.
// Rows are read in place from the file's bytes and handed to the sink top first: no pixel
// buffer besides one row (RLE-compressed files excepted: their indices are decoded whole,
// within the same bound as other whole-image decoders).

// MARK: - Reader

/// Reads Windows and OS/2 bitmaps: headers of 12 (OS/2 1.x), 40, 52, 56, 64 (OS/2 2.x), 108
/// and 124 bytes; 1, 2, 4 and 8-bit palettes, 16 and 32-bit bit fields, 24-bit BGR; RLE8 and
/// RLE4; bottom-up and top-down rows. Alpha is dropped. Embedded JPEG or PNG is refused.
enum BMPDecoder {
  /// Indices of an RLE picture decoded whole may take at most this much (as elsewhere).
  static let wholeImageBytes = 160 << 20

  /// A little-endian view of the file that fails instead of reading past the end.
  struct Bytes {
    let data: [UInt8]
    let name: String

    func u16(_ offset: Int) throws(MediaDecodingError) -> Int {
      try need(offset + 2, what: "header")
      return Int(data[offset]) | Int(data[offset + 1]) << 8
    }

    func u32(_ offset: Int) throws(MediaDecodingError) -> UInt32 {
      try need(offset + 4, what: "header")
      return UInt32(data[offset]) | UInt32(data[offset + 1]) << 8
        | UInt32(data[offset + 2]) << 16 | UInt32(data[offset + 3]) << 24
    }

    func i32(_ offset: Int) throws(MediaDecodingError) -> Int {
      Int(Int32(bitPattern: try u32(offset)))
    }

    func need(_ end: Int, what: String) throws(MediaDecodingError) {
      if end > data.count {
        throw MediaDecodingError(
          kind: .truncated, source: name,
          detail: "BMP: file is truncated (the \(what) needs \(end) bytes, the file has "
            + "\(data.count))")
      }
    }
  }

  /// One colour channel of a bit-field pixel: its mask's shift and width.
  struct Channel {
    let shift: Int
    let bits: Int

    init(mask: UInt32) {
      guard mask != 0 else {
        shift = 0
        bits = 0
        return
      }
      shift = mask.trailingZeroBitCount
      bits = (~(mask >> UInt32(shift))).trailingZeroBitCount  // The low run of ones.
    }

    /// The channel of `pixel` scaled to 0...255 (rounded).
    func value(_ pixel: UInt32) -> UInt8 {
      guard bits > 0 else { return 0 }
      let maximum = bits >= 32 ? UInt64(UInt32.max) : (UInt64(1) << UInt64(bits)) - 1
      let raw = UInt64(pixel >> UInt32(shift)) & maximum
      return UInt8((raw * 255 + maximum / 2) / maximum)
    }
  }

  static func fail(
    _ kind: MediaDecodingError.Kind, _ name: String, _ detail: String
  ) -> MediaDecodingError {
    MediaDecodingError(kind: kind, source: name, detail: "BMP: " + detail)
  }

  /// Decodes `data` (which starts with "BM") row by row into `sink`.
  static func decodeRows(
    data: [UInt8], name: String, maxPixels: Int, into sink: some ImageRowSink
  ) throws(MediaDecodingError) -> ImageHeader {
    let bytes = Bytes(data: data, name: name)
    let pixelOffset = Int(try bytes.u32(10))
    let headerSize = Int(try bytes.u32(14))
    let width: Int
    var height: Int
    let bitCount: Int
    var compression = 0
    var coloursUsed = 0
    var masks: [UInt32]? = nil
    let paletteEntrySize: Int
    switch headerSize {
    case 12:
      width = try bytes.u16(18)
      height = try bytes.u16(20)
      bitCount = try bytes.u16(24)
      paletteEntrySize = 3
    case 40, 52, 56, 64, 108, 124:
      width = try bytes.i32(18)
      height = try bytes.i32(22)
      bitCount = try bytes.u16(28)
      compression = Int(try bytes.u32(30))
      coloursUsed = Int(try bytes.u32(46))
      paletteEntrySize = 4
      if headerSize == 64 && compression == 3 { compression = -1 }  // OS/2 Huffman 1D.
      if compression == 3 || compression == 6 {
        // Masks live in the header from version 2 on, else just after it.
        let at = 14 + 40
        masks = [try bytes.u32(at), try bytes.u32(at + 4), try bytes.u32(at + 8)]
      }
    default:
      throw fail(.unsupported, name, "unknown header size \(headerSize)")
    }
    let topDown = height < 0
    height = abs(height)
    guard width > 0, height > 0 else {
      throw fail(.corrupt, name, "image has zero or negative width or height")
    }
    guard width <= Int(Int32.max) / 4, height <= Int(Int32.max) / 4,
      width * height <= maxPixels
    else {
      throw fail(
        .tooLarge, name,
        "image is \(width)x\(height) (\(width * height) pixels), over the limit of "
          + "\(maxPixels) pixels")
    }
    let source = "BMP \(bitCount)-bit" + (compression == 1 || compression == 2 ? " RLE" : "")
    switch compression {
    case 0, 3, 6: break
    case 1 where bitCount == 8, 2 where bitCount == 4: break
    case 4: throw fail(.unsupported, name, "embedded JPEG bitmaps are not supported")
    case 5: throw fail(.unsupported, name, "embedded PNG bitmaps are not supported")
    default: throw fail(.unsupported, name, "compression \(compression) is not supported")
    }
    if (compression == 1 || compression == 2) && topDown {
      throw fail(.corrupt, name, "a compressed bitmap cannot be top-down")
    }

    // The palette (bit depths up to 8) follows the header and any separate masks.
    var palette: [(UInt8, UInt8, UInt8)] = []
    if bitCount <= 8 {
      guard [1, 2, 4, 8].contains(bitCount) else {
        throw fail(.unsupported, name, "\(bitCount) bits per pixel is not supported")
      }
      let paletteStart = 14 + headerSize + (headerSize == 40 && masks != nil ? 12 : 0)
      let possible = 1 << bitCount
      let wanted = coloursUsed > 0 ? min(coloursUsed, possible) : possible
      let fits = max(0, min(pixelOffset, data.count) - paletteStart) / paletteEntrySize
      for index in 0..<min(wanted, fits) {
        let at = paletteStart + index * paletteEntrySize
        palette.append((data[at + 2], data[at + 1], data[at]))
      }
      if palette.isEmpty { throw fail(.corrupt, name, "the palette is missing") }
    } else if ![16, 24, 32].contains(bitCount) {
      throw fail(.unsupported, name, "\(bitCount) bits per pixel is not supported")
    }
    if masks == nil {
      if bitCount == 16 { masks = [0x7C00, 0x03E0, 0x001F] }
      if bitCount == 32 { masks = [0x00FF_0000, 0x0000_FF00, 0x0000_00FF] }
    }
    let channels = (masks ?? [0, 0, 0]).map { Channel(mask: $0) }
    if bitCount == 16 || bitCount == 32, channels.allSatisfy({ $0.bits == 0 }) {
      throw fail(.corrupt, name, "the colour masks are empty")
    }

    let header = ImageHeader(
      width: width, height: height, format: .bmp, orientation: nil, sourceDescription: source)
    guard sink.begin(width: width, height: height, orientation: nil) else {
      throw fail(.outOfMemory, name, "out of memory for \(width)x\(height) pixels")
    }
    guard pixelOffset >= 14 + headerSize, pixelOffset <= data.count else {
      throw fail(
        pixelOffset > data.count ? .truncated : .corrupt, name,
        "pixel data offset \(pixelOffset) is outside the file (\(data.count) bytes)")
    }
    var row = [UInt8](repeating: 0, count: width * 3)
    /// Pixel `x` of `row` is palette entry `index` (black when the palette is shorter).
    func paint(_ row: inout [UInt8], _ x: Int, _ index: Int) {
      let colour = index < palette.count ? palette[index] : (0, 0, 0)
      row[x * 3] = colour.0
      row[x * 3 + 1] = colour.1
      row[x * 3 + 2] = colour.2
    }
    if compression == 1 || compression == 2 {
      let indices = try rle(
        bytes, from: pixelOffset, width: width, height: height, four: compression == 2)
      for y in 0..<height {
        let stored = height - 1 - y
        for x in 0..<width { paint(&row, x, Int(indices[stored * width + x])) }
        row.withUnsafeBufferPointer { sink.row($0.baseAddress!, y: y) }
      }
      return header
    }
    let stride = (width * bitCount + 31) / 32 * 4
    try bytes.need(pixelOffset + stride * height, what: "pixel data")
    for y in 0..<height {
      let start = pixelOffset + (topDown ? y : height - 1 - y) * stride
      switch bitCount {
      case 24:
        for x in 0..<width {
          let at = start + x * 3
          row[x * 3] = data[at + 2]
          row[x * 3 + 1] = data[at + 1]
          row[x * 3 + 2] = data[at]
        }
      case 16, 32:
        for x in 0..<width {
          let pixel: UInt32
          if bitCount == 16 {
            let at = start + x * 2
            pixel = UInt32(data[at]) | UInt32(data[at + 1]) << 8
          } else {
            let at = start + x * 4
            pixel = UInt32(data[at]) | UInt32(data[at + 1]) << 8 | UInt32(data[at + 2]) << 16
              | UInt32(data[at + 3]) << 24
          }
          row[x * 3] = channels[0].value(pixel)
          row[x * 3 + 1] = channels[1].value(pixel)
          row[x * 3 + 2] = channels[2].value(pixel)
        }
      default:  // 1, 2, 4, 8-bit palette indices, most significant bits first.
        let perByte = 8 / bitCount
        let mask = (1 << bitCount) - 1
        for x in 0..<width {
          let byte = Int(data[start + x / perByte])
          paint(&row, x, (byte >> ((perByte - 1 - x % perByte) * bitCount)) & mask)
        }
      }
      row.withUnsafeBufferPointer { sink.row($0.baseAddress!, y: y) }
    }
    return header
  }

  // MARK: - RLE

  /// Palette indices of an RLE8 or RLE4 bitmap, bottom row first; pixels it skips are 0.
  static func rle(
    _ bytes: Bytes, from start: Int, width: Int, height: Int, four: Bool
  ) throws(MediaDecodingError) -> [UInt8] {
    guard width * height <= wholeImageBytes else {
      throw fail(
        .tooLarge, bytes.name,
        "image is \(width)x\(height); RLE bitmaps are decoded whole and may hold at most "
          + "\(wholeImageBytes >> 20) MiB")
    }
    let data = bytes.data
    var indices = [UInt8](repeating: 0, count: width * height)
    var x = 0
    var y = 0
    var at = start
    func put(_ index: UInt8) {
      if x < width && y < height { indices[y * width + x] = index }
      x += 1
    }
    while y < height {
      try bytes.need(at + 2, what: "RLE data")
      let count = Int(data[at])
      let value = data[at + 1]
      at += 2
      if count > 0 {
        for i in 0..<count { put(four ? (i % 2 == 0 ? value >> 4 : value & 15) : value) }
        continue
      }
      switch value {
      case 0:  // End of line.
        x = 0
        y += 1
      case 1:  // End of bitmap.
        return indices
      case 2:  // Delta.
        try bytes.need(at + 2, what: "RLE data")
        x += Int(data[at])
        y += Int(data[at + 1])
        at += 2
      default:  // Absolute run of `value` pixels, padded to 16 bits.
        let pixels = Int(value)
        let length = four ? (pixels + 1) / 2 : pixels
        try bytes.need(at + length, what: "RLE data")
        for i in 0..<pixels {
          put(four ? (i % 2 == 0 ? data[at + i / 2] >> 4 : data[at + i / 2] & 15) : data[at + i])
        }
        at += length + (length & 1)
      }
    }
    return indices
  }
}
