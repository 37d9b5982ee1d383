import Foundation

// MARK: - Seeded mutations

/// Turns valid inputs into hostile ones, deterministically from a seed: bit flips, random
/// bytes, cut-offs, duplicated and deleted runs, splices, control characters and very long
/// lines. A failing case is reproduced by its seed.
struct Mutator {
  private var state: UInt64

  init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

  /// SplitMix64.
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

  /// Hostile fragments that parsers meet in real files.
  static let fragments: [[UInt8]] = [
    Array("\u{1B}[31m".utf8), Array("\u{202E}".utf8), Array("\"".utf8), Array(",,,".utf8),
    Array("\t".utf8), Array("\r\n".utf8), Array("\0".utf8), Array("{\"a\":".utf8),
    Array("[[x]]".utf8), Array("= =".utf8), Array("99999999999999999999".utf8),
    Array("-1".utf8), Array("NaN".utf8), Array("\\u0000".utf8), [0xFF, 0xFE], [0xC3],
    Array(String(repeating: "A", count: 5000).utf8),
    // Nesting far deeper than any real file, and numbers no Int64 holds.
    Array(String(repeating: "[", count: 20_000).utf8),
    Array(String(repeating: "{\"a\":", count: 5000).utf8),
    Array(String(repeating: "{a=", count: 5000).utf8),
    Array(String(repeating: "a.", count: 5000).utf8),
    Array("1e308".utf8), Array("18446744073709551616".utf8), Array("-1e19".utf8),
  ]

  /// One to four mutations of `input`.
  mutating func mutate(_ input: [UInt8]) -> [UInt8] {
    var bytes = input
    for _ in 0...below(4) {
      let at = below(bytes.count + 1)
      switch below(7) {
      case 0 where !bytes.isEmpty:  // flip a bit
        let i = below(bytes.count)
        bytes[i] ^= UInt8(1 << below(8))
      case 1:  // random bytes
        let run = (0..<(1 + below(8))).map { _ in UInt8(truncatingIfNeeded: next()) }
        bytes.insert(contentsOf: run, at: at)
      case 2:  // cut off
        bytes = Array(bytes.prefix(at))
      case 3 where !bytes.isEmpty:  // delete a run
        let end = min(bytes.count, at + 1 + below(64))
        if at < end { bytes.removeSubrange(at..<end) }
      case 4 where !bytes.isEmpty:  // duplicate a run
        let start = below(bytes.count)
        let run = Array(bytes[start..<min(bytes.count, start + 1 + below(256))])
        bytes.insert(contentsOf: run, at: at)
      case 5:  // a hostile fragment
        bytes.insert(contentsOf: Self.fragments[below(Self.fragments.count)], at: at)
      default:  // overwrite a byte with an interesting value
        if !bytes.isEmpty {
          let values: [UInt8] = [0, 0x7F, 0x80, 0xFF, 0x0A, 0x22, 0x2C, 0x3D]
          bytes[below(bytes.count)] = values[below(values.count)]
        }
      }
    }
    return bytes
  }

  /// Iterations per target: `CSAR_FUZZ_ITERATIONS` (for longer runs), else `default`.
  static func iterations(default count: Int) -> Int {
    ProcessInfo.processInfo.environment["CSAR_FUZZ_ITERATIONS"].flatMap(Int.init) ?? count
  }
}

extension Array where Element == UInt8 {
  /// The bytes as text, invalid UTF-8 replaced (as a parser reading a file would see it).
  var text: String { String(decoding: self, as: UTF8.self) }
  /// Lines in the bytes (for checking reported line numbers).
  var lineCount: Int { self.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 } }
}
