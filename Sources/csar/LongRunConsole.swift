// Long commands on a terminal: a progress line, and Ctrl-C that stops between batches.

import ArgumentParser
import Dispatch
import Foundation
import Store
import Terminal

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - The observer of a long command

/// The command layer's ``LongRunObserver``: draws the progress line (``ProgressMeter``) on
/// stderr when stderr is a terminal, and turns Ctrl-C into `stopRequested`. A second Ctrl-C
/// exits at once (the Store's transaction in flight is never committed, so SQLite rolls it
/// back).
final class CommandProgress: LongRunObserver, @unchecked Sendable {
  private let lock = NSLock()
  private var meter: ProgressMeter
  /// Whether the line is drawn: stderr is a terminal and the output is not JSON.
  let shows: Bool
  private let started = DispatchTime.now()
  private var interrupts = 0
  private var drawn = false

  init(task: String, unit: String, shows: Bool) {
    meter = ProgressMeter(task: task, unit: unit)
    self.shows = shows
  }

  /// Draws the line before the first batch commits (reading and checking the input can
  /// take a while): "consent import: reading and checking the input…".
  func starting() {
    lock.withLock {
      guard shows else { return }
      Output.progress(meter.task + ": reading and checking the input…")
      drawn = true
    }
  }

  var stopRequested: Bool { lock.withLock { interrupts > 0 } }

  func committed(_ done: Int, of total: Int?) {
    lock.withLock {
      guard meter.record(done, of: total, at: seconds()), shows else { return }
      Output.progress(meter.line(width: Self.columns()))
      drawn = true
    }
  }

  /// Counts a Ctrl-C; returns how many there were.
  func interrupted(times: Int = 1) -> Int {
    lock.withLock {
      interrupts += times
      // Also erases the terminal's echo of ^C.
      if shows { Output.clearProgress() }
      drawn = false
      return interrupts
    }
  }

  /// Units committed so far, of how many.
  var figures: (done: Int, total: Int?) { lock.withLock { (meter.done, meter.total) } }

  /// Ends the display: the progress line gives way to its summary (on a terminal, when the
  /// run committed anything), or is erased (`summary: false`, before a stop message).
  func finish(summary: Bool) {
    lock.withLock {
      guard shows else { return }
      if drawn { Output.clearProgress() }
      drawn = false
      if summary, meter.done > 0 {
        Output.error(meter.summary(elapsed: seconds(), width: Self.columns()))
      }
    }
  }

  private func seconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
  }

  /// The width of the terminal on stderr (80 when it does not say).
  static func columns() -> Int {
    var size = winsize()
    if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    return 80
  }
}

// MARK: - Running a long command

/// Runs the long part of a command with a ``CommandProgress``: Ctrl-C (SIGINT) is caught for
/// its duration and asks the Store to stop at the next batch boundary; the Store's
/// ``LongRunStopped`` becomes the message "TASK stopped: N of M UNIT committed. To finish,
/// ..." and exit status 130. A second Ctrl-C ends the process at once with status 130.
enum LongRunCommand {
  /// The exit status of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
  static let interruptedStatus: Int32 = 130

  /// Runs `body` with an observer. `json`: no progress line (stdout carries data; stderr
  /// stays quiet). `onAbort` runs before an immediate exit on the second Ctrl-C (removing a
  /// temporary file, say); it must be quick. `describe` words the stop message.
  static func run<T>(
    task: String, unit: String, json: Bool = false, onAbort: @escaping @Sendable () -> Void = {},
    describe: (LongRunStopped) -> String = message, _ body: (CommandProgress) throws -> T
  ) throws -> T {
    let progress = CommandProgress(
      task: task, unit: unit, shows: !json && isatty(2) == 1)
    let source = DispatchSource.makeSignalSource(
      signal: SIGINT, queue: DispatchQueue(label: "csar.sigint"))
    signal(SIGINT, SIG_IGN)
    source.setEventHandler {
      let count = progress.interrupted(times: max(1, Int(source.data)))
      if count == 1 {
        Output.error(
          "\(task): stopping after the batch in flight (Ctrl-C again to stop at once)")
        return
      }
      let (done, total) = progress.figures
      Output.error(
        "\(task) stopped at once: \(Self.count(done, of: total, unit)) committed; the batch "
          + "in flight was rolled back. To finish, run the same command again.")
      onAbort()
      _exit(interruptedStatus)
    }
    source.resume()
    progress.starting()
    defer {
      source.cancel()
      signal(SIGINT, SIG_DFL)
    }
    do {
      let result = try body(progress)
      progress.finish(summary: true)
      return result
    } catch let stopped as LongRunStopped {
      progress.finish(summary: false)
      Output.error(describe(stopped))
      throw ExitCode(interruptedStatus)
    } catch {
      progress.finish(summary: false)
      throw error
    }
  }

  /// "consent import stopped: 430,000 of 1,000,000 events committed. To finish, run the same
  /// command again: events already recorded are skipped."
  static func message(_ stopped: LongRunStopped) -> String {
    "\(stopped.task) stopped: \(count(stopped.committed, of: stopped.total, stopped.unit)) "
      + "committed. To finish, \(stopped.resume)."
  }

  /// "430,000 of 1,000,000 events".
  static func count(_ done: Int, of total: Int?, _ unit: String) -> String {
    ProgressMeter.grouped(done) + (total.map { " of " + ProgressMeter.grouped($0) } ?? "")
      + " " + unit
  }
}
