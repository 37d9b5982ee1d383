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
      _ = try await pool.run(.read, until: .now + .milliseconds(50)) { usleep(400_000) }
      Issue.record("a late read must be answered 503")
    } catch let error as APIError {
      #expect(error.status.code == 503)
      #expect(error.message.contains("timeout"))
    }
    try await Self.waitUntil { pool.depth == 0 }
    try await pool.shutdown()
  }

  /// A write that has started is waited for past the deadline: its answer says what was
  /// committed (before, it was answered 503 while its rows still committed, so a client's
  /// retry of a scan queued a second review item).
  @Test func aWriteThatStartedIsAnsweredWithItsResultPastTheDeadline() async throws {
    let pool = WorkPool(threads: 1, queueCapacity: 1)
    pool.start()
    let committed = Mutex(0)
    let value = try await pool.run(.write, until: .now + .milliseconds(50)) {
      usleep(300_000)
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
    let busy = Task {
      try await pool.run(.write, until: .now + .seconds(60)) { release.wait() }
    }
    try await Self.waitUntil { pool.depth > 0 }
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
