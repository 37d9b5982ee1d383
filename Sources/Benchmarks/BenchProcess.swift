// Processes a benchmark starts: the real `csar serve`, the load tool, the reference service.

import Foundation
import ProcessSpawn

#if canImport(Glibc)
  import Glibc
#endif

/// A benchmark step that could not be run; says which and why.
public struct BenchmarkError: Error, CustomStringConvertible {
  /// What went wrong.
  public var description: String

  /// An error saying `description`.
  public init(_ description: String) { self.description = description }
}

/// A child process with its output in files (no pipe to fill up), started with extra
/// environment variables.
public final class BenchProcess {
  let pid: pid_t
  let outPath: String
  let errPath: String
  let started: Double
  private var exitStatus: Int32?
  /// CPU seconds (user + system) of the whole run, once ``finish(terminate:)`` reaped it.
  private(set) var usedSeconds = 0.0
  /// Peak resident memory in bytes (`ru_maxrss`: the process's VmHWM, or that of its largest
  /// own child when it waited for some), once ``finish(terminate:)`` reaped it.
  private(set) var peakBytes = 0

  /// Starts `arguments[0]` (a path, or a name looked up in PATH).
  init(_ arguments: [String], environment: [String: String] = [:], folder: String) throws {
    let tag = "\(getpid())-\(UUID().uuidString.prefix(8))"
    outPath = folder + "/.bench-\(tag).out"
    errPath = folder + "/.bench-\(tag).err"
    let merged = ProcessSpawn.environment(environment)
    started = monotonicSeconds()
    do {
      pid = try ProcessSpawn.spawn(arguments, out: outPath, err: errPath, environment: merged)
    } catch {
      throw BenchmarkError(error.description)
    }
  }

  deinit {
    if exitStatus == nil, waitpid(pid, nil, WNOHANG) == 0 {
      kill(pid, SIGKILL)
      waitpid(pid, nil, 0)
    }
    unlink(outPath)
    unlink(errPath)
  }

  var out: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
  var err: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

  /// Whether it has exited (reaps it).
  var exited: Bool {
    if exitStatus != nil { return true }
    var status: Int32 = 0
    guard waitpid(pid, &status, WNOHANG) == pid else { return false }
    exitStatus = status
    return true
  }

  /// Waits until standard output (standard error with `inErrors`) contains `text`; the
  /// seconds since the start.
  func wait(for text: String, inErrors: Bool = false, timeout: Double) throws -> Double {
    let deadline = monotonicSeconds() + timeout
    while monotonicSeconds() < deadline {
      if (inErrors ? err : out).contains(text) { return monotonicSeconds() - started }
      if exited {
        throw BenchmarkError("\(pid) exited before \"\(text)\": \(err.suffix(600))")
      }
      usleep(2_000)
    }
    throw BenchmarkError("no \"\(text)\" within \(Int(timeout)) s: \(err.suffix(600))")
  }

  /// Waits for the exit (SIGTERM first when `terminate`); the exit status.
  @discardableResult
  func finish(terminate: Bool = false) -> Int32 {
    if exitStatus == nil {
      if terminate { kill(pid, SIGTERM) }
      var status: Int32 = 0
      var usage = rusage()
      while wait4(pid, &status, 0, &usage) == -1 && errno == EINTR {}
      exitStatus = status
      usedSeconds =
        Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
      peakBytes = Int(usage.ru_maxrss) * 1024
    }
    return ProcessSpawn.exitCode(exitStatus ?? 0)
  }

  /// Resident memory in bytes (`VmRSS`), 0 when unknown; with `children`, summed over this
  /// process and its direct children (gunicorn's workers).
  func residentBytes(children: Bool = false) -> Int {
    var pids = [pid]
    if children,
      let list = try? String(
        contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)
    {
      pids += list.split(separator: " ").compactMap { pid_t($0) }
    }
    return pids.reduce(0) { $0 + Self.residentBytes(of: $1) }
  }

  /// CPU seconds (user + system) the process has used so far, from `/proc/PID/stat`.
  var cpuSeconds: Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return 0 }
    // After "pid (name) ": state is field 3, utime 14 and stime 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12])
    else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
  }

  static func residentBytes(of pid: pid_t) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
      let kb = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kb * 1024
  }

  /// Runs a program to its end; its exit status, output and seconds.
  static func run(
    _ arguments: [String], environment: [String: String] = [:], folder: String
  ) throws -> (status: Int32, out: String, err: String, seconds: Double, cpu: Double) {
    let process = try BenchProcess(arguments, environment: environment, folder: folder)
    let status = process.finish()
    return (
      status, process.out, process.err, monotonicSeconds() - process.started,
      process.usedSeconds
    )
  }
}
