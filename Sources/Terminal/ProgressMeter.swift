import Foundation

// MARK: - The progress line of a long command

/// The one-line progress display of a long command (an import, a demo build, an export, a
/// purge): what is done of how much, the rate and the time left, as plain text the command
/// redraws in place on stderr.
///
/// A small renderer of our own rather than a library: the one maintained candidate csar may
/// use (vapor/console-kit's `ActivityIndicator`) draws a bar without rate or ETA, writes to
/// stdout (which `--json` keeps for data) through its own console abstraction, and redraws
/// on a timer thread of its own; csar needs a line on stderr that passes its one output
/// writer, redrawn only when a batch commits. This type only keeps the samples and formats
/// the text; it writes nothing, so it is tested on its own.
public struct ProgressMeter: Sendable {
  /// What runs ("consent import").
  public var task: String
  /// What is counted ("events").
  public var unit: String
  /// Shortest time between two redraws, in seconds (10 a second).
  public var minimumInterval: Double
  /// The samples the rate is measured over, oldest first: at most `window` seconds old.
  private var samples: [(at: Double, done: Int)] = []
  private let window: Double
  private var lastDraw: Double?
  private var first: (at: Double, done: Int)?
  /// The latest figures.
  public private(set) var done = 0
  public private(set) var total: Int?

  public init(task: String, unit: String, minimumInterval: Double = 0.1, window: Double = 10) {
    self.task = task
    self.unit = unit
    self.minimumInterval = minimumInterval
    self.window = window
  }

  /// Records that `done` of `total` units are committed at time `now` (seconds, any origin);
  /// returns true when the line should be redrawn now (at most every `minimumInterval`, and
  /// always when the run is complete).
  public mutating func record(_ done: Int, of total: Int?, at now: Double) -> Bool {
    self.done = done
    self.total = total
    if first == nil { first = (now, done) }
    samples.append((now, done))
    while samples.count > 2, now - samples[1].at >= window { samples.removeFirst() }
    let complete = total.map { done >= $0 } ?? false
    if let lastDraw, now - lastDraw < minimumInterval, !complete { return false }
    lastDraw = now
    return true
  }

  /// Units per second over the last `window` seconds; nil until two samples are apart.
  public var rate: Double? {
    guard let oldest = samples.first, let newest = samples.last, newest.at > oldest.at,
      newest.done >= oldest.done
    else { return nil }
    return Double(newest.done - oldest.done) / (newest.at - oldest.at)
  }

  /// Seconds left at the current rate; nil without a total or a rate.
  public var secondsLeft: Double? {
    guard let total, let rate, rate > 0 else { return nil }
    return Double(max(0, total - done)) / rate
  }

  /// The progress line, at most `width` columns: "consent import: 430,000 of 1,000,000
  /// events (43%), 52,300/s, ETA 0:11".
  public func line(width: Int = 80) -> String {
    var text = "\(task): \(Self.grouped(done))"
    if let total {
      text += " of \(Self.grouped(total)) \(unit)"
      if total > 0 { text += " (\(min(100, done * 100 / total))%)" }
    } else {
      text += " \(unit)"
    }
    if let rate { text += ", \(Self.grouped(Int(rate.rounded())))/s" }
    if let secondsLeft { text += ", ETA \(Self.duration(secondsLeft))" }
    return Self.fit(text, width: width)
  }

  /// The line left when the run is over: "consent import: 1,000,000 events committed in
  /// 19.2 s (52,083/s)". `elapsed` is the whole run's time.
  public func summary(elapsed: Double, width: Int = 80) -> String {
    var text = "\(task): \(Self.grouped(done)) \(unit) committed in "
      + String(format: "%.1f s", elapsed)
    if elapsed > 0, done > 0 {
      text += " (\(Self.grouped(Int((Double(done) / elapsed).rounded())))/s)"
    }
    return Self.fit(text, width: width)
  }

  // MARK: - Formatting

  /// 1234567 -> "1,234,567".
  public static func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return (n < 0 ? "-" : "") + out
  }

  /// Seconds as "0:07", "12:34" or "2:03:04".
  public static func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded(.up))
    let (h, m, r) = (s / 3600, (s % 3600) / 60, s % 60)
    let two = { (n: Int) in n < 10 ? "0\(n)" : "\(n)" }
    return h > 0 ? "\(h):\(two(m)):\(two(r))" : "\(m):\(two(r))"
  }

  /// `text` cut to `width` columns (an ellipsis marks the cut); the line never wraps, so
  /// the redraw stays on one row.
  static func fit(_ text: String, width: Int) -> String {
    let columns = max(10, width - 1)
    guard text.count > columns else { return text }
    return String(text.prefix(columns - 1)) + "…"
  }
}
