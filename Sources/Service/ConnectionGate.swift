// How many connections the service holds open at once, and the open-file limit under them.

import Foundation
import Logging
import NIOCore
import Prometheus
import Synchronization

// MARK: - The gate

/// Counts the service's open connections and turns away each one past `limit` at once, with
/// a 503 and `Retry-After`, instead of leaving it unaccepted.
///
/// Every connection holds a file descriptor. Past the process's open-file limit the service
/// can accept nothing (a client's connection then waits in the kernel's backlog until it
/// gives up, and nothing is logged) and can open no file either: no database connection, no
/// upload. One local user holding a thousand idle connections once made the service
/// unreachable that way until the idle timeout freed them. The gate keeps a reserve of
/// descriptors for the service's own files and says on `/metrics` and in the log when it
/// turns connections away.
final class ConnectionGate: Sendable {
  /// Most connections open at once.
  let limit: Int
  private let open = Atomic<Int>(0)
  private let openGauge: Prometheus.Gauge
  private let refusedCounter: Prometheus.Counter
  private let logger: Logger

  init(limit: Int, metrics: ServiceMetrics, logger: Logger) {
    self.limit = max(1, limit)
    self.logger = logger
    openGauge = metrics.registry.makeGauge(
      name: "csar_connections_open", help: "Client connections open now")
    refusedCounter = metrics.registry.makeCounter(
      name: "csar_connections_refused_total",
      help: "Connections turned away with a 503 because --max-connections were open")
  }

  /// Admits `channel` (counted until it closes) or answers it 503 and closes it.
  /// - Returns: whether the channel was admitted.
  func admit(_ channel: any Channel) -> Bool {
    let now = open.wrappingAdd(1, ordering: .relaxed).newValue
    guard now <= limit else {
      open.wrappingSubtract(1, ordering: .relaxed)
      refuse(channel)
      return false
    }
    openGauge.set(Double(now))
    channel.closeFuture.whenComplete { _ in
      let left = self.open.wrappingSubtract(1, ordering: .relaxed).newValue
      self.openGauge.set(Double(left))
    }
    return true
  }

  /// The whole answer a refused connection gets, before anything of its request is read.
  static let refusal: ByteBuffer = {
    let body = #"{"error":"too many connections are open; retry shortly"}"# + "\n"
    return ByteBuffer(
      string: "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        + "Content-Length: \(body.utf8.count)\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        + body)
  }()

  private func refuse(_ channel: any Channel) {
    refusedCounter.increment()
    // The first refusal of a run of them is logged, then one in every thousand: a flood of
    // connections must not become a flood of log lines.
    let refused = refusals.wrappingAdd(1, ordering: .relaxed).newValue
    if refused % 1000 == 1 {
      logger.warning(
        "connection refused: the limit of open connections is reached",
        metadata: ["limit": .stringConvertible(limit), "refused": .stringConvertible(refused)])
    }
    // Written before the HTTP handlers see anything; the connection is closed once it is out.
    channel.writeAndFlush(Self.refusal).whenComplete { _ in
      channel.close(promise: nil)
    }
  }

  private let refusals = Atomic<Int>(0)
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
