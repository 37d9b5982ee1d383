// A small JSON reader for hash lists (HMA signals and bank contents, StopNCII records): values
// carry the line they start on, so every problem names its line and field.

import Store

/// A JSON value read from a hash list, with the 1-based line it starts on.
struct ListJSON {
  /// The kinds of value (numbers keep their text: ids and timestamps are only ever quoted).
  enum Kind {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([ListJSON])
    case object([(key: String, value: ListJSON)])
  }

  var kind: Kind
  var line: Int

  /// The member `key` of an object (the first one when repeated).
  subscript(key: String) -> ListJSON? {
    guard case .object(let members) = kind else { return nil }
    return members.first { $0.key == key }?.value
  }

  /// The string value, or a number's text.
  var text: String? {
    switch kind {
    case .string(let s), .number(let s): s
    case .bool(let b): b ? "true" : "false"
    default: nil
    }
  }

  /// The members of an object (empty for anything else).
  var members: [(key: String, value: ListJSON)] {
    if case .object(let m) = kind { return m }
    return []
  }

  /// The elements of an array (nil for anything else).
  var elements: [ListJSON]? {
    if case .array(let e) = kind { return e }
    return nil
  }

  /// What a value is, for messages.
  var typeName: String {
    switch kind {
    case .null: "null"
    case .bool: "a boolean"
    case .number: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }

  /// The value as csar keeps it in metadata: text as is, anything else as compact JSON.
  var metadataText: String {
    text ?? json
  }

  /// Compact JSON text of the value.
  var json: String {
    var out: [UInt8] = []
    writeJSON(to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// Appends the compact JSON text's UTF-8 bytes to `out`.
  func writeJSON(to out: inout [UInt8]) {
    switch kind {
    case .null: out += "null".utf8
    case .bool(let b): out += (b ? "true" : "false").utf8
    case .number(let n): out += n.utf8
    case .string(let s): JSONValue.string(s).write(to: &out)
    case .array(let e):
      out.append(UInt8(ascii: "["))
      for (i, item) in e.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        item.writeJSON(to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let m):
      out.append(UInt8(ascii: "{"))
      for (i, member) in m.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        JSONValue.string(member.key).write(to: &out)
        out.append(UInt8(ascii: ":"))
        member.value.writeJSON(to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }
}

/// Why JSON text could not be read: the line and what was wrong.
struct ListJSONError: Error {
  var line: Int
  var reason: String
}

/// Reads a sequence of JSON values (one document, or JSON Lines) from UTF-8 bytes. Nesting is
/// limited to ``maximumDepth`` levels, so hostile input cannot exhaust the stack.
struct ListJSONReader {
  /// Deepest nesting accepted (HMA and StopNCII documents need 5).
  static let maximumDepth = 32

  let bytes: UnsafeBufferPointer<UInt8>
  var at = 0
  var line = 1

  init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { at = 3 }
  }

  /// Every top-level value in order.
  mutating func values() throws(ListJSONError) -> [ListJSON] {
    var out: [ListJSON] = []
    skipSpace()
    while at < bytes.count {
      out.append(try value(depth: 0))
      skipSpace()
      if at < bytes.count, bytes[at] == UInt8(ascii: ",") {
        throw ListJSONError(line: line, reason: "a comma between top-level values")
      }
    }
    return out
  }

  // MARK: - Values

  mutating func value(depth: Int) throws(ListJSONError) -> ListJSON {
    guard depth < Self.maximumDepth else {
      throw ListJSONError(
        line: line, reason: "nested deeper than \(Self.maximumDepth) levels: refused")
    }
    skipSpace()
    guard at < bytes.count else { throw ListJSONError(line: line, reason: "unexpected end") }
    let start = line
    switch bytes[at] {
    case UInt8(ascii: "{"):
      return try object(depth: depth) { _, _ in false }
    case UInt8(ascii: "["):
      var elements: [ListJSON] = []
      try self.elements(depth: depth) { element, _ in
        elements.append(element)
      }
      return ListJSON(kind: .array(elements), line: start)
    case UInt8(ascii: "\""):
      return ListJSON(kind: .string(try string()), line: start)
    case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
      if let kind = word() { return ListJSON(kind: kind, line: start) }
      throw ListJSONError(line: line, reason: "unknown word")
    default:
      let from = at
      while at < bytes.count, Self.isNumberByte(bytes[at]) { at += 1 }
      guard at > from else {
        throw ListJSONError(
          line: line, reason: "unexpected character \(Self.describe(bytes[from]))")
      }
      return ListJSON(
        kind: .number(String(decoding: bytes[from..<at], as: UTF8.self)), line: start)
    }
  }

  /// `true`, `false` or `null` at `at` (then passed), else nil.
  mutating func word() -> ListJSON.Kind? {
    let kind: ListJSON.Kind
    let length: Int
    if starts("true") {
      (kind, length) = (.bool(true), 4)
    } else if starts("false") {
      (kind, length) = (.bool(false), 5)
    } else if starts("null") {
      (kind, length) = (.null, 4)
    } else {
      return nil
    }
    at += length
    return kind
  }

  /// The object at `at` (its `{` not yet read). `member` sees each name with the reader at
  /// its value: it may read the value itself (and return true: the member is then left out of
  /// the object) or leave it (false).
  mutating func object(
    depth: Int, member: (String, inout ListJSONReader) throws(ListJSONError) -> Bool
  ) throws(ListJSONError) -> ListJSON {
    skipSpace()
    let start = line
    at += 1
    var members: [(key: String, value: ListJSON)] = []
    skipSpace()
    if peek(UInt8(ascii: "}")) { return ListJSON(kind: .object(members), line: start) }
    members.reserveCapacity(8)
    while true {
      skipSpace()
      guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else {
        throw ListJSONError(line: line, reason: "expected a quoted member name")
      }
      let key = try string()
      skipSpace()
      guard peek(UInt8(ascii: ":")) else {
        throw ListJSONError(line: line, reason: "expected ':' after \"\(key.prefix(40))\"")
      }
      if try !member(key, &self) { members.append((key, try value(depth: depth + 1))) }
      skipSpace()
      if peek(UInt8(ascii: ",")) { continue }
      if peek(UInt8(ascii: "}")) { return ListJSON(kind: .object(members), line: start) }
      throw ListJSONError(line: line, reason: "expected ',' or '}' in an object")
    }
  }

  /// Reads the array at `at` (its `[` not yet read), handing each element and its index to
  /// `each` as soon as it is read.
  mutating func elements(
    depth: Int, _ each: (ListJSON, Int) throws(ListJSONError) -> Void
  ) throws(ListJSONError) {
    guard depth < Self.maximumDepth else {
      throw ListJSONError(
        line: line, reason: "nested deeper than \(Self.maximumDepth) levels: refused")
    }
    skipSpace()
    at += 1
    skipSpace()
    if peek(UInt8(ascii: "]")) { return }
    var index = 0
    while true {
      try each(try value(depth: depth + 1), index)
      index += 1
      skipSpace()
      if peek(UInt8(ascii: ",")) { continue }
      if peek(UInt8(ascii: "]")) { return }
      throw ListJSONError(line: line, reason: "expected ',' or ']' in an array")
    }
  }

  /// Whether the next value (after spaces) is an array.
  mutating func startsArray() -> Bool {
    skipSpace()
    return at < bytes.count && bytes[at] == UInt8(ascii: "[")
  }

  /// A quoted string (the opening quote is at `at`); escapes decoded, raw controls refused.
  mutating func string() throws(ListJSONError) -> String {
    at += 1
    var out: [UInt8] = []
    let from = at
    while at < bytes.count {
      let b = bytes[at]
      if b == UInt8(ascii: "\"") {
        at += 1
        return out.isEmpty && from < at - 1
          ? String(decoding: bytes[from..<(at - 1)], as: UTF8.self)
          : String(decoding: out, as: UTF8.self)
      }
      if b < 0x20 {
        throw ListJSONError(line: line, reason: "a control character inside a string")
      }
      if b == UInt8(ascii: "\\") {
        if out.isEmpty { out.append(contentsOf: bytes[from..<at]) }
        at += 1
        guard at < bytes.count else { break }
        let e = bytes[at]
        at += 1
        if let simple = Self.escapes[e] {
          out.append(simple)
          continue
        }
        switch e {
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if (0xD800..<0xDC00).contains(scalar), bytes[at...].starts(with: "\\u".utf8) {
            at += 2
            let low = try hex4()
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low &- 0xDC00) & 0x3FF
          }
          let character = Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}"
          out.append(contentsOf: String(character).utf8)
        default: throw ListJSONError(line: line, reason: "unknown escape \\\(Self.describe(e))")
        }
        continue
      }
      if !out.isEmpty { out.append(b) }
      at += 1
    }
    throw ListJSONError(line: line, reason: "unterminated string")
  }

  /// The one-character escapes and the bytes they stand for.
  static let escapes: [UInt8: UInt8] = [
    UInt8(ascii: "n"): 0x0A, UInt8(ascii: "t"): 0x09, UInt8(ascii: "r"): 0x0D,
    UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "\""): 0x22,
    UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F,
  ]

  mutating func hex4() throws(ListJSONError) -> UInt32 {
    guard at + 4 <= bytes.count,
      let v = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16)
    else { throw ListJSONError(line: line, reason: "bad \\u escape") }
    at += 4
    return v
  }

  // MARK: - Helpers

  mutating func skipSpace() {
    while at < bytes.count {
      switch bytes[at] {
      case 0x0A: line += 1
      case 0x20, 0x09, 0x0D: break
      default: return
      }
      at += 1
    }
  }

  func starts(_ text: StaticString) -> Bool { ByteText.starts(bytes, at: at, with: text) }

  mutating func peek(_ byte: UInt8) -> Bool {
    guard at < bytes.count, bytes[at] == byte else { return false }
    at += 1
    return true
  }

  static func isNumberByte(_ b: UInt8) -> Bool {
    (0x30...0x39).contains(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+")
      || b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E")
  }

  static func describe(_ b: UInt8) -> String {
    (0x21...0x7E).contains(b) ? "'\(Character(Unicode.Scalar(b)))'" : "byte \(b)"
  }
}
