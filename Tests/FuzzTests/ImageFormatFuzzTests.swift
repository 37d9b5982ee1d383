import Foundation
import Imaging
import Testing

/// Truncations and bit flips of a WebP, GIF (still and animated), BMP, TIFF and HEIC/AVIF each:
/// every damaged file is decoded or refused with an error naming it, never a crash or a hang.
/// (That the C libraries print nothing is checked end to end, on `csar hash`'s stderr.)
@Suite("Fuzzing image formats (seeded, bounded)")
struct ImageFormatFuzzTests {
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../DetectionTests/Fixtures/images").standardized.path

  static let seeds = [
    "picture.webp", "photo.webp", "animated.webp", "picture.gif", "animated.gif", "picture.bmp",
    "picture-pal8.bmp", "picture-565.bmp", "picture.tiff", "picture-grey.tiff", "photo.heic",
    "photo.avif",
  ]

  @Test(arguments: seeds)
  func damagedFilesAreDecodedOrRefusedCleanly(_ seed: String) throws {
    let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.folder + "/" + seed)))
    var mutator = Mutator(seed: seed.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) })
    var inputs: [[UInt8]] = [original]
    // Every truncation point of the first 64 bytes, then spread over the rest.
    for cut in stride(from: 0, to: original.count, by: max(1, original.count / 48)) {
      inputs.append(Array(original.prefix(cut)))
    }
    inputs += (0..<64).map { Array(original.prefix($0)) }
    for _ in 0..<Mutator.iterations(default: 150) {
      var bytes = original
      for _ in 0...mutator.below(6) {  // bit flips, kept within the file
        let at = mutator.below(bytes.count)
        bytes[at] ^= UInt8(1 << mutator.below(8))
      }
      inputs.append(bytes)
      inputs.append(mutator.mutate(original))
    }
    var decoded = 0
    var refused = 0
    for (index, input) in inputs.enumerated() {
      let name = "\(seed)#\(index)"
      do {
        let result = try ImageDecoder.decode(data: input, name: name)
        #expect(result.image.pixels.count == result.width * result.height * 3)
        decoded += 1
      } catch {
        #expect("\(error)".hasPrefix(name), "\(error)")
        refused += 1
      }
      // Animations: every frame within the limits, each of the canvas's size.
      if let format = ImageFormat.sniff(input), format.canAnimate {
        _ = try? ImageDecoder.decodeFrames(
          data: input, name: name, limits: FrameLimits(maxFrames: 8)
        ) { frame, _ in
          #expect(frame.pixels.count == frame.width * frame.height * 3)
          return true
        }
      }
    }
    #expect(refused > 0, "\(seed): no damaged copy was refused")
    #expect(decoded > 0, "\(seed): not even the intact file decoded")
  }
}
