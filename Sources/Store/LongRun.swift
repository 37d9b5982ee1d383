import Foundation

// MARK: - Long runs: progress and stopping between batches

/// Watches a long write (an import, a demo build, an export, a purge) that commits in many
/// short transactions: the Store reports each committed batch to it, and asks it, between
/// batches, whether the person running the command wants to stop (Ctrl-C).
///
/// The command layer supplies one that draws a progress line on a terminal and turns SIGINT
/// into `stopRequested`; tests supply their own. Store functions take it as an optional
/// parameter, so callers that do not care pass nothing.
public protocol LongRunObserver: Sendable {
  /// Called after each committed batch: `done` units (hashes, events, items) are committed
  /// so far, of `total` when it is known.
  func committed(_ done: Int, of total: Int?)
  /// True once the run should stop at the next batch boundary. The Store then throws
  /// ``LongRunStopped`` naming what was committed.
  var stopRequested: Bool { get }
}

/// A long run stopped between batches at the caller's request (Ctrl-C): everything counted
/// in `committed` is stored and audited, nothing after it was written.
public struct LongRunStopped: Error, CustomStringConvertible, Sendable {
  /// What was running, for the message ("bank import into 'ncmec'").
  public var task: String
  /// Units committed before the stop.
  public var committed: Int
  /// Units the run would have written, when known.
  public var total: Int?
  /// What the units are ("hashes", "events", "items").
  public var unit: String
  /// How to finish the job ("run the same command again: hashes already in the bank are
  /// skipped").
  public var resume: String

  public init(task: String, committed: Int, total: Int?, unit: String, resume: String) {
    self.task = task
    self.committed = committed
    self.total = total
    self.unit = unit
    self.resume = resume
  }

  public var description: String {
    let of = total.map { " of \($0)" } ?? ""
    return "\(task) stopped: \(committed)\(of) \(unit) committed. To finish, \(resume)."
  }
}

extension LongRunObserver {
  /// Throws ``LongRunStopped`` when a stop was requested (call it between batches, after a
  /// commit, never inside a transaction).
  public func checkStop(
    task: String, committed: Int, total: Int?, unit: String, resume: String
  ) throws {
    if stopRequested {
      throw LongRunStopped(
        task: task, committed: committed, total: total, unit: unit, resume: resume)
    }
  }
}
