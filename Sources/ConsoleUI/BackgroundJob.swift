import Foundation
import Store
import Synchronization

// MARK: - Work that takes seconds, off the key loop

/// A piece of work that takes seconds (verifying a large audit log), run on its own thread so
/// the console keeps answering keys: it says how far it got, can be asked to stop (quitting),
/// and leaves one status message for the console to show when it is done.
///
/// A screen hands one to the console (``ScreenResponse/background(_:)``); the console starts
/// it, shows its progress on the status bar, refuses a second of the same kind while it runs
/// and shows its result. The work observes the Store as a ``LongRunObserver`` would.
public final class BackgroundJob: LongRunObserver, Sendable {
  /// What the job does, as the status bar says it ("verifying the audit log").
  public let title: String
  /// What it does once every unit is done, when there is such a last step ("checking
  /// reports and items").
  public let lastStep: String?
  /// Stops what the work is waiting on at once (a running query), when quitting.
  private let interrupt: (@Sendable () -> Void)?
  private let work: @Sendable (BackgroundJob) -> StatusMessage?
  private let state = Mutex(State())
  private let done = DispatchSemaphore(value: 0)

  private struct State {
    var started = false
    var finished = false
    var stop = false
    var progress: (done: Int, total: Int?)?
    var result: StatusMessage?
  }

  /// `work` runs once, off the key loop; it returns the message to show when it is done (nil:
  /// nothing to say, e.g. it was stopped). `interrupt` is called when the console quits.
  public init(
    _ title: String, lastStep: String? = nil, interrupt: (@Sendable () -> Void)? = nil,
    work: @escaping @Sendable (BackgroundJob) -> StatusMessage?
  ) {
    self.title = title
    self.lastStep = lastStep
    self.interrupt = interrupt
    self.work = work
  }

  /// Starts the work through `runner` (a new thread, unless a test holds it back).
  func start(_ runner: BackgroundRunner) {
    state.withLock { $0.started = true }
    runner.run { [self] in
      let result = work(self)
      state.withLock {
        $0.result = result
        $0.finished = true
      }
      done.signal()
    }
  }

  /// Whether it was started and has not finished.
  var isRunning: Bool { state.withLock { $0.started && !$0.finished } }

  /// The result once the work is done (once: taking it empties it), nil while it runs.
  func takeResult() -> StatusMessage? {
    state.withLock { state in
      guard state.finished else { return nil }
      defer { state.result = nil }
      return state.result
    }
  }

  /// "verifying the audit log… 45%" (or with the count when the total is unknown; then the
  /// last step, once every unit is done).
  var progressText: String {
    let progress = state.withLock { $0.progress }
    guard let progress else { return title + "…" }
    if let total = progress.total, total > 0 {
      if progress.done >= total, let lastStep { return "\(title): \(lastStep)…" }
      return "\(title)… \(min(100, progress.done * 100 / total))%"
    }
    return "\(title)… \(Format.count(progress.done))"
  }

  /// Asks the work to stop at its next check.
  func cancel() { state.withLock { $0.stop = true } }

  /// Asks the work to stop, and interrupts what it waits on (the console is quitting).
  func stopNow() {
    cancel()
    if isRunning { interrupt?() }
  }

  /// Waits until started work has finished (it returns at once when none was started).
  func waitUntilFinished() {
    let wait = state.withLock { $0.started && !$0.finished }
    if wait {
      done.wait()
      done.signal()
    }
  }

  // MARK: LongRunObserver

  public func committed(_ done: Int, of total: Int?) {
    state.withLock { $0.progress = (done, total) }
  }

  public var stopRequested: Bool { state.withLock { $0.stop } }
}

/// Where the console runs background work: a thread of its own by default. Tests pass one
/// that holds the work until they let it run, so what the screen shows meanwhile is certain.
public struct BackgroundRunner: Sendable {
  public let run: @Sendable (@escaping @Sendable () -> Void) -> Void

  public init(run: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void) {
    self.run = run
  }

  /// A new thread for each job.
  public static let thread = BackgroundRunner { body in
    let thread = Thread { body() }
    thread.name = "csar console job"
    thread.start()
  }
}
