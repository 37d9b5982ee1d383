import Foundation
import Imaging
import Testing

@Suite("Imaging: decoding, errors, filters")
struct ImagingTests {
  // MARK: - PNG colour types

  /// Every PNG colour type and bit depth decodes to the expected RGB.
  @Test(arguments: [
    (RawPNG.ColorType.grey, 1), (.grey, 2), (.grey, 4), (.grey, 8), (.grey, 16),
    (.greyAlpha, 8), (.greyAlpha, 16), (.rgb, 8), (.rgb, 16), (.rgba, 8), (.rgba, 16),
    (.palette, 1), (.palette, 2), (.palette, 4), (.palette, 8),
  ])
  func pngColourTypes(colorType: RawPNG.ColorType, bitDepth: Int) throws {
    let w = 13
    let h = 7
    let maxValue = (1 << bitDepth) - 1
    var samples: [Int] = []
    var expected: [UInt8] = []
    var palette: [(UInt8, UInt8, UInt8)] = []
    if colorType == .palette {
      for i in 0...maxValue {
        let red = UInt8((i * 37) % 256)
        let green = UInt8((i * 91) % 256)
        palette.append((red, green, 200))
      }
    }
    for y in 0..<h {
      for x in 0..<w {
        let v = (x * 3 + y * 5) % (maxValue + 1)
        let v8 = bitDepth == 16 ? v >> 8 : bitDepth < 8 ? v * 255 / maxValue : v
        switch colorType {
        case .grey:
          samples.append(v)
          expected += [UInt8(v8), UInt8(v8), UInt8(v8)]
        case .greyAlpha:
          samples += [v, maxValue / 2]
          expected += [UInt8(v8), UInt8(v8), UInt8(v8)]
        case .rgb:
          samples += [v, maxValue - v, maxValue / 3]
          expected += [UInt8(v8), UInt8(255 - v8), UInt8((maxValue / 3) >> (bitDepth - 8))]
        case .rgba:
          samples += [v, maxValue - v, maxValue / 3, x]
          expected += [UInt8(v8), UInt8(255 - v8), UInt8((maxValue / 3) >> (bitDepth - 8))]
        case .palette:
          samples.append(v)
          expected += [palette[v].0, palette[v].1, palette[v].2]
        }
      }
    }
    let raw = RawPNG(
      width: w, height: h, colorType: colorType, bitDepth: bitDepth, samples: samples,
      palette: palette, paletteAlpha: colorType == .palette ? [0, 128] : [])
    let bytes = try ImageEncoder.encodePNG(raw)
    let decoded = try ImageDecoder.decode(data: bytes, name: "test.png")
    #expect(decoded.format == .png)
    #expect(decoded.width == w && decoded.height == h)
    #expect(decoded.image.pixels == expected)
  }

  @Test func interlacedPNG() throws {
    let image = Fixtures.scene(width: 33, height: 17)
    let samples = image.pixels.map { Int($0) }
    let raw = RawPNG(
      width: 33, height: 17, colorType: .rgb, bitDepth: 8, samples: samples, interlaced: true)
    let decoded = try ImageDecoder.decode(data: ImageEncoder.encodePNG(raw))
    #expect(decoded.image == image)
  }

  // MARK: - JPEG

  @Test func jpegRGBAndGrey() throws {
    let image = Fixtures.scene()
    let rgb = try ImageDecoder.decode(data: ImageEncoder.encodeJPEG(image, quality: 95))
    #expect(rgb.format == .jpeg && rgb.width == 320 && rgb.height == 240)
    #expect(meanAbsoluteDifference(rgb.image.pixels, image.pixels) < 6)
    #expect(rgb.sourceDescription.contains("YCbCr"))

    let grey = image.greyscale()
    let g = try ImageDecoder.decode(data: ImageEncoder.encodeJPEG(grey, quality: 95))
    #expect(g.sourceDescription.contains("greyscale"))
    let expected = grey.pixels.flatMap { [$0, $0, $0] }
    #expect(meanAbsoluteDifference(g.image.pixels, expected) < 4)
  }

  @Test func jpegAdobeCMYK() throws {
    // Stored inverted (Adobe): white paper is 255 everywhere; pure cyan ink is c = 0.
    var samples: [UInt8] = []
    for _ in 0..<(16 * 16) { samples += [255, 255, 255, 255] }
    for _ in 0..<(16 * 16) { samples += [0, 255, 255, 255] }
    let bytes = try ImageEncoder.encodeJPEG(
      samples: samples, width: 16, height: 32, components: 4, quality: 100)
    let decoded = try ImageDecoder.decode(data: bytes)
    #expect(decoded.sourceDescription.contains("CMYK"))
    let top = decoded.image[8, 4]
    let bottom = decoded.image[8, 28]
    #expect(top.red > 245 && top.green > 245 && top.blue > 245)
    #expect(bottom.red < 10 && bottom.green > 245 && bottom.blue > 245)
  }

  @Test func exifOrientationIsReported() throws {
    var bytes = try ImageEncoder.encodeJPEG(Fixtures.scene(width: 40, height: 30))
    // APP1 Exif, big-endian TIFF, IFD0 with one entry: orientation (0x0112) SHORT 6.
    let tiff: [UInt8] = [
      0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0,
      0, 0, 0, 0,
    ]
    let payload = Array("Exif".utf8) + [0, 0] + tiff
    let length = payload.count + 2
    bytes.insert(contentsOf: [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 255)] + payload,
                 at: 2)
    let decoded = try ImageDecoder.decode(data: bytes)
    #expect(decoded.orientation == .right)
    #expect(decoded.width == 40)  // Stored pixels, not rotated.
    #expect(decoded.image.oriented(.right).width == 30)
  }

  // MARK: - Errors

  @Test func truncatedFilesGiveClearErrors() throws {
    let png = try ImageEncoder.encodePNG(Fixtures.scene())
    let jpeg = try ImageEncoder.encodeJPEG(Fixtures.scene())
    for (bytes, name) in [(png, "cut.png"), (jpeg, "cut.jpg")] {
      for fraction in [0.02, 0.3, 0.7, 0.98] {
        let cut = Array(bytes.prefix(Int(Double(bytes.count) * fraction)))
        let error = #expect(throws: MediaDecodingError.self) {
          try ImageDecoder.decode(data: cut, name: name)
        }
        #expect(error?.kind == .truncated || error?.kind == .corrupt)
        #expect(error?.description.hasPrefix(name + ": ") == true)
      }
    }
  }

  @Test func randomAndEmptyDataGiveTypedErrors() throws {
    var rng = SeededRandom(seed: 7)
    let noise = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }
    let emptyError = MediaDecodingError(
      kind: .empty, source: "e", detail: "file is empty (0 bytes)")
    #expect(throws: emptyError) {
      try ImageDecoder.decode(data: [], name: "e")
    }
    let unknown = #expect(throws: MediaDecodingError.self) {
      try ImageDecoder.decode(data: noise, name: "noise.bin")
    }
    #expect(unknown?.kind == .unknownFormat)
    // Valid signatures followed by garbage.
    for header in [[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], [0xFF, 0xD8, 0xFF]] {
      let error = #expect(throws: MediaDecodingError.self) {
        try ImageDecoder.decode(data: header.map { UInt8($0) } + noise, name: "bad")
      }
      #expect(error?.kind == .corrupt || error?.kind == .truncated)
    }
    let gif = #expect(throws: MediaDecodingError.self) {
      try ImageDecoder.decode(data: Array("GIF89a".utf8) + noise)
    }
    #expect(gif?.detail.contains("GIF") == true)
  }

  /// Flipping bytes at random through a valid file never crashes: it decodes or throws.
  @Test func fuzzedFilesNeverCrash() throws {
    let png = try ImageEncoder.encodePNG(Fixtures.scene(width: 64, height: 48))
    let jpeg = try ImageEncoder.encodeJPEG(Fixtures.scene(width: 64, height: 48))
    var rng = SeededRandom(seed: 99)
    for original in [png, jpeg] {
      for _ in 0..<150 {
        var bytes = original
        for _ in 0..<Int.random(in: 1...8, using: &rng) {
          let i = Int.random(in: 0..<bytes.count, using: &rng)
          bytes[i] = UInt8.random(in: 0...255, using: &rng)
        }
        _ = try? ImageDecoder.decode(data: bytes, name: "fuzz")
      }
    }
  }

  @Test func decompressionBombIsRefusedBeforeAllocation() throws {
    // A real 1x1 PNG whose IHDR is rewritten to claim 100000 x 100000 (CRC fixed).
    var png = try ImageEncoder.encodePNG(RGBImage(width: 1, height: 1))
    let big: [UInt8] = [0x00, 0x01, 0x86, 0xA0]  // 100000
    png.replaceSubrange(16..<20, with: big)
    png.replaceSubrange(20..<24, with: big)
    let crc = crc32(Array(png[12..<29]))
    png.replaceSubrange(29..<33, with: [
      UInt8(crc >> 24), UInt8((crc >> 16) & 255), UInt8((crc >> 8) & 255), UInt8(crc & 255),
    ])
    let error = #expect(throws: MediaDecodingError.self) {
      try ImageDecoder.decode(data: png, name: "bomb.png")
    }
    #expect(error?.kind == .tooLarge)
    #expect(error?.detail.contains("100000x100000") == true)

    // JPEG: SOF0 dimensions patched to 60000 x 60000.
    var jpeg = try ImageEncoder.encodeJPEG(RGBImage(width: 8, height: 8))
    let sof = try #require(findMarker(jpeg, 0xC0))
    jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0xEA, 0x60, 0xEA, 0x60])
    let jpegError = #expect(throws: MediaDecodingError.self) {
      try ImageDecoder.decode(data: jpeg, name: "bomb.jpg")
    }
    #expect(jpegError?.kind == .tooLarge)

    // The limit is configurable.
    let small = try ImageEncoder.encodePNG(RGBImage(width: 100, height: 100))
    #expect(throws: MediaDecodingError.self) {
      try ImageDecoder.decode(data: small, maxPixels: 9_999)
    }
    #expect(try ImageDecoder.decode(data: small, maxPixels: 10_000).width == 100)
  }

  @Test func filesAndMissingFiles() throws {
    let dir = try Fixtures.temporaryDirectory()
    let path = dir + "/scene.png"
    try ImageEncoder.writePNG(Fixtures.scene(), to: path)
    #expect(try ImageDecoder.decode(path: path).image == Fixtures.scene())
    let missing = #expect(throws: MediaDecodingError.self) {
      try ImageDecoder.decode(path: dir + "/nope.jpg")
    }
    #expect(missing?.kind == .unreadable)
    #expect(missing?.description.contains("nope.jpg") == true)
    _ = FileManager.default.createFile(atPath: dir + "/empty.png", contents: Data())
    let empty = #expect(throws: MediaDecodingError.self) {
      try ImageDecoder.decode(path: dir + "/empty.png")
    }
    #expect(empty?.kind == .empty)
  }

  // MARK: - Filters

  @Test func filters() {
    let image = RGBImage(width: 8, height: 4) { x, _ in x < 4 ? (0, 0, 0) : (200, 100, 50) }
    let small = image.downscaled(width: 2, height: 1)
    #expect(small.pixels == [0, 0, 0, 200, 100, 50])
    let fit = Fixtures.scene(width: 1600, height: 1004).downscaled(toFit: 160)
    #expect(fit.width == 160 && fit.height == 100)
    let edge = RGBImage(width: 32, height: 4) { x, _ in x < 16 ? (0, 0, 0) : (200, 100, 50) }
    let blurred = edge.blurred(sigma: 1.5)
    #expect(blurred[0, 0].red == 0 && blurred[31, 0].red == 200)
    #expect(blurred[15, 0].red > 20 && blurred[16, 0].red < 180)
    let grey = RGBImage(width: 1, height: 1, red: 255, green: 0, blue: 0).greyscale()
    #expect(grey.pixels == [76])
    let flat = RGBImage(width: 5, height: 5, red: 9, green: 9, blue: 9)
    #expect(flat.blurred(sigma: 2).pixels == flat.pixels)
  }

  // MARK: - Helpers

  func meanAbsoluteDifference(_ a: [UInt8], _ b: [UInt8]) -> Double {
    zip(a, b).reduce(0.0) { $0 + Double(abs(Int($1.0) - Int($1.1))) } / Double(a.count)
  }

  func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
  }

  func findMarker(_ bytes: [UInt8], _ marker: UInt8) -> Int? {
    var i = 2
    while i + 4 < bytes.count {
      guard bytes[i] == 0xFF else { return nil }
      if bytes[i + 1] == marker { return i }
      i += 2 + Int(bytes[i + 2]) << 8 + Int(bytes[i + 3])
    }
    return nil
  }
}
