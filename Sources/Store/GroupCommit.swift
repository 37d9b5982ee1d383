import Foundation
import GRDB
import Synchronization

// MARK: - Group commit of writes from many threads

/// Groups small audited writes from concurrent callers (the service's requests) into short
/// transactions: the first caller to arrive leads, runs every write waiting at that moment
/// (up to `maxBatch`) in one IMMEDIATE transaction, each in its own savepoint so one failing
/// write rolls back alone, commits, and only then returns to each caller. The write lock is
/// held for one batch at a time, so consoles and imports keep their turn.
///
/// A write returns only after its transaction committed (with WAL, a process killed after
/// that keeps it); a caller whose batch did not commit gets the error and none of its rows.
public final class GroupCommit: Sendable {
  /// The database written to.
  public let database: AppDatabase
  /// Who the audit events are attributed to.
  public let operatorName: String
  /// Most writes in one transaction.
  public let maxBatch: Int
  private let state = Mutex(State())

  struct State {
    var queue: [Job] = []
    var leading = false
  }

  /// One caller's write and, once its batch is over, its result.
  final class Job: @unchecked Sendable {
    let body: (Database, AuditTrail) throws -> Any
    // Written by the leader before `done` is signalled, read by the caller after.
    var result: Result<Any, any Error>?
    var promoted = false
    let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping (Database, AuditTrail) throws -> Any) { self.body = body }
  }

  /// Writes through `database`, attributed to `operatorName`.
  public init(database: AppDatabase, operatorName: String, maxBatch: Int = 128) {
    self.database = database
    self.operatorName = operatorName
    self.maxBatch = max(1, maxBatch)
  }

  /// Writes waiting for a transaction now.
  var waiting: Int { state.withLock { $0.queue.count } }

  /// Whether a write is leading (running a batch or waiting to begin its transaction).
  var isLeading: Bool { state.withLock { $0.leading } }

  /// Statistics: transactions committed and writes they held.
  public var batches: (transactions: Int, writes: Int) { counters.withLock { $0 } }
  private let counters = Mutex((0, 0))

  /// Runs `body` in the next group transaction and returns its result once committed.
  /// Blocks the calling thread (call it from a worker thread, not an event loop).
  public func write<T>(_ body: @escaping (Database, AuditTrail) throws -> T) throws -> T {
    let job = Job { db, audit in try body(db, audit) as Any }
    let leads = state.withLock { state -> Bool in
      state.queue.append(job)
      if state.leading { return false }
      state.leading = true
      return true
    }
    if !leads {
      job.done.wait()
      if job.promoted {
        job.promoted = false
        lead(first: job)
      }
    } else {
      lead(first: job)
    }
    // swiftlint:disable:next force_cast
    return try job.result!.get() as! T
  }

  /// Runs one batch (which holds `first`), then hands the lead to the next waiting write.
  private func lead(first: Job) {
    let batch = state.withLock { state -> [Job] in
      let taken = Array(state.queue.prefix(maxBatch))
      state.queue.removeFirst(taken.count)
      return taken
    }
    run(batch)
    let next = state.withLock { state -> Job? in
      guard let next = state.queue.first else {
        state.leading = false
        return nil
      }
      return next
    }
    for job in batch where job !== first { job.done.signal() }
    if let next {
      next.promoted = true
      next.done.signal()
    }
  }

  /// One transaction for the batch; each write in a savepoint of its own.
  private func run(_ batch: [Job]) {
    do {
      try database.audited(by: operatorName) { db, audit in
        for job in batch {
          do {
            var value: Any?
            try db.inSavepoint {
              value = try job.body(db, audit)
              return .commit
            }
            job.result = .success(value as Any)
          } catch {
            job.result = .failure(error)
          }
        }
      }
      counters.withLock {
        $0.0 += 1
        $0.1 += batch.count
      }
    } catch {
      for job in batch { job.result = .failure(error) }
    }
  }

  // MARK: - The service's writes

  /// Puts items in the review queue as ``AppDatabase/createFlaggedItems(_:source:by:)``.
  public func createFlaggedItems(_ items: [NewFlaggedItem], source: String) throws -> [Int64] {
    try write { db, audit in
      try items.map { try AppDatabase.insertFlag(db, $0, source: source, audit: audit) }
    }
  }

  /// Records a blocked upload as ``AppDatabase/recordBlockedScan(_:inputs:by:)``.
  public func recordBlockedScan(_ subject: ScanSubject, inputs: Int) throws {
    try write { _, audit in try AppDatabase.recordBlocked(subject, inputs: inputs, audit: audit) }
  }
}
