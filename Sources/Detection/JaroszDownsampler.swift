// The reference's "Jarosz" downsampling: box filters along rows and columns, twice, then
// decimation to 64x64 at pixel centres.
//
// Every output value is computed with the same float operations in the same order as the
// reference's box1DFloat (running sum, adds then subtracts, divided by the current window
// size), so results are bit-identical. Speed comes from layout, not from different maths:
// column filters run across a whole row of running sums at once (vectorisable), and the last
// row and column passes only produce the values that decimation will read.

enum JaroszDownsampler {
  /// The reference's window size: ceil(old / (2 * new)).
  static func windowSize(_ oldDimension: Int, _ newDimension: Int) -> Int {
    (oldDimension + 2 * newDimension - 1) / (2 * newDimension)
  }

  /// The source index sampled for output index `i` of `outCount` (pixel centres).
  static func decimationIndex(_ i: Int, inCount: Int, outCount: Int) -> Int {
    Int(((Double(i) + 0.5) * Double(inCount)) / Double(outCount))
  }

  /// Blurs `luma` (used as scratch) and returns the 64x64 grid, row-major.
  static func downsample64(_ luma: inout [Float], width: Int, height: Int) -> [Float] {
    let rowWindow = windowSize(width, 64)
    let columnWindow = windowSize(height, 64)
    let rowsWanted = (0..<64).map { decimationIndex($0, inCount: height, outCount: 64) }
    let columnsWanted = (0..<64).map { decimationIndex($0, inCount: width, outCount: 64) }
    var scratch = [Float](repeating: 0, count: luma.count)
    var grid = [Float](repeating: 0, count: 64 * 64)
    luma.withUnsafeMutableBufferPointer { a in
      scratch.withUnsafeMutableBufferPointer { b in
        // Round 1: full passes.
        boxAlongRows(a, b, width: width, height: height, window: rowWindow)
        boxAlongColumns(b, a, width: width, height: height, window: columnWindow)
        // Round 2: rows in full (every column's running sum is needed), then the column pass
        // only for the 64 wanted columns, reporting only the 64 wanted rows.
        boxAlongRows(a, b, width: width, height: height, window: rowWindow)
        grid.withUnsafeMutableBufferPointer { g in
          boxAlongColumnsSampled(
            b, width: width, height: height, window: columnWindow, columns: columnsWanted,
            rows: rowsWanted, into: g)
        }
      }
    }
    return grid
  }

  // MARK: - Passes

  /// The reference's phase counts for a vector of `length` and a window of `window`.
  struct Phases {
    var one: Int
    var two: Int
    var three: Int
    var four: Int
    var half: Int

    init(length: Int, window: Int) {
      half = (window + 2) / 2
      one = half - 1
      two = window - half + 1
      three = length - window
      four = half - 1
    }
  }

  /// Box filter along each row (stride 1), as box1DFloat.
  static func boxAlongRows(
    _ input: UnsafeMutableBufferPointer<Float>, _ output: UnsafeMutableBufferPointer<Float>,
    width: Int, height: Int, window: Int
  ) {
    let phases = Phases(length: width, window: window)
    let inBase = input.baseAddress!
    let outBase = output.baseAddress!
    for y in 0..<height {
      let src = inBase + y * width
      let dst = outBase + y * width
      var sum: Float = 0
      var size = 0
      var ri = 0
      var li = 0
      var oi = 0
      for _ in 0..<phases.one {
        sum += src[ri]
        size += 1
        ri += 1
      }
      for _ in 0..<phases.two {
        sum += src[ri]
        size += 1
        dst[oi] = sum / Float(size)
        ri += 1
        oi += 1
      }
      if phases.three > 0 {
        let divisor = Float(size)
        for _ in 0..<phases.three {
          sum += src[ri]
          sum -= src[li]
          dst[oi] = sum / divisor
          li += 1
          ri += 1
          oi += 1
        }
      }
      for _ in 0..<phases.four {
        sum -= src[li]
        size -= 1
        dst[oi] = sum / Float(size)
        li += 1
        oi += 1
      }
    }
  }

  /// Box filter along each column, all columns advancing together row by row.
  static func boxAlongColumns(
    _ input: UnsafeMutableBufferPointer<Float>, _ output: UnsafeMutableBufferPointer<Float>,
    width: Int, height: Int, window: Int
  ) {
    let phases = Phases(length: height, window: window)
    var sums = [Float](repeating: 0, count: width)
    let inBase = input.baseAddress!
    let outBase = output.baseAddress!
    sums.withUnsafeMutableBufferPointer { s in
      let sum = s.baseAddress!
      var size = 0
      var ri = 0
      var li = 0
      var oi = 0
      for _ in 0..<phases.one {
        let src = inBase + ri * width
        for x in 0..<width { sum[x] += src[x] }
        size += 1
        ri += 1
      }
      for _ in 0..<phases.two {
        let src = inBase + ri * width
        let dst = outBase + oi * width
        size += 1
        let divisor = Float(size)
        for x in 0..<width {
          sum[x] += src[x]
          dst[x] = sum[x] / divisor
        }
        ri += 1
        oi += 1
      }
      let divisor = Float(size)
      for _ in 0..<max(0, phases.three) {
        let add = inBase + ri * width
        let sub = inBase + li * width
        let dst = outBase + oi * width
        for x in 0..<width {
          var v = sum[x] + add[x]
          v -= sub[x]
          sum[x] = v
          dst[x] = v / divisor
        }
        li += 1
        ri += 1
        oi += 1
      }
      for _ in 0..<phases.four {
        let sub = inBase + li * width
        let dst = outBase + oi * width
        size -= 1
        let divisor = Float(size)
        for x in 0..<width {
          sum[x] -= sub[x]
          dst[x] = sum[x] / divisor
        }
        li += 1
        oi += 1
      }
    }
  }

  /// The column pass restricted to `columns`, writing only output rows listed in `rows`
  /// (ascending) into the 64x64 grid.
  static func boxAlongColumnsSampled(
    _ input: UnsafeMutableBufferPointer<Float>, width: Int, height: Int, window: Int,
    columns: [Int], rows: [Int], into grid: UnsafeMutableBufferPointer<Float>
  ) {
    let phases = Phases(length: height, window: window)
    let n = columns.count
    // Gather the wanted columns into a compact height x n matrix first.
    var compact = [Float](repeating: 0, count: height * n)
    compact.withUnsafeMutableBufferPointer { c in
      for y in 0..<height {
        let src = input.baseAddress! + y * width
        for (k, x) in columns.enumerated() { c[y * n + k] = src[x] }
      }
    }
    // Which output row lands in which grid row (-1: not wanted).
    var target = [Int](repeating: -1, count: height)
    for (gi, y) in rows.enumerated() where target[y] < 0 { target[y] = gi }
    var sums = [Float](repeating: 0, count: n)
    compact.withUnsafeBufferPointer { c in
      sums.withUnsafeMutableBufferPointer { sum in
        func emit(_ oi: Int, _ divisor: Float) {
          let gi = target[oi]
          guard gi >= 0 else { return }
          for k in 0..<n { grid[gi * 64 + k] = sum[k] / divisor }
          // Duplicate wanted rows (tiny images) share one source row.
          var next = gi + 1
          while next < rows.count && rows[next] == oi {
            for k in 0..<n { grid[next * 64 + k] = grid[gi * 64 + k] }
            next += 1
          }
        }
        var size = 0
        var ri = 0
        var li = 0
        var oi = 0
        for _ in 0..<phases.one {
          for k in 0..<n { sum[k] += c[ri * n + k] }
          size += 1
          ri += 1
        }
        for _ in 0..<phases.two {
          for k in 0..<n { sum[k] += c[ri * n + k] }
          size += 1
          emit(oi, Float(size))
          ri += 1
          oi += 1
        }
        let divisor = Float(size)
        for _ in 0..<max(0, phases.three) {
          for k in 0..<n {
            var v = sum[k] + c[ri * n + k]
            v -= c[li * n + k]
            sum[k] = v
          }
          emit(oi, divisor)
          li += 1
          ri += 1
          oi += 1
        }
        for _ in 0..<phases.four {
          for k in 0..<n { sum[k] -= c[li * n + k] }
          size -= 1
          emit(oi, Float(size))
          li += 1
          oi += 1
        }
      }
    }
    // Duplicate wanted columns: the compact matrix already holds one copy per wanted column
    // (columns may repeat for narrow images), so nothing else to do.
  }
}
