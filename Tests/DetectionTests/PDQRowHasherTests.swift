import Detection
import Imaging
import Testing

/// PDQ from rows as they decode equals PDQ of the whole decoded image, bit for bit.
@Suite("PDQ row by row")
struct PDQRowHasherTests {
  /// A noisy scene of any size (noise makes every float of the filters matter).
  static func picture(_ width: Int, _ height: Int, seed: UInt64) -> RGBImage {
    var rng = SeededRandom(seed: seed)
    return RGBImage(width: width, height: height) { x, y in
      let n = UInt8(truncatingIfNeeded: rng.next() >> 56)
      return (
        UInt8(truncatingIfNeeded: x * 255 / max(1, width - 1)) &+ n / 8,
        UInt8(truncatingIfNeeded: (x * y) >> 3) ^ n, UInt8(truncatingIfNeeded: y * 7) &+ n / 4
      )
    }
  }

  @Test(arguments: [
    (4, 4), (5, 5), (64, 64), (63, 65), (65, 63), (128, 128), (129, 7), (7, 300), (300, 200),
    (1000, 333), (257, 1031), (1600, 1004),
  ])
  func rowsGiveTheWholeImageHash(width: Int, height: Int) throws {
    let image = Self.picture(width, height, seed: UInt64(width * 7919 + height))
    for bytes in [try ImageEncoder.encodePNG(image), try ImageEncoder.encodeJPEG(image)] {
      let decoded = try ImageDecoder.decode(data: bytes)
      let rows = PDQRowHasher()
      let header = try ImageDecoder.decodeRows(data: bytes, into: rows)
      #expect(header.width == width && header.height == height)
      #expect(rows.result() == PDQ.hash(decoded.image), "\(width)x\(height)")
      #expect(rows.dihedralResult() == PDQ.dihedralHashes(decoded.image), "\(width)x\(height)")
    }
  }
}
