// Internationalised host names in one form: IDNA ToASCII (UTS #46 mapping, then Punycode).
//
// A URL list may name `xn--bcher-kva.example` while an upload links `bücher.example` (or the
// other way round); both must canonicalise to the same host. None of the Swift packages this
// project may use does IDNA (Foundation's URL leaves hosts alone on Linux), so Punycode
// (RFC 3492, about a hundred lines and fully specified, with sample strings to test against)
// is written here by hand.
//
// The UTS #46 mapping is approximated with what Foundation has: full stops U+3002, U+FF0E and
// U+FF61 become ".", code points UTS #46 maps to nothing are removed, then NFKC and lowercase
// (UTS #46's table is derived from NFKC_Casefold; nontransitional processing, as browsers do,
// keeps "ß" and ZWJ/ZWNJ). Validity rules (bidi, CONTEXTJ, disallowed code points) are not
// applied: a host is only brought into one comparable form, never accepted or refused here.

import Foundation

// MARK: - IDNA

/// ToASCII for host names: every label with non-ASCII characters becomes `xn--` + Punycode.
public enum IDNA {
  /// The ASCII form of a host given as UTF-8 bytes; nil when the bytes are not UTF-8 or a
  /// label cannot be encoded (the caller keeps the host as it was).
  public static func toASCII(_ host: [UInt8]) -> [UInt8]? {
    guard let text = String(validating: host, as: UTF8.self) else { return nil }
    return toASCII(text).map { Array($0.utf8) }
  }

  /// The ASCII form of `host` (labels keep their order; empty labels stay empty).
  public static func toASCII(_ host: String) -> String? {
    let mapped = map(host)
    var labels: [String] = []
    for label in mapped.split(separator: ".", omittingEmptySubsequences: false) {
      if label.unicodeScalars.allSatisfy(\.isASCII) {
        labels.append(String(label))
      } else {
        guard let encoded = Punycode.encode(String(label)) else { return nil }
        labels.append("xn--" + encoded)
      }
    }
    return labels.joined(separator: ".")
  }

  /// The UTS #46 mapping step, approximated (see the top of this file).
  static func map(_ host: String) -> String {
    var scalars = String.UnicodeScalarView()
    for scalar in host.unicodeScalars {
      switch scalar.value {
      case 0x3002, 0xFF0E, 0xFF61: scalars.append(".")
      case 0x00AD, 0x034F, 0x180B...0x180F, 0x200B, 0x2060, 0x2064, 0xFE00...0xFE0F, 0xFEFF,
        0x1BCA0...0x1BCA3, 0xE0100...0xE01EF:
        continue  // Mapped to nothing by UTS #46.
      default: scalars.append(scalar)
      }
    }
    let folded = String(scalars).precomposedStringWithCompatibilityMapping.lowercased()
    return folded.precomposedStringWithCompatibilityMapping
  }
}

// MARK: - Punycode (RFC 3492)

/// Punycode, the Bootstring encoding of Unicode labels for IDNA (RFC 3492, section 5
/// parameters). Digits are written in lowercase; decoding accepts either case.
public enum Punycode {
  static let base = 36
  static let tMin = 1
  static let tMax = 26
  static let skew = 38
  static let damp = 700
  static let initialBias = 72
  static let initialN = 128

  /// The Punycode of `input` (without the `xn--` prefix); nil on overflow.
  public static func encode(_ input: String) -> String? {
    let codePoints = input.unicodeScalars.map { Int($0.value) }
    var output: [UInt8] = codePoints.filter { $0 < 0x80 }.map { UInt8($0) }
    let basicCount = output.count
    var handled = basicCount
    if basicCount > 0 { output.append(UInt8(ascii: "-")) }
    var n = initialN
    var delta = 0
    var bias = initialBias
    while handled < codePoints.count {
      // The smallest code point not yet handled.
      guard let m = codePoints.filter({ $0 >= n }).min() else { return nil }
      let (step, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
      guard !overflow, delta <= Int(Int32.max) - step else { return nil }
      delta += step
      n = m
      for c in codePoints {
        if c < n {
          delta += 1
          guard delta <= Int(Int32.max) else { return nil }
        }
        if c == n {
          var q = delta
          var k = base
          while true {
            let t = threshold(k, bias)
            if q < t { break }
            output.append(digit(t + (q - t) % (base - t)))
            q = (q - t) / (base - t)
            k += base
          }
          output.append(digit(q))
          bias = adapt(delta, handled + 1, firstTime: handled == basicCount)
          delta = 0
          handled += 1
        }
      }
      delta += 1
      n += 1
    }
    return String(decoding: output, as: UTF8.self)
  }

  /// The Unicode label of Punycode `input` (without `xn--`); nil when it is not valid.
  public static func decode(_ input: String) -> String? {
    let bytes = Array(input.utf8)
    var output: [Int] = []
    var start = 0
    if let dash = bytes.lastIndex(of: UInt8(ascii: "-")) {
      guard bytes[..<dash].allSatisfy({ $0 < 0x80 }) else { return nil }
      output = bytes[..<dash].map(Int.init)
      start = dash + 1
    }
    var n = initialN
    var i = 0
    var bias = initialBias
    var position = start
    while position < bytes.count {
      let oldI = i
      var w = 1
      var k = base
      while true {
        guard position < bytes.count, let d = value(of: bytes[position]) else { return nil }
        position += 1
        let (product, overflow) = d.multipliedReportingOverflow(by: w)
        guard !overflow, i <= Int(Int32.max) - product else { return nil }
        i += product
        let t = threshold(k, bias)
        if d < t { break }
        let (next, wide) = w.multipliedReportingOverflow(by: base - t)
        guard !wide, next <= Int(Int32.max) else { return nil }
        w = next
        k += base
      }
      bias = adapt(i - oldI, output.count + 1, firstTime: oldI == 0)
      n += i / (output.count + 1)
      i %= output.count + 1
      guard n <= 0x10FFFF, !(0xD800...0xDFFF).contains(n) else { return nil }
      output.insert(n, at: i)
      i += 1
    }
    var text = String.UnicodeScalarView()
    for c in output {
      guard let scalar = Unicode.Scalar(UInt32(c)) else { return nil }
      text.append(scalar)
    }
    return String(text)
  }

  // MARK: - Helpers

  static func threshold(_ k: Int, _ bias: Int) -> Int {
    k <= bias ? tMin : k >= bias + tMax ? tMax : k - bias
  }

  static func adapt(_ delta: Int, _ count: Int, firstTime: Bool) -> Int {
    var delta = firstTime ? delta / damp : delta / 2
    delta += delta / count
    var k = 0
    while delta > ((base - tMin) * tMax) / 2 {
      delta /= base - tMin
      k += base
    }
    return k + (base - tMin + 1) * delta / (delta + skew)
  }

  /// Digit value 0...35 as "a"..."z", "0"..."9".
  static func digit(_ d: Int) -> UInt8 {
    d < 26 ? UInt8(ascii: "a") + UInt8(d) : UInt8(ascii: "0") + UInt8(d - 26)
  }

  static func value(of byte: UInt8) -> Int? {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"): Int(byte - UInt8(ascii: "a"))
    case UInt8(ascii: "A")...UInt8(ascii: "Z"): Int(byte - UInt8(ascii: "A"))
    case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0")) + 26
    default: nil
    }
  }
}
