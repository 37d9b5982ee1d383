// MARK: - A small deterministic PRNG

/// SplitMix64 (Steele, Lea & Flood 2014): fast, 64-bit state, good enough for synthetic data,
/// and the same sequence on every platform for a given seed.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    return Self.mix(state)
  }

  /// The SplitMix64 finaliser: a bijection on 64-bit values.
  static func mix(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in `range` (modulo bias is negligible for the small ranges used here).
  mutating func int(_ range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
  }

  /// Uniform in `range`.
  mutating func int64(_ range: ClosedRange<Int64>) -> Int64 {
    range.lowerBound + Int64(next() % UInt64(range.upperBound - range.lowerBound + 1))
  }

  /// Uniform in [0, 1).
  mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// True with probability `p`.
  mutating func chance(_ p: Double) -> Bool { unit() < p }

  /// One element of a non-empty array.
  mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }

  /// An index drawn with the given (non-negative) weights.
  mutating func weighted(_ weights: [Double]) -> Int {
    let total = weights.reduce(0, +)
    var x = unit() * total
    for (i, w) in weights.enumerated() {
      if x < w { return i }
      x -= w
    }
    return weights.count - 1
  }

  /// Appends `count` random lowercase hex digits to `buffer`.
  mutating func appendHex(_ count: Int, to buffer: inout [UInt8]) {
    var bits: UInt64 = 0
    var left = 0
    for _ in 0..<count {
      if left == 0 {
        bits = next()
        left = 16
      }
      buffer.append(hexDigits[Int(bits & 0xF)])
      bits >>= 4
      left -= 1
    }
  }

  /// `count` random lowercase hex digits.
  mutating func hex(_ count: Int) -> String {
    var buffer: [UInt8] = []
    buffer.reserveCapacity(count)
    appendHex(count, to: &buffer)
    return String(decoding: buffer, as: UTF8.self)
  }
}

let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
