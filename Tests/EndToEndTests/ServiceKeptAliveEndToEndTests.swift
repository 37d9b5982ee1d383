// `csar serve` over kept-alive connections, as upload workers and load tools use it: lookups
// the connection's pipeline answers itself and requests the router answers, in order.

import Foundation
import Testing

@Suite("Service over kept-alive connections", .serialized)
struct ServiceKeptAliveEndToEndTests {
  typealias Fixture = ServiceEndToEndTests.Fixture

  static func lookup(_ token: String?, _ body: String) -> [UInt8] {
    KeptAliveConnection.request(
      "POST", "/v1/lookup", token: token, headers: ["Content-Type": "application/json"],
      body: body)
  }

  static func pdq(_ value: String) -> String { #"{"type":"pdq","value":"\#(value)"}"# }

  static func results(_ reply: HTTPReply) -> [NSDictionary] {
    ((reply.json["results"] as? [[String: Any]]) ?? []).map { NSDictionary(dictionary: $0) }
  }

  /// The value of `/metrics`' request counter for `route` and `status`.
  static func requests(_ metrics: String, route: String, status: Int) -> Int? {
    metrics.split(separator: "\n").first {
      $0.hasPrefix("hb_requests") && $0.contains(#"http_route="\#(route)""#)
        && $0.contains(#"http_response_status_code="\#(status)""#)
    }.flatMap { Int($0.split(separator: " ").last ?? "") }
  }

  /// Eight requests written at once on one connection: lookups the pipeline answers, and
  /// requests it leaves to the router (health, five hashes, an MD5, bad JSON, no token).
  /// Each is answered, in order, with what the router alone would say; the connection goes
  /// on; `/metrics` counts every lookup; only the failed ones are logged.
  @Test func requestsOnOneConnectionAreAnsweredInOrderWhicheverPathTakesThem() throws {
    let f = try Fixture()
    try f.importBank()
    let server = try f.serve()
    let token = try f.token
    let zeros = String(repeating: "0", count: 64)
    let five = Array(repeating: Self.pdq(f.pdq), count: 5).joined(separator: ",")
    let connection = try KeptAliveConnection(port: server.port)
    try connection.send(
      Self.lookup(token, #"{"hashes":[\#(Self.pdq(f.pdq))]}"#)
        + KeptAliveConnection.request("GET", "/v1/health", token: token)
        + Self.lookup(token, #"{"hashes":[\#(Self.pdq(zeros))]}"#)
        + Self.lookup(token, #"{"hashes":[\#(five)]}"#)
        + Self.lookup(token, #"{"hashes":["#)
        + Self.lookup(nil, #"{"hashes":[\#(Self.pdq(f.pdq))]}"#)
        + Self.lookup(token, #"{"hashes":[{"type":"md5","value":"\#(zeros.prefix(32))"}]}"#)
        + Self.lookup(token, #"{"hashes":[\#(Self.pdq(f.pdq))]}"#))
    let replies = try (0..<8).map { _ in try connection.reply() }
    #expect(replies.map(\.status) == [200, 200, 200, 200, 400, 401, 200, 200])

    // The same answer as `csar lookup --json`, whichever path gave it.
    let cli = try f.csar("lookup", "--json", "pdq:" + f.pdq)
    #expect(cli.status == 0, "\(cli.err)")
    let expected = try #require(
      try JSONSerialization.jsonObject(with: Data(cli.out.utf8)) as? NSDictionary)
    #expect((expected["matches"] as? [Any])?.count == 1, "\(cli.out)")
    #expect(Self.results(replies[0]) == [expected])
    #expect(Self.results(replies[3]) == Array(repeating: expected, count: 5))
    #expect(Self.results(replies[7]) == [expected])
    let miss = Self.results(replies[2]).first
    #expect((miss?["matches"] as? [Any])?.isEmpty == true, "\(replies[2].text)")
    #expect(replies[1].json["status"] as? String == "ok")
    #expect(replies[4].json["field"] as? String == "body", "\(replies[4].text)")
    #expect(replies[5].headers["www-authenticate"] != nil)
    #expect(Self.results(replies[6]).count == 1, "\(replies[6].text)")
    // The same headers from both paths.
    #expect(Set(replies[0].headers.keys) == Set(replies[3].headers.keys))
    #expect(replies[0].headers["content-type"] == "application/json")
    #expect(replies[0].headers["server"] == "csar")
    #expect(replies[0].headers["date"]?.hasSuffix(" GMT") == true)

    // The connection goes on.
    try connection.send(Self.lookup(token, #"{"hashes":[\#(Self.pdq(f.pdq))]}"#))
    let again = try connection.reply()
    #expect(again.status == 200)
    #expect(Self.results(again) == [expected])

    let metrics = try server.request("GET", "/metrics", token: token).text
    #expect(Self.requests(metrics, route: "/v1/lookup", status: 200) == 6, "\(metrics)")
    #expect(Self.requests(metrics, route: "/v1/lookup", status: 400) == 1, "\(metrics)")
    #expect(metrics.contains("csar_lookup_matches_total 8"), "\(metrics)")
    #expect(server.stop() == 0)
    #expect(!server.log.contains(#""route":"/v1/lookup","status":"200""#), "\(server.log)")
    #expect(server.log.contains(#""route":"/v1/lookup","status":"400""#), "\(server.log)")
  }

  /// A lookup whose body comes after its head (a slow client) is answered all the same, and
  /// one whose body never comes is 408 at the request's timeout, and its connection closed.
  @Test func aBodyInPartsIsAnsweredAndOneThatNeverComesIs408() throws {
    let f = try Fixture()
    try f.importBank()
    let server = try f.serve("--timeout", "2")
    let token = try f.token
    let connection = try KeptAliveConnection(port: server.port)
    let request = Self.lookup(token, #"{"hashes":[\#(Self.pdq(f.pdq))]}"#)
    let split = request.count - 20
    try connection.send(Array(request[..<split]))
    usleep(300_000)
    try connection.send(Array(request[split...]))
    let slow = try connection.reply()
    #expect(slow.status == 200, "\(slow.text)")
    let matches = Self.results(slow).first?["matches"] as? [[String: Any]]
    #expect(matches?.first?["bank"] as? String == "known", "\(slow.text)")

    try connection.send(request)
    #expect(try connection.reply().status == 200)

    let started = Date()
    try connection.send(
      KeptAliveConnection.request(
        "POST", "/v1/lookup", token: token,
        headers: ["Content-Type": "application/json", "Content-Length": "100"]))
    let late = try connection.reply()
    #expect(late.status == 408, "\(late.text)")
    #expect(late.headers["connection"] == "close")
    #expect(Date().timeIntervalSince(started) < 15)
    // Closed: the body, were it to come now, would be read as the next request (and the
    // service once crashed at SIGTERM with such a connection open).
    #expect(connection.isClosed(within: 5))
    #expect(server.stop() == 0)
  }

  /// Bodies announced and never sent, on many connections at once and on every route that
  /// reads a body: each is answered 408 and closed, and the service goes on answering. It
  /// once stopped with a fatal error at such a 408 (the abandoned read of the body and
  /// Hummingbird's read of the next request met on one stream), so any client could bring
  /// it down.
  @Test func bodiesThatNeverComeAre408AndTheServiceGoesOn() throws {
    let f = try Fixture()
    let server = try f.serve("--timeout", "1")
    let token = try f.token
    let routes = ["/v1/lookup", "/v1/consent/events", "/v1/flags", "/v1/scan/url"]
    let owed = try (0..<12).map { _ in try KeptAliveConnection(port: server.port) }
    for (n, connection) in owed.enumerated() {
      try connection.send(
        KeptAliveConnection.request(
          "POST", routes[n % routes.count], token: token,
          headers: ["Content-Type": "application/json", "Content-Length": "100"]))
    }
    for connection in owed {
      let late = try connection.reply()
      #expect(late.status == 408, "\(late.text)")
      #expect(connection.isClosed(within: 10))
    }
    let after = try KeptAliveConnection(port: server.port)
    try after.send(
      Self.lookup(token, #"{"hashes":[\#(Self.pdq(String(repeating: "0", count: 64)))]}"#))
    #expect(try after.reply().status == 200)
    #expect(server.stop() == 0, "\(server.log)")
    #expect(!server.log.contains("Fatal error"), "\(server.log)")
  }

  /// A body the client breaks is the client's fault, never the service's: a bad chunk size
  /// is 400 naming the body, and a body cut short by the client's close is counted and
  /// logged as 499 (nginx's "client closed request"). Both were 500s logged as internal
  /// errors, which would page whoever watches the service's errors.
  @Test func aBrokenBodyIs400AndOneCutShortIs499NotAnInternalError() throws {
    let f = try Fixture()
    let server = try f.serve()
    let token = try f.token
    let chunked = try KeptAliveConnection(port: server.port)
    try chunked.send(
      Array(
        ("POST /v1/flags HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
          + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "zz\r\n[]\r\n0\r\n\r\n").utf8))
    let bad = try chunked.reply()
    #expect(bad.status == 400, "\(bad.text)")
    #expect(bad.json["field"] as? String == "body", "\(bad.text)")
    #expect(chunked.isClosed(within: 10))

    let cut = try KeptAliveConnection(port: server.port)
    try cut.send(
      KeptAliveConnection.request(
        "POST", "/v1/consent/events", token: token,
        headers: ["Content-Type": "application/json", "Content-Length": "1000"], body: "[{"))
    shutdown(cut.fd, Int32(SHUT_WR))
    // Whether an answer still reaches a client that shut its side is the socket's affair:
    // when one comes, it says 499. The log and the metrics always do.
    if let gone = try? cut.reply() { #expect(gone.status == 499, "\(gone.text)") }
    try ServiceEndToEndTests.waitUntil("the cut request to be logged") {
      server.log.contains(#""route":"/v1/consent/events","status":"499""#)
    }
    let metrics = try server.request("GET", "/metrics", token: token).text
    #expect(Self.requests(metrics, route: "/v1/flags", status: 400) == 1, "\(metrics)")
    #expect(Self.requests(metrics, route: "/v1/consent/events", status: 499) == 1, "\(metrics)")
    #expect(!metrics.contains(#"http_response_status_code="500""#), "\(metrics)")
    #expect(server.stop() == 0)
    #expect(!server.log.contains("internal error"), "\(server.log)")
  }

  /// SIGTERM with a kept-alive connection open and idle after lookups: the service closes
  /// it and exits at once (the lookups it answered in the pipeline are not left counted as
  /// in flight, which would hold the drain until the idle timeout).
  @Test func sigtermClosesAnIdleKeptAliveConnectionAndExits() throws {
    let f = try Fixture()
    let server = try f.serve()
    let token = try f.token
    let connection = try KeptAliveConnection(port: server.port)
    for _ in 0..<3 {
      try connection.send(
        Self.lookup(token, #"{"hashes":[\#(Self.pdq(String(repeating: "0", count: 64)))]}"#))
      #expect(try connection.reply().status == 200)
    }
    let stopping = Date()
    #expect(server.stop() == 0)
    #expect(Date().timeIntervalSince(stopping) < 20)
    #expect(connection.isClosed(within: 5))
  }

  /// The idle timeout counts the lookups the pipeline answers: a connection that sends one
  /// every 0.25 s stays open well past a 3 s timeout, one left idle is closed after it, and
  /// one whose request the router still works on is not closed while it does.
  ///
  /// This test failed now and then under load: the owed request's 408 stopped the service
  /// when the busy connection shared its event loop (see the 408 test above).
  @Test func aBusyConnectionStaysOpenAndAnIdleOneIsClosedAtTheIdleTimeout() throws {
    let f = try Fixture()
    let server = try f.serve("--idle-timeout", "3", "--timeout", "5")
    let token = try f.token
    let lookup = Self.lookup(
      token, #"{"hashes":[\#(Self.pdq(String(repeating: "0", count: 64)))]}"#)
    let busy = try KeptAliveConnection(port: server.port)
    let idle = try KeptAliveConnection(port: server.port)
    // A lookup whose body never comes: the router waits for it until its timeout.
    let owed = try KeptAliveConnection(port: server.port)
    try owed.send(
      KeptAliveConnection.request(
        "POST", "/v1/lookup", token: token,
        headers: ["Content-Type": "application/json", "Content-Length": "100"]))
    try idle.send(lookup)
    #expect(try idle.reply().status == 200)
    let started = Date()
    while Date().timeIntervalSince(started) < 7 {
      try busy.send(lookup)
      #expect(try busy.reply().status == 200)
      usleep(250_000)
    }
    #expect(idle.isClosed(within: 1))
    #expect(try owed.reply().status == 408)
    try busy.send(lookup)
    #expect(try busy.reply().status == 200)
    #expect(busy.isClosed(within: 5))
    #expect(server.stop() == 0)
  }

  /// A client that trickles a request head a byte at a time and never ends it is closed at
  /// the idle timeout: a request's parts and an answer's count as activity, bytes do not.
  @Test func aHeadTrickledByteByByteIsClosedAtTheIdleTimeout() throws {
    let f = try Fixture()
    let server = try f.serve("--idle-timeout", "1")
    let slow = try KeptAliveConnection(port: server.port)
    try slow.send(Array("POST /v1/lookup HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8))
    let began = Date()
    var refused = false
    while Date().timeIntervalSince(began) < 10, !refused {
      usleep(250_000)
      do { try slow.send([UInt8(ascii: "a")]) } catch { refused = true }
    }
    #expect(refused, "a connection trickling its head stayed open 10 s past a 1 s idle timeout")
    #expect(server.stop() == 0)
  }
}
