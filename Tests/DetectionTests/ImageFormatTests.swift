// WebP, GIF, BMP, TIFF and HEIF: decoded by content, equal (or within 2 PDQ bits) to the same
// picture as PNG, under the same pixel limit, frames of animations, and damage refused.

import Detection
import Foundation
import Imaging
import Testing

/// The committed fixtures in `Fixtures/images` (made by `make.sh` there from ffmpeg's
/// synthetic test pattern).
enum FormatFixtures {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/images").path

  static func path(_ name: String) -> String { folder + "/" + name }

  static func bytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name))))
  }

  /// The lossless files of `picture.png`: file, format, and whether the pixels are exact.
  static let lossless: [(file: String, format: ImageFormat, exact: Bool)] = [
    ("picture.webp", .webp, true), ("picture.gif", .gif, true), ("picture.bmp", .bmp, true),
    ("picture-pal8.bmp", .bmp, true), ("picture-32.bmp", .bmp, true),
    ("picture-565.bmp", .bmp, false), ("picture.tiff", .tiff, true),
    ("picture-grey.tiff", .tiff, false),
  ]

  /// Lossy files of `photo.png`.
  static let lossy: [(file: String, format: ImageFormat)] = [
    ("photo.webp", .webp), ("photo.heic", .heif), ("photo.avif", .heif),
  ]
}

@Suite("Image formats: WebP, GIF, BMP, TIFF, HEIF")
struct ImageFormatTests {
  func pdq(_ name: String) throws -> PDQResult {
    try MediaHasher.hash(path: FormatFixtures.path(name)).pdq
  }

  @Test func losslessFormatsArePixelForPixelThePNG() throws {
    let png = try ImageDecoder.decode(path: FormatFixtures.path("picture.png")).image
    let reference = try pdq("picture.png")
    for (file, format, exact) in FormatFixtures.lossless {
      let decoded = try ImageDecoder.decode(path: FormatFixtures.path(file))
      #expect(decoded.format == format, "\(file)")
      #expect(decoded.width == png.width && decoded.height == png.height, "\(file)")
      if exact {
        let differing = zip(decoded.image.pixels, png.pixels).filter { $0 != $1 }.count
        #expect(differing == 0, "\(file): \(differing) samples differ from the PNG")
      }
      let hashed = try pdq(file)
      let distance = hashed.hash.distance(to: reference.hash)
      #expect(distance <= 2, "\(file): PDQ distance \(distance) from the PNG")
      if exact { #expect(distance == 0, "\(file)") }
    }
  }

  @Test func lossyFormatsAreWithinTwoBitsOfThePNG() throws {
    let reference = try pdq("photo.png")
    #expect(reference.quality >= 50)
    for (file, format) in FormatFixtures.lossy {
      let bytes = try FormatFixtures.bytes(file)
      #expect(ImageFormat.sniff(bytes) == format, "\(file)")
      let hashed = try pdq(file)
      let distance = hashed.hash.distance(to: reference.hash)
      #expect(distance <= 2, "\(file): PDQ distance \(distance) from the PNG")
    }
  }

  @Test func theRowHasherAgreesWithTheWholeImageHashForEveryFormat() throws {
    let hasher = PDQHasher()
    for file in FormatFixtures.lossless.map(\.file) + FormatFixtures.lossy.map(\.file) {
      let whole = try ImageDecoder.decode(path: FormatFixtures.path(file)).image
      #expect(try pdq(file) == hasher.hash(whole), "\(file)")
    }
  }

  @Test func theFormatComesFromTheBytesNotTheName() throws {
    let folder = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    // A WebP named .png, a GIF named .jpg, a PNG named .heic.
    for (source, disguise, format) in [
      ("picture.webp", "x.png", ImageFormat.webp), ("picture.gif", "y.jpg", .gif),
      ("picture.png", "z.heic", .png), ("picture.tiff", "w.bmp", .tiff),
    ] {
      let target = folder + "/" + disguise
      try Data(try FormatFixtures.bytes(source)).write(to: URL(fileURLWithPath: target))
      #expect(try ImageDecoder.decode(path: target).format == format, "\(disguise)")
    }
    // Text that ends in .bmp is still text.
    #expect(ImageFormat.sniff(Array("BMP, but really text".utf8)) == nil)
    #expect(ImageFormat.sniff(Array("GIF8 but not 87a/89a".utf8)) == nil)
  }

  // MARK: - Animations

  @Test func everyFrameOfAnAnimationIsDecodedAndComposited() throws {
    let frames = try (1...3).map {
      try ImageDecoder.decode(path: FormatFixtures.path("animated-\($0).png")).image
    }
    for file in ["animated.gif", "animated.webp"] {
      var seen: [RGBImage] = []
      let summary = try ImageDecoder.decodeFrames(data: FormatFixtures.bytes(file)) { image, i in
        #expect(i == seen.count)
        seen.append(image)
        return true
      }
      #expect(summary.frames == 3 && !summary.moreFrames && summary.damagedAfter == nil)
      #expect(seen.count == 3, "\(file)")
      for (index, frame) in seen.enumerated() where index < frames.count {
        #expect(frame == frames[index], "\(file) frame \(index + 1) differs from its PNG")
      }
      // The still image of an animation is its first frame.
      let still = try ImageDecoder.decode(path: FormatFixtures.path(file)).image
      #expect(still == frames[0], "\(file): the still image is not frame 1")
    }
  }

  @Test func animationsStopAtTheFrameLimits() throws {
    for file in ["animated.gif", "animated.webp"] {
      let bytes = try FormatFixtures.bytes(file)
      var count = 0
      let two = try ImageDecoder.decodeFrames(data: bytes, limits: FrameLimits(maxFrames: 2)) {
        _, _ in
        count += 1
        return true
      }
      #expect(two.frames == 2 && two.moreFrames && count == 2, "\(file)")
      // 192x144 = 27,648 pixels a frame: room for one frame only.
      let one = try ImageDecoder.decodeFrames(
        data: bytes, limits: FrameLimits(maxTotalPixels: 40_000)
      ) { _, _ in true }
      #expect(one.frames == 1 && one.moreFrames, "\(file)")
    }
  }

  @Test func aGIFCutAfterItsFirstFrameKeepsThatFrame() throws {
    let bytes = try FormatFixtures.bytes("animated.gif")
    var frames = 0
    // Cut in the middle of the file: frame 1 is complete, a later one is not.
    let summary = try ImageDecoder.decodeFrames(data: Array(bytes.prefix(bytes.count * 2 / 3))) {
      _, _ in
      frames += 1
      return true
    }
    #expect(frames >= 1 && summary.damagedAfter == frames)
    // Cut inside the first frame: an error saying so.
    #expect {
      try ImageDecoder.decode(data: Array(bytes.prefix(900)), name: "cut.gif")
    } throws: { ($0 as? MediaDecodingError)?.kind == .truncated }
  }

  // MARK: - Limits

  @Test func everyFormatHonoursThePixelLimit() throws {
    for file in FormatFixtures.lossless.map(\.file) + FormatFixtures.lossy.map(\.file) {
      #expect(performing: {
        try ImageDecoder.decode(data: FormatFixtures.bytes(file), name: file, maxPixels: 20_000)
      }, throws: { error in
        let error = error as? MediaDecodingError
        return error?.kind == .tooLarge && error?.detail.contains("20000") == true
      })
    }
  }

  /// Headers that claim enormous pictures are refused before anything is allocated for them.
  @Test func headersClaimingHugePicturesAreRefused() throws {
    var gif = try FormatFixtures.bytes("picture.gif")
    gif[6] = 0xFF
    gif[7] = 0xFF
    gif[8] = 0xFF
    gif[9] = 0xFF  // 65535x65535 canvas
    var bmp = try FormatFixtures.bytes("picture.bmp")
    bmp.replaceSubrange(18..<26, with: [0x40, 0x42, 0x0F, 0, 0x40, 0x42, 0x0F, 0])  // 1M x 1M
    var webp = try FormatFixtures.bytes("animated.webp")
    // VP8X canvas: 24-bit width-1 and height-1 at bytes 24 and 27 -> 16384x16384.
    webp.replaceSubrange(24..<30, with: [0xFF, 0x3F, 0, 0xFF, 0x3F, 0])
    var heic = try FormatFixtures.bytes("photo.heic")
    let ispe = try #require(heic.firstRange(of: Array("ispe".utf8)))
    // ispe: version/flags (4 bytes), then 32-bit width and height.
    heic.replaceSubrange(
      ispe.upperBound + 4..<ispe.upperBound + 12, with: [0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60])
    let tiff = Self.tiffHeader(width: 60000, height: 60000)
    for (name, bytes) in [
      ("gif", gif), ("bmp", bmp), ("webp", webp), ("heic", heic), ("tiff", tiff),
    ] {
      #expect(performing: { try ImageDecoder.decode(data: bytes, name: name) }, throws: {
        ($0 as? MediaDecodingError)?.kind == .tooLarge
      })
    }
  }

  /// A little-endian TIFF with one uncompressed RGB strip claimed at `width` x `height`.
  static func tiffHeader(width: UInt32, height: UInt32) -> [UInt8] {
    func u16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> ($0 * 8)) & 0xFF) } }
    let entries: [(UInt16, UInt16, UInt32)] = [
      (256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 2),
      (273, 4, 200), (277, 3, 3), (278, 4, height), (279, 4, 64),
    ]
    var bytes = Array("II".utf8) + u16(42) + u32(8) + u16(UInt16(entries.count))
    for (tag, type, value) in entries {
      bytes += u16(tag) + u16(type) + u32(1) + (type == 3 ? u16(UInt16(value)) + [0, 0] : u32(value))
    }
    bytes += u32(0)
    return bytes + [UInt8](repeating: 0x80, count: 264 - bytes.count)
  }

  // MARK: - BMP details

  /// An 8-bit RLE bitmap written by hand: 4x2, bottom row first.
  @Test func rleBitmapsAreRead() throws {
    func u32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> ($0 * 8)) & 0xFF) } }
    func u16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
    let palette: [UInt8] = [0, 0, 0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 0]  // BGRX
    // Bottom row: 4 x red(1). Top row: absolute run 2,3,1 then one green(2).
    let pixels: [UInt8] = [4, 1, 0, 0, 0, 3, 2, 3, 1, 0, 1, 2, 0, 1]
    let offset = 14 + 40 + palette.count
    let info = u32(40) + u32(4) + u32(2) + u16(1) + u16(8) + u32(1) + u32(pixels.count)
      + u32(2835) + u32(2835) + u32(4) + u32(0)
    let bmp = Array("BM".utf8) + u32(offset + pixels.count) + u32(0) + u32(offset) + info
      + palette + pixels
    let decoded = try ImageDecoder.decode(data: bmp, name: "rle.bmp")
    #expect(decoded.sourceDescription == "BMP 8-bit RLE")
    let red: [UInt8] = [255, 0, 0]
    let green: [UInt8] = [0, 255, 0]
    let blue: [UInt8] = [0, 0, 255]
    #expect(decoded.image.pixels == green + blue + red + green + red + red + red + red)
  }
}
