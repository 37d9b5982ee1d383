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
