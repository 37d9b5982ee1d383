// Prometheus metrics: requests and latencies (Hummingbird's middleware, by route), and the
// service's own: matches, index size and age, work queue depth, the audit anchor.

import Foundation
import Logging
import Metrics
import Moderation
import Prometheus
import Store
import Synchronization

/// The registry `GET /metrics` prints, and the service's own series.
final class ServiceMetrics: Sendable {
  let registry: PrometheusCollectorRegistry
  let indexHashes: Prometheus.Gauge
  let indexBanks: Prometheus.Gauge
  let indexAge: Prometheus.Gauge
  let indexBuilds: Prometheus.Counter
  let queueDepth: Prometheus.Gauge
  let scanDecisions: Mutex<[String: Prometheus.Counter]> = Mutex([:])
  let lookupMatches: Prometheus.Counter
  let anchorWriteFailures: Prometheus.Counter
  let anchorBehind: Prometheus.Gauge
  let anchorWritten: Prometheus.Gauge

  /// The process's metrics system is bootstrapped once (swift-metrics allows one factory).
  private static let bootstrapped = Mutex<PrometheusCollectorRegistry?>(nil)

  init() {
    registry = Self.bootstrapped.withLock { existing in
      if let existing { return existing }
      let fresh = PrometheusCollectorRegistry()
      MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: fresh))
      existing = fresh
      return fresh
    }
    indexHashes = registry.makeGauge(
      descriptor: Self.series("csar_index_hashes", "Hashes in the enabled banks the index serves"))
    indexBanks = registry.makeGauge(descriptor: Self.series("csar_index_banks", "Enabled banks"))
    indexAge = registry.makeGauge(
      descriptor: Self.series("csar_index_age_seconds", "Seconds since the bank index was built"))
    indexBuilds = registry.makeCounter(
      descriptor: Self.series(
        "csar_index_builds_total", "Bank index builds (start and refreshes)"))
    queueDepth = registry.makeGauge(
      descriptor: Self.series(
        "csar_work_queue_depth", "Work admitted and not finished (running + waiting)"))
    lookupMatches = registry.makeCounter(
      descriptor: Self.series(
        "csar_lookup_matches_total", "Bank entries matched by /v1/lookup"))
    anchorWriteFailures = registry.makeCounter(
      descriptor: Self.series(
        "csar_audit_anchor_write_failures_total",
        "Audit anchor writes that failed after a committed change (the anchor lags)"))
    anchorBehind = registry.makeGauge(
      descriptor: Self.series(
        "csar_audit_anchor_behind",
        "1 while the audit anchor file does not record the log's newest event (a failed "
          + "or kept write until a later one succeeds; missing or unusable), 0 when it does; "
          + "read from the files at each scrape, whichever process wrote them"))
    anchorWritten = registry.makeGauge(
      descriptor: Self.series(
        "csar_audit_anchor_written_timestamp_seconds",
        "When the audit anchor file was last written, by any process (Unix time; 0 "
          + "without an anchor it can use)"))
  }

  /// A series' name and help as the registry takes them: the name whole (no unit appended).
  /// Every series of the service is made with it (``ConnectionGate`` too).
  static func series(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
  }

  /// Sets the anchor gauges from the files as they are now (``AppDatabase/anchorState()``),
  /// read on a thread of its own, off the event loops: whoever changed the database (this
  /// service, a console, an import), the gauges say where its anchor stands. A state that
  /// cannot be read counts as behind, and is logged.
  func readAnchorState(of database: AppDatabase, _ logger: Logger) async {
    let state = await withCheckedContinuation { continuation in
      Thread.detachNewThread {
        continuation.resume(returning: Result { try database.anchorState() })
      }
    }
    switch state {
    case .success(let state):
      anchorBehind.set(Double(state.isBehind ? 1 : 0))
      anchorWritten.set(state.writtenAt?.timeIntervalSince1970 ?? 0)
    case .failure(let error):
      anchorBehind.set(Double(1))
      logger.error(
        "audit anchor state not read", metadata: ["error": .string("\(error)")])
    }
  }

  /// Logs each failed audit anchor write of `database` at error level (the change it
  /// followed is saved; the anchor lags behind the log) and counts it.
  func watchAnchorWrites(of database: AppDatabase, _ logger: Logger) {
    let counter = anchorWriteFailures
    database.anchorWrites.onFailure { failure in
      counter.increment()
      logger.error(
        "audit anchor not written",
        metadata: [
          "path": .string(failure.path),
          "events": .stringConvertible(failure.events),
          "reason": .string("\(failure)"),
        ])
    }
  }

  /// Counts a scan decision (`allowed`, `blocked`, `flagged`, `matched`, `error`).
  func countScan(_ decision: String, kind: String) {
    let counter = scanDecisions.withLock { counters in
      let key = kind + "/" + decision
      if let counter = counters[key] { return counter }
      let made = registry.makeCounter(
        descriptor: Self.series("csar_scans_total", "Scans by kind (file, url) and decision"),
        labels: [("kind", kind), ("decision", decision)])
      counters[key] = made
      return made
    }
    counter.increment()
  }

  /// Records a new bank index (counts, a build) and logs `message` with its figures.
  func indexBuilt(
    _ generation: LiveBankMatcher.Generation, since started: ContinuousClock.Instant,
    _ message: Logger.Message, _ logger: Logger
  ) {
    indexBuilds.increment()
    indexHashes.set(Double(generation.hashes))
    indexBanks.set(Double(generation.banks))
    if let problem = generation.matcher.snapshotProblem {
      logger.warning("bank index snapshot refused, rebuilt", metadata: ["reason": "\(problem)"])
    }
    logger.info(
      message,
      metadata: [
        "banks": .stringConvertible(generation.banks),
        "hashes": .stringConvertible(generation.hashes),
        "snapshot": .stringConvertible(generation.matcher.fromSnapshot),
        "ms": .string(String(format: "%.1f", AccessLogMiddleware.milliseconds(since: started))),
      ])
  }

  /// The text exposition format.
  func exposition() -> [UInt8] {
    var buffer: [UInt8] = []
    registry.emit(into: &buffer)
    return buffer
  }
}
