// PDQ perceptual hashing, bit-for-bit as Meta's reference (ThreatExchange pdq, C++).
//
// Pipeline on the full-resolution image: float luma (0.299 R + 0.587 G + 0.114 B), two
// rounds of a box filter along rows then columns with windows ceil(dim / 128) (the Jarosz
// tent filter), decimation to 64x64 at pixel centres, a 16x64 DCT matrix without its DC row
// giving B = D A Dt (16x16), and one bit per coefficient: set when strictly greater than the
// median. Quality comes from the gradients of the 64x64 image. Arithmetic follows the
// reference's float operations and order, so hashes match exactly.

import Imaging

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - Results

/// A PDQ hash with its quality (0...100; below 50 the hash is too weak to trust).
public struct PDQResult: Sendable, Equatable {
  /// The hash.
  public var hash: PDQHash
  /// The reference quality metric, 0...100.
  public var quality: Int

  /// Creates a result.
  public init(hash: PDQHash, quality: Int) {
    self.hash = hash
    self.quality = quality
  }
}

/// The eight dihedral variants of a PDQ hash: what the hash of each rotation or flip of the
/// image would be, derived from one DCT as the reference does.
public struct PDQDihedralHashes: Sendable, Equatable {
  /// The image as given.
  public var original: PDQHash
  /// Rotated 90 degrees counter-clockwise (the reference's "rotate 90").
  public var rotate90: PDQHash
  /// Rotated 180 degrees.
  public var rotate180: PDQHash
  /// Rotated 90 degrees clockwise (the reference's "rotate 270").
  public var rotate270: PDQHash
  /// Mirrored top-bottom (the reference's "flip x").
  public var flipX: PDQHash
  /// Mirrored left-right (the reference's "flip y").
  public var flipY: PDQHash
  /// Transposed (mirrored along the main diagonal).
  public var flipPlus1: PDQHash
  /// Mirrored along the anti-diagonal.
  public var flipMinus1: PDQHash
  /// Quality of the original (the same for every variant).
  public var quality: Int

  /// All eight, original first.
  public var all: [PDQHash] {
    [original, rotate90, rotate180, rotate270, flipX, flipY, flipPlus1, flipMinus1]
  }
}

// MARK: - Hashing

/// PDQ hashing entry points.
public enum PDQ {
  /// Images smaller than this on either side get the zero hash and quality 0.
  public static let minimumDimension = 5

  /// The PDQ hash and quality of an RGB image (stored pixels, full resolution).
  public static func hash(_ image: RGBImage) -> PDQResult { PDQHasher().hash(image) }

  /// The hash and quality from a row-major float luma buffer (`width * height` values).
  public static func hash(luma: [Float], width: Int, height: Int) -> PDQResult {
    precondition(luma.count == width * height, "luma size")
    guard width >= minimumDimension, height >= minimumDimension else {
      return PDQResult(hash: .zero, quality: 0)
    }
    var buffer = luma
    let (block, quality) = buffer.withUnsafeMutableBufferPointer { a in
      dctBlock(luma: a, width: width, height: height)
    }
    return PDQResult(hash: bits(of: block), quality: quality)
  }

  /// All eight dihedral variants of the hash of `image`.
  public static func dihedralHashes(_ image: RGBImage) -> PDQDihedralHashes {
    PDQHasher().dihedralHashes(image)
  }

  /// The float luma the reference computes: `0.299 R + 0.587 G + 0.114 B` in float
  /// arithmetic, left to right.
  public static func luma(_ image: RGBImage) -> [Float] {
    let count = image.width * image.height
    return [Float](unsafeUninitializedCapacity: count) { out, initialised in
      fillLuma(image, into: out)
      initialised = count
    }
  }

  // MARK: - Internals

  /// `Float(0.299) * Float(v)` etc. for v in 0...255: the exact float products of the
  /// reference (its coefficients are double literals stored in floats).
  static let lumaTables: [Float] = {
    let coefficients: [Float] = [Float(0.299 as Double), Float(0.587 as Double),
                                 Float(0.114 as Double)]
    var table = [Float](repeating: 0, count: 768)
    for c in 0..<3 {
      for v in 0..<256 { table[c * 256 + v] = coefficients[c] * Float(v) }
    }
    return table
  }()

  /// The 16x64 DCT matrix without the DC row, row-major, as the reference builds it.
  static let dctMatrix: [Float] = {
    let scale = Float(sqrt(2.0 / 64.0))
    var m = [Float](repeating: 0, count: 16 * 64)
    for i in 0..<16 {
      for j in 0..<64 {
        let angle = (Double.pi / 2.0 / 64.0) * Double(i + 1) * Double(2 * j + 1)
        m[i * 64 + j] = Float(Double(scale) * cos(angle))
      }
    }
    return m
  }()

  /// Writes the reference's float luma of `image` into `out` (`width * height` values).
  static func fillLuma(_ image: RGBImage, into out: UnsafeMutableBufferPointer<Float>) {
    let count = image.width * image.height
    image.pixels.withUnsafeBufferPointer { px in
      lumaTables.withUnsafeBufferPointer { t in
        for i in 0..<count {
          out[i] = (t[Int(px[3 * i])] + t[256 + Int(px[3 * i + 1])])
            + t[512 + Int(px[3 * i + 2])]
        }
      }
    }
  }

  /// Box filter, decimation, quality and DCT. `luma` is overwritten.
  static func dctBlock(
    luma: UnsafeMutableBufferPointer<Float>, width: Int, height: Int
  ) -> (block: [Float], quality: Int) {
    let grid: [Float]
    if width == 64 && height == 64 {
      grid = Array(luma[0..<4096])
    } else {
      grid = JaroszDownsampler.downsample64(luma, width: width, height: height)
    }
    return (dct64To16(grid), quality(of: grid))
  }

  /// The reference's image-domain quality metric on the 64x64 grid.
  static func quality(of a: [Float]) -> Int {
    var sum = 0
    for i in 0..<63 {
      for j in 0..<64 {
        let d = Int(((a[i * 64 + j] - a[(i + 1) * 64 + j]) * 100) / 255)
        sum += abs(d)
      }
    }
    for i in 0..<64 {
      for j in 0..<63 {
        let d = Int(((a[i * 64 + j] - a[i * 64 + j + 1]) * 100) / 255)
        sum += abs(d)
      }
    }
    return min(100, sum / 90)
  }

  /// B = D A Dt with float sums accumulated in the reference's order (k ascending).
  static func dct64To16(_ a: [Float]) -> [Float] {
    var t = [Float](repeating: 0, count: 16 * 64)  // T = D A, stored transposed: t[j*16+i]
    var b = [Float](repeating: 0, count: 256)
    dctMatrix.withUnsafeBufferPointer { d in
      a.withUnsafeBufferPointer { a in
        t.withUnsafeMutableBufferPointer { t in
          for i in 0..<16 {
            var j = 0
            while j < 64 {
              var sum = SIMD8<Float>(repeating: 0)
              for k in 0..<64 {
                let row = SIMD8<Float>(a[(k * 64 + j)..<(k * 64 + j + 8)])
                sum = sum + SIMD8<Float>(repeating: d[i * 64 + k]) * row
              }
              for l in 0..<8 { t[(j + l) * 16 + i] = sum[l] }
              j += 8
            }
          }
        }
        t.withUnsafeBufferPointer { t in
          b.withUnsafeMutableBufferPointer { b in
            for j in 0..<16 {
              var sum = SIMD16<Float>(repeating: 0)
              for k in 0..<64 {
                let column = SIMD16<Float>(t[(k * 16)..<(k * 16 + 16)])
                sum = sum + column * SIMD16<Float>(repeating: d[j * 64 + k])
              }
              for i in 0..<16 { b[i * 16 + j] = sum[i] }
            }
          }
        }
      }
    }
    return b
  }

  /// One bit per coefficient, set when strictly greater than the (lower) median.
  static func bits(of block: [Float]) -> PDQHash {
    let median = block.sorted()[127]
    var hash = PDQHash.zero
    for k in 0..<256 where block[k] > median { hash.setBit(k) }
    return hash
  }

  static func dihedralHashes(block a: [Float], quality: Int) -> PDQDihedralHashes {
    func transformed(transpose: Bool, negate: (Int, Int) -> Bool) -> PDQHash {
      var b = [Float](repeating: 0, count: 256)
      for i in 0..<16 {
        for j in 0..<16 {
          let v = negate(i, j) ? -a[i * 16 + j] : a[i * 16 + j]
          if transpose { b[j * 16 + i] = v } else { b[i * 16 + j] = v }
        }
      }
      return bits(of: b)
    }
    return PDQDihedralHashes(
      original: bits(of: a),
      rotate90: transformed(transpose: true) { _, j in j & 1 == 0 },
      rotate180: transformed(transpose: false) { i, j in (i + j) & 1 == 1 },
      rotate270: transformed(transpose: true) { i, _ in i & 1 == 0 },
      flipX: transformed(transpose: false) { i, _ in i & 1 == 0 },
      flipY: transformed(transpose: false) { _, j in j & 1 == 0 },
      flipPlus1: transformed(transpose: true) { _, _ in false },
      flipMinus1: transformed(transpose: true) { i, j in (i + j) & 1 == 1 },
      quality: quality)
  }
}

// MARK: - Reusable hasher

/// A PDQ hasher that keeps its full-resolution float buffer between images, so hashing many
/// images does not allocate (and page-fault) an image-sized buffer each time. Not shared
/// between tasks: use one per task.
public final class PDQHasher {
  private var lumaBuffer: [Float] = []

  /// Creates a hasher with empty buffers.
  public init() {}

  /// The PDQ hash and quality of `image`.
  public func hash(_ image: RGBImage) -> PDQResult {
    guard let (block, quality) = dctBlock(image) else {
      return PDQResult(hash: .zero, quality: 0)
    }
    return PDQResult(hash: PDQ.bits(of: block), quality: quality)
  }

  /// The eight dihedral variants of the hash of `image`.
  public func dihedralHashes(_ image: RGBImage) -> PDQDihedralHashes {
    guard let (block, quality) = dctBlock(image) else {
      return PDQDihedralHashes(
        original: .zero, rotate90: .zero, rotate180: .zero, rotate270: .zero, flipX: .zero,
        flipY: .zero, flipPlus1: .zero, flipMinus1: .zero, quality: 0)
    }
    return PDQ.dihedralHashes(block: block, quality: quality)
  }

  private func dctBlock(_ image: RGBImage) -> (block: [Float], quality: Int)? {
    guard image.width >= PDQ.minimumDimension, image.height >= PDQ.minimumDimension else {
      return nil
    }
    let count = image.width * image.height
    if lumaBuffer.count < count {
      lumaBuffer = [Float](repeating: 0, count: count)
    }
    return lumaBuffer.withUnsafeMutableBufferPointer { a in
      let luma = UnsafeMutableBufferPointer(rebasing: a[0..<count])
      PDQ.fillLuma(image, into: luma)
      return PDQ.dctBlock(luma: luma, width: image.width, height: image.height)
    }
  }
}
