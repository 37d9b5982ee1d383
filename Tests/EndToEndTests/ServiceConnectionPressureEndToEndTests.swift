// `csar serve` under connection pressure, over real sockets: at `--max-connections` an idle
// kept-alive connection gives way to a newcomer, connections in the middle of a request never
// do, and a request head trickled in is answered 408 at `--head-timeout`.

import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite("Service under connection pressure", .serialized)
struct ServiceConnectionPressureEndToEndTests {
  typealias Fixture = ServiceEndToEndTests.Fixture

  static let zeros = String(repeating: "0", count: 64)
  static let body = #"{"hashes":[{"type":"pdq","value":"\#(zeros)"}]}"#

  static func lookup(_ token: String) -> [UInt8] {
    ServiceKeptAliveEndToEndTests.lookup(token, body)
  }

  /// A request the router answers (not the lookup fast path): its answer comes once the
  /// whole read it came in has been taken in, so what followed it in one write has been
  /// read by then.
  static func health(_ token: String) -> [UInt8] {
    KeptAliveConnection.request("GET", "/v1/health", token: token)
  }

  /// A series' value in `/metrics`' text.
  static func value(_ metrics: String, _ series: String) -> Int? {
    metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }
      .flatMap { Int(Double($0.split(separator: " ").last ?? "") ?? -1) }
  }

  /// `/metrics` over a kept-alive connection (a new one would itself take a place).
  static func metrics(_ connection: KeptAliveConnection, _ token: String) throws -> String {
    try connection.send(KeptAliveConnection.request("GET", "/metrics", token: token))
    let reply = try connection.reply()
    #expect(reply.status == 200, "\(reply.text)")
    return reply.text
  }

  /// Three places, all taken by kept-alive connections idle after a lookup each: a newcomer
  /// is served, the connection idle the longest (the first) is closed for it, the two others
  /// are served on, and the eviction is counted and logged. Before, the newcomer was
  /// answered 503 for as long as the idle ones stayed (the idle timeout, 60 s).
  @Test func anIdleConnectionGivesWayToANewcomerTheIdlestFirst() throws {
    let f = try Fixture()
    let server = try f.serve("--max-connections", "3")
    let token = try f.token
    let held = try (0..<3).map { _ in try KeptAliveConnection(port: server.port) }
    for connection in held {
      try connection.send(Self.lookup(token))
      #expect(try connection.reply().status == 200)
    }
    let newcomer = try KeptAliveConnection(port: server.port)
    try newcomer.send(Self.lookup(token))
    let served = try newcomer.reply()
    #expect(served.status == 200, "\(served.text)")
    #expect(held[0].isClosed(within: 30), "the idlest stayed open; log: \(server.log)")
    for connection in held[1...] {
      try connection.send(Self.lookup(token))
      #expect(try connection.reply().status == 200, "log: \(server.log)")
    }

    let metrics = try Self.metrics(newcomer, token)
    #expect(Self.value(metrics, "csar_connections_evicted_total") == 1, "\(metrics)")
    #expect(Self.value(metrics, "csar_connections_refused_total") == 0, "\(metrics)")
    #expect(Self.value(metrics, "csar_connections_open") == 3, "\(metrics)")
    #expect(server.stop() == 0)
    #expect(server.log.contains("connection closed for a newcomer"), "\(server.log)")
  }

  /// Three places, each taken by a connection in the middle of a request (a body in part, a
  /// head in part, a body announced and not sent), each proven read by the answer to the
  /// request written before it in the same write: a newcomer is answered 503 with
  /// `Retry-After` at once and closed (it used to wait unaccepted, silently, once the
  /// open-file limit was reached), and none of the three is closed for it. A place freed by
  /// a client's close is taken again; the others finish their requests and are answered.
  @Test func connectionsInTheMiddleOfARequestKeepTheirPlacesAndTheNewcomerIs503() throws {
    let f = try Fixture()
    let server = try f.serve(
      "--max-connections", "3", "--timeout", "300", "--head-timeout", "300")
    let token = try f.token
    let lookup = Self.lookup(token)
    let bodyStart = lookup.count - Self.body.utf8.count
    let headEnd = bodyStart - 20

    let midBody = try KeptAliveConnection(port: server.port)
    try midBody.send(Self.health(token) + Array(lookup[..<(bodyStart + 5)]))
    let midHead = try KeptAliveConnection(port: server.port)
    try midHead.send(Self.health(token) + Array(lookup[..<headEnd]))
    var announced: KeptAliveConnection? = try KeptAliveConnection(port: server.port)
    try announced?.send(Self.health(token) + Array(lookup[..<bodyStart]))
    for connection in [midBody, midHead, announced] {
      let health = try connection?.reply()
      #expect(health?.status == 200, "\(health?.text ?? "")")
    }

    let newcomer = try KeptAliveConnection(port: server.port)
    let refusal = try newcomer.reply()
    #expect(refusal.status == 503, "\(refusal.text)")
    #expect(refusal.headers["retry-after"] == "1")
    #expect(newcomer.isClosed(within: 30))

    announced = nil  // closed: its place is free again
    try ServiceEndToEndTests.waitUntil("a freed place to be taken") {
      (try? server.request("GET", "/v1/health", token: token))?.status == 200
    }
    try midBody.send(Array(lookup[(bodyStart + 5)...]))
    #expect(try midBody.reply().status == 200)
    try midHead.send(Array(lookup[headEnd...]))
    #expect(try midHead.reply().status == 200)

    let metrics = try Self.metrics(midBody, token)
    #expect((Self.value(metrics, "csar_connections_refused_total") ?? 0) >= 1, "\(metrics)")
    #expect(Self.value(metrics, "csar_connections_evicted_total") == 0, "\(metrics)")
    #expect(server.stop() == 0)
    #expect(server.log.contains("connection refused"), "\(server.log)")
    #expect(server.log.contains(#""max":"3""#), "\(server.log)")
  }

  /// A request head trickled a byte at a time is answered 408 and closed at `--head-timeout`
  /// (2 s), long before the idle timeout (600 s) that used to be the only bound, while it
  /// is still trickling; the timeout is counted and logged.
  @Test func aTrickledHeadIs408AtTheHeadTimeoutNotTheIdleTimeout() throws {
    let f = try Fixture()
    let server = try f.serve("--head-timeout", "2", "--idle-timeout", "600")
    let token = try f.token
    let slow = try KeptAliveConnection(port: server.port)
    try slow.send(Array("POST /v1/lookup HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8))
    var answered = false
    for _ in 0..<240 where !answered {
      answered = Self.readable(slow, milliseconds: 500)
      if !answered { try? slow.send([UInt8(ascii: "a")]) }
    }
    #expect(answered, "no answer to a head trickled for two minutes")
    let reply = try slow.reply()
    #expect(reply.status == 408, "\(reply.text)")
    #expect(reply.headers["connection"] == "close")
    #expect(slow.isClosed(within: 30))

    let metrics = try server.request("GET", "/metrics", token: token).text
    #expect(Self.value(metrics, "csar_request_head_timeouts_total") == 1, "\(metrics)")
    // The OpenAPI document tells clients of the head's deadline and of idle connections
    // closed for newcomers.
    let document = try server.request("GET", "/openapi.json", token: token).text
    #expect(document.contains("`--head-timeout` (10 s) is answered 408"), "\(document)")
    #expect(document.contains("takes the place of the connection idle the longest"))
    #expect(server.stop() == 0)
    #expect(server.log.contains("request head did not arrive"), "\(server.log)")
  }

  /// `--head-timeout` must be a positive number of seconds, a day at most; the message names
  /// the option.
  @Test func theHeadTimeoutMustBeAPositiveNumberOfSeconds() throws {
    let f = try Fixture()
    for bad in ["0", "-1", "inf", "nan", "100000"] {
      let run = try ServiceEndToEndTests.serveOnce(f, "--head-timeout=" + bad)
      #expect(run.status != 0, "\(bad)")
      #expect(run.err.contains("--head-timeout must be above 0"), "\(bad): \(run.err)")
    }
  }

  /// Whether `connection` has something to read (or was closed) within `milliseconds`.
  static func readable(_ connection: KeptAliveConnection, milliseconds: Int32) -> Bool {
    var descriptor = pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0)
    return poll(&descriptor, 1, milliseconds) > 0
  }
}
