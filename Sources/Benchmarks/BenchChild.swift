// A benchmark run as its own process, with its output and its own peak memory.

import Foundation
import ProcessSpawn

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One finished child process of `csar bench all`: exit status, output, wall time and peak
/// resident memory (the kernel's `ru_maxrss` from `wait4`, which is the child's VmHWM, or that
/// of its largest own child when it waited for some).
public struct BenchChild {
  /// The exit code, or 128 + the signal that ended it.
  public var status: Int32
  /// Standard output.
  public var out: String
  /// Standard error.
  public var err: String
  /// Wall seconds from start to exit.
  public var seconds: Double
  /// Peak resident memory in bytes.
  public var peakBytes: Int

  /// Whether it exited with status 0.
  public var succeeded: Bool { status == 0 }

  /// The last non-empty line of standard error (why it failed).
  public var lastError: String {
    err.split(separator: "\n").last.map(String.init) ?? "no message"
  }

  /// Runs `arguments[0]` (a path, or a name looked up in PATH) with the rest as arguments,
  /// standard output and error sent to files in `folder` (no pipe to fill up); waits for it.
  public static func run(_ arguments: [String], folder: String) throws -> BenchChild {
    let outPath = folder + "/.bench-child-\(getpid())-out"
    let errPath = folder + "/.bench-child-\(getpid())-err"
    defer {
      unlink(outPath)
      unlink(errPath)
    }
    let started = monotonicSeconds()
    let pid: pid_t
    do {
      pid = try ProcessSpawn.spawn(arguments, out: outPath, err: errPath)
    } catch {
      throw BenchmarkError(error.description)
    }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
      guard errno == EINTR else {
        throw BenchmarkError("waiting for \(arguments[0]): \(String(cString: strerror(errno)))")
      }
    }
    let seconds = monotonicSeconds() - started
    return BenchChild(
      status: ProcessSpawn.exitCode(status), out: read(outPath), err: read(errPath),
      seconds: seconds, peakBytes: Int(usage.ru_maxrss) * 1024)
  }

  private static func read(_ path: String) -> String {
    (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
  }

  /// The first line of the output that starts with `prefix`.
  public func line(startingWith prefix: String) -> Substring? {
    out.split(separator: "\n").first { $0.hasPrefix(prefix) }
  }

  /// The figure after `marker` on the first line starting with `prefix`, in seconds when it
  /// is written `… ms` or `… s`, else as written (e.g. a rate).
  public func figure(_ prefix: String, after marker: String) -> Double? {
    guard let line = line(startingWith: prefix),
      let range = line.range(of: marker)
    else { return nil }
    let rest = line[range.upperBound...].drop { $0 == " " || $0 == "\t" }
    let digits = rest.prefix { $0.isNumber || $0 == "." }
    guard let value = Double(digits) else { return nil }
    let unit = rest.dropFirst(digits.count).drop { $0 == " " }
    if unit.hasPrefix("ms") { return value / 1000 }
    return value
  }
}
