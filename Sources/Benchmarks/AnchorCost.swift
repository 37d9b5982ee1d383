// What the audit anchor adds to an audited commit (part of `csar bench console`).

import Foundation
import Store

/// The cost of the audit anchor on an audited commit: the same one-event commit on two
/// scratch databases side by side, one anchoring (after the commit: the anchor read, the
/// database file's `stat`, and the anchor written to a temporary file, fsynced and renamed,
/// its folder fsynced) and one whose key anchors nothing. The two alternate commit by commit,
/// so both see the same load.
struct AnchorCost {
  /// Seconds per commit, one entry per commit.
  var unanchored: [Double] = []
  var anchored: [Double] = []

  /// Times `commits` audited commits on each database, after a few untimed ones; the
  /// databases live in a temporary folder removed afterwards.
  static func measure(commits: Int) throws -> AnchorCost {
    let folder = NSTemporaryDirectory() + "csar-bench-anchor-" + UUID().uuidString
    try FileManager.default.createDirectory(
      atPath: folder, withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o700])
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let plain = try AppDatabase.open(
      path: folder + "/unanchored.sqlite", auditKey: .random(anchorFolder: nil))
    let anchoring = try AppDatabase.open(
      path: folder + "/anchored.sqlite", auditKey: .random(anchorFolder: folder + "/anchors"))
    for database in [plain, anchoring] {
      try database.ensureOperator(name: "bench", role: .reviewer)
      for n in 0..<10 { try commit(database, n) }
    }
    var cost = AnchorCost()
    for n in 0..<commits {
      cost.unanchored.append(try timed { try commit(plain, n) })
      cost.anchored.append(try timed { try commit(anchoring, n) })
    }
    if let failure = anchoring.anchorWrites.lastFailure { throw failure }
    return cost
  }

  /// One audited commit of one event.
  private static func commit(_ database: AppDatabase, _ n: Int) throws {
    _ = try database.audited(by: "bench") { _, trail in
      try trail.record(action: "bench.commit", entity: "bench", entityId: String(n))
    }
  }

  private static func timed(_ body: () throws -> Void) throws -> Double {
    let started = monotonicSeconds()
    try body()
    return monotonicSeconds() - started
  }

  /// `audited commit: unanchored median A, anchored median B (+C, N commits each)`.
  var line: String {
    let plain = BenchFigures.median(unanchored)
    let anchoring = BenchFigures.median(anchored)
    return "audited commit: unanchored median \(BenchFigures.ms(plain)), anchored median "
      + "\(BenchFigures.ms(anchoring)) (\(anchoring >= plain ? "+" : "")"
      + "\(BenchFigures.ms(anchoring - plain)), "
      + "\(anchored.count) commits each)"
  }
}
