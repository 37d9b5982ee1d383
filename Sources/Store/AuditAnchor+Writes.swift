import Foundation
import Synchronization

// MARK: - A failed anchor write

/// The audit anchor could not be written after a committed change: a FIFO, symlink or
/// folder at its path, a folder others can write to, a folder this account cannot write; or
/// it was kept as it is, because the log no longer reaches it or it cannot be used.
/// The change stays committed (the database is the truth); the anchor lags behind the log
/// until a later audited change writes it, and until then `csar audit verify` cannot tell
/// whether events at the end of the log were cut.
public struct AnchorWriteFailure: Error, Equatable, Sendable, CustomStringConvertible {
  /// The anchor file that was not written.
  public let path: String
  /// How many events the log had: the head the anchor should have recorded.
  public let events: Int64
  /// Why it was not written.
  public let cause: Cause

  /// Why an anchor was not written.
  public enum Cause: Equatable, Sendable, CustomStringConvertible {
    /// The file could not be written.
    case file(PrivateFileError)
    /// The anchor there was kept: the log does not reach it (events cut, the database file
    /// replaced by an older or another one) or it cannot be used (forged, damaged). Written
    /// over, it would take that log as genuine.
    case kept(reason: String)

    public var description: String {
      switch self {
      case .file(let error): error.description
      case .kept(let reason): reason
      }
    }
  }

  public init(path: String, events: Int64, error: PrivateFileError) {
    self.init(path: path, events: events, cause: .file(error))
  }

  public init(path: String, events: Int64, cause: Cause) {
    self.path = path
    self.events = events
    self.cause = cause
  }

  /// The file error, when that is why.
  public var error: PrivateFileError? {
    if case .file(let error) = cause { error } else { nil }
  }

  public var description: String {
    switch cause {
    case .file(let error):
      "the change is saved, but the audit anchor was not written (the log has \(events) "
        + "events): \(error)\(Self.advice(error)). Until an anchor is written, "
        + "`csar audit verify` cannot tell whether events at the end of the log were cut"
    case .kept(let reason):
      "the change is saved, but the audit anchor was not written (the log has \(events) "
        + "events): \(path): \(reason). The anchor is kept as it is: written over, it would "
        + "take this log as genuine. Run `csar audit verify`; if this database file was "
        + "restored from an older backup on purpose, an admin accepts its log with `csar "
        + "audit reanchor` (recorded in the log, with the events it lost)"
    }
  }

  /// One line for a status bar: what happened and why, without the advice.
  public var summary: String {
    "Saved, but the audit anchor was not written: \(cause)"
  }

  /// What to do (the `chmod` or `chown` when the error names none), and that the next
  /// audited change writes the anchor again.
  static func advice(_ error: PrivateFileError) -> String {
    let again = "; the next audited change writes a new anchor"
    switch error {
    case .symlink, .notARegularFile:
      return AuditAnchor.AnchorProblem.removalAdvice(error)
    case .notAFolder(let path, _):
      return ". The anchors live in a folder there: move the file away (`mv "
        + "\(PrivateFiles.shellWord(path)) \(PrivateFiles.shellWord(path + ".moved"))`)\(again)"
    case .io(let path, _, _):
      let folder = PrivateFiles.shellWord(PrivateFiles.folder(of: path))
      return ". This account must be able to create files in the anchor folder: see "
        + "`ls -ld \(folder)` (its owner and mode, `chmod 700 \(folder)`; a full or read-only "
        + "disk)\(again)"
    default:
      return again
    }
  }
}

// MARK: - What became of a database's anchor writes

/// What became of the anchor writes of one open database, shared by every thread writing
/// through it: the failures so far, the newest one, and whether the anchor is behind the log
/// now (the newest write failed). ``onFailure(_:)`` is told of each failure as it happens:
/// the console shows it, the service logs and counts it. A database without a handler of
/// its own tells the process's (``onFailureOfAnyDatabase(_:)``): the command line prints
/// it, for every database a command, the demo or a benchmark opens.
public final class AnchorWrites: Sendable {
  /// Something told of a failed anchor write.
  public typealias Handler = @Sendable (AnchorWriteFailure) -> Void

  private struct State {
    var failures = 0
    var last: AnchorWriteFailure?
    var behind = false
    var handler: Handler?
    /// A failure no handler of this database was told of yet (one before the handler was
    /// set, told to the process's handler if any).
    var untold: AnchorWriteFailure?
  }
  private let state = Mutex(State())

  /// The handler of every database that has none of its own.
  private static let processHandler = Mutex<Handler?>(nil)

  /// Calls `handler` with each failed anchor write of any database of this process that has
  /// no handler of its own (``onFailure(_:)``) when it fails, opened before or after; nil
  /// stops it. The executable sets it once at start, so no database it opens (a command's,
  /// the demo's, a benchmark's scratch one) fails silently.
  public static func onFailureOfAnyDatabase(_ handler: Handler?) {
    processHandler.withLock { $0 = handler }
  }

  init() {}

  /// Anchor writes that failed since the database was opened.
  public var failures: Int { state.withLock { $0.failures } }
  /// The newest failure, if any.
  public var lastFailure: AnchorWriteFailure? { state.withLock { $0.last } }
  /// Whether the newest anchor write failed: the anchor is behind the committed log.
  public var isBehind: Bool { state.withLock { $0.behind } }

  /// Calls `handler` with each failure from now on (replacing the previous handler), and at
  /// once with a failure no handler was told of yet (one while the database was opened).
  public func onFailure(_ handler: @escaping Handler) {
    let untold = state.withLock { state -> AnchorWriteFailure? in
      state.handler = handler
      defer { state.untold = nil }
      return state.untold
    }
    if let untold { handler(untold) }
  }

  func succeeded() {
    state.withLock { $0.behind = false }
  }

  func failed(_ failure: AnchorWriteFailure) {
    let handler = state.withLock { state in
      state.failures += 1
      state.last = failure
      state.behind = true
      if state.handler == nil { state.untold = failure }
      return state.handler
    }
    (handler ?? Self.processHandler.withLock { $0 })?(failure)
  }
}
