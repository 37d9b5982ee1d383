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
    out += "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
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
