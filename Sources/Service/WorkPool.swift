// The bounded work queue: blocking work (SQLite, decoding, hashing) runs on a few threads,
// never on the event loops; when too much waits, new work is refused at once (503).

import NIOCore
import NIOPosix
import Synchronization

/// A fixed set of threads with a bounded queue in front. ``run(_:until:_:)`` refuses work when
/// `threads + queueCapacity` pieces are already admitted; what its deadline means depends on
/// the ``Kind`` of work. No task is created per piece of work: the deadline is a timer on an
/// event loop, and the result resumes the waiting request directly.
final class WorkPool: Sendable {
  /// What a request's deadline means for its work.
  enum Kind: Sendable {
    /// Work that changes nothing: the request is answered 503 at its deadline whether or not
    /// the work has started (the work finishes unobserved, then frees its place).
    case read
    /// Work that writes: the deadline applies only until the work starts. Work still waiting
    /// at the deadline never runs (503: nothing was written, a retry is safe); work that has
    /// started is waited for, so the answer always says what was committed.
    case write
  }

  let threads: NIOThreadPool
  /// Most pieces of work admitted at once (running plus waiting).
  let capacity: Int
  /// Where deadline timers run.
  let timers: any EventLoopGroup
  private let admitted = Atomic<Int>(0)

  init(
    threads count: Int, queueCapacity: Int,
    timers: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
  ) {
    threads = NIOThreadPool(numberOfThreads: max(1, count))
    capacity = max(1, count) + max(0, queueCapacity)
    self.timers = timers
  }

  func start() { threads.start() }

  func shutdown() async throws { try await threads.shutdownGracefully() }

  /// Work admitted and not yet finished.
  var depth: Int { admitted.load(ordering: .relaxed) }

  /// The answer to a request whose deadline passed before its work could answer it.
  static let late = APIError.unavailable("the request took too long (timeout)")

  /// Runs `body` on a pool thread and returns its result, or throws 503: at once when the
  /// queue is full, at `deadline` as `kind` says.
  func run<T: Sendable>(
    _ kind: Kind, until deadline: ContinuousClock.Instant,
    _ body: @escaping @Sendable () throws -> T
  ) async throws -> T {
    let now = admitted.add(1, ordering: .relaxed).newValue
    guard now <= capacity else {
      admitted.subtract(1, ordering: .relaxed)
      throw APIError.unavailable("busy: \(capacity) requests are in hand; retry shortly")
    }
    let start = StartGate()
    return try await withCheckedThrowingContinuation { continuation in
      let once = ResumeOnce(continuation)
      let timer = timers.any().scheduleTask(deadline: Deadline.nio(deadline)) {
        if kind == .read || start.markLate() { once.resume(.failure(Self.late)) }
      }
      threads.submit { state in
        // The place frees before the answer goes: a client that sends its next request as
        // soon as it has the answer must find it free (it was freed after, and such a
        // request could be refused as "busy" by a pool with nothing left to do).
        guard state == .active else {
          timer.cancel()
          self.admitted.subtract(1, ordering: .relaxed)
          once.resume(.failure(APIError.unavailable("the service is stopping")))
          return
        }
        // Late write work never starts: its request was already answered 503.
        guard kind == .read || start.markStarted() else {
          self.admitted.subtract(1, ordering: .relaxed)
          return
        }
        let result = Result { try body() }
        timer.cancel()
        self.admitted.subtract(1, ordering: .relaxed)
        once.resume(result)
      }
    }
  }
}

/// Whether a piece of work started before its deadline: exactly one of ``markStarted()`` and
/// ``markLate()`` succeeds.
final class StartGate: Sendable {
  private let state = Atomic<Int>(0)  // 0 waiting, 1 started, 2 late

  /// True when the work may start (its deadline has not passed).
  func markStarted() -> Bool {
    state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged
  }

  /// True when the deadline passed before the work started.
  func markLate() -> Bool {
    state.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged
  }
}

/// Waiting for work with a deadline.
enum Deadline {
  /// The result of `work`, or `late` when `deadline` comes first. At the deadline the work
  /// is cancelled and waited for, so it is over when this returns (``WorkPool/run`` instead
  /// leaves a late read running unobserved).
  ///
  /// For work that reads the request's body. Once the answer is out, Hummingbird reads
  /// what is left of the request from the same stream, and a second reader still waiting
  /// on it stops the process (NIO allows one iterator at a time): a client that never sent
  /// the body it announced once brought the whole service down at its 408.
  static func cancelling<T: Sendable>(
    _ deadline: ContinuousClock.Instant, late: APIError,
    _ work: @escaping @Sendable () async throws -> T
  ) async throws -> T {
    try await withThrowingTaskGroup(of: RaceOutcome<T>.self) { group in
      group.addTask { .done(try await work()) }
      group.addTask {
        try await Task.sleep(until: deadline, clock: .continuous)
        return .late
      }
      // Leaving the group cancels the other child and waits for it.
      defer { group.cancelAll() }
      switch try await group.next() {
      case .done(let value): return value
      case .late, nil: throw late
      }
    }
  }

  /// The same instant as a NIO deadline (event loop timers use NIO's clock).
  static func nio(_ deadline: ContinuousClock.Instant) -> NIODeadline {
    let left = (deadline - .now).components
    let nanoseconds = left.seconds * 1_000_000_000 + left.attoseconds / 1_000_000_000
    return .now() + .nanoseconds(max(0, nanoseconds))
  }
}

/// Which of ``Deadline/cancelling(_:late:_:)``'s two children finished first.
enum RaceOutcome<T: Sendable>: Sendable {
  case done(T)
  case late
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
