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
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d):
      if d.isFinite, d == d.rounded(), abs(d) < 1e15 {
        out += String(Int64(d))
      } else if d.isFinite {
        out += String(d)
      } else {
        out += "null"
      }
    case .string(let s): JSONValue.writeString(s, to: &out)
    case .array(let items):
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        item.write(to: &out)
      }
      out += "]"
    case .object(let object):
      out += "{"
      for (i, key) in object.keys.sorted().enumerated() {
        if i > 0 { out += "," }
        JSONValue.writeString(key, to: &out)
        out += ":"
        object[key]!.write(to: &out)
      }
      out += "}"
    }
  }

  static func writeString(_ s: String, to out: inout String) {
    // Most text needs no escape: append it whole.
    guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }) else {
      out += "\""
      out += s
      out += "\""
      return
    }
    // Every escaped character is ASCII, so the bytes can be escaped one by one.
    var escaped: [UInt8] = [0x22]
    escaped.reserveCapacity(s.utf8.count + 16)
    func add(_ a: UInt8, _ b: UInt8) {
      escaped.append(a)
      escaped.append(b)
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
      default: escaped.append(byte)
      }
    }
    escaped.append(0x22)
    out += String(decoding: escaped, as: UTF8.self)
  }
}

// MARK: - Objects with keys in a chosen order

/// JSON objects with keys in a chosen order (JSON Lines output of commands, service replies).
public enum OrderedJSON {
  /// `{"key":value,...}` in the order given.
  public static func object(_ pairs: [(String, JSONValue)]) -> String {
    "{" + pairs.map { "\(JSONValue.string($0.0).description):\($0.1.description)" }
      .joined(separator: ",") + "}"
  }
}
