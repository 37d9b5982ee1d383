// Load over loopback with `wrk` (Debian package `wrk`): a Lua script per load, and the
// figures read back from wrk's `--latency` report.

import Foundation

/// One `wrk` run's figures.
public struct LoadFigures: Sendable {
  /// Requests completed per second.
  public var perSecond: Double
  /// Median and 99th percentile latency, seconds.
  public var p50: Double
  public var p99: Double
  /// Requests answered with a status other than 2xx/3xx, and socket errors.
  public var failures: Int
  /// Requests completed.
  public var requests: Int
  /// The server's CPU seconds per request (user + system), when measured: what the load
  /// average does not change much; 2 cores give at most 2 / this requests a second.
  public var cpuPerRequest: Double?
}

/// Drives a server with `wrk`.
struct WrkLoad {
  let folder: String
  let threads: Int
  let connections: Int
  let seconds: Int

  /// A script that POSTs `bodies` in turn (each a JSON text) with `headers`, followed by
  /// `more` (the pacing of a fixed-rate run).
  func jsonScript(
    name: String, bodies: [String], headers: [String: String], more: String = ""
  ) throws -> String {
    var lua = Self.post(contentType: "application/json", headers: headers)
    lua += "local bodies = {\n"
    for body in bodies { lua += "  [[\(body)]],\n" }
    // Each request is formatted once, in each thread's `init` (after wrk has set the Host
    // header), not on every send: formatting in Lua cost wrk about 15% more CPU a request,
    // taken from the two cores the server under test shares with it.
    lua += "}\nlocal requests = {}\n"
    lua += "init = function(args)\n"
    lua += "  for k, body in ipairs(bodies) do\n"
    lua += "    requests[k] = wrk.format(nil, nil, nil, body)\n  end\n"
    lua += "end\nlocal i = 0\n"
    lua += "request = function()\n  i = i + 1\n"
    lua += "  return requests[(i % #requests) + 1]\nend\n"
    return try save(lua + more, name: name)
  }

  /// The start of a script: POST with these headers.
  static func post(contentType: String, headers: [String: String]) -> String {
    var lua = "wrk.method = \"POST\"\n"
    lua += "wrk.headers[\"Content-Type\"] = \"\(contentType)\"\n"
    for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
      lua += "wrk.headers[\"\(name)\"] = \"\(value)\"\n"
    }
    return lua
  }

  /// Writes a script into the folder; its path.
  func save(_ lua: String, name: String) throws -> String {
    let path = folder + "/" + name + ".lua"
    try lua.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// A script that POSTs the bytes of the file at `file` as `contentType` with `headers`.
  func fileScript(
    name: String, file: String, contentType: String, headers: [String: String]
  ) throws -> String {
    var lua = Self.post(contentType: contentType, headers: headers)
    lua += "local f = assert(io.open(\(Self.luaString(file)), \"rb\"))\n"
    lua += "wrk.body = f:read(\"*all\")\nf:close()\n"
    return try save(lua, name: name)
  }

  /// `text` as a Lua string literal: every byte outside letters, digits, `/`, `.`, `-` and
  /// `_` as a decimal escape, so no path can end the string or the script.
  static func luaString(_ text: String) -> String {
    var literal = "\""
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "."),
        UInt8(ascii: "-"), UInt8(ascii: "_"):
        literal.append(Character(Unicode.Scalar(byte)))
      default:
        // Three digits always: Lua reads up to three, so \34 then 5 would read as \345.
        literal += String(format: "\\%03d", byte)
      }
    }
    return literal + "\""
  }

  /// Runs wrk against `url` with `script`; `connections` overrides the default. With
  /// `server`, its CPU time per request is measured too.
  func run(
    url: String, script: String, connections: Int? = nil, server: BenchProcess? = nil
  ) throws -> LoadFigures {
    let connections = connections ?? self.connections
    let cpuBefore = server?.cpuSeconds ?? 0
    let result = try BenchProcess.run(
      [
        "wrk", "-t", String(min(threads, connections)), "-c", String(connections),
        "-d", "\(seconds)s", "--timeout", "10s", "--latency", "-s", script, url,
      ], folder: folder)
    guard result.status == 0 else {
      throw BenchmarkError("wrk failed (is the Debian package wrk installed?): \(result.err)")
    }
    var figures = try Self.parse(result.out)
    if let server, figures.requests > 0 {
      figures.cpuPerRequest = (server.cpuSeconds - cpuBefore) / Double(figures.requests)
    }
    return figures
  }

  /// Reads wrk's report: `Requests/sec:`, the 50% and 99% lines of the latency
  /// distribution, non-2xx responses and socket errors.
  static func parse(_ report: String) throws -> LoadFigures {
    var figures = LoadFigures(perSecond: 0, p50: 0, p99: 0, failures: 0, requests: 0)
    var reported = false
    for line in report.split(separator: "\n") {
      let words = line.split(separator: " ", omittingEmptySubsequences: true)
      guard let first = words.first else { continue }
      switch first {
      case "Requests/sec:":
        figures.perSecond = Double(words.last ?? "") ?? 0
        reported = true
      case "50%": figures.p50 = duration(words.last ?? "")
      case "99%": figures.p99 = duration(words.last ?? "")
      case "Non-2xx": figures.failures += Int(words.last ?? "") ?? 0
      case "Socket":
        // Socket errors: connect 0, read 0, write 0, timeout 0
        figures.failures += words.compactMap { Int($0.trimmingCharacters(in: [","])) }
          .reduce(0, +)
      default:
        if words.count >= 2, words[1] == "requests", let n = Int(first) { figures.requests = n }
      }
    }
    // No request finished within the run (a debug build's scans can take longer than a short
    // run): 0/s is the figure, not a failure.
    guard reported else { throw BenchmarkError("no figures from wrk: \(report)") }
    return figures
  }

  /// `635.91us`, `1.02ms`, `2.00s` -> seconds.
  static func duration(_ text: Substring) -> Double {
    for (unit, scale) in [("us", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0)]
    where text.hasSuffix(unit) {
      return (Double(text.dropLast(unit.count)) ?? 0) * scale
    }
    return 0
  }
}
