// The middleware every route goes through: access log (pseudonyms only), errors as JSON,
// and bearer-token authentication.

import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Store

// MARK: - Access log

/// One structured line per request: method, route (never the query string, which carries
/// account ids), status, milliseconds, and what the handler noted (account pseudonyms,
/// decisions). Successful requests to `quietRoutes` get no line: lookups come by the tens of
/// thousands a second, where a line each would be gigabytes a day and a good part of each
/// lookup's cost; `/metrics` counts them by status and times them, and every failed one is
/// still logged.
struct AccessLogMiddleware: RouterMiddleware {
  typealias Context = ServiceContext
  let logger: Logger
  let key: ProviderKey
  var quietRoutes: Set<String> = []

  func handle(
    _ request: Request, context: Context,
    next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    let start = ContinuousClock.now
    let response: Response
    do {
      response = try await next(request, context)
    } catch let error as APIError {
      response = error.response
    } catch {
      response = ErrorMapping.map(error, logger: logger)
    }
    if response.status.code < 400, let route = context.endpointPath,
      quietRoutes.contains(route)
    {
      return response
    }
    var metadata: Logger.Metadata = [
      "method": .string(request.method.rawValue),
      "route": .string(context.endpointPath ?? "unmatched"),
      "status": .stringConvertible(response.status.code),
      "ms": .string(Self.twoDecimals(Self.milliseconds(since: start))),
    ]
    if let account = request.uri.queryParameters.get("account")
      ?? context.parameters.get("account")
    {
      metadata["account"] = .string(Self.pseudonym(account, key: key))
    }
    for (name, value) in context.notes.all { metadata[name] = .string(value) }
    logger.info("request", metadata: metadata)
    return response
  }

  /// A short pseudonym of an account id for logs (the first 16 hex digits of the provider
  /// key's HMAC: stable, and unlinkable without the key).
  static func pseudonym(_ account: String, key: ProviderKey) -> String {
    String(key.pseudonym(field: "log.account", value: account).prefix(16))
  }

  /// `12.35` for 12.345 (String(format:) goes through Foundation, per request).
  static func twoDecimals(_ value: Double) -> String {
    let hundredths = Int((max(0, value) * 100).rounded())
    let fraction = hundredths % 100
    return "\(hundredths / 100)." + (fraction < 10 ? "0" : "") + String(fraction)
  }

  static func milliseconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1000
      + Double(elapsed.components.attoseconds) / 1e15
  }
}

// MARK: - Errors as JSON

/// Maps any error a handler threw to a JSON response.
enum ErrorMapping {
  /// The status of a request whose client closed the connection before it was read whole.
  static let clientClosedRequest = HTTPResponse.Status(
    code: 499, reasonPhrase: "Client Closed Request")

  /// The answer to an error met while reading a request that the client caused, nil for
  /// any other. Thrown where the body is read, so that `/metrics` counts it by this status
  /// too (its middleware counts any other error as a 500).
  static func clientFault(_ error: any Error) -> APIError? {
    switch error {
    case HTTPParserError.invalidEOFState, is IOError, is ChannelError:
      // The client went away while its request was read (a body cut short by its close, a
      // reset): nobody is there to answer, and it is not the service's error (nginx's 499,
      // so the metrics and the log say so). The service does no I/O of its own through NIO.
      return APIError(
        status: clientClosedRequest, message: "the client closed the connection mid-request",
        field: nil, headers: [.connection: "close"])
    case let error as HTTPParserError:
      // A bad chunk size and the like: the rest of the connection cannot be read.
      return APIError(
        status: .badRequest,
        message: "the body is not valid HTTP/1.1: \(error.debugDescription)", field: "body",
        headers: [.connection: "close"])
    default:
      return nil
    }
  }

  static func map(_ error: any Error, logger: Logger) -> Response {
    switch error {
    case let error as APIError:
      return error.response
    case is NIOTooManyBytesError:
      return APIError(
        status: .contentTooLarge, message: "the body is larger than the limit", field: "body"
      ).response
    case let error as HTTPError:
      let message = error.body ?? (error.status == .notFound ? "no such route" : "\(error)")
      return APIError(status: error.status, message: message, field: nil).response
    default:
      if let fault = clientFault(error) { return fault.response }
      logger.error("internal error", metadata: ["error": .string(String(describing: error))])
      return APIError(status: .internalServerError, message: "internal error", field: nil)
        .response
    }
  }
}

// MARK: - Authentication

/// Requires `Authorization: Bearer TOKEN` on every route; 401 otherwise.
struct BearerAuthMiddleware: RouterMiddleware {
  typealias Context = ServiceContext
  let token: ServiceToken

  func handle(
    _ request: Request, context: Context,
    next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    guard Self.authorizes(request.headers[.authorization], token: token) else {
      throw APIError(
        status: .unauthorized, message: "missing or wrong bearer token", field: "Authorization",
        headers: [.wwwAuthenticate: "Bearer realm=\"csar\""])
    }
    return try await next(request, context)
  }

  /// Whether an `Authorization` header's value is `Bearer` and the token.
  static func authorizes(_ header: String?, token: ServiceToken) -> Bool {
    guard let header, header.hasPrefix("Bearer ") else { return false }
    return token.accepts(header.dropFirst("Bearer ".count))
  }
}
