// The body of `POST /v1/lookup`, read without Foundation's JSON parser.
//
// Why not JSONSerialization: the lookup is the service's hot path (tens of thousands of
// requests a second), and on Linux Foundation's parser builds NSDictionary / NSString objects
// and bridges them to `[String: Any]`, which cost more than the index query itself. The body
// is read by Store's strict JSON reader (the one the imports use: a repeated key, invalid
// UTF-8, a lone surrogate or trailing text is refused) into `JSONValue`, and the schema check
// after it is strict too: an unknown member, a wrong type, bad hex or more than the limit of
// hashes is a 400 naming the field.

import Moderation
import Store

/// A lookup request's hashes, checked.
enum LookupBody {
  /// Parses and checks `{"hashes":[{"type","value"}, ...]}` with at most `limit` hashes.
  static func queries(_ bytes: [UInt8], limit: Int) throws(APIError) -> [HashQuery] {
    try bytes.withUnsafeBufferPointer { (buffer) throws(APIError) in
      try queries(buffer, limit: limit)
    }
  }

  /// The same, from bytes in place (a request's buffer).
  static func queries(
    _ bytes: UnsafeBufferPointer<UInt8>, limit: Int
  ) throws(APIError) -> [HashQuery] {
    if let plain = PlainLookupBody.queries(bytes, limit: limit) { return plain }
    return try checkedQueries(bytes, limit: limit)
  }

  /// The body read by the strict JSON reader, then checked member by member: every error
  /// names its field.
  static func checkedQueries(
    _ bytes: UnsafeBufferPointer<UInt8>, limit: Int
  ) throws(APIError) -> [HashQuery] {
    let value: JSONValue
    switch FlatJSON.parseValue(bytes, maxDepth: 8) {
    case .success(let parsed): value = parsed
    case .failure(let error):
      throw APIError.badRequest("body", "the body is not valid JSON (\(error.reason))")
    }
    guard case .object(let object) = value else {
      throw APIError.badRequest("body", "the body must be a JSON object with \"hashes\"")
    }
    try onlyMembers(object, ["hashes"], in: nil)
    guard let member = object["hashes"] else {
      throw APIError.badRequest("hashes", "hashes is required")
    }
    guard case .array(let list) = member else {
      throw APIError.badRequest("hashes", "hashes must be an array of {\"type\",\"value\"}")
    }
    guard list.count <= limit else {
      throw APIError.badRequest(
        "hashes", "at most \(limit) hashes a request, not \(list.count)")
    }
    var queries: [HashQuery] = []
    queries.reserveCapacity(list.count)
    for (index, element) in list.enumerated() {
      let field = "hashes[\(index)]"
      guard case .object(let entry) = element else {
        throw APIError.badRequest(field, "\(field) must be an object {\"type\",\"value\"}")
      }
      try onlyMembers(entry, ["type", "value"], in: field)
      let type = try string(entry, "type", field: field + ".type")
      let value = try string(entry, "value", field: field + ".value")
      do {
        queries.append(try HashQuery(type: type, value: value, field: field))
      } catch {
        throw APIError.badRequest(error.field, error.reason)
      }
    }
    return queries
  }

  /// 400 naming the first member of `object` not in `known`.
  static func onlyMembers(
    _ object: [String: JSONValue], _ known: Set<String>, in parent: String?
  ) throws(APIError) {
    guard let unknown = object.keys.filter({ !known.contains($0) }).sorted().first else { return }
    let name = DisplayText.clean(unknown)
    let field = parent.map { $0 + "." + name } ?? name
    throw APIError.badRequest(
      field, "unknown member \(field) (expected \(known.sorted().joined(separator: ", ")))")
  }

  /// A required non-empty string member.
  static func string(
    _ object: [String: JSONValue], _ name: String, field: String
  ) throws(APIError) -> String {
    guard let value = object[name] else {
      throw APIError.badRequest(field, "\(field) is required")
    }
    guard case .string(let text) = value, !text.isEmpty else {
      throw APIError.badRequest(field, "\(field) must be a non-empty string")
    }
    return text
  }
}

// MARK: - The usual body, read directly

/// The body as clients write it, read without building a JSON tree: `{"hashes":[...]}` with
/// each hash an object of `"type"` and `"value"` (either order), plain strings (no escapes,
/// ASCII), any JSON whitespace between tokens. Anything else (an escape, a third member, a
/// repeated one, a type or value ``HashQuery`` refuses, more than the limit) is not read
/// here at all: the caller falls back to the strict reader, which accepts or names the
/// field. So this reader only ever answers what the strict one would, only faster (the
/// tree's dictionaries and strings cost more than the index query at 1M hashes).
struct PlainLookupBody {
  private let bytes: UnsafeBufferPointer<UInt8>
  private var at = 0

  private init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
  }

  /// The queries of a plain body, or nil when the body is not one.
  static func queries(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int) -> [HashQuery]? {
    var reader = PlainLookupBody(bytes)
    return reader.body(limit: limit)
  }

  private mutating func body(limit: Int) -> [HashQuery]? {
    guard take(UInt8(ascii: "{")), string() == "hashes", take(UInt8(ascii: ":")),
      take(UInt8(ascii: "["))
    else { return nil }
    var queries: [HashQuery] = []
    if !take(UInt8(ascii: "]")) {
      repeat {
        guard queries.count < limit, let query = hash() else { return nil }
        queries.append(query)
      } while take(UInt8(ascii: ","))
      guard take(UInt8(ascii: "]")) else { return nil }
    }
    guard take(UInt8(ascii: "}")) else { return nil }
    skipWhitespace()
    return at == bytes.count ? queries : nil
  }

  /// `{"type":..,"value":..}` or `{"value":..,"type":..}`.
  private mutating func hash() -> HashQuery? {
    guard take(UInt8(ascii: "{")), let first = string(), take(UInt8(ascii: ":")),
      let firstValue = string(), take(UInt8(ascii: ",")), let second = string(),
      take(UInt8(ascii: ":")), let secondValue = string(), take(UInt8(ascii: "}"))
    else { return nil }
    let type: String
    let value: String
    switch (first, second) {
    case ("type", "value"): (type, value) = (firstValue, secondValue)
    case ("value", "type"): (type, value) = (secondValue, firstValue)
    default: return nil
    }
    return try? HashQuery(type: type, value: value, field: "")
  }

  /// After whitespace, whether the next byte is `byte` (then taken).
  private mutating func take(_ byte: UInt8) -> Bool {
    skipWhitespace()
    guard at < bytes.count, bytes[at] == byte else { return false }
    at += 1
    return true
  }

  /// After whitespace, a string of printable ASCII without escapes; nil for anything else.
  private mutating func string() -> String? {
    guard take(UInt8(ascii: "\"")) else { return nil }
    let start = at
    while at < bytes.count {
      let byte = bytes[at]
      if byte == UInt8(ascii: "\"") {
        at += 1
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<(at - 1)]),
          as: UTF8.self)
      }
      guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
      at += 1
    }
    return nil
  }

  private mutating func skipWhitespace() {
    while at < bytes.count {
      switch bytes[at] {
      case 0x20, 0x09, 0x0A, 0x0D: at += 1
      default: return
      }
    }
  }
}
