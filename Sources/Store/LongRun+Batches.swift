import GRDB

// MARK: - Audited batches that report progress and stop between them

/// What a long run is, for ``LongRunStopped`` and the progress line: "flags import",
/// counted in "events", finished by "run the same command again: ...".
struct LongRunTask {
  var name: String
  var unit: String
  var resume: String
}

extension AppDatabase {
  /// Runs `body` over `0..<count` in audited transactions of `batchSize` (at least one,
  /// possibly empty, batch runs). Before each batch it stops if `observer` asks to
  /// (``LongRunStopped``, with the units committed); after each commit it tells `observer`
  /// how far the run is. `body` gets the batch's range and its number (from 1).
  func auditedBatches(
    count: Int, batchSize: Int, by operatorName: String, observer: (any LongRunObserver)?,
    task: LongRunTask, _ body: (Database, AuditTrail, Range<Int>, Int) throws -> Void
  ) throws {
    var start = 0
    var batch = 0
    repeat {
      try observer?.checkStop(
        task: task.name, committed: start, total: count, unit: task.unit, resume: task.resume)
      let end = min(count, start + max(1, batchSize))
      batch += 1
      try audited(by: operatorName) { db, audit in
        try body(db, audit, start..<end, batch)
      }
      start = end
      observer?.committed(start, of: count)
    } while start < count
  }
}
