// Reading requests: content types, bodies within the limit, JSON with errors naming fields.

import Foundation
import Hummingbird
import NIOCore

/// Checks and reads what a request brings.
enum RequestInput {
  /// A required query parameter; 400 naming it when missing or empty.
  static func query(_ request: Request, _ name: String) throws -> String {
    guard let value = request.uri.queryParameters.get(name), !value.isEmpty else {
      throw APIError.badRequest(name, "the query parameter \(name) is required")
    }
    return value
  }

  /// A path parameter, percent-decoded byte for byte (an account id outside ASCII comes as
  /// `%C3%AB`; the router hands it over still encoded). Not UTF-8 once decoded, or an
  /// unfinished `%` escape, is a 400 naming the parameter.
  static func pathParameter(_ context: ServiceContext, _ name: String) throws -> String {
    let raw = try context.parameters.require(name)
    guard let decoded = raw.removingPercentEncoding else {
      throw APIError.badRequest(
        name, "the path parameter \(name) is not percent-encoded UTF-8")
    }
    return decoded
  }

  /// The media type of the body, lowercased, without parameters (nil when not given).
  static func mediaType(_ request: Request) -> String? {
    mediaType(request.headers[.contentType])
  }

  /// The media type a `Content-Type` value names, lowercased, without parameters.
  static func mediaType(_ header: String?) -> String? {
    guard let header else { return nil }
    return header.split(separator: ";").first.map {
      $0.trimmingCharacters(in: .whitespaces).lowercased()
    }
  }

  /// 415 unless the body is declared JSON (or not declared at all).
  static func requireJSON(_ request: Request) throws {
    if let type = mediaType(request), type != "application/json" {
      throw APIError(
        status: .unsupportedMediaType,
        message: "send application/json, not \(type)", field: "Content-Type")
    }
  }

  /// 413 at once when the declared length is over `limit`.
  static func checkLength(_ request: Request, limit: Int) throws {
    if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
      throw tooLarge(limit)
    }
  }

  static func tooLarge(_ limit: Int) -> APIError {
    APIError(
      status: .contentTooLarge, message: "the body is larger than the limit of \(limit) bytes",
      field: "body")
  }

  /// The whole body, at most `limit` bytes (413 beyond), arrived by `deadline` (the
  /// request's timeout; 408 when a client sends it too slowly or not at all).
  static func bytes(
    _ request: Request, limit: Int, until deadline: ContinuousClock.Instant
  ) async throws -> [UInt8] {
    try checkLength(request, limit: limit)
    // The connection closes after a 408: the rest of the body, whenever it comes, would
    // be read as the next request.
    let late = APIError(
      status: .requestTimeout, message: "the body did not arrive within the request's timeout",
      field: "body", headers: [.connection: "close"])
    return try await Deadline.cancelling(deadline, late: late) {
      do {
        let buffer = try await request.body.collect(upTo: limit)
        return Array(buffer.readableBytesView)
      } catch is NIOTooManyBytesError {
        throw tooLarge(limit)
      } catch {
        throw ErrorMapping.clientFault(error) ?? error
      }
    }
  }

  /// The body parsed as JSON (415 when declared otherwise, 413 over the limit, 408 when it
  /// comes too late, 400 when it is not JSON).
  static func json(
    _ request: Request, limit: Int, until deadline: ContinuousClock.Instant
  ) async throws -> Any {
    try requireJSON(request)
    let bytes = try await bytes(request, limit: limit, until: deadline)
    guard !bytes.isEmpty else { throw APIError.badRequest("body", "the body is empty") }
    do {
      return try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    } catch {
      throw APIError.badRequest("body", "the body is not valid JSON")
    }
  }

  /// A JSON object's string member; 400 naming `field` when missing or not a string.
  static func string(_ object: [String: Any], _ name: String, field: String? = nil) throws
    -> String
  {
    let field = field ?? name
    guard let value = object[name] else {
      throw APIError.badRequest(field, "\(field) is required")
    }
    guard let text = value as? String, !text.isEmpty else {
      throw APIError.badRequest(field, "\(field) must be a non-empty string")
    }
    return text
  }

  /// The body as a JSON array (400 naming `body` otherwise).
  static func array(_ value: Any) throws -> [Any] {
    guard let array = value as? [Any] else {
      throw APIError.badRequest("body", "the body must be a JSON array")
    }
    return array
  }

  /// Each element of an array as one JSON Lines line (what the file importers read), so the
  /// element at index i is line i + 1.
  static func jsonLines(_ elements: [Any]) -> String {
    elements.map { element -> String in
      guard
        let data = try? JSONSerialization.data(
          withJSONObject: element, options: [.fragmentsAllowed])
      else { return "null" }
      return String(decoding: data, as: UTF8.self)
    }.joined(separator: "\n")
  }
}
