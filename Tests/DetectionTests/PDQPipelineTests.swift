@testable import Detection
import Imaging
import Testing

/// The optimised downsampler (strips of eight rows, in-place column pass with a ring, partial
/// second round) against a plain transcription of the reference's scalar passes.
@Suite("PDQ pipeline equals the plain reference passes")
struct PDQPipelineTests {
  /// The reference's box1DFloat on a strided vector.
  static func box1D(
    _ input: [Float], _ output: inout [Float], start: Int, length: Int, stride: Int,
    window: Int
  ) {
    let half = (window + 2) / 2
    var sum: Float = 0
    var size = 0
    var ri = start
    var li = start
    var oi = start
    for _ in 0..<(half - 1) {
      sum += input[ri]
      size += 1
      ri += stride
    }
    for _ in 0..<(window - half + 1) {
      sum += input[ri]
      size += 1
      output[oi] = sum / Float(size)
      ri += stride
      oi += stride
    }
    for _ in 0..<max(0, length - window) {
      sum += input[ri]
      sum -= input[li]
      output[oi] = sum / Float(size)
      li += stride
      ri += stride
      oi += stride
    }
    for _ in 0..<(half - 1) {
      sum -= input[li]
      size -= 1
      output[oi] = sum / Float(size)
      li += stride
      oi += stride
    }
  }

  static func plainGrid(_ luma: [Float], width: Int, height: Int) -> [Float] {
    let wr = JaroszDownsampler.windowSize(width, 64)
    let wc = JaroszDownsampler.windowSize(height, 64)
    var a = luma
    var b = luma
    for _ in 0..<2 {
      for y in 0..<height {
        box1D(a, &b, start: y * width, length: width, stride: 1, window: wr)
      }
      for x in 0..<width {
        box1D(b, &a, start: x, length: height, stride: width, window: wc)
      }
    }
    var grid = [Float](repeating: 0, count: 4096)
    for i in 0..<64 {
      let y = JaroszDownsampler.decimationIndex(i, inCount: height, outCount: 64)
      for j in 0..<64 {
        let x = JaroszDownsampler.decimationIndex(j, inCount: width, outCount: 64)
        grid[i * 64 + j] = a[y * width + x]
      }
    }
    return grid
  }

  @Test(arguments: [
    (5, 5), (7, 13), (63, 65), (64, 64), (100, 37), (129, 257), (300, 380), (517, 203),
    (1000, 9), (1601, 1003),
  ])
  func gridMatchesPlainPasses(width: Int, height: Int) {
    let image = Fixtures.scene(width: width, height: height, seed: UInt64(width * height))
    let luma = PDQ.luma(image)
    let plain = Self.plainGrid(luma, width: width, height: height)
    var fast = luma
    let grid = fast.withUnsafeMutableBufferPointer {
      JaroszDownsampler.downsample64($0, width: width, height: height)
    }
    if width == 64 && height == 64 { return }  // The reference skips the filter there.
    #expect(grid == plain)
    let hasher = PDQHasher()
    let expected = PDQResult(
      hash: PDQ.bits(of: PDQ.dct64To16(plain)), quality: PDQ.quality(of: plain))
    #expect(hasher.hash(image) == expected)
    #expect(PDQ.hash(luma: luma, width: width, height: height) == expected)
  }

  @Test func hasherReusedAcrossSizes() {
    let hasher = PDQHasher()
    for (w, h) in [(400, 300), (120, 90), (640, 480), (3, 3), (200, 200)] {
      let image = Fixtures.scene(width: w, height: h, seed: 9)
      #expect(hasher.hash(image) == PDQ.hash(image))
      #expect(hasher.dihedralHashes(image) == PDQ.dihedralHashes(image))
    }
  }
}
