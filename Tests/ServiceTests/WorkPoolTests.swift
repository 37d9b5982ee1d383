// The bounded work queue: 503 with Retry-After when full, and what a deadline means for reads
// and for writes (a write answered 503 never ran; a write that started is waited for).

import Foundation
import Synchronization
import Testing

@testable import Service

@Suite("Service: the work queue and its deadlines")
struct WorkPoolTests {
  /// Waits for `condition`; fails after a minute rather than hanging the suite.
  static func waitUntil(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while !condition() {
      try #require(ContinuousClock.now < deadline, "a condition the test waited for never held")
      try await Task.sleep(for: .milliseconds(5))
    }
  }

  /// One thread, no waiting room: while it works, the next request is refused at once with
  /// 503 and `Retry-After`; a read whose deadline passes first gets 503 too, and the place
  /// frees when the work ends.
  @Test func aFullQueueAndALateReadAre503WithRetryAfter() async throws {
    let pool = WorkPool(threads: 1, queueCapacity: 0)
    pool.start()
    let release = DispatchSemaphore(value: 0)
    let busy = Task {
      try await pool.run(.read, until: .now + .seconds(60)) { release.wait() }
    }
    try await Self.waitUntil { pool.depth > 0 }
    do {
      _ = try await pool.run(.read, until: .now + .seconds(60)) { 1 }
      Issue.record("a full queue must refuse")
    } catch let error as APIError {
      #expect(error.status.code == 503)
      let retry = error.response.headers.first { $0.name.rawName == "Retry-After" }
      #expect(retry?.value == "1")
    }
    release.signal()
    try await busy.value
    #expect(try await pool.run(.read, until: .now + .seconds(60)) { 2 } == 2)

    do {
      _ = try await pool.run(.read, until: .now + .milliseconds(50)) { usleep(2_000_000) }
      Issue.record("a late read must be answered 503")
    } catch let error as APIError {
      #expect(error.status.code == 503)
      #expect(error.message.contains("timeout"))
    }
    try await Self.waitUntil { pool.depth == 0 }
    try await pool.shutdown()
  }

  /// A pool with one place: each request sent as soon as the one before was answered finds
  /// the place free. Before, the place was freed only after the answer went, and such a
  /// request was now and then refused as "busy" by a pool with nothing to do.
  @Test func aRequestSentWhenTheLastOneIsAnsweredFindsItsPlaceFree() async throws {
    let pool = WorkPool(threads: 1, queueCapacity: 0)
    pool.start()
    var refused = 0
    for n in 0..<5_000 {
      do {
        _ = try await pool.run(.read, until: .now + .seconds(60)) { n }
      } catch let error as APIError where error.status.code == 503 {
        refused += 1
      }
    }
    #expect(refused == 0, "\(refused) of 5,000 refused")
    try await pool.shutdown()
  }

  /// A write that has started is waited for past the deadline: its answer says what was
  /// committed (before, it was answered 503 while its rows still committed, so a client's
  /// retry of a scan queued a second review item).
  @Test func aWriteThatStartedIsAnsweredWithItsResultPastTheDeadline() async throws {
    let pool = WorkPool(threads: 1, queueCapacity: 1)
    pool.start()
    let committed = Mutex(0)
    // A second to start in (a loaded machine may take a while to run the pool's thread),
    // three to finish: the answer comes well past the deadline.
    let value = try await pool.run(.write, until: .now + .seconds(1)) {
      usleep(3_000_000)
      committed.withLock { $0 += 1 }
      return 7
    }
    #expect(value == 7)
    #expect(committed.withLock { $0 } == 1)
    try await pool.shutdown()
  }

  /// A write still queued at its deadline never runs: its 503 means nothing was written, so a
  /// retry is safe.
  @Test func aWriteStillQueuedAtTheDeadlineIs503AndNeverRuns() async throws {
    let pool = WorkPool(threads: 1, queueCapacity: 1)
    pool.start()
    let release = DispatchSemaphore(value: 0)
    let running = Mutex(false)
    let busy = Task {
      try await pool.run(.write, until: .now + .seconds(60)) {
        running.withLock { $0 = true }
        release.wait()
      }
    }
    // Running on the pool's one thread, not only admitted: admitted, it could still be
    // submitted after the write below, which then ran first (this test failed so under load).
    try await Self.waitUntil { running.withLock { $0 } }
    let ran = Mutex(false)
    do {
      try await pool.run(.write, until: .now + .milliseconds(50)) { ran.withLock { $0 = true } }
      Issue.record("a write still queued at its deadline must be answered 503")
    } catch let error as APIError {
      #expect(error.status.code == 503)
      #expect(error.message.contains("timeout"))
    }
    release.signal()
    try await busy.value
    try await Self.waitUntil { pool.depth == 0 }
    #expect(ran.withLock { $0 } == false)
    try await pool.shutdown()
  }
}
