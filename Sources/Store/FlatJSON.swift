// MARK: - One JSON object per line, read exactly

/// A value of a flat JSON object as read from an import line: numbers stay the text they were
/// written as, so `9223372036854775808`, `9223372036854775809` and `1e300` never become one
/// value.
public enum FlatJSONValue: Hashable, Sendable {
  case string(String)
  /// A number exactly as written (JSON number syntax, checked).
  case number(String)
  case bool(Bool)
  case null
  /// A nested object or array (only where the caller allows them; not kept).
  case nested

  /// A string's text, a number as written, `true`/`false`; nil for null and nested values.
  public var text: String? {
    switch self {
    case .string(let s), .number(let s): s
    case .bool(let b): b ? "true" : "false"
    case .null, .nested: nil
    }
  }

  /// Whether a number is written as a whole number: digits, an optional minus, no fraction
  /// or exponent.
  public var isIntegerLiteral: Bool {
    guard case .number(let text) = self else { return false }
    return !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }
  }
}

/// Reads one JSON object per line (JSON Lines imports: consent events, verdicts, classifier
/// flags). Strict where a lenient reader would merge different inputs into one value: numbers
/// are kept as written, a key given twice is refused, invalid UTF-8 and lone surrogate escapes
/// are refused (never replaced by U+FFFD), and nested values are refused or skipped to at most
/// ``maxDepth`` levels.
public enum FlatJSON {
  /// The deepest nesting skipped in a nested value.
  public static let maxDepth = 64

  /// Parses `text` into `object` (cleared first); nil when fine, else what is wrong.
  public static func parseObject(
    _ text: some StringProtocol, into object: inout [String: FlatJSONValue],
    allowNested: Bool = false
  ) -> String? {
    object.removeAll(keepingCapacity: true)
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBufferPointer {
      parseObject(UnsafeBufferPointer($0), into: &object, allowNested: allowNested)
    }
  }

  /// Parses one line's bytes into `object` (added to); nil when fine, else what is wrong.
  public static func parseObject(
    _ b: UnsafeBufferPointer<UInt8>, into object: inout [String: FlatJSONValue],
    allowNested: Bool = false
  ) -> String? {
    var reader = Reader(b: b)
    return reader.object(into: &object, allowNested: allowNested)
  }

  /// True when `bytes` is a JSON number (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`).
  static func isNumber(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Bool {
    var i = from
    func digits() -> Int {
      let start = i
      while i < to, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
      return i - start
    }
    if i < to, b[i] == UInt8(ascii: "-") { i += 1 }
    guard i < to else { return false }
    if b[i] == 0x30 {
      i += 1
    } else if digits() == 0 {
      return false
    }
    if i < to, b[i] == UInt8(ascii: ".") {
      i += 1
      if digits() == 0 { return false }
    }
    if i < to, b[i] | 0x20 == UInt8(ascii: "e") {
      i += 1
      if i < to, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
      if digits() == 0 { return false }
    }
    return i == to
  }

  // MARK: - The reader

  struct Reader {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0
    /// Why the last `string()` returned nil.
    var stringProblem = ""

    init(b: UnsafeBufferPointer<UInt8>) { self.b = b }

    var n: Int { b.count }

    mutating func skip() {
      while i < n, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D { i += 1 }
    }

    mutating func object(into object: inout [String: FlatJSONValue], allowNested: Bool)
      -> String?
    {
      skip()
      guard i < n, b[i] == 0x7B else { return "expected an object starting with {" }
      i += 1
      skip()
      if i < n, b[i] == 0x7D {
        i += 1
      } else {
        while true {
          skip()
          guard let key = string() else {
            return i < n && b[i] == 0x22 ? stringProblem : "expected a quoted key at byte \(i + 1)"
          }
          skip()
          guard i < n, b[i] == 0x3A else { return "expected : after key \"\(key)\"" }
          i += 1
          skip()
          guard i < n else { return "missing value of \"\(key)\"" }
          let value: FlatJSONValue
          if b[i] == 0x22 {
            guard let text = string() else { return "\(key): \(stringProblem)" }
            value = .string(text)
          } else if b[i] == 0x7B || b[i] == 0x5B {
            guard allowNested else { return "\(key): nested objects and arrays are not accepted" }
            if let problem = skipNested(depth: 1) { return "\(key): \(problem)" }
            value = .nested
          } else {
            let begin = i
            while i < n, b[i] != 0x2C, b[i] != 0x7D, b[i] != 0x20, b[i] != 0x09, b[i] != 0x0D {
              i += 1
            }
            guard let scalar = literal(begin, i) else {
              let word = String(
                decoding: UnsafeBufferPointer(rebasing: b[begin..<i]), as: UTF8.self)
              return "\(key): \"\(ConsentImportParser.printable(word))\" is not a JSON value"
            }
            value = scalar
          }
          if object.updateValue(value, forKey: key) != nil {
            return "the key \"\(ConsentImportParser.printable(key))\" is given twice"
          }
          skip()
          guard i < n else { return "missing } at the end" }
          if b[i] == 0x2C {
            i += 1
            continue
          }
          guard b[i] == 0x7D else { return "expected , or } after \"\(key)\"" }
          i += 1
          break
        }
      }
      skip()
      return i == n ? nil : "text after the closing }"
    }

    /// `true`, `false`, `null` or a number between `from` and `to`.
    func literal(_ from: Int, _ to: Int) -> FlatJSONValue? {
      let count = to - from
      func word(_ text: StaticString) -> Bool {
        count == text.utf8CodeUnitCount
          && (0..<count).allSatisfy { b[from + $0] == text.utf8Start[$0] }
      }
      if word("null") { return .null }
      if word("true") { return .bool(true) }
      if word("false") { return .bool(false) }
      guard FlatJSON.isNumber(b, from, to) else { return nil }
      return .number(String(decoding: UnsafeBufferPointer(rebasing: b[from..<to]), as: UTF8.self))
    }

    /// A quoted string at `i` (nil with ``stringProblem`` set when it is not one).
    mutating func string() -> String? {
      guard i < n, b[i] == 0x22 else {
        stringProblem = "expected a string"
        return nil
      }
      i += 1
      var out: [UInt8] = []
      var ascii = true
      while i < n {
        let c = b[i]
        if c == 0x22 {
          i += 1
          if ascii { return String(decoding: out, as: UTF8.self) }
          guard let text = String(validating: out, as: UTF8.self) else {
            stringProblem = "a string is not valid UTF-8"
            return nil
          }
          return text
        }
        if c == 0x5C {
          i += 1
          guard i < n else { break }
          switch b[i] {
          case 0x22: out.append(0x22)
          case 0x5C: out.append(0x5C)
          case 0x2F: out.append(0x2F)
          case UInt8(ascii: "b"): out.append(0x08)
          case UInt8(ascii: "f"): out.append(0x0C)
          case UInt8(ascii: "n"): out.append(0x0A)
          case UInt8(ascii: "r"): out.append(0x0D)
          case UInt8(ascii: "t"): out.append(0x09)
          case UInt8(ascii: "u"):
            guard let scalar = unicodeEscape() else { return nil }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
            if scalar.value >= 0x80 { ascii = false }
          default:
            stringProblem = "unknown escape \\\(Character(Unicode.Scalar(b[i])))"
            return nil
          }
          i += 1
          continue
        }
        if c < 0x20 {
          stringProblem = "a control character inside a string"
          return nil
        }
        if c >= 0x80 { ascii = false }
        out.append(c)
        i += 1
      }
      stringProblem = "unterminated string"
      return nil
    }

    /// `\uXXXX` at `i` (on the `u`), with a following low surrogate for a high one; leaves `i`
    /// on the last hex digit. A lone surrogate is refused.
    mutating func unicodeEscape() -> Unicode.Scalar? {
      guard let unit = hex4(i + 1) else {
        stringProblem = "bad \\u escape"
        return nil
      }
      i += 4
      var value = unit
      if (0xD800..<0xDC00).contains(unit) {
        guard i + 6 < n, b[i + 1] == 0x5C, b[i + 2] == UInt8(ascii: "u"), let low = hex4(i + 3),
          (0xDC00..<0xE000).contains(low)
        else {
          stringProblem = "a \\u escape is a lone surrogate"
          return nil
        }
        value = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        i += 6
      }
      guard let scalar = Unicode.Scalar(value) else {
        stringProblem = "a \\u escape is a lone surrogate"
        return nil
      }
      return scalar
    }

    func hex4(_ at: Int) -> UInt32? {
      guard at + 4 <= n else { return nil }
      var v: UInt32 = 0
      for k in at..<(at + 4) {
        let c = b[k]
        let d: UInt32
        switch c {
        case 48...57: d = UInt32(c - 48)
        case 65...70: d = UInt32(c - 55)
        case 97...102: d = UInt32(c - 87)
        default: return nil
        }
        v = v << 4 | d
      }
      return v
    }

    /// Skips the object or array at `i`, checking its syntax, at most ``FlatJSON/maxDepth``
    /// levels deep.
    mutating func skipNested(depth: Int) -> String? {
      guard depth <= FlatJSON.maxDepth else {
        return "nested deeper than \(FlatJSON.maxDepth) levels"
      }
      let isObject = b[i] == 0x7B
      let close: UInt8 = isObject ? 0x7D : 0x5D
      i += 1
      skip()
      if i < n, b[i] == close {
        i += 1
        return nil
      }
      var keys: Set<String> = []
      while true {
        skip()
        if isObject {
          guard let key = string() else { return stringProblem }
          if !keys.insert(key).inserted {
            return "the key \"\(ConsentImportParser.printable(key))\" is given twice"
          }
          skip()
          guard i < n, b[i] == 0x3A else { return "expected : after key \"\(key)\"" }
          i += 1
          skip()
        }
        guard i < n else { return "unterminated nested value" }
        if b[i] == 0x22 {
          guard string() != nil else { return stringProblem }
        } else if b[i] == 0x7B || b[i] == 0x5B {
          if let problem = skipNested(depth: depth + 1) { return problem }
        } else {
          let begin = i
          while i < n, b[i] != 0x2C, b[i] != close, b[i] != 0x20, b[i] != 0x09, b[i] != 0x0D {
            i += 1
          }
          guard literal(begin, i) != nil else { return "a nested value is not JSON" }
        }
        skip()
        guard i < n else { return "unterminated nested value" }
        if b[i] == 0x2C {
          i += 1
          continue
        }
        guard b[i] == close else { return "expected , or \(isObject ? "}" : "]")" }
        i += 1
        return nil
      }
    }
  }
}
