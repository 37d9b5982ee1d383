// A benchmark run as its own process, with its output and its own peak memory.

import Foundation

/// One finished child process of `csar bench all`: exit status, output, wall time and peak
/// resident memory (the kernel's `ru_maxrss` from `wait4`, which is the child's VmHWM, or that
/// of its largest own child when it waited for some).
struct BenchChild {
  /// The exit code, or 128 + the signal that ended it.
var status: Int32
  /// Standard output.
var out: String
  /// Standard error.
var err: String
  /// Wall seconds from start to exit.
var seconds: Double
  /// Peak resident memory in bytes.
var peakBytes: Int

  /// Whether it exited with status 0.
var succeeded: Bool { status == 0 }

  /// The last non-empty line of standard error (why it failed).
var lastError: String {
    err.split(separator: "\n").last.map(String.init) ?? "no message"
  }

  /// Runs `arguments[0]` (a path, or a name looked up in PATH) with the rest as arguments,
  /// standard output and error sent to files in `folder` (no pipe to fill up); waits for it.
static func run(_ arguments: [String], folder: String) throws -> BenchChild {
    let process = try BenchProcess(arguments, folder: folder)
    let status = process.finish()
    let seconds = monotonicSeconds() - process.started
    return BenchChild(
      status: status, out: process.out, err: process.err, seconds: seconds,
      peakBytes: process.peakBytes)
  }

  /// The first line of the output that starts with `prefix`.
func line(startingWith prefix: String) -> Substring? {
    out.split(separator: "\n").first { $0.hasPrefix(prefix) }
  }

  /// The figure after `marker` on the first line starting with `prefix`, in seconds when it
  /// is written `… ms` or `… s`, else as written (e.g. a rate).
func figure(_ prefix: String, after marker: String) -> Double? {
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
