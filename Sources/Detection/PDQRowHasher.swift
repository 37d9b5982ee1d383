// PDQ from decoded rows, without the image: the same hash, bit for bit, in a few MB.
//
// The reference blurs a full-resolution float luma image (two rounds of box filters along
// rows, then columns) before sampling 64x64 values. Every step is a running sum that moves
// forward, so it can run as rows arrive: round 1's row filter works on each row alone, its
// column filter keeps a ring of the last `window + 1` rows, round 2's row filter again needs
// one row (and keeps only the 64 sampled columns), and round 2's column filter runs over that
// `height x 64` matrix at the end. The float operations and their order are those of
// `JaroszDownsampler` (itself the reference's), so the result is identical: a 9999x9999 PNG is
// hashed in about 10 MB instead of 700.

import Imaging

/// Computes the PDQ hash of an image fed row by row (an ``ImageRowSink`` for
/// ``ImageDecoder/decodeRows(data:name:maxPixels:into:)``).
public final class PDQRowHasher: ImageRowSink {
  private var width = 0
  private var height = 0
  private var rowWindow = 0
  private var columnWindow = 0
  private var columnsWanted: [Int] = []
  /// Up to eight luma rows after round 1's row filter (the SIMD strip of `boxAlongRows`).
  private var strip: [Float] = []
  private var stripRows = 0
  /// Round 1's column filter: running sums, a ring of its input rows, counters.
  private var sums: [Float] = []
  private var ring: [Float] = []
  private var ringRows = 0
  private var pushed = 0
  private var size = 0
  private var oldest = 0
  private var phases = JaroszDownsampler.Phases(length: 1, window: 1)
  /// Round 1's output rows waiting for round 2's row filter (eight at a time).
  private var pending: [Float] = []
  private var pendingRows = 0
  private var emitted = 0
  /// Round 2's row filter output: `height x 64`.
  private var compact: [Float] = []
  /// 64x64 images skip the filters (as the reference does): their luma is the grid.
  private var grid: [Float] = []

  /// A hasher for one image.
  public init() {}

  public func begin(width: Int, height: Int, orientation: ImageOrientation?) -> Bool {
    self.width = width
    self.height = height
    guard width >= PDQ.minimumDimension, height >= PDQ.minimumDimension else { return true }
    if width == 64 && height == 64 {
      grid = [Float](repeating: 0, count: 4096)
      return true
    }
    rowWindow = JaroszDownsampler.windowSize(width, 64)
    columnWindow = JaroszDownsampler.windowSize(height, 64)
    columnsWanted = (0..<64).map {
      JaroszDownsampler.decimationIndex($0, inCount: width, outCount: 64)
    }
    phases = JaroszDownsampler.Phases(length: height, window: columnWindow)
    strip = [Float](repeating: 0, count: width * 8)
    sums = [Float](repeating: 0, count: width)
    ringRows = columnWindow + 1
    ring = [Float](repeating: 0, count: width * ringRows)
    pending = [Float](repeating: 0, count: width * 8)
    compact = [Float](repeating: 0, count: height * 64)
    return true
  }

  public func row(_ rgb: UnsafePointer<UInt8>, y: Int) {
    guard width >= PDQ.minimumDimension, height >= PDQ.minimumDimension else { return }
    let target = width == 64 && height == 64 ? y * 64 : stripRows * width
    if width == 64 && height == 64 {
      grid.withUnsafeMutableBufferPointer { fillLuma(rgb, into: $0.baseAddress! + target) }
      return
    }
    strip.withUnsafeMutableBufferPointer { fillLuma(rgb, into: $0.baseAddress! + target) }
    stripRows += 1
    if stripRows == 8 || y == height - 1 { flushStrip() }
  }

  /// The hash and quality (zero and 0 for images under 5 pixels on a side).
  public func result() -> PDQResult {
    guard let (block, quality) = dctBlock() else { return PDQResult(hash: .zero, quality: 0) }
    return PDQResult(hash: PDQ.bits(of: block), quality: quality)
  }

  /// All eight dihedral variants.
  public func dihedralResult() -> PDQDihedralHashes {
    guard let (block, quality) = dctBlock() else {
      return PDQDihedralHashes(
        original: .zero, rotate90: .zero, rotate180: .zero, rotate270: .zero, flipX: .zero,
        flipY: .zero, flipPlus1: .zero, flipMinus1: .zero, quality: 0)
    }
    return PDQ.dihedralHashes(block: block, quality: quality)
  }

  // MARK: - Steps

  /// The DCT block and quality, computed once (the filters' last steps run then).
  private var finished: (block: [Float], quality: Int)?

  private func dctBlock() -> (block: [Float], quality: Int)? {
    guard width >= PDQ.minimumDimension, height >= PDQ.minimumDimension else { return nil }
    if let finished { return finished }
    if width != 64 || height != 64 {
      // Round 1's column filter ends (its last outputs need no new input), then round 2.
      for _ in 0..<phases.four { finishColumn() }
      flushPending()
      grid = [Float](repeating: 0, count: 4096)
      let rowsWanted = (0..<64).map {
        JaroszDownsampler.decimationIndex($0, inCount: height, outCount: 64)
      }
      compact.withUnsafeMutableBufferPointer { c in
        grid.withUnsafeMutableBufferPointer { g in
          JaroszDownsampler.boxAlongColumnsSampled(
            c, height: height, window: columnWindow, rows: rowsWanted, into: g)
        }
      }
    }
    finished = (PDQ.dct64To16(grid), PDQ.quality(of: grid))
    return finished
  }

  /// The reference's float luma of one RGB row.
  private func fillLuma(_ rgb: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<Float>) {
    PDQ.lumaTables.withUnsafeBufferPointer { t in
      for x in 0..<width {
        out[x] =
          (t[Int(rgb[3 * x])] + t[256 + Int(rgb[3 * x + 1])]) + t[512 + Int(rgb[3 * x + 2])]
      }
    }
  }

  /// Round 1's row filter over the buffered rows, then each into the column filter.
  private func flushStrip() {
    let rows = stripRows
    strip.withUnsafeMutableBufferPointer { s in
      let filled = UnsafeMutableBufferPointer(rebasing: s[0..<(rows * width)])
      JaroszDownsampler.boxAlongRows(
        filled, filled, width: width, height: rows, window: rowWindow, columns: nil)
    }
    for r in 0..<rows { pushColumn(r * width) }
    stripRows = 0
  }

  /// Round 1's column filter, one input row (at `offset` in the strip): phases one to three
  /// of `boxAlongColumns`, with the same operations in the same order.
  private func pushColumn(_ offset: Int) {
    let slot = pushed % ringRows
    strip.withUnsafeBufferPointer { s in
      ring.withUnsafeMutableBufferPointer { ring in
        sums.withUnsafeMutableBufferPointer { sum in
          pending.withUnsafeMutableBufferPointer { out in
            let add = s.baseAddress! + offset
            let keep = ring.baseAddress! + slot * width
            let row = out.baseAddress! + pendingRows * width
            if pushed < phases.one {
              for x in 0..<width { sum[x] += add[x] }
              size += 1
            } else if pushed < phases.one + phases.two {
              size += 1
              let divisor = Float(size)
              for x in 0..<width {
                let v = sum[x] + add[x]
                sum[x] = v
                row[x] = v / divisor
              }
            } else {
              let sub = ring.baseAddress! + (oldest % ringRows) * width
              let divisor = Float(size)
              for x in 0..<width {
                var v = sum[x] + add[x]
                v -= sub[x]
                sum[x] = v
                row[x] = v / divisor
              }
              oldest += 1
            }
            for x in 0..<width { keep[x] = add[x] }
          }
        }
      }
    }
    if pushed >= phases.one { rowOut() }
    pushed += 1
  }

  /// Round 1's column filter, phase four: an output row without a new input row.
  private func finishColumn() {
    ring.withUnsafeBufferPointer { ring in
      sums.withUnsafeMutableBufferPointer { sum in
        pending.withUnsafeMutableBufferPointer { out in
          let sub = ring.baseAddress! + (oldest % ringRows) * width
          let row = out.baseAddress! + pendingRows * width
          size -= 1
          let divisor = Float(size)
          for x in 0..<width {
            let v = sum[x] - sub[x]
            sum[x] = v
            row[x] = v / divisor
          }
        }
      }
    }
    oldest += 1
    rowOut()
  }

  /// One more row of round 1 is ready; round 2's row filter runs on eight at a time.
  private func rowOut() {
    pendingRows += 1
    if pendingRows == 8 { flushPending() }
  }

  /// Round 2's row filter over the pending rows, keeping the 64 wanted columns.
  private func flushPending() {
    let rows = pendingRows
    guard rows > 0 else { return }
    pending.withUnsafeMutableBufferPointer { p in
      compact.withUnsafeMutableBufferPointer { c in
        let input = UnsafeMutableBufferPointer(rebasing: p[0..<(rows * width)])
        let output = UnsafeMutableBufferPointer(rebasing: c[(emitted * 64)...])
        JaroszDownsampler.boxAlongRows(
          input, output, width: width, height: rows, window: rowWindow, columns: columnsWanted)
      }
    }
    emitted += rows
    pendingRows = 0
  }
}
