import Foundation
import Imaging
import Testing

/// Pictures decoded straight to preview size: the same small image as decoding whole and
/// shrinking (bit for bit, JPEG's reduced-scale decode aside), and the file's own size kept.
@Suite("Preview decoding (shrunk while decoding)")
struct PreviewDecodeTests {
  @Test func rowsAveragedAsTheyArriveEqualTheWholeImageShrunk() throws {
    let scene = Fixtures.scene(width: 997, height: 613, seed: 5)
    var files: [(String, [UInt8])] = [("png", try ImageEncoder.encodePNG(scene))]
    for name in ["picture.webp", "animated.gif", "picture-32.bmp", "picture.tiff", "photo.heic"]
    {
      files.append((name, try FormatFixtures.bytes(name)))
    }
    for (name, bytes) in files {
      let whole = try ImageDecoder.decode(data: bytes, name: name)
      for side in [480, 100, 37, 2000] {
        let preview = try ImageDecoder.decodePreview(data: bytes, name: name, maxSide: side)
        #expect(preview.image == whole.image.downscaled(toFit: side), "\(name) at \(side)")
        #expect(preview.width == whole.width && preview.height == whole.height, "\(name)")
      }
    }
  }

  @Test func aJPEGIsDecodedAtReducedScaleAndStaysClose() throws {
    let scene = Fixtures.scene(width: 4000, height: 2400, seed: 9)
    let jpeg = try ImageEncoder.encodeJPEG(scene, quality: 90)
    let preview = try ImageDecoder.decodePreview(data: jpeg, name: "big.jpg", maxSide: 480)
    #expect(preview.width == 4000 && preview.height == 2400, "the file's own size is kept")
    #expect(preview.image.width == 480 && preview.image.height == 288)
    let reference = try ImageDecoder.decode(data: jpeg).image.downscaled(toFit: 480)
    let difference = zip(preview.image.pixels, reference.pixels).map {
      abs(Int($0) - Int($1))
    }
    let mean = Double(difference.reduce(0, +)) / Double(difference.count)
    #expect(mean < 3, "mean difference \(mean) from decoding whole")
  }

  @Test func thePixelLimitStillHolds() throws {
    #expect(performing: {
      try ImageDecoder.decodePreview(
        data: FormatFixtures.bytes("picture.webp"), name: "w", maxPixels: 1000, maxSide: 480)
    }, throws: { ($0 as? MediaDecodingError)?.kind == .tooLarge })
    let jpeg = try ImageEncoder.encodeJPEG(Fixtures.scene(width: 100, height: 100))
    #expect(performing: {
      try ImageDecoder.decodePreview(data: jpeg, name: "j", maxPixels: 1000, maxSide: 480)
    }, throws: { ($0 as? MediaDecodingError)?.kind == .tooLarge })
  }
}
