// The first handler of every admitted connection: the request head's deadline, and whether
// the connection is idle (the gate closes an idle one for a newcomer).

import NIOCore
import NIOHTTP1

/// First in each admitted connection's pipeline, before NIO's HTTP/1 decoder, so that it sees
/// the bytes of a request as they come (the decoder gives a head only once it is whole):
/// - a connection whose request head has begun and is not whole within `headTimeout` is
///   answered 408 and closed (before, a head trickled a byte at a time held its connection,
///   and so a place under `--max-connections`, until the idle timeout);
/// - it marks the connection's ``ConnectionRecord`` busy as soon as a byte comes, and idle
///   once every request read is answered and no byte of another has come, so the gate only
///   ever closes a connection that owes nothing; what comes after the gate chose it is
///   dropped (as if the close had come first).
///
/// ``ServiceConnectionHandler``, after the decoder, tells it where requests begin and end
/// and whether answers are owed. Bodies are not its affair: a request's own timeout bounds
/// them (408 too).
final class ConnectionWatch: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  private let record: ConnectionRecord
  private let gate: ConnectionGate
  private let headTimeout: TimeAmount
  private var context: ChannelHandlerContext?
  /// No request is being read: none came yet, or the last one's end was decoded.
  private var betweenRequests = true
  /// Bytes came while between requests: the next request's head has begun.
  private var headBegun = false
  /// Whether a request ended in the read being decoded, and the last body part read then
  /// (whether the read ends with that request's last bytes tells whether another began).
  private var endedInRead = false
  private var lastBody: ByteBuffer?
  /// Whether an answer is owed (requests with the router, a lookup held).
  private var owesAnswer = false
  /// When a read last began or an answer's head was last written: the connection is idle
  /// since then once it owes nothing. Taken before the answer can reach the client, so a
  /// connection answered before another's request came is always the idler of the two.
  private var lastActivity = NIODeadline.uptimeNanoseconds(0)
  private var deadline: Scheduled<Void>?
  /// The head's deadline passed while an earlier request's answer was still owed: the 408
  /// waits for that answer's end (written in between, it would cut into it).
  private var overdue = false
  private var closing = false

  init(record: ConnectionRecord, gate: ConnectionGate, headTimeout: TimeAmount) {
    self.record = record
    self.gate = gate
    self.headTimeout = headTimeout
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    deadline?.cancel()
    self.context = nil
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !closing, record.markBusy() else { return }
    lastActivity = context.eventLoop.now
    if betweenRequests { headBegun = true }
    endedInRead = false
    lastBody = nil
    let bytes = unwrapInboundIn(data)
    context.fireChannelRead(data)
    if endedInRead, betweenRequests {
      // A request ended in this read: another has begun unless the read ends with it.
      headBegun = !Self.endsWithRequest(bytes, lastBody: lastBody)
    } else if headBegun, betweenRequests, Self.isEmptyLines(bytes) {
      // Empty lines between requests are ignored (some clients send one after a body).
      headBegun = false
    }
    lastBody = nil
    if headBegun, deadline == nil, !closing {
      deadline = context.eventLoop.assumeIsolated().scheduleTask(in: headTimeout) {
        self.headTimedOut()
      }
    }
    settle(context)
  }

  func channelInactive(context: ChannelHandlerContext) {
    closing = true
    deadline?.cancel()
    deadline = nil
    context.fireChannelInactive()
  }

  // MARK: What the connection handler says

  /// A request's head was decoded: its deadline is met.
  func headDecoded() {
    betweenRequests = false
    headBegun = false
    overdue = false
    deadline?.cancel()
    deadline = nil
  }

  /// A part of a request's body was decoded.
  func bodyDecoded(_ part: ByteBuffer) {
    lastBody = part
  }

  /// A request's end was decoded.
  func requestDecoded() {
    betweenRequests = true
    endedInRead = true
  }

  /// Whether answers are owed, after each request part; `settle` marks the connection idle
  /// when nothing is owed once the whole read is decoded.
  func owes(_ owing: Bool) {
    owesAnswer = owing
  }

  /// An answer's head is being written.
  func answerBegins() {
    if let context { lastActivity = context.eventLoop.now }
  }

  /// An answer was written to its end; `owing` says whether more are owed.
  func answered(owing: Bool) {
    owesAnswer = owing
    guard let context else { return }
    if overdue, !owing {
      timeOut(context)
    } else {
      settle(context)
    }
  }

  // MARK: Idle and deadline

  /// Marks the connection idle when it owes nothing and no request is being read.
  private func settle(_ context: ChannelHandlerContext) {
    if betweenRequests, !headBegun, !owesAnswer, !closing, record.isBusy {
      record.markIdle(at: lastActivity)
    }
  }

  private func headTimedOut() {
    deadline = nil
    guard betweenRequests, headBegun, !closing, let context else { return }
    if owesAnswer {
      overdue = true
    } else {
      timeOut(context)
    }
  }

  private func timeOut(_ context: ChannelHandlerContext) {
    overdue = false
    closing = true
    gate.headTimedOut()
    // Written straight to the socket: the decoder holds only part of a head, and the
    // HTTP handlers have nothing to answer.
    ConnectionGate.answerAndClose(context.channel, ConnectionGate.headTimeout, from: context)
  }

  /// Whether `read` ends where a request ended whose last body part was `lastBody`: with a
  /// blank line (a head without a body, a chunked body's last chunk or trailers), or with
  /// the body's last bytes. Anything else is the start of the next request's head. A client
  /// that makes its next head's first bytes end as its last body did only makes its own
  /// connection look idle (it may then be closed for a newcomer; its next byte starts the
  /// head's deadline).
  static func endsWithRequest(_ read: ByteBuffer, lastBody: ByteBuffer?) -> Bool {
    if read.readableBytes >= 2,
      read.getInteger(at: read.writerIndex - 2, as: UInt16.self) == 0x0A0A
        || (read.readableBytes >= 4
          && read.getInteger(at: read.writerIndex - 4, as: UInt32.self) == 0x0D0A_0D0A)
    {
      return true
    }
    guard let lastBody, lastBody.readableBytes > 0 else { return false }
    // Empty lines after the body are ignored, as the decoder ignores them.
    var end = read.writerIndex
    while end - read.readerIndex >= 2, read.getInteger(at: end - 2, as: UInt16.self) == 0x0D0A {
      end -= 2
    }
    let count = min(8, lastBody.readableBytes, end - read.readerIndex)
    guard count > 0 else { return false }
    return (1...count).allSatisfy {
      read.getInteger(at: end - $0, as: UInt8.self)
        == lastBody.getInteger(at: lastBody.writerIndex - $0, as: UInt8.self)
    }
  }

  /// Whether `read` holds nothing but line ends.
  static func isEmptyLines(_ read: ByteBuffer) -> Bool {
    read.readableBytesView.allSatisfy { $0 == 0x0D || $0 == 0x0A }
  }
}
