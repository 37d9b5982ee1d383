// The bounded work queue: blocking work (SQLite, decoding, hashing) runs on a few threads,
// never on the event loops; when too much waits, new work is refused at once (503).

import NIOPosix
import Synchronization

/// A fixed set of threads with a bounded queue in front. ``run(until:_:)`` refuses work when
/// `threads + queueCapacity` pieces are already admitted, and stops waiting at a deadline
/// (the work itself finishes on its thread, and only then frees its place).
final class WorkPool: Sendable {
  let threads: NIOThreadPool
  /// Most pieces of work admitted at once (running plus waiting).
  let capacity: Int
  private let admitted = Atomic<Int>(0)

  init(threads count: Int, queueCapacity: Int) {
    threads = NIOThreadPool(numberOfThreads: max(1, count))
    capacity = max(1, count) + max(0, queueCapacity)
  }

  func start() { threads.start() }

  func shutdown() async throws { try await threads.shutdownGracefully() }

  /// Work admitted and not yet finished.
  var depth: Int { admitted.load(ordering: .relaxed) }

  /// Runs `body` on a pool thread and returns its result, or throws 503 (queue full, or
  /// `deadline` passed first).
  func run<T: Sendable>(
    until deadline: ContinuousClock.Instant, _ body: @escaping @Sendable () throws -> T
  ) async throws -> T {
    let now = admitted.add(1, ordering: .relaxed).newValue
    guard now <= capacity else {
      admitted.subtract(1, ordering: .relaxed)
      throw APIError.unavailable("busy: \(capacity) requests are in hand; retry shortly")
    }
    let pool = threads
    let work = { @Sendable [self] () async throws -> T in
      defer { self.admitted.subtract(1, ordering: .relaxed) }
      return try await pool.runIfActive(body)
    }
    return try await Deadline.race(deadline, work)
  }
}

/// Waiting for work with a deadline.
enum Deadline {
  /// The result of `work`, or `late` (by default a 503) when `deadline` comes first (the work
  /// goes on unobserved).
  static func race<T: Sendable>(
    _ deadline: ContinuousClock.Instant,
    late: APIError = .unavailable("the request took too long (timeout)"),
    _ work: @escaping @Sendable () async throws -> T
  ) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      let once = ResumeOnce(continuation)
      let timer = Task {
        try await Task.sleep(until: deadline, clock: .continuous)
        once.resume(.failure(late))
      }
      Task {
        do {
          let value = try await work()
          timer.cancel()
          once.resume(.success(value))
        } catch {
          timer.cancel()
          once.resume(.failure(error))
        }
      }
    }
  }
}

/// Resumes a continuation the first time only.
final class ResumeOnce<T: Sendable>: Sendable {
  private let continuation: Mutex<CheckedContinuation<T, any Error>?>

  init(_ continuation: CheckedContinuation<T, any Error>) {
    self.continuation = Mutex(continuation)
  }

  func resume(_ result: Result<T, any Error>) {
    let taken = continuation.withLock { value in
      defer { value = nil }
      return value
    }
    taken?.resume(with: result)
  }
}
