// Byte-level helpers for the hash-list readers: checking UTF-8 without copying a file into a
// String, and normalising hex digits without going through Characters.

import Foundation

/// Checks and trims UTF-8 bytes in place, for readers of large files (a 1M-entry list is
/// hundreds of MiB: a String copy of it doubles the peak, a Character walk costs seconds).
enum ByteText {
  /// Whether `bytes` is well-formed UTF-8 (the same answer as `String(validating:as:)`, without
  /// making the String): no overlong forms, surrogates or scalars above U+10FFFF.
  static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return true }
    let count = bytes.count
    var i = 0
    while i < count {
      // ASCII runs, eight bytes at a time.
      while i + 8 <= count,
        UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0
      {
        i += 8
      }
      guard i < count else { break }
      let lead = base[i]
      if lead < 0x80 {
        i += 1
        continue
      }
      func continuation(_ at: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
        at < count && range.contains(base[at])
      }
      switch lead {
      case 0xC2...0xDF:
        guard continuation(i + 1) else { return false }
        i += 2
      case 0xE0...0xEF:
        let second: ClosedRange<UInt8> =
          lead == 0xE0 ? 0xA0...0xBF : lead == 0xED ? 0x80...0x9F : 0x80...0xBF
        guard continuation(i + 1, second), continuation(i + 2) else { return false }
        i += 3
      case 0xF0...0xF4:
        let second: ClosedRange<UInt8> =
          lead == 0xF0 ? 0x90...0xBF : lead == 0xF4 ? 0x80...0x8F : 0x80...0xBF
        guard continuation(i + 1, second), continuation(i + 2), continuation(i + 3) else {
          return false
        }
        i += 4
      default:
        return false
      }
    }
    return true
  }

  /// Whether `bytes` hold `text` at `at`.
  static func starts(_ bytes: UnsafeBufferPointer<UInt8>, at: Int, with text: StaticString)
    -> Bool
  {
    let count = text.utf8CodeUnitCount
    guard at >= 0, at + count <= bytes.count, let base = bytes.baseAddress else { return false }
    return memcmp(base + at, text.utf8Start, count) == 0
  }

  /// Whether two ranges of `bytes` hold the same bytes.
  static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>)
    -> Bool
  {
    guard a.count == b.count else { return false }
    guard let base = bytes.baseAddress, a.count > 0 else { return true }
    return memcmp(base + a.lowerBound, base + b.lowerBound, a.count) == 0
  }

  /// Whether UTF-8 `bytes` hold a control character: C0 (below 0x20), DEL, or C1 (U+0080 to
  /// U+009F, encoded 0xC2 0x80...0x9F).
  static func hasControl(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var i = 0
    while i < bytes.count {
      let b = bytes[i]
      if b < 0x20 || b == 0x7F { return true }
      if b == 0xC2, i + 1 < bytes.count, (0x80...0x9F).contains(bytes[i + 1]) { return true }
      i += 1
    }
    return false
  }

  /// `text` as a hash of exactly `length` lowercase hex digits when it already is one, or one
  /// with uppercase digits (lowercased); nil for anything else (spaces, other characters, another
  /// length), which the caller then checks the slow way for a precise message.
  static func hexDigits(_ text: String, length: Int) -> String? {
    guard text.utf8.count == length else { return nil }
    var upper = false
    for b in text.utf8 {
      switch b {
      case 0x30...0x39, 0x61...0x66: continue
      case 0x41...0x46: upper = true
      default: return nil
      }
    }
    guard upper else { return text }
    return String(unsafeUninitializedCapacity: length) { out in
      for (i, b) in text.utf8.enumerated() { out[i] = (0x41...0x46).contains(b) ? b | 0x20 : b }
      return length
    }
  }

  /// `bytes` as text with whitespace and newlines trimmed from both ends (as Foundation's
  /// `.whitespacesAndNewlines`): ASCII ones bytewise, and, only when a non-ASCII byte, VT or FF
  /// is left at either end, the rest (U+00A0, U+2028, ...) by Foundation.
  static func trimmedText(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    var from = 0
    var to = bytes.count
    func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
    while from < to, isSpace(bytes[from]) { from += 1 }
    while to > from, isSpace(bytes[to - 1]) { to -= 1 }
    let text = String(decoding: bytes[from..<to], as: UTF8.self)
    func isOdd(_ b: UInt8) -> Bool { b >= 0x80 || b == 0x0B || b == 0x0C }
    guard from < to, isOdd(bytes[from]) || isOdd(bytes[to - 1]) else { return text }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
