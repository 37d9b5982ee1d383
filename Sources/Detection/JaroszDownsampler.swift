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

  /// Blurs `a` (the luma, `width * height` values) in place and returns the 64x64 grid,
  /// row-major.
  static func downsample64(
    _ a: UnsafeMutableBufferPointer<Float>, width: Int, height: Int
  ) -> [Float] {
    let rowWindow = windowSize(width, 64)
    let columnWindow = windowSize(height, 64)
    let rowsWanted = (0..<64).map { decimationIndex($0, inCount: height, outCount: 64) }
    let columnsWanted = (0..<64).map { decimationIndex($0, inCount: width, outCount: 64) }
    var compact = [Float](repeating: 0, count: height * 64)
    var grid = [Float](repeating: 0, count: 64 * 64)
    compact.withUnsafeMutableBufferPointer { c in
      // Round 1: full passes, in place.
      boxAlongRows(a, a, width: width, height: height, window: rowWindow, columns: nil)
      boxAlongColumns(a, width: width, height: height, window: columnWindow)
      // Round 2: the row pass keeps only the 64 wanted columns (every running sum is still
      // computed), then the column pass reports only the 64 wanted rows.
      boxAlongRows(
        a, c, width: width, height: height, window: rowWindow, columns: columnsWanted)
      grid.withUnsafeMutableBufferPointer { g in
        boxAlongColumnsSampled(c, height: height, window: columnWindow, rows: rowsWanted, into: g)
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

  /// Box filter along each row, as box1DFloat, eight rows at a time: a strip of eight rows is
  /// interleaved (column-major within the strip) so that each SIMD lane carries one row's
  /// running sum with exactly the reference's scalar operations. With `columns`, only those
  /// output columns are kept, in a compact `height x columns.count` matrix.
  static func boxAlongRows(
    _ input: UnsafeMutableBufferPointer<Float>, _ output: UnsafeMutableBufferPointer<Float>,
    width: Int, height: Int, window: Int, columns: [Int]?
  ) {
    typealias Lanes = SIMD8<Float>
    let phases = Phases(length: width, window: window)
    var stripIn = [Float](repeating: 0, count: width * 8)
    var stripOut = [Float](repeating: 0, count: width * 8)
    let src = input.baseAddress!
    let dst = output.baseAddress!
    stripIn.withUnsafeMutableBufferPointer { sIn in
      stripOut.withUnsafeMutableBufferPointer { sOut in
        let tin = UnsafeMutableRawPointer(sIn.baseAddress!)
        let tout = UnsafeMutableRawPointer(sOut.baseAddress!)
        let lanesIn = sIn.baseAddress!
        let lanesOut = sOut.baseAddress!
        var y0 = 0
        while y0 < height {
          let rows = min(8, height - y0)
          // Interleave: lanesIn[x * 8 + r] = row (y0 + r), column x.
          for r in 0..<8 {
            if r < rows {
              let row = src + (y0 + r) * width
              for x in 0..<width { lanesIn[x * 8 + r] = row[x] }
            } else {
              for x in 0..<width { lanesIn[x * 8 + r] = 0 }
            }
          }
          @inline(__always) func load(_ i: Int) -> Lanes {
            tin.loadUnaligned(fromByteOffset: i * 32, as: Lanes.self)
          }
          @inline(__always) func store(_ v: Lanes, _ i: Int) {
            tout.storeBytes(of: v, toByteOffset: i * 32, as: Lanes.self)
          }
          var sum = Lanes(repeating: 0)
          var size = 0
          var ri = 0
          var li = 0
          var oi = 0
          for _ in 0..<phases.one {
            sum = sum + load(ri)
            size += 1
            ri += 1
          }
          for _ in 0..<phases.two {
            sum = sum + load(ri)
            size += 1
            store(sum / Lanes(repeating: Float(size)), oi)
            ri += 1
            oi += 1
          }
          let divisor = Lanes(repeating: Float(size))
          for _ in 0..<max(0, phases.three) {
            sum = sum + load(ri)
            sum = sum - load(li)
            store(sum / divisor, oi)
            li += 1
            ri += 1
            oi += 1
          }
          for _ in 0..<phases.four {
            sum = sum - load(li)
            size -= 1
            store(sum / Lanes(repeating: Float(size)), oi)
            li += 1
            oi += 1
          }
          // De-interleave (all columns, or only the wanted ones).
          if let columns {
            let n = columns.count
            for r in 0..<rows {
              let row = dst + (y0 + r) * n
              for (k, x) in columns.enumerated() { row[k] = lanesOut[x * 8 + r] }
            }
          } else {
            for r in 0..<rows {
              let row = dst + (y0 + r) * width
              for x in 0..<width { row[x] = lanesOut[x * 8 + r] }
            }
          }
          y0 += 8
        }
      }
    }
  }

  /// Box filter along each column, in place, all columns advancing together row by row.
  /// Input rows still to be subtracted after their output has been written are kept in a
  /// small ring of rows.
  static func boxAlongColumns(
    _ data: UnsafeMutableBufferPointer<Float>, width: Int, height: Int, window: Int
  ) {
    let phases = Phases(length: height, window: window)
    // Output row oi subtracts input row oi - lag (phases three and four).
    let lag = phases.two
    let ringRows = lag + 1
    var ring = [Float](repeating: 0, count: ringRows * width)
    var sums = [Float](repeating: 0, count: width)
    let base = data.baseAddress!
    ring.withUnsafeMutableBufferPointer { ringBuffer in
      sums.withUnsafeMutableBufferPointer { s in
        let sum = s.baseAddress!
        let saved = ringBuffer.baseAddress!
        var size = 0
        var ri = 0
        var li = 0
        var oi = 0
        for _ in 0..<phases.one {
          let add = base + ri * width
          for x in 0..<width { sum[x] += add[x] }
          size += 1
          ri += 1
        }
        for _ in 0..<phases.two {
          let add = base + ri * width
          let row = base + oi * width
          let keep = saved + (oi % ringRows) * width
          size += 1
          let divisor = Float(size)
          for x in 0..<width {
            let v = sum[x] + add[x]
            sum[x] = v
            keep[x] = row[x]
            row[x] = v / divisor
          }
          ri += 1
          oi += 1
        }
        let divisor = Float(size)
        for _ in 0..<max(0, phases.three) {
          let add = base + ri * width
          let row = base + oi * width
          let keep = saved + (oi % ringRows) * width
          let sub = saved + (li % ringRows) * width
          for x in 0..<width {
            var v = sum[x] + add[x]
            keep[x] = row[x]
            v -= sub[x]
            sum[x] = v
            row[x] = v / divisor
          }
          li += 1
          ri += 1
          oi += 1
        }
        for _ in 0..<phases.four {
          let row = base + oi * width
          let keep = saved + (oi % ringRows) * width
          let sub = saved + (li % ringRows) * width
          size -= 1
          let divisor = Float(size)
          for x in 0..<width {
            keep[x] = row[x]
            let v = sum[x] - sub[x]
            sum[x] = v
            row[x] = v / divisor
          }
          li += 1
          oi += 1
        }
      }
    }
  }

  /// The column pass over a compact `height x 64` matrix (the wanted columns), writing only
  /// the output rows listed in `rows` (ascending) into the 64x64 grid.
  static func boxAlongColumnsSampled(
    _ compact: UnsafeMutableBufferPointer<Float>, height: Int, window: Int, rows: [Int],
    into grid: UnsafeMutableBufferPointer<Float>
  ) {
    let phases = Phases(length: height, window: window)
    let n = 64
    // Which output row lands in which grid row (-1: not wanted).
    var target = [Int](repeating: -1, count: height)
    for (gi, y) in rows.enumerated() where target[y] < 0 { target[y] = gi }
    var sums = [Float](repeating: 0, count: n)
    let c = compact
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
}
