// Errors the service answers with: a status and a JSON body naming the field at fault.

import Hummingbird
import Store

/// An error answered as `{"error":"...","field":"..."}` with its status (and headers such as
/// `Retry-After`).
public struct APIError: Error, Sendable, CustomStringConvertible {
  /// The HTTP status.
  public var status: HTTPResponse.Status
  /// What was wrong, in words.
  public var message: String
  /// The request field at fault (`hashes[2].value`, `account`, `body`), if one is.
  public var field: String?
  /// Extra response headers.
  public var headers: HTTPFields = [:]

  /// 400 naming `field`.
  public static func badRequest(_ field: String, _ message: String) -> APIError {
    APIError(status: .badRequest, message: message, field: field)
  }

  /// 503 with `Retry-After` (seconds).
  public static func unavailable(_ message: String, retryAfter: Int = 1) -> APIError {
    APIError(
      status: .serviceUnavailable, message: message, field: nil,
      headers: [.retryAfter: String(retryAfter)])
  }

  public var description: String {
    "\(status.code) " + (field.map { "\($0): " } ?? "") + message
  }

  /// The JSON response.
  public var response: Response {
    var pairs: [(String, JSONValue)] = [("error", .string(message))]
    if let field { pairs.append(("field", .string(field))) }
    var response = JSONResponse.make(OrderedJSON.object(pairs), status: status)
    for field in headers { response.headers.append(field) }
    return response
  }
}

/// Hummingbird reads the status of an error it sees thrown (its metrics label requests with
/// it), so a 404 or 400 is counted as such, not as 500.
extension APIError: HTTPResponseError {
  /// The JSON response.
  public func response(from request: Request, context: some RequestContext) throws -> Response {
    response
  }
}

/// JSON responses.
enum JSONResponse {
  /// A response with `text` as an `application/json` body.
  static func make(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(
      status: status, headers: [.contentType: "application/json"],
      body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
  }
}
