// The lookup fast path: `POST /v1/lookup` answered in the connection's channel pipeline.
//
// Why a channel handler beside Hummingbird's router: a lookup of one hash costs the index
// about 25 microseconds, and the way through Hummingbird (an async request, its body
// iterator, the middleware chain, the async response writer) cost four times that on the
// same thread; at tens of thousands of lookups a second that is most of the machine. The
// handler sits after Hummingbird's connection-state handler (keep-alive, idle timeout and
// graceful drain see its requests and answers) and takes only a request it can answer
// whole, at once and successfully: an authorised `POST /v1/lookup` whose body arrived with
// its head, parses, and needs no worker, on a connection where the router owes no answer.
// It hands everything else to the router unchanged (the head and the body parts it held,
// in order), so every error, limit, timeout, log line and 401 still comes from one place,
// the routes.

import Dispatch
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import Moderation
import NIOCore
import NIOHTTPTypes
import Store
import Synchronization

// MARK: - What every connection shares

/// The lookups the pipeline answers itself, and how: shared by every connection's
/// ``ServiceConnectionHandler``.
final class LookupFastPath: Sendable {
  let routes: Routes
  let token: ServiceToken
  let serverName: String
  /// Hummingbird's request series (`hb_requests`, `http_server_request_duration`) for a
  /// lookup answered 200, so `/metrics` counts both paths as one route.
  let requests: Counter
  let duration: Metrics.Timer
  let dates = HTTPDateHeader()

  init(routes: Routes, token: ServiceToken, serverName: String) {
    self.routes = routes
    self.token = token
    self.serverName = serverName
    let dimensions = [
      ("http.route", Self.path), ("http.request.method", HTTPRequest.Method.post.description),
      ("http.response.status_code", HTTPResponse.Status.ok.code.description),
    ]
    requests = Counter(label: "hb.requests", dimensions: dimensions)
    duration = Metrics.Timer(
      label: "http.server.request.duration", dimensions: dimensions,
      preferredDisplayUnit: .seconds)
  }

  static let path = "/v1/lookup"

  /// Whether the pipeline may take this request: a lookup, authorised, declared JSON (or
  /// undeclared) within the body limit, on a connection that stays open, with no
  /// `Expect` to answer. Anything else goes to the router, which answers it as always.
  ///
  /// The fields are read in one pass (a name looked up in `HTTPFields` builds it an index
  /// first, which cost more than the pass); a field the decision reads given twice sends
  /// the request to the router, which combines them as HTTP says.
  func accepts(_ head: HTTPRequest) -> Bool {
    guard head.method == .post, head.path == Self.path else { return false }
    var authorization: String?
    var contentType: String?
    var contentLength: String?
    for field in head.headerFields {
      switch field.name {
      case .authorization:
        guard authorization == nil else { return false }
        authorization = field.value
      case .contentType:
        guard contentType == nil else { return false }
        contentType = field.value
      case .contentLength:
        guard contentLength == nil else { return false }
        contentLength = field.value
      case .expect:
        return false
      case .connection:
        if ServiceConnectionHandler.saysClose(field.value) { return false }
      default:
        continue
      }
    }
    guard BearerAuthMiddleware.authorizes(authorization, token: token) else { return false }
    if let type = contentType, type != "application/json",
      RequestInput.mediaType(type) != "application/json"
    {
      return false
    }
    if let length = contentLength {
      guard let bytes = Int(length), bytes <= routes.settings.maxBodyBytes else { return false }
    }
    return true
  }

  /// The body of a 200 answer to `body`, or nil when the router must answer (the body is
  /// not a valid lookup, or its lookup needs a worker, or reading the store failed).
  func answer(_ body: ByteBuffer?) -> ByteBuffer? {
    guard let body, body.readableBytes > 0 else { return nil }
    let queries: [HashQuery]
    do {
      queries = try body.withUnsafeReadableBytes { raw in
        try LookupBody.queries(
          raw.assumingMemoryBound(to: UInt8.self), limit: routes.settings.maxLookupHashes)
      }
    } catch {
      return nil
    }
    guard let results = try? routes.inlineLookup(queries, matcher: routes.banks.current)
    else { return nil }
    routes.countMatches(results)
    return Routes.lookupReply(results)
  }

  /// Counts an answered lookup in Hummingbird's request series.
  func record(since start: UInt64) {
    requests.increment()
    duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds &- start))
  }
}

// MARK: - One connection

/// The service's handler on each connection, after Hummingbird's connection-state handler:
/// answers lookups in the pipeline (when a ``LookupFastPath`` is given), keeps answers in
/// the order of their requests, and closes the connection after an answer that says
/// `Connection: close` (a 408: the rest of that request's body would be read as a new
/// request).
///
/// Hummingbird's HTTP/1.1 channel leaves pipelining to its async loop (NIO's pipelining
/// assistance is off), so a request may arrive while the router still works on an earlier
/// one; a lookup then goes to the router too, behind it, instead of overtaking it.
final class ServiceConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPRequestPart
  typealias InboundOut = HTTPRequestPart
  typealias OutboundIn = HTTPResponsePart
  typealias OutboundOut = HTTPResponsePart

  private enum State {
    /// Between requests.
    case idle
    /// Holding a lookup: its head, the body so far, when its head came.
    case holding(HTTPRequest, ByteBuffer?, UInt64)
    /// Passing a request's parts to the router until its end.
    case passing
  }

  private let fastPath: LookupFastPath?
  private var state = State.idle
  /// Requests handed to the router and not yet answered to their end.
  private var routed = 0
  /// Whether the answer being written asked for the connection to close.
  private var closeAfterAnswer = false

  init(_ fastPath: LookupFastPath?) {
    self.fastPath = fastPath
  }

  // MARK: Requests

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let part = unwrapInboundIn(data)
    switch (state, part) {
    case (.idle, .head(let head)) where routed == 0 && fastPath?.accepts(head) == true:
      state = .holding(head, nil, DispatchTime.now().uptimeNanoseconds)
    case (.holding(let head, var body, let start), .body(var chunk)):
      if body == nil {
        body = chunk
      } else {
        body!.writeBuffer(&chunk)
      }
      if let fastPath, body!.readableBytes > fastPath.routes.settings.maxBodyBytes {
        handOver(context, head, body)
      } else {
        state = .holding(head, body, start)
      }
    case (.holding(let head, let body, let start), .end(let trailers)):
      state = .idle
      if let fastPath, let reply = fastPath.answer(body) {
        respond(context, reply)
        fastPath.record(since: start)
      } else {
        handOver(context, head, body)
        state = .idle
        context.fireChannelRead(wrapInboundOut(.end(trailers)))
      }
    case (.holding(let head, let body, _), .head):
      // Not HTTP as NIO parses it; let the router see what came and fail as it does.
      handOver(context, head, body)
      routed += 1
      context.fireChannelRead(data)
    case (_, .end):
      state = .idle
      context.fireChannelRead(data)
    case (.idle, .head):
      state = .passing
      routed += 1
      context.fireChannelRead(data)
    case (.idle, .body), (.passing, _):
      context.fireChannelRead(data)
    }
  }

  /// A lookup whose body did not come in the same read as its head goes to the router,
  /// which reads the rest within the request's timeout (408 past it).
  func channelReadComplete(context: ChannelHandlerContext) {
    if case .holding(let head, let body, _) = state {
      handOver(context, head, body)
    }
    context.fireChannelReadComplete()
  }

  func channelInactive(context: ChannelHandlerContext) {
    state = .idle
    context.fireChannelInactive()
  }

  /// Gives the router a held request's head and body so far; what follows passes.
  private func handOver(
    _ context: ChannelHandlerContext, _ head: HTTPRequest, _ body: ByteBuffer?
  ) {
    state = .passing
    routed += 1
    context.fireChannelRead(wrapInboundOut(.head(head)))
    if let body { context.fireChannelRead(wrapInboundOut(.body(body))) }
  }

  // MARK: Answers

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    switch unwrapOutboundIn(data) {
    case .head(let head) where head.status.kind != .informational:
      if let connection = head.headerFields[.connection], Self.saysClose(connection) {
        closeAfterAnswer = true
      }
      context.write(data, promise: promise)
    case .end:
      routed = max(0, routed - 1)
      guard closeAfterAnswer else { return context.write(data, promise: promise) }
      context.writeAndFlush(data, promise: promise)
      context.close(promise: nil)
    case .head, .body:
      context.write(data, promise: promise)
    }
  }

  /// Whether a `Connection` header's value holds the `close` option.
  static func saysClose(_ value: String) -> Bool {
    value.split(separator: ",").contains {
      $0.trimmingCharacters(in: .whitespaces).lowercased() == "close"
    }
  }

  /// Writes a 200 with `reply` as its JSON body, as the router would.
  private func respond(_ context: ChannelHandlerContext, _ reply: ByteBuffer) {
    guard let fastPath else { return }
    let fields: HTTPFields = [
      .contentType: "application/json", .contentLength: String(reply.readableBytes),
      .date: fastPath.dates.current(), .server: fastPath.serverName,
    ]
    let head = HTTPResponse(status: .ok, headerFields: fields)
    context.write(wrapOutboundOut(.head(head)), promise: nil)
    context.write(wrapOutboundOut(.body(reply)), promise: nil)
    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
  }
}

// MARK: - The connection's pipeline

/// Hummingbird's HTTP/1.1 child channel with ``ServiceConnectionHandler`` placed after its
/// connection-state handler (which so sees every request and answer: keep-alive, idle
/// timeout and graceful drain work as for the router's).
struct ServiceHTTP1Channel: ServerChildChannel {
  typealias Value = HTTP1Channel.Value
  let http1: HTTP1Channel
  let fastPath: LookupFastPath?

  func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
    let fastPath = fastPath
    return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
      let pipeline = channel.pipeline.syncOperations
      let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
      try pipeline.addHandler(ServiceConnectionHandler(fastPath), position: .after(state))
      return value
    }
  }

  func handle(value: Value, logger: Logger) async {
    await http1.handle(value: value, logger: logger)
  }
}

// MARK: - Date header

/// The `Date` header's value (RFC 9110's IMF-fixdate), formatted once a second.
final class HTTPDateHeader: Sendable {
  private let cached = Mutex<(second: Int, text: String)>((-1, ""))

  /// Now, as `Mon, 30 Nov 2026 09:11:32 GMT`.
  func current() -> String {
    let now = time(nil)
    return cached.withLock { cache in
      if cache.second != now {
        cache = (now, Self.format(now))
      }
      return cache.text
    }
  }

  static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
  static let months = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
  ]

  static func format(_ seconds: Int) -> String {
    var t = time_t(seconds)
    var parts = tm()
    gmtime_r(&t, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return days[Int(parts.tm_wday)] + ", " + two(parts.tm_mday) + " "
      + months[Int(parts.tm_mon)] + " \(parts.tm_year + 1900) " + two(parts.tm_hour) + ":"
      + two(parts.tm_min) + ":" + two(parts.tm_sec) + " GMT"
  }
}
