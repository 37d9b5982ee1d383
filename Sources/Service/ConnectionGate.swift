// How many connections the service holds open at once, which gives way to a newcomer, and the
// open-file limit under them.

import Foundation
import Logging
import NIOCore
import Prometheus
import Synchronization

// MARK: - The gate

/// Keeps at most `limit` connections open. A connection past it takes the place of the one
/// idle the longest (kept alive, owing no answer, no byte of a request read since its last
/// answer), which is closed; only when every open connection is in the middle of a request
/// is it answered 503 with `Retry-After` at once, instead of being left unaccepted.
///
/// Every connection holds a file descriptor. Past the process's open-file limit the service
/// can accept nothing (a client's connection then waits in the kernel's backlog until it
/// gives up, and nothing is logged) and can open no file either: no database connection, no
/// upload. One local user holding a thousand idle connections once made the service
/// unreachable that way until the idle timeout freed them; with a plain limit, the same user
/// kept every newcomer out with fast 503s instead. Idle connections now give way, and one
/// that is not idle is bounded by the request head's timeout (``ConnectionWatch``) or the
/// request's own. The gate keeps a reserve of descriptors for the service's own files and
/// says on `/metrics` and in the log when it closes or turns away connections.
final class ConnectionGate: Sendable {
  /// Most connections open at once.
  let limit: Int
  /// The connections admitted and not yet closed (or chosen to close), by id.
  private let admitted = Mutex<[Int: ConnectionRecord]>([:])
  private let lastID = Atomic<Int>(0)
  private let openGauge: Prometheus.Gauge
  private let refusedCounter: Prometheus.Counter
  private let evictedCounter: Prometheus.Counter
  private let headTimeoutCounter: Prometheus.Counter
  /// This gate's own counts (the registry's counters are the process's).
  let refusals = LogSampler()
  let evictions = LogSampler()
  let headTimeouts = LogSampler()
  private let logger: Logger

  init(limit: Int, metrics: ServiceMetrics, logger: Logger) {
    self.limit = max(1, limit)
    self.logger = logger
    let registry = metrics.registry
    openGauge = registry.makeGauge(
      descriptor: ServiceMetrics.series("csar_connections_open", "Client connections open now"))
    refusedCounter = registry.makeCounter(
      descriptor: ServiceMetrics.series(
        "csar_connections_refused_total",
        "Connections turned away with a 503: --max-connections were open, none idle"))
    evictedCounter = registry.makeCounter(
      descriptor: ServiceMetrics.series(
        "csar_connections_evicted_total",
        "Idle kept-alive connections closed to admit a newcomer at --max-connections"))
    headTimeoutCounter = registry.makeCounter(
      descriptor: ServiceMetrics.series(
        "csar_request_head_timeouts_total",
        "Connections answered 408 and closed: a request head not whole in --head-timeout"))
  }

  /// Admits `channel` (counted until it closes), closing the connection idle the longest
  /// when `limit` are open, or answers it 503 and closes it when none is idle.
  /// - Returns: the admitted connection's record; nil when it was turned away.
  func admit(_ channel: any Channel) -> ConnectionRecord? {
    let record = ConnectionRecord(
      id: lastID.wrappingAdd(1, ordering: .relaxed).newValue, channel: channel,
      idleSince: channel.eventLoop.now)
    let outcome = admitted.withLock { admitted -> Admission in
      var admission = Admission.admitted(open: admitted.count + 1)
      if admitted.count >= limit {
        guard let idlest = Self.claimLongestIdle(admitted.values) else { return .refused }
        admitted[idlest.record.id] = nil
        admission = .evicting(idlest.record, idleSince: idlest.since, open: admitted.count + 1)
      }
      admitted[record.id] = record
      return admission
    }
    switch outcome {
    case .refused:
      refuse(channel)
      return nil
    case .admitted(let open):
      openGauge.set(Double(open))
    case .evicting(let idlest, let since, let open):
      openGauge.set(Double(open))
      evict(idlest, idleFor: (record.idleSince ?? since) &- since)
    }
    channel.closeFuture.whenComplete { _ in
      let left = self.admitted.withLock { admitted in
        admitted[record.id] = nil
        return admitted.count
      }
      self.openGauge.set(Double(left))
    }
    return record
  }

  private enum Admission {
    case admitted(open: Int)
    case evicting(ConnectionRecord, idleSince: UInt64, open: Int)
    case refused
  }

  /// Claims the connection idle the longest among `records` (from then on it reads nothing
  /// more) and says since when it was idle; nil when none is idle. One that begins a request
  /// meanwhile is passed over for the next; after a few such races the newcomer is turned
  /// away rather than kept waiting.
  static func claimLongestIdle(_ records: some Collection<ConnectionRecord>)
    -> (record: ConnectionRecord, since: UInt64)?
  {
    for _ in 0..<8 {
      var idlest: (record: ConnectionRecord, since: UInt64)?
      for record in records {
        if let since = record.idleSince, since < idlest?.since ?? .max {
          idlest = (record, since)
        }
      }
      guard let idlest else { return nil }
      if idlest.record.claim(idleSince: idlest.since) { return idlest }
    }
    return nil
  }

  // MARK: Answers written before the HTTP handlers

  /// A whole answer with a JSON error, written straight to the socket, that closes the
  /// connection.
  static func rawAnswer(_ status: String, _ message: String, retryAfter: Bool) -> ByteBuffer {
    let body = #"{"error":"\#(message)"}"# + "\n"
    return ByteBuffer(
      string: "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\n"
        + "Content-Length: \(body.utf8.count)\r\n" + (retryAfter ? "Retry-After: 1\r\n" : "")
        + "Connection: close\r\n\r\n" + body)
  }

  /// The whole answer a refused connection gets, before anything of its request is read.
  static let refusal = rawAnswer(
    "503 Service Unavailable", "too many connections are open; retry shortly",
    retryAfter: true)

  /// The answer to a request head that was not whole within the head timeout.
  static let headTimeout = rawAnswer(
    "408 Request Timeout", "the request head did not arrive in time", retryAfter: false)

  /// Writes `answer` to `channel` from `context` (before the HTTP handlers, or the channel
  /// itself when nil), then closes the connection.
  static func answerAndClose(
    _ channel: any Channel, _ answer: ByteBuffer, from context: ChannelHandlerContext? = nil
  ) {
    let written = context?.writeAndFlush(NIOAny(answer)) ?? channel.writeAndFlush(answer)
    written.whenComplete { _ in channel.close(promise: nil) }
  }

  // MARK: Counting and logging

  // The first of a run of refusals, evictions or head timeouts is logged, then one in every
  // thousand: a flood of connections must not become a flood of log lines.

  private func refuse(_ channel: any Channel) {
    refusedCounter.increment()
    if let refused = refusals.next() {
      logger.warning(
        "connection refused: the limit of open connections is reached, none idle",
        metadata: ["limit": .stringConvertible(limit), "refused": .stringConvertible(refused)])
    }
    // Written before the HTTP handlers see anything; the connection is closed once it is out.
    Self.answerAndClose(channel, Self.refusal)
  }

  private func evict(_ record: ConnectionRecord, idleFor idle: UInt64) {
    evictedCounter.increment()
    if let evicted = evictions.next() {
      logger.warning(
        "connection closed for a newcomer: the limit of open connections is reached",
        metadata: [
          "limit": .stringConvertible(limit), "evicted": .stringConvertible(evicted),
          "idle_s": .string(String(format: "%.1f", Double(idle) / 1e9)),
        ])
    }
    record.channel.close(promise: nil)
  }

  /// Counts and logs a connection closed at the head timeout (``ConnectionWatch``).
  func headTimedOut() {
    headTimeoutCounter.increment()
    if let count = headTimeouts.next() {
      logger.warning(
        "connection closed: a request head did not arrive within the head timeout",
        metadata: ["head_timeouts": .stringConvertible(count)])
    }
  }
}

/// Counts events of one kind and says which of them to log: the first, then one in every
/// thousand.
final class LogSampler: Sendable {
  private let count = Atomic<Int>(0)

  /// How many so far.
  var total: Int { count.load(ordering: .relaxed) }

  /// Counts one; its number when it is to be logged.
  func next() -> Int? {
    let number = count.wrappingAdd(1, ordering: .relaxed).newValue
    return number % 1000 == 1 ? number : nil
  }
}

// MARK: - One connection

/// One admitted connection as the gate sees it: busy, idle since when, or chosen to close
/// for a newcomer. Its ``ConnectionWatch`` marks it busy and idle on the connection's event
/// loop; the gate claims an idle one from any thread, and the watch then drops what comes.
final class ConnectionRecord: Sendable {
  let id: Int
  let channel: any Channel
  /// `busy`, `claimed`, or `idleBase` plus the uptime in nanoseconds it has been idle since.
  private let state: Atomic<UInt64>
  private static let busy: UInt64 = 0
  private static let claimed: UInt64 = 1
  private static let idleBase: UInt64 = 2

  init(id: Int, channel: any Channel, idleSince: NIODeadline) {
    self.id = id
    self.channel = channel
    state = Atomic(Self.idleBase &+ idleSince.uptimeNanoseconds)
  }

  /// The uptime (ns) since which the connection has been idle; nil while it is not.
  var idleSince: UInt64? {
    let now = state.load(ordering: .acquiring)
    return now >= Self.idleBase ? now - Self.idleBase : nil
  }

  /// Whether a request is being read or answered.
  var isBusy: Bool { state.load(ordering: .acquiring) == Self.busy }

  /// Marks the connection busy as bytes of a request come.
  /// - Returns: false when the gate has claimed it: what came must be dropped.
  func markBusy() -> Bool {
    var current = state.load(ordering: .acquiring)
    while current >= Self.idleBase {
      let (exchanged, original) = state.compareExchange(
        expected: current, desired: Self.busy, ordering: .acquiringAndReleasing)
      if exchanged { return true }
      current = original
    }
    return current == Self.busy
  }

  /// Marks a busy connection idle from `time` on (a claimed one stays claimed).
  func markIdle(at time: NIODeadline) {
    _ = state.compareExchange(
      expected: Self.busy, desired: Self.idleBase &+ time.uptimeNanoseconds,
      ordering: .acquiringAndReleasing)
  }

  /// Claims the connection for closing if it is still idle since `idleSince`.
  func claim(idleSince: UInt64) -> Bool {
    state.compareExchange(
      expected: Self.idleBase &+ idleSince, desired: Self.claimed,
      ordering: .acquiringAndReleasing
    ).exchanged
  }
}

// MARK: - Open files

/// The process's limit on open files, raised to what it may be at most.
enum OpenFiles {
  /// Descriptors kept for the service's own files (the database and its WAL per worker
  /// thread, snapshots, uploads, logs) when the connection limit is derived from the
  /// open-file limit.
  static let reserve = 256

  /// Raises the soft open-file limit to the hard one (as nginx's `worker_rlimit_nofile`
  /// or Go's runtime do) and returns the limit in force; nil when it cannot be read.
  @discardableResult
  static func raiseToHardLimit() -> Int? {
    var limits = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return nil }
    if limits.rlim_cur < limits.rlim_max {
      var raised = limits
      raised.rlim_cur = limits.rlim_max
      if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limits = raised }
    }
    return limits.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limits.rlim_cur)
  }

  /// The default connection limit under `openFiles`: all but the reserve, at most 10,000.
  static func defaultConnectionLimit(openFiles: Int?) -> Int {
    guard let openFiles else { return 1_000 }
    return min(10_000, max(16, openFiles - reserve))
  }
}
