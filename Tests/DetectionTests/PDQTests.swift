import Detection
import Imaging
import Testing

@Suite("PDQ hashing")
struct PDQTests {
  /// Image transforms in the order of `PDQDihedralHashes.all`.
  static let transforms: [(String, ImageOrientation)] = [
    ("original", .up), ("rotate90", .left), ("rotate180", .down), ("rotate270", .right),
    ("flipX", .downMirrored), ("flipY", .upMirrored), ("flipPlus1", .leftMirrored),
    ("flipMinus1", .rightMirrored),
  ]

  /// Each rotation or flip of an image is found through the matching dihedral variant of the
  /// original's hash. (Sizes with odd box windows, ceil(side / 128) = 3, so that the filter is
  /// symmetric; even windows shift by half a pixel and flips then differ by a few dozen bits.)
  @Test func dihedralVariantsMatchTransformedImages() {
    let image = Fixtures.scene(width: 300, height: 380, seed: 3)
    let variants = PDQ.dihedralHashes(image)
    #expect(variants.original == PDQ.hash(image).hash)
    #expect(variants.quality == PDQ.hash(image).quality)
    let all = variants.all
    for (index, (name, transform)) in Self.transforms.enumerated() {
      let hash = PDQ.hash(image.oriented(transform)).hash
      let distances = all.map { $0.distance(to: hash) }
      print("\(name): \(distances)")
      #expect(distances[index] <= 6, "\(name) via its variant: \(distances)")
      #expect(distances.min() == distances[index], "\(name): \(distances)")
    }
  }

  @Test func reencodingAndResizingStayWithinThreshold() throws {
    let image = Fixtures.scene(width: 640, height: 480, seed: 5)
    let original = PDQ.hash(image)
    #expect(original.quality >= 50)
    for quality in [90, 60, 30] {
      let jpeg = try ImageDecoder.decode(data: ImageEncoder.encodeJPEG(image, quality: quality))
      let d = PDQ.hash(jpeg.image).hash.distance(to: original.hash)
      #expect(d <= 31, "JPEG quality \(quality): distance \(d)")
    }
    for (w, h) in [(320, 240), (160, 120), (1000, 750), (500, 480)] {
      let d = PDQ.hash(image.downscaled(width: w, height: h)).hash.distance(to: original.hash)
      #expect(d <= 31, "resized to \(w)x\(h): distance \(d)")
    }
    let blurred = PDQ.hash(image.blurred(sigma: 1.5)).hash.distance(to: original.hash)
    #expect(blurred <= 31)
    // An unrelated image is far away.
    let other = PDQ.hash(Fixtures.scene(width: 640, height: 480, seed: 5).oriented(.down))
    #expect(other.hash.distance(to: original.hash) > 31)
  }

  @Test func tinyAndFlatImages() {
    for (w, h) in [(4, 100), (100, 4), (1, 1), (0, 0)] {
      let result = PDQ.hash(RGBImage(width: w, height: h, red: 10))
      #expect(result.quality == 0 && result.hash == .zero)
    }
    let five = PDQ.hash(Fixtures.scene(width: 5, height: 5))
    #expect(five.hash != .zero)
    let flat = PDQ.hash(RGBImage(width: 100, height: 80, red: 120, green: 120, blue: 120))
    #expect(flat.quality == 0)
  }

  @Test func hexRoundTripAndBitOrder() throws {
    let text = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    let hash = try PDQHash.parse(text)
    #expect(hash.hex == text)
    #expect(PDQHash(hex: text.uppercased())?.hex == text)
    // Reference word 0 (bits 0..15) is the last four hex digits.
    #expect(hash.words16[0] == 0x9b22 && hash.words16[15] == 0xf8f8)
    #expect(hash.bit(1) && !hash.bit(0))  // 0x...22: bit 1 set, bit 0 clear
    #expect(PDQHash(hex: String(text.dropLast())) == nil)
    #expect(PDQHash(hex: String(text.dropLast()) + "g") == nil)
    #expect(throws: PDQHashParseError.self) { try PDQHash.parse("xyz") }
    var random = SeededRandom(seed: 11)
    for _ in 0..<100 {
      let h = PDQHash(words: SIMD4(random.next(), random.next(), random.next(), random.next()))
      #expect(PDQHash(hex: h.hex) == h)
      #expect(h.distance(to: h) == 0)
      #expect(h.distance(to: PDQHash(words: ~h.words)) == 256)
    }
    #expect(PDQHash.zero.hex == String(repeating: "0", count: 64))
  }

  @Test func digests() {
    let digests = FileDigests(of: Array("abc".utf8))
    #expect(digests.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(digests.md5 == "900150983cd24fb0d6963f7d28e17f72")
  }

  @Test func mediaHasherOnFiles() throws {
    let dir = try Fixtures.temporaryDirectory()
    let image = Fixtures.scene(width: 200, height: 150)
    try ImageEncoder.writePNG(image, to: dir + "/a.png")
    let hashes = try MediaHasher.hash(path: dir + "/a.png")
    #expect(hashes.width == 200 && hashes.height == 150 && hashes.format == .png)
    #expect(hashes.pdq == PDQ.hash(image))
    #expect(hashes.digests == FileDigests(of: try ImageEncoder.encodePNG(image)))
  }
}
