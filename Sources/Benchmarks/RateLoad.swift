// Lookups at a fixed offered rate (an open schedule) over loopback, beside the saturation runs
// of `WrkLoad`: wrk with the saturation runs' threads, each paced by a Lua `delay()` that
// hands each of its connections the next send time of its share of an even schedule, and a
// report the script writes when wrk ends.
//
// Why wrk and not h2load (nghttp2-client 1.52) `--rps`: over HTTP/1.1 h2load's per-connection
// timer fires at most every 10 ms and sends the requests due since then one after another;
// every connection starts at once, so their timers fire together (64 requests in the same
// millisecond every 20 ms at `--rps 50`, measured); it times each request from its actual
// send, not from when it was due; it posts one body; and it abandoned most requests against
// the reference's gunicorn, which closes each connection. See the README ("Closed loop and
// offered rate").

import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One run at a fixed offered rate: what was asked, what was achieved, and the latency of
/// every request answered.
public struct RateFigures: Sendable, Equatable {
  /// Requests a second the schedule offered.
  public var offered: Int
  /// Requests answered within the run.
  public var requests: Int
  /// Seconds the run lasted (wrk's own count, from its start to its end).
  public var seconds: Double
  /// Median, 99th percentile and largest latency of the answered requests, seconds, each
  /// timed from the request's send.
  public var p50: Double
  public var p99: Double
  public var max: Double
  /// Answers with status 400 or more, and socket errors and timeouts.
  public var failures: Int
  /// Requests sent more than 1 ms after their time on the schedule (no connection was free,
  /// or wrk's loop was late): their latency does not include that wait.
  public var late: Int
  /// The largest such delay, seconds.
  public var latest: Double
  /// The server's CPU seconds per request (user + system), when measured.
  public var cpuPerRequest: Double?

  /// Requests answered a second: the rate actually achieved.
  public var achieved: Double { seconds > 0 ? Double(requests) / seconds : 0 }

  /// Whether the service kept up with the schedule: at least 98% of the offered rate
  /// answered (wrk's start-up is inside its count), at most 1% of the requests sent late,
  /// and no failures. Only then do the latencies describe that load.
  public var keptUp: Bool {
    achieved >= 0.98 * Double(offered) && late * 100 <= requests && failures == 0
  }
}

// MARK: - The run

/// Drives a server at `rate` requests a second over `connections` connections for `seconds`,
/// from `threads` wrk threads (each offers `rate / threads`: one thread's Lua cannot pace
/// 20,000 sends a second and answer them without falling behind, measured: 4.2% of its
/// sends late at 20,000/s, where two threads were 1.1% late on the same service).
struct RateLoad {
  let folder: String
  var threads = 1
  let connections: Int
  let seconds: Int
  let rate: Int

  /// Runs wrk against `url`, POSTing `bodies` in turn with `headers` on the schedule; `name`
  /// names its script and report in the folder. With `server`, its CPU time per request is
  /// measured too.
  func run(
    url: String, name: String, bodies: [String], headers: [String: String],
    server: BenchProcess? = nil
  ) throws -> RateFigures {
    let report = folder + "/" + name + ".report"
    unlink(report)
    let threads = max(1, min(threads, connections))
    let wrk = WrkLoad(
      folder: folder, threads: threads, connections: connections, seconds: seconds)
    let script = try wrk.jsonScript(
      name: name, bodies: bodies, headers: headers,
      more: Self.pacing(rate: rate, threads: threads, report: report))
    let cpuBefore = server?.cpuSeconds ?? 0
    let result = try BenchProcess.run(
      [
        "wrk", "-t", String(threads), "-c", String(connections), "-d", "\(seconds)s",
        "--timeout", "10s", "-s", script, url,
      ], folder: folder)
    guard result.status == 0 else {
      throw BenchmarkError("wrk failed (is the Debian package wrk installed?): \(result.err)")
    }
    var figures = try RateReport.read(path: report)
    if let server, figures.requests > 0 {
      figures.cpuPerRequest = (server.cpuSeconds - cpuBefore) / Double(figures.requests)
    }
    return figures
  }

  /// The Lua that paces each of wrk's `threads` threads and writes the report to `report` at
  /// the end.
  ///
  /// Each time a connection is free to send (wrk calls `delay()` before every request), it
  /// takes the next time of its thread's even schedule of `rate / threads` a second and waits
  /// until then (wrk waits in whole milliseconds, so sends leave in groups of about
  /// rate/1000 in all). A time already past means no connection of that thread was free when
  /// it came: the request goes at once and is counted late. Clock: CLOCK_MONOTONIC through
  /// LuaJIT's ffi (wrk's Lua has no clock of its own).
  static func pacing(rate: Int, threads: Int = 1, report: String) -> String {
    """

    local ffi = require("ffi")
    ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } csar_timespec;
    int clock_gettime(int clock, csar_timespec *ts);
    ]]
    local csar_clock = ffi.new("csar_timespec")
    local function csar_now()
      ffi.C.clock_gettime(1, csar_clock)
      return tonumber(csar_clock.tv_sec) * 1000000 + tonumber(csar_clock.tv_nsec) / 1000
    end
    local csar_interval = 1000000 * \(threads) / \(rate)
    local csar_next = nil
    csar_late = 0
    csar_latest = 0
    delay = function()
      local now = csar_now()
      if csar_next == nil then csar_next = now end
      local slot = csar_next
      csar_next = slot + csar_interval
      local behind = now - slot
      if behind > 1000 then csar_late = csar_late + 1 end
      if behind > csar_latest then csar_latest = behind end
      if behind >= 0 then return 0 end
      return math.floor(-behind / 1000 + 0.5)
    end
    local csar_threads = {}
    setup = function(thread) table.insert(csar_threads, thread) end
    done = function(summary, latency, requests)
      local late, latest = 0, 0
      for _, thread in ipairs(csar_threads) do
        late = late + thread:get("csar_late")
        latest = math.max(latest, thread:get("csar_latest"))
      end
      local e = summary.errors
      local f = assert(io.open(\(WrkLoad.luaString(report)), "w"))
      f:write(string.format("offered %.0f\\n", \(rate)))
      f:write(string.format("requests %.0f\\n", summary.requests))
      f:write(string.format("duration_us %.0f\\n", summary.duration))
      f:write(string.format("failures %.0f\\n",
        e.connect + e.read + e.write + e.status + e.timeout))
      f:write(string.format("p50_us %.0f\\n", latency:percentile(50)))
      f:write(string.format("p99_us %.0f\\n", latency:percentile(99)))
      f:write(string.format("max_us %.0f\\n", latency.max))
      f:write(string.format("late %.0f\\n", late))
      f:write(string.format("latest_us %.0f\\n", latest))
      f:close()
    end

    """
  }
}

// MARK: - The report

/// A report of a fixed-rate run that cannot be read: which file, which line, what is wrong.
public struct RateReportError: Error, CustomStringConvertible, Equatable {
  /// What is wrong with it.
  public enum Problem: Equatable, Sendable {
    /// The file could not be read (wrk ended before its `done()` wrote it).
    case unreadable(String)
    /// A line that is not `name value` with a whole number of at least 0.
    case malformed(String)
    /// A name the pacing script does not write.
    case unknownName(String)
    /// A name given twice.
    case repeated(String)
    /// A name the report lacks.
    case missing(String)
    /// A run of no duration.
    case noDuration
  }

  /// The report's path.
  public var file: String
  /// The line (from 1), or 0 when the problem is the whole file's.
  public var line: Int
  /// What is wrong.
  public var problem: Problem

  public var description: String {
    let place = line > 0 ? "\(file):\(line)" : file
    switch problem {
    case .unreadable(let reason): return "\(place): cannot read the rate report: \(reason)"
    case .malformed(let text):
      return "\(place): expected \"name number\" (a whole number, at least 0), found \"\(text)\""
    case .unknownName(let name): return "\(place): unknown figure \"\(name)\""
    case .repeated(let name): return "\(place): \"\(name)\" given twice"
    case .missing(let name): return "\(place): no \"\(name)\" line"
    case .noDuration: return "\(place): the run lasted 0 µs"
    }
  }
}

/// Reads the report the pacing script writes: one `name value` a line, values whole numbers.
enum RateReport {
  /// Every name, in the order the script writes them.
  static let names = [
    "offered", "requests", "duration_us", "failures", "p50_us", "p99_us", "max_us", "late",
    "latest_us",
  ]

  /// The figures in the file at `path`.
  static func read(path: String) throws -> RateFigures {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw RateReportError(
        file: path, line: 0, problem: .unreadable((error as NSError).localizedDescription))
    }
    return try parse(text, file: path)
  }

  /// The figures in `text`, the contents of the report `file` (named in errors).
  static func parse(_ text: String, file: String) throws -> RateFigures {
    var values: [String: Int] = [:]
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    for (index, line) in lines.enumerated() {
      if line.isEmpty && index == lines.count - 1 { break }
      let number = index + 1
      let words = line.split(separator: " ", omittingEmptySubsequences: false)
      guard words.count == 2, let value = Int(words[1]), value >= 0 else {
        throw RateReportError(file: file, line: number, problem: .malformed(String(line)))
      }
      let name = String(words[0])
      guard names.contains(name) else {
        throw RateReportError(file: file, line: number, problem: .unknownName(name))
      }
      guard values[name] == nil else {
        throw RateReportError(file: file, line: number, problem: .repeated(name))
      }
      values[name] = value
    }
    if let absent = names.first(where: { values[$0] == nil }) {
      throw RateReportError(file: file, line: 0, problem: .missing(absent))
    }
    func value(_ name: String) -> Int { values[name] ?? 0 }
    guard value("duration_us") > 0 else {
      throw RateReportError(file: file, line: 0, problem: .noDuration)
    }
    return RateFigures(
      offered: value("offered"), requests: value("requests"),
      seconds: Double(value("duration_us")) / 1e6, p50: Double(value("p50_us")) / 1e6,
      p99: Double(value("p99_us")) / 1e6, max: Double(value("max_us")) / 1e6,
      failures: value("failures"), late: value("late"),
      latest: Double(value("latest_us")) / 1e6)
  }
}
