// The lookup fast path: `POST /v1/lookup` answered in the connection's channel pipeline.
//
// Why a channel handler beside Hummingbird's router: a lookup of one hash costs the index
// about 25 microseconds, and the way through Hummingbird (an async request, its body
// iterator, the middleware chain, the async response writer) cost four times that on the
// same thread; at tens of thousands of lookups a second that is most of the machine. The
// handler sits right after NIO's HTTP/1 decoder and encoder, before the conversion to
// Swift HTTP Types and Hummingbird's connection-state handler: that conversion (the head's
// fields, its path parsed as a URL) and the state handler's bookkeeping cost a tenth of a
// lookup's CPU, on every request and answer. It takes only a request it can answer whole,
// at once and successfully: an authorised HTTP/1.1 `POST /v1/lookup` that keeps its
// connection open, whose body arrived with its head, parses, and needs no worker, on a
// connection where the router owes no answer. It hands everything else on unchanged (the
// head and the body parts it held, in order), so every error, limit, timeout, log line
// and 401 still comes from one place, the routes.
//
// Since the state handler above no longer sees the lookups answered here, the connection's
// idle timeout is this handler's too (NIO's idle-state events): a connection with no
// request part read and no answer part written for the timeout, and no answer owed by the
// router, is closed. Graceful
// drain needs nothing more: a lookup answered here is over before the event loop turns, so
// the state handler's count of requests in progress (the router's) is the whole count.

import Dispatch
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import Moderation
import NIOCore
import NIOHTTP1
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

  /// Whether the pipeline may take this request: an HTTP/1.1 lookup (its path exactly),
  /// authorised, declared JSON (or undeclared) within the body limit, on a connection that
  /// stays open, with no `Expect` to answer. Anything else goes to the router, which answers
  /// it as always.
  ///
  /// The fields are read in one pass; a field the decision reads given twice sends the
  /// request to the router, which combines them as HTTP says.
  func accepts(_ head: HTTPRequestHead) -> Bool {
    guard head.method == .POST, head.version == .http1_1, head.uri == Self.path else {
      return false
    }
    var authorization: String?
    var contentType: String?
    var contentLength: String?
    for (name, value) in head.headers {
      switch HeaderName(name) {
      case .authorization:
        guard authorization == nil else { return false }
        authorization = value
      case .contentType:
        guard contentType == nil else { return false }
        contentType = value
      case .contentLength:
        guard contentLength == nil else { return false }
        contentLength = value
      case .expect:
        return false
      case .connection:
        if ServiceConnectionHandler.saysClose(value) { return false }
      case nil:
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

  /// The request fields ``accepts(_:)`` reads, recognised in any case without a copy.
  enum HeaderName {
    case authorization, contentType, contentLength, expect, connection

    static let all: [(HeaderName, [UInt8])] = [
      (.authorization, Array("authorization".utf8)), (.contentType, Array("content-type".utf8)),
      (.contentLength, Array("content-length".utf8)), (.expect, Array("expect".utf8)),
      (.connection, Array("connection".utf8)),
    ]

    init?(_ name: String) {
      let utf8 = name.utf8
      for (header, lower) in Self.all where utf8.count == lower.count {
        if zip(utf8, lower).allSatisfy({ Self.folded($0) == $1 }) {
          self = header
          return
        }
      }
      return nil
    }

    /// An ASCII capital as its small letter; any other byte as it is.
    static func folded(_ byte: UInt8) -> UInt8 {
      (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }
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

/// The service's handler on each connection, after NIO's HTTP/1 decoder and encoder:
/// answers lookups in the pipeline (when a ``LookupFastPath`` is given), keeps answers in
/// the order of their requests, closes the connection after an answer that says
/// `Connection: close` (a 408: the rest of that request's body would be read as a new
/// request), and closes it when idle (see ``ServiceHTTP1Channel``).
///
/// Hummingbird's HTTP/1.1 channel leaves pipelining to its async loop (NIO's pipelining
/// assistance is off), so a request may arrive while the router still works on an earlier
/// one; a lookup then goes to the router too, behind it, instead of overtaking it.
final class ServiceConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias InboundOut = HTTPServerRequestPart
  typealias OutboundIn = HTTPServerResponsePart
  typealias OutboundOut = HTTPServerResponsePart

  private enum State {
    /// Between requests.
    case idle
    /// Holding a lookup: its head, the body so far, when its head came.
    case holding(HTTPRequestHead, ByteBuffer?, UInt64)
    /// Passing a request's parts to the router until its end.
    case passing
  }

  private let fastPath: LookupFastPath?
  /// Told where requests begin and end and whether answers are owed (nil in tests of this
  /// handler alone).
  private let watch: ConnectionWatch?
  private var state = State.idle
  /// Requests handed to the router and not yet answered to their end.
  private var routed = 0
  /// Whether the answer being written asked for the connection to close.
  private var closeAfterAnswer = false

  init(_ fastPath: LookupFastPath?, watch: ConnectionWatch? = nil) {
    self.fastPath = fastPath
    self.watch = watch
  }

  /// Whether an answer is owed: a request with the router, or a lookup held.
  private var owes: Bool {
    if case .holding = state { return true }
    return routed > 0
  }

  // MARK: Requests

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let part = unwrapInboundIn(data)
    if let watch {
      switch part {
      case .head: watch.headDecoded()
      case .body(let chunk): watch.bodyDecoded(chunk)
      case .end: watch.requestDecoded()
      }
    }
    defer { watch?.owes(owes) }
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

  /// No request part read and no answer part written for the idle timeout: the connection
  /// is closed unless the router owes an answer (its request's own timeout bounds that).
  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    guard let idle = event as? IdleStateHandler.IdleStateEvent else {
      return context.fireUserInboundEventTriggered(event)
    }
    guard idle == .all else { return }
    if routed == 0, case .idle = state {
      context.close(promise: nil)
    }
  }

  /// Gives the router a held request's head and body so far; what follows passes.
  private func handOver(
    _ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ body: ByteBuffer?
  ) {
    state = .passing
    routed += 1
    context.fireChannelRead(wrapInboundOut(.head(head)))
    if let body { context.fireChannelRead(wrapInboundOut(.body(body))) }
  }

  // MARK: Answers

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    switch unwrapOutboundIn(data) {
    case .head(let head) where head.status.code >= 200:
      watch?.answerBegins()
      if head.headers["connection"].contains(where: Self.saysClose) {
        closeAfterAnswer = true
      }
      context.write(data, promise: promise)
    case .end:
      routed = max(0, routed - 1)
      guard closeAfterAnswer else {
        context.write(data, promise: promise)
        // After the answer's end: a 408 the watch owes the next head comes behind it.
        watch?.answered(owing: owes)
        return
      }
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

  /// Writes a 200 with `reply` as its JSON body, with the fields the router's answer has.
  private func respond(_ context: ChannelHandlerContext, _ reply: ByteBuffer) {
    guard let fastPath else { return }
    var headers = HTTPHeaders()
    headers.reserveCapacity(4)
    headers.add(name: "Content-Type", value: "application/json")
    headers.add(name: "Content-Length", value: String(reply.readableBytes))
    headers.add(name: "Date", value: fastPath.dates.current())
    headers.add(name: "Server", value: fastPath.serverName)
    let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)
    context.write(wrapOutboundOut(.head(head)), promise: nil)
    context.write(wrapOutboundOut(.body(.byteBuffer(reply))), promise: nil)
    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
  }
}

// MARK: - The connection's pipeline

/// Hummingbird's HTTP/1.1 child channel with ``ServiceConnectionHandler`` placed right after
/// NIO's HTTP/1 decoder and encoder (before the conversion to Swift HTTP Types), and NIO's
/// idle-state handler between them, so that the connection handler closes a connection
/// with no request part read and no answer part written for `idleTimeout`. Hummingbird's
/// own idle timeout must be off (`nil`): it counts only the requests that reach its state
/// handler.
struct ServiceHTTP1Channel: ServerChildChannel {
  typealias Value = HTTP1Channel.Value
  let http1: HTTP1Channel
  let fastPath: LookupFastPath?
  let idleTimeout: TimeAmount
  /// A request head begun and not whole within this is answered 408 (``ConnectionWatch``).
  let headTimeout: TimeAmount
  /// Counts the connections open, closes an idle one for a newcomer past the limit, or
  /// turns the newcomer away.
  let gate: ConnectionGate

  func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
    let (fastPath, idleTimeout, headTimeout, gate) = (fastPath, idleTimeout, headTimeout, gate)
    let record = gate.admit(channel)
    return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
      // A refused connection is already answered and closing: nothing more to add.
      guard let record else { return value }
      try Self.addHandlers(
        to: channel.pipeline.syncOperations, fastPath: fastPath, idleTimeout: idleTimeout,
        watch: ConnectionWatch(record: record, gate: gate, headTimeout: headTimeout))
      return value
    }
  }

  /// Adds the service's handlers to a pipeline set up for HTTP/1 by NIO
  /// (`configureHTTPServerPipeline`): the watch first, before the encoder and decoder, then
  /// after the decoder NIO's idle-state handler and the connection handler.
  static func addHandlers(
    to pipeline: ChannelPipeline.SynchronousOperations, fastPath: LookupFastPath?,
    idleTimeout: TimeAmount, watch: ConnectionWatch
  ) throws {
    try pipeline.addHandler(watch, position: .first)
    let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
    try pipeline.addHandler(
      ServiceConnectionHandler(fastPath, watch: watch), position: .after(decoder))
    // After the decoder: what counts as activity is a request's parts and an answer's,
    // not bytes (a client trickling a head that never ends is idle all the same).
    try pipeline.addHandler(IdleStateHandler(allTimeout: idleTimeout), position: .after(decoder))
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
