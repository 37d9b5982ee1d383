// Connection pressure on NIO's embedded channels (the service's own handlers behind NIO's
// HTTP/1 decoder and encoder, on a loop whose clock the test moves): which connection gives
// way to a newcomer at the limit, and the request head's deadline.

import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Synchronization
import Testing

@testable import Service

@Suite("Service: connection pressure (idle connections give way, heads have a deadline)")
struct ConnectionPressureTests {
  // MARK: - Fixtures

  /// The handlers that follow the service's in each connection, in the router's place:
  /// they count the request parts that reach them and answer when told to.
  final class Router: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private(set) var heads = 0
    private(set) var ends = 0
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      switch unwrapInboundIn(data) {
      case .head: heads += 1
      case .body: break
      case .end: ends += 1
      }
    }

    /// Writes the head of a 200 with a chunked body; `finish()` writes the rest.
    func begin() {
      let head = HTTPResponseHead(
        version: .http1_1, status: .ok, headers: ["Transfer-Encoding": "chunked"])
      context?.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
    }

    func finish() {
      context?.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
      context?.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Answers the oldest request owed, kept alive: 204, or 200 with a chunked body.
    func answer(chunked: Bool = false) {
      guard let context else { return }
      guard chunked else {
        let head = HTTPResponseHead(
          version: .http1_1, status: .noContent, headers: ["Content-Length": "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        return
      }
      begin()
      finish()
    }
  }

  /// A gate, its log lines, and the loop every connection of a test shares.
  final class Fixture {
    let loop = EmbeddedEventLoop()
    let gate: ConnectionGate
    let headTimeout: TimeAmount
    let lines: LogLines

    init(limit: Int, headTimeout: TimeAmount = .seconds(10)) {
      self.headTimeout = headTimeout
      let lines = LogLines()
      self.lines = lines
      gate = ConnectionGate(
        limit: limit, metrics: ServiceMetrics(),
        logger: CSARServer.makeLogger { line in lines.append(line) })
    }

    var log: [String] { lines.all }

    /// A client connection as the service sets it up: admitted (or turned away) by the gate,
    /// then NIO's HTTP/1 handlers and the service's.
    func connect() throws -> Connection {
      let channel = EmbeddedChannel(loop: loop)
      try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
      let record = gate.admit(channel)
      let router = Router()
      if let record {
        let pipeline = channel.pipeline.syncOperations
        try pipeline.configureHTTPServerPipeline(
          withPipeliningAssistance: false, withErrorHandling: false)
        try ServiceHTTP1Channel.addHandlers(
          to: pipeline, fastPath: nil, idleTimeout: .seconds(600),
          watch: ConnectionWatch(record: record, gate: gate, headTimeout: headTimeout))
        try pipeline.addHandler(router)
      }
      loop.run()
      return Connection(channel: channel, record: record, router: router)
    }

    /// Moves the loop's clock on, running what falls due.
    func wait(_ time: TimeAmount) { loop.advanceTime(by: time) }
  }

  /// The log lines a gate wrote.
  final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
  }

  struct Connection {
    let channel: EmbeddedChannel
    let record: ConnectionRecord?
    let router: Router

    var isOpen: Bool { channel.isActive }

    func send(_ text: String) throws {
      try channel.writeInbound(ByteBuffer(string: text))
      (channel.eventLoop as? EmbeddedEventLoop)?.run()
    }

    /// Everything written to the client so far.
    func written() throws -> String {
      var text = ""
      while let part = try channel.readOutbound(as: IOData.self) {
        if case .byteBuffer(let buffer) = part { text += String(buffer: buffer) }
      }
      return text
    }
  }

  static let get = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
  static let post = "POST /v1/flags HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n[]"
  static let partialHead = "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: a"

  // MARK: - Idle connections give way

  /// At the limit a newcomer takes the place of the connection idle the longest (kept alive,
  /// its requests answered), then of the next; one whose head or body is only partly read
  /// is never closed for it, and once none is idle the newcomer is answered 503. Each
  /// eviction and refusal is counted, and the first of each logged.
  @Test func theLongestIdleConnectionGivesWayAndOneMidRequestNever() throws {
    let service = Fixture(limit: 3)
    let first = try service.connect()
    try first.send(Self.get)
    first.router.answer()
    service.wait(.seconds(1))
    let second = try service.connect()
    try second.send(Self.post)
    second.router.answer()
    service.wait(.seconds(1))
    let reading = try service.connect()
    try reading.send(Self.partialHead)
    #expect(first.record?.idleSince != nil && second.record?.idleSince != nil)
    #expect(reading.record?.isBusy == true)

    let third = try service.connect()
    #expect(third.record != nil)
    #expect(!first.isOpen, "the connection idle the longest is closed")
    #expect(second.isOpen && reading.isOpen)
    let fourth = try service.connect()
    #expect(fourth.record != nil)
    #expect(!second.isOpen)
    #expect(reading.isOpen)
    #expect(service.gate.evictions.total == 2)

    // The newcomers start requests: a head in part, a body in part.
    try third.send("GET / HTTP/1.1\r\n")
    try fourth.send("POST /v1/flags HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n[")
    #expect(fourth.router.heads == 1)
    let turnedAway = try service.connect()
    #expect(turnedAway.record == nil)
    let refusal = try turnedAway.written()
    #expect(refusal.hasPrefix("HTTP/1.1 503 "), "\(refusal)")
    #expect(refusal.contains("Retry-After: 1\r\n"), "\(refusal)")
    #expect(reading.isOpen && third.isOpen && fourth.isOpen)
    #expect(service.gate.evictions.total == 2)
    #expect(service.gate.refusals.total == 1)
    let log = service.log.joined(separator: "\n")
    #expect(log.components(separatedBy: "connection closed for a newcomer").count == 2, "\(log)")
    #expect(log.contains("connection refused"), "\(log)")
    #expect(log.contains(#""idle_s":"2.0""#), "\(log)")
  }

  /// A connection is idle since its last answer began to go out (or its last read), not
  /// since that answer's end was written: a client that has seen the first bytes of one
  /// connection's answer and then sends on another has made the first the idler, however
  /// late the end of that answer is written (the event loop may be held up in between).
  @Test func aConnectionIsIdleSinceItsLastAnswerBegan() throws {
    let service = Fixture(limit: 2)
    let slowEnd = try service.connect()
    let other = try service.connect()
    try slowEnd.send(Self.get)
    slowEnd.router.begin()
    service.wait(.seconds(1))
    try other.send(Self.get)
    other.router.answer()
    service.wait(.seconds(1))
    slowEnd.router.finish()
    #expect(slowEnd.record?.idleSince != nil && other.record?.idleSince != nil)
    #expect(try service.connect().record != nil)
    #expect(!slowEnd.isOpen)
    #expect(other.isOpen)
  }

  /// A request read whole and not yet answered holds its connection: the newcomer is turned
  /// away. Once the answer is written the connection is idle and gives way.
  @Test func aConnectionOwingAnAnswerIsKeptUntilItIsAnswered() throws {
    let service = Fixture(limit: 1)
    let owing = try service.connect()
    try owing.send(Self.post)
    #expect(owing.router.ends == 1)
    #expect(try service.connect().record == nil)
    #expect(owing.isOpen)

    owing.router.answer()
    #expect(try owing.written().hasPrefix("HTTP/1.1 204 "))
    #expect(try service.connect().record != nil)
    #expect(!owing.isOpen)
  }

  /// Requests pipelined behind one in the router: the connection owes answers until the
  /// last is written, and only then gives way.
  @Test func pipelinedRequestsHoldTheConnectionUntilTheLastIsAnswered() throws {
    let service = Fixture(limit: 1)
    let pipelining = try service.connect()
    try pipelining.send(Self.get + Self.get)
    #expect(pipelining.router.ends == 2)
    pipelining.router.answer()
    #expect(try service.connect().record == nil)
    pipelining.router.answer()
    #expect(try service.connect().record != nil)
    #expect(!pipelining.isOpen)
  }

  /// Once the gate has chosen a connection to close, a request that comes before the close
  /// takes effect is dropped, never read: the connection is closed as if the close had come
  /// first.
  @Test func whatComesAfterTheGateChoseAConnectionIsNotRead() throws {
    let service = Fixture(limit: 2)
    let idle = try service.connect()
    let record = try #require(idle.record)
    let claimed = try #require(ConnectionGate.claimLongestIdle([record]))
    #expect(claimed.record === record)
    try idle.send(Self.get)
    #expect(idle.router.heads == 0)
    #expect(ConnectionGate.claimLongestIdle([record]) == nil)
  }

  // MARK: - The head's deadline

  /// A head begun and not whole within the head timeout is answered 408 and closed, however
  /// it trickles in (the deadline runs from its first byte), and counted and logged.
  @Test func aHeadNotWholeWithinTheHeadTimeoutIs408AndClosed() throws {
    let service = Fixture(limit: 4, headTimeout: .seconds(10))
    let slow = try service.connect()
    try slow.send("GET /v1/health HTTP/1.1\r\n")
    for _ in 0..<9 {
      service.wait(.seconds(1))
      try slow.send("X")
    }
    #expect(slow.isOpen)
    #expect(try slow.written().isEmpty)
    service.wait(.seconds(2))
    let answer = try slow.written()
    #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer)")
    #expect(answer.contains("Connection: close\r\n"), "\(answer)")
    #expect(!slow.isOpen)
    #expect(slow.router.heads == 0)
    #expect(service.gate.headTimeouts.total == 1)
    #expect(service.log.joined().contains("request head did not arrive"), "\(service.log)")
  }

  /// A head that is whole in time is not timed out, nor is a kept-alive connection between
  /// requests however long it waits, nor a request whose body is slow (its own timeout
  /// is the router's).
  @Test func aHeadWholeInTimeAndAnIdleConnectionAreNotTimedOut() throws {
    let service = Fixture(limit: 4, headTimeout: .seconds(10))
    let connection = try service.connect()
    try connection.send("GET /v1/health HTTP/1.1\r\n")
    service.wait(.seconds(8))
    try connection.send("Host: x\r\n\r\n")
    #expect(connection.router.ends == 1)
    service.wait(.seconds(30))
    connection.router.answer()
    service.wait(.seconds(30))
    try connection.send("POST /v1/flags HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n[")
    service.wait(.seconds(30))
    #expect(connection.isOpen)
    #expect(try connection.written().hasPrefix("HTTP/1.1 204 "))
    #expect(service.gate.headTimeouts.total == 0)
  }

  /// A head begun in the same read as the end of the request before it has its deadline
  /// too, and holds its connection as any request begun: bytes behind a whole request are
  /// not an idle connection.
  @Test func aHeadBegunBehindAWholeRequestInOneReadHasItsDeadline() throws {
    let service = Fixture(limit: 1, headTimeout: .seconds(10))
    let connection = try service.connect()
    try connection.send(Self.post + "GET /v1/hea")
    connection.router.answer()
    #expect(connection.record?.isBusy == true)
    #expect(try service.connect().record == nil)
    service.wait(.seconds(11))
    #expect(try connection.written().contains("HTTP/1.1 408 "))
    #expect(!connection.isOpen)
  }

  /// A head whose deadline passes while the request before it is still being answered gets
  /// its 408 once that answer is written whole, never in the middle of it.
  @Test func aHeadOverdueBehindAnAnswerOwedIs408AfterThatAnswer() throws {
    let service = Fixture(limit: 1, headTimeout: .seconds(10))
    let connection = try service.connect()
    try connection.send(Self.post + "GET /v1/hea")
    service.wait(.seconds(30))
    #expect(connection.isOpen)
    #expect(try connection.written().isEmpty)
    connection.router.answer(chunked: true)
    let written = try connection.written()
    #expect(written.hasPrefix("HTTP/1.1 200 "), "\(written)")
    // The chunked answer's last chunk, then the 408.
    #expect(written.contains("ok\r\n0\r\n\r\nHTTP/1.1 408 "), "\(written)")
    #expect(!connection.isOpen)
    #expect(service.gate.headTimeouts.total == 1)
  }

  /// A read that ends with its request (a blank line, or the body's last bytes) leaves the
  /// connection idle, with no deadline running.
  @Test func aReadEndingWithItsRequestLeavesTheConnectionIdle() throws {
    let service = Fixture(limit: 1, headTimeout: .seconds(10))
    let connection = try service.connect()
    let reads = [
      (Self.get, 1), (Self.post, 1), (Self.get + Self.post, 2), (Self.post + Self.get, 2),
    ]
    for (read, requests) in reads {
      try connection.send(read)
      for _ in 0..<requests {
        #expect(connection.record?.isBusy == true, "\(read)")
        connection.router.answer()
      }
      #expect(connection.record?.idleSince != nil, "\(read)")
    }
    service.wait(.seconds(60))
    #expect(connection.isOpen)
    #expect(service.gate.headTimeouts.total == 0)
  }

  @Test func aReadEndsWithItsRequestAtABlankLineOrTheBodysLastBytes() {
    func ends(_ read: String, body: String?) -> Bool {
      ConnectionWatch.endsWithRequest(
        ByteBuffer(string: read), lastBody: body.map { ByteBuffer(string: $0) })
    }
    #expect(ends("GET / HTTP/1.1\r\nHost: x\r\n\r\n", body: nil))
    #expect(ends("0\r\n\r\n", body: "abc"))
    #expect(ends("Length: 14\r\n\r\n{\"hashes\":[1]}", body: "{\"hashes\":[1]}"))
    #expect(ends("]}", body: "{\"hashes\":[1]}"))
    #expect(ends("x", body: "x"))
    #expect(!ends("GET / HTTP/1.1\r\nHost: x\r\n\r\nG", body: nil))
    #expect(!ends("[1]}\r\nGET / HTTP/1.1\r\n", body: "[1]}"))
    #expect(!ends("{\"a\":1}POST", body: "{\"a\":1}"))
    #expect(!ends("", body: nil))
    // An empty line after a body (as some clients send) is not the start of a head.
    #expect(ends("[1]}\r\n", body: "[1]}"))
    #expect(ends("[1]}\r\n\r\n", body: "[1]}"))
    #expect(!ends("[1]}\r\nG", body: "[1]}"))
    #expect(!ends("\r\n", body: "[1]}"))
  }

  /// Empty lines between requests, in the read of the body before them or a read of their
  /// own, leave the connection idle, with no deadline running.
  @Test func emptyLinesBetweenRequestsAreNoHead() throws {
    let service = Fixture(limit: 1, headTimeout: .seconds(10))
    let connection = try service.connect()
    try connection.send(Self.post + "\r\n")
    connection.router.answer()
    #expect(connection.record?.idleSince != nil)
    try connection.send("\r\n")
    #expect(connection.record?.idleSince != nil)
    service.wait(.seconds(60))
    #expect(connection.isOpen)
    #expect(service.gate.headTimeouts.total == 0)
    try connection.send(Self.get)
    #expect(connection.router.ends == 2)
  }
}
