// The 256-bit PDQ hash value: bit layout, text form, Hamming distance.

/// A 256-bit PDQ perceptual hash.
///
/// Bit `k` of the reference implementation (`k = 16 * row + column` of the 16x16 DCT block) is
/// bit `k % 64` of `words[k / 64]`. The text form is the reference's: 64 lowercase hex digits,
/// most significant first (the reference's word 15 first), i.e. the 256-bit number in hex.
public struct PDQHash: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The bits, least significant word first.
  public var words: SIMD4<UInt64>

  /// A hash from its four 64-bit words (least significant first).
  public init(words: SIMD4<UInt64>) { self.words = words }

  /// The all-zero hash (what the reference returns for unhashable images).
  public static let zero = PDQHash(words: .zero)

  /// Parses 64 hex digits (either case); `nil` if `text` is anything else.
  public init?(hex text: some StringProtocol) {
    let parsed =
      text.utf8.withContiguousStorageIfAvailable(Self.words(hex:))
      ?? Array(text.utf8).withUnsafeBufferPointer(Self.words(hex:))
    guard let words = parsed else { return nil }
    self.words = words
  }

  /// The words of 64 hex digits (digits 0-15 make word 3, 16-31 word 2, ...), or nil.
  /// Not generic, so loading millions of bank hashes runs specialised code.
  static func words(hex bytes: UnsafeBufferPointer<UInt8>) -> SIMD4<UInt64>? {
    guard bytes.count == 64 else { return nil }
    var w: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    for i in 0..<64 {
      let c = bytes[i]
      let digit: UInt64
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(c - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(c - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(c - UInt8(ascii: "A") + 10)
      default: return nil
      }
      switch i >> 4 {
      case 0: w.3 = w.3 << 4 | digit
      case 1: w.2 = w.2 << 4 | digit
      case 2: w.1 = w.1 << 4 | digit
      default: w.0 = w.0 << 4 | digit
      }
    }
    return SIMD4(w.0, w.1, w.2, w.3)
  }

  /// 64 lowercase hex digits in the reference text order.
  public var hex: String {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out = [UInt8](repeating: 0, count: 64)
    for i in 0..<64 {
      let word = words[3 - i / 16]
      let shift = UInt64(60 - 4 * (i % 16))
      out[i] = digits[Int((word >> shift) & 0xF)]
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Same as `hex`.
  public var description: String { hex }

  /// Bit `k` (0...255) in the reference numbering.
  public func bit(_ k: Int) -> Bool { (words[k >> 6] >> UInt64(k & 63)) & 1 == 1 }

  /// Sets bit `k` (0...255).
  public mutating func setBit(_ k: Int) { words[k >> 6] |= 1 << UInt64(k & 63) }

  /// The 16 reference words of 16 bits (`w[0]` is the least significant).
  public var words16: [UInt16] {
    (0..<16).map { UInt16(truncatingIfNeeded: words[$0 >> 2] >> UInt64(16 * ($0 & 3))) }
  }

  /// Number of set bits.
  public var popCount: Int {
    words[0].nonzeroBitCount + words[1].nonzeroBitCount + words[2].nonzeroBitCount
      + words[3].nonzeroBitCount
  }

  /// Hamming distance: number of differing bits (0...256).
  @inlinable
  public func distance(to other: PDQHash) -> Int {
    let x = words ^ other.words
    return x[0].nonzeroBitCount + x[1].nonzeroBitCount + x[2].nonzeroBitCount
      + x[3].nonzeroBitCount
  }

  /// Orders by the 256-bit value.
  public static func < (a: PDQHash, b: PDQHash) -> Bool {
    for i in stride(from: 3, through: 0, by: -1) where a.words[i] != b.words[i] {
      return a.words[i] < b.words[i]
    }
    return false
  }
}

/// Why a text is not a PDQ hash.
public struct PDQHashParseError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The rejected text.
  public var text: String

  /// Creates an error for `text`.
  public init(text: String) { self.text = text }

  /// Explains the expected form.
  public var description: String {
    let shown = text.count > 80 ? String(text.prefix(80)) + "..." : text
    return "not a PDQ hash (expected 64 hex digits): \"\(shown)\""
  }
}

extension PDQHash {
  /// Parses 64 hex digits, throwing a typed error otherwise.
  public static func parse(_ text: some StringProtocol) throws(PDQHashParseError) -> PDQHash {
    guard let hash = PDQHash(hex: text) else { throw PDQHashParseError(text: String(text)) }
    return hash
  }
}
