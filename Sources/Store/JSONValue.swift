// MARK: - A small JSON value with a canonical text form

/// A JSON value whose text form is canonical (object keys sorted, no spaces, integers without a
/// fraction), so that hashing it is stable: used for audit details and stored payloads.
public enum JSONValue: Hashable, Sendable, CustomStringConvertible,
  ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
  ExpressibleByBooleanLiteral, ExpressibleByNilLiteral, ExpressibleByArrayLiteral,
  ExpressibleByDictionaryLiteral
{
  case null
  case bool(Bool)
  case int(Int64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  public init(stringLiteral value: String) { self = .string(value) }
  public init(integerLiteral value: Int64) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(nilLiteral: ()) { self = .null }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    var object: [String: JSONValue] = [:]
    for (key, value) in elements { object[key] = value }
    self = .object(object)
  }

  /// An optional string as a JSON string or null.
  public static func text(_ value: String?) -> JSONValue {
    value.map { .string($0) } ?? .null
  }

  /// The canonical JSON text.
  public var description: String {
    var out = ""
    write(to: &out)
    return out
  }

  /// Appends the canonical JSON text to `out`.
  public func write(to out: inout String) {
    var bytes: [UInt8] = []
    write(to: &bytes)
    out += String(decoding: bytes, as: UTF8.self)
  }

  /// Appends the canonical JSON text's UTF-8 bytes to `out` (the text ``description`` is:
  /// a reply written as bytes needs no `String` in between).
  public func write(to out: inout [UInt8]) {
    switch self {
    case .null: out += "null".utf8
    case .bool(let b): out += (b ? "true" : "false").utf8
    case .int(let i): out += String(i).utf8
    case .double(let d):
      if d.isFinite, d == d.rounded(), abs(d) < 1e15 {
        out += String(Int64(d)).utf8
      } else if d.isFinite {
        out += String(d).utf8
      } else {
        out += "null".utf8
      }
    case .string(let s): JSONValue.writeString(s, to: &out)
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (i, item) in items.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        item.write(to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let object):
      out.append(UInt8(ascii: "{"))
      for (i, key) in object.keys.sorted().enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        JSONValue.writeString(key, to: &out)
        out.append(UInt8(ascii: ":"))
        object[key]!.write(to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  /// `s` as a JSON string: quotes, backslashes and control characters (and DEL) escaped.
  static func writeString(_ s: String, to out: inout [UInt8]) {
    out.append(0x22)
    // Most text needs no escape: append it whole.
    guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }) else {
      out += s.utf8
      out.append(0x22)
      return
    }
    // Every escaped character is ASCII, so the bytes can be escaped one by one.
    func add(_ a: UInt8, _ b: UInt8) {
      out.append(a)
      out.append(b)
    }
    func hex(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }
    for byte in s.utf8 {
      switch byte {
      case 0x22: add(0x5C, 0x22)
      case 0x5C: add(0x5C, 0x5C)
      case 0x0A: add(0x5C, UInt8(ascii: "n"))
      case 0x0D: add(0x5C, UInt8(ascii: "r"))
      case 0x09: add(0x5C, UInt8(ascii: "t"))
      case 0..<0x20, 0x7F:
        add(0x5C, UInt8(ascii: "u"))
        add(0x30, 0x30)
        add(hex(byte >> 4), hex(byte & 0x0F))
      default: out.append(byte)
      }
    }
    out.append(0x22)
  }
}

// MARK: - Objects with keys in a chosen order

/// JSON objects with keys in a chosen order (JSON Lines output of commands, service replies).
public enum OrderedJSON {
  /// `{"key":value,...}` in the order given.
  public static func object(_ pairs: [(String, JSONValue)]) -> String {
    var bytes: [UInt8] = []
    write(pairs, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Appends `{"key":value,...}`, in the order given, as UTF-8 bytes.
  public static func write(_ pairs: [(String, JSONValue)], to out: inout [UInt8]) {
    out.append(UInt8(ascii: "{"))
    for (index, (key, value)) in pairs.enumerated() {
      if index > 0 { out.append(UInt8(ascii: ",")) }
      JSONValue.writeString(key, to: &out)
      out.append(UInt8(ascii: ":"))
      value.write(to: &out)
    }
    out.append(UInt8(ascii: "}"))
  }
}
