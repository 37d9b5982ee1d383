// `csar bench serve`: the real `csar serve` driven over loopback with wrk, at one or more
// bank sizes, beside a reference service built the way HMA serves PDQ lookups (Flask under
// gunicorn around threatexchange's PDQ index) on the same hashes.

import Detection
import Foundation
import Store

#if canImport(Glibc)
  import Glibc
#endif

/// The service benchmark: for each bank size, a database with that many random PDQ hashes
/// (kept in `folder` and reused by later runs), then
/// - `csar serve` started without a snapshot (it builds the index and writes the snapshot)
///   and again with it: seconds from exec to listening, resident memory;
/// - `csar scan` of one JPEG as its own process (open, map the snapshot, decode, hash,
///   match): median wall time of 5 runs;
/// - lookups of one PDQ hash per request and scans of the JPEG with wrk at saturation (a
///   closed loop: every connection sends again as soon as it is answered): requests/s, p50,
///   p99;
/// - the same lookups at a fixed offered rate (``RateLoad``): the rate achieved, p50, p99
///   and max of every request;
/// - the reference service's lookups with the same wrk script, both ways, when `python` has
///   Flask, gunicorn and threatexchange.
public struct ServeBenchmark {
  /// The `csar` executable to benchmark.
  public var csar: String
  /// Bank sizes (PDQ hashes).
  public var sizes: [Int]
  /// Where databases, snapshots and scripts are kept.
  public var folder: String
  /// The JPEG to scan.
  public var image: String
  /// Seconds of each wrk run.
  public var seconds = 10
  /// wrk threads.
  public var threads = 2
  /// Connections for lookups.
  public var connections = 64
  /// Connections for scans.
  public var scanConnections = 4
  /// Lookups a second offered in the fixed-rate run (0: no such run).
  public var rate = 20_000
  /// A Python with flask, gunicorn and threatexchange (nil: no reference).
  public var python: String?
  /// `bench/reference_lookup.py`.
  public var referenceScript: String?
  /// Gunicorn worker processes of the reference.
  public var referenceWorkers = 5
  /// Where each line of the report goes (by default the writer ``BenchOutput`` binds).
  public var report: (String) -> Void = { print($0) }

  /// The figures of one bank size.
  public struct Figures {
    public var hashes: Int
    public var coldStart = 0.0
    public var warmStart = 0.0
    public var warmStartCPU = 0.0
    public var serverBytes = 0
    public var snapshotBytes = 0
    public var scanCommand = 0.0
    public var scanCommandCPU = 0.0
    public var lookups: LoadFigures?
    public var scans: LoadFigures?
    public var reference: LoadFigures?
    /// Lookups at the fixed offered rate, csar's and the reference's, or why there are none.
    public var rated: RateFigures?
    public var ratedProblem: String?
    public var referenceRated: RateFigures?
    public var referenceStart = 0.0
    public var referenceBytes = 0
    public var referenceProblem: String?
  }

  /// A benchmark with its required settings.
  public init(csar: String, sizes: [Int], folder: String, image: String) {
    self.csar = csar
    self.sizes = sizes
    self.folder = folder
    self.image = image
  }

  var configHome: String { folder + "/config" }
  var environment: [String: String] { ["XDG_CONFIG_HOME": configHome] }
  static let account = "A-bench"
  static let service = "bench"

  /// Runs every size; prints figures as they come, then the table.
  @discardableResult
  public func run() throws -> [Figures] {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var all: [Figures] = []
    for size in sizes { all.append(try run(size: size)) }
    for line in Self.table(all) { report(line) }
    return all
  }

  // MARK: - One size

  func run(size: Int) throws -> Figures {
    let database = folder + "/serve-\(size).sqlite"
    let hashesFile = folder + "/serve-\(size).hashes"
    let queries = try prepare(database: database, hashesFile: hashesFile, size: size)
    var figures = Figures(hashes: size)
    let snapshot = (database as NSString).deletingPathExtension + ".pdqindex"
    unlink(snapshot)

    // Cold start (build + write the snapshot), then warm (map the snapshot).
    let cold = try startServer(database)
    figures.coldStart = cold.seconds
    cold.process.finish(terminate: true)
    let warm = try startServer(database)
    figures.warmStart = warm.seconds
    figures.warmStartCPU = warm.process.cpuSeconds
    figures.snapshotBytes = Self.fileBytes(snapshot)
    report("serve \(size)\tstart \(Self.ms(figures.coldStart)) without the snapshot, "
      + "\(Self.ms(figures.warmStart)) with it (CPU \(Self.ms(figures.warmStartCPU)); snapshot "
      + "\(Self.mib(figures.snapshotBytes)))")
    defer { warm.process.finish(terminate: true) }
    // Lookups are measured once the service has prepared its index for queries (it answers
    // meanwhile, a little more slowly). A bank below the slot tables' size is scanned
    // linearly and has nothing to prepare.
    if size >= PDQIndex.linearScanLimit,
      let built = try? warm.process.wait(
        for: "bank index prepared for queries", inErrors: true, timeout: 900)
    {
      report("serve \(size)\tprepared for queries \(Self.ms(built - warm.seconds)) after listening")
    }

    let token = try String(contentsOfFile: configHome + "/csar/service.token", encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    let wrk = WrkLoad(
      folder: folder, threads: threads, connections: connections, seconds: seconds)
    let auth = ["Authorization": "Bearer " + token]
    let bodies = queries.map { #"{"hashes":[{"type":"pdq","value":"\#($0)"}]}"# }
    let lookupScript = try wrk.jsonScript(name: "lookup-\(size)", bodies: bodies, headers: auth)
    let base = "http://127.0.0.1:\(warm.port)"
    let lookups = try wrk.run(
      url: base + "/v1/lookup", script: lookupScript, server: warm.process)
    figures.lookups = lookups
    figures.serverBytes = warm.process.residentBytes()
    report("serve \(size)\tlookups \(Self.load(lookups)), \(connections) connections; "
      + "server RSS \(Self.mib(figures.serverBytes)); load average \(Self.loadAverage())")
    let rateLoad = RateLoad(
      folder: folder, threads: wrk.threads, connections: connections, seconds: seconds,
      rate: rate)
    if rate > 0 {
      do {
        let rated = try rateLoad.run(
          url: base + "/v1/lookup", name: "lookup-rate-\(size)", bodies: bodies,
          headers: auth, server: warm.process)
        figures.rated = rated
        report("serve \(size)\tlookups at a fixed rate: \(Self.rated(rated)); load average "
          + Self.loadAverage())
      } catch {
        figures.ratedProblem = "failed: \(error)"
        report("serve \(size)\tlookups at a fixed rate: \(figures.ratedProblem ?? "")")
      }
    }
    let scanScript = try wrk.fileScript(
      name: "scan", file: image, contentType: "image/jpeg", headers: auth)
    let scans = try wrk.run(
      url: base + "/v1/scan?account=\(Self.account)&service=\(Self.service)",
      script: scanScript, connections: scanConnections, server: warm.process)
    figures.scans = scans
    report("serve \(size)\tscans \(Self.load(scans)), \(scanConnections) connections; "
      + "load average \(Self.loadAverage())")

    // `csar scan` as one process per upload, with the snapshot in place.
    var times: [Double] = []
    var cpu: [Double] = []
    for _ in 0..<5 {
      let run = try BenchProcess.run(
        [csar, "scan", "--db", database, "--json", image], environment: environment,
        folder: folder)
      guard run.status == 0 else { throw BenchmarkError("csar scan failed: \(run.err)") }
      times.append(run.seconds)
      cpu.append(run.cpu)
    }
    figures.scanCommand = times.sorted()[2]
    figures.scanCommandCPU = cpu.sorted()[2]
    report("scan \(size)\t`csar scan` of one image: median \(Self.ms(figures.scanCommand)) "
      + "(CPU \(Self.ms(figures.scanCommandCPU)))")

    reference(
      &figures, hashesFile: hashesFile, script: lookupScript, wrk: wrk,
      rated: rate > 0 ? (rateLoad, bodies, auth) : nil)
    return figures
  }

  /// Starts `csar serve` on a free port; the process, its port and seconds to listening.
  func startServer(_ database: String) throws
    -> (process: BenchProcess, port: Int, seconds: Double)
  {
    let process = try BenchProcess(
      [csar, "serve", "--db", database, "--listen", "127.0.0.1:0"], environment: environment,
      folder: folder)
    let seconds = try process.wait(for: "listening on http://127.0.0.1:", timeout: 900)
    let out = process.out
    guard let range = out.range(of: "listening on http://127.0.0.1:"),
      let port = Int(out[range.upperBound...].prefix { $0.isNumber })
    else { throw BenchmarkError("no port in \(out)") }
    return (process, port, seconds)
  }

  // MARK: - The reference

  /// The reference's lookups with wrk at saturation, then, with `rated`, at the fixed rate.
  func reference(
    _ figures: inout Figures, hashesFile: String, script: String, wrk: WrkLoad,
    rated: (load: RateLoad, bodies: [String], headers: [String: String])?
  ) {
    guard let python, let referenceScript else {
      figures.referenceProblem = "skipped (no --python with flask, gunicorn, threatexchange)"
      return
    }
    do {
      let port = 18_000 + Int(getpid() % 1000)
      let scriptFolder = (referenceScript as NSString).deletingLastPathComponent
      let module = ((referenceScript as NSString).lastPathComponent as NSString)
        .deletingPathExtension
      let server = try BenchProcess(
        [
          python, "-m", "gunicorn", "--preload", "-w", String(referenceWorkers), "-b",
          "127.0.0.1:\(port)", "--chdir", scriptFolder, "--log-level", "warning",
          module + ":app",
        ], environment: ["CSAR_REFERENCE_HASHES": hashesFile], folder: folder)
      defer { server.finish(terminate: true) }
      let deadline = monotonicSeconds() + 1800
      while !Self.answers(port: port) {
        guard !server.exited, monotonicSeconds() < deadline else {
          throw BenchmarkError("the reference did not start: \(server.err.suffix(600))")
        }
        usleep(20_000)
      }
      figures.referenceStart = monotonicSeconds() - server.started
      let load = try wrk.run(url: "http://127.0.0.1:\(port)/v1/lookup", script: script)
      figures.reference = load
      figures.referenceBytes = server.residentBytes(children: true)
      report("reference \(figures.hashes)\tlookups \(Self.load(load)); start "
        + "\(Self.ms(figures.referenceStart)), RSS (sum over workers) "
        + Self.mib(figures.referenceBytes))
      if let rated {
        do {
          let atRate = try rated.load.run(
            url: "http://127.0.0.1:\(port)/v1/lookup", name: "lookup-rate-reference",
            bodies: rated.bodies, headers: rated.headers)
          figures.referenceRated = atRate
          report("reference \(figures.hashes)\tlookups at a fixed rate: " + Self.rated(atRate))
        } catch {
          report("reference \(figures.hashes)\tlookups at a fixed rate: failed: \(error)")
        }
      }
    } catch {
      figures.referenceProblem = "failed: \(error)"
      report("reference \(figures.hashes)\t\(figures.referenceProblem ?? "")")
    }
  }

  /// Whether something answers `GET /health` with 200 on 127.0.0.1:`port`.
  static func answers(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { return false }
    let request = Array("GET /health HTTP/1.0\r\n\r\n".utf8)
    guard send(fd, request, request.count, 0) == request.count else { return false }
    var reply = [UInt8](repeating: 0, count: 64)
    let n = recv(fd, &reply, reply.count, 0)
    return n > 12 && String(decoding: reply[0..<n], as: UTF8.self).contains(" 200 ")
  }

  // MARK: - Output

  static func ms(_ seconds: Double) -> String {
    seconds >= 1 ? String(format: "%.2f s", seconds) : String(format: "%.1f ms", seconds * 1000)
  }

  static func mib(_ bytes: Int) -> String { String(format: "%.0f MiB", Double(bytes) / 1_048_576) }

  static func load(_ figures: LoadFigures) -> String {
    String(format: "%.0f/s, p50 %.2f ms, p99 %.2f ms", figures.perSecond, figures.p50 * 1000,
      figures.p99 * 1000)
      + (figures.failures > 0 ? " (\(figures.failures) failed)" : "")
      + (figures.cpuPerRequest.map { String(format: ", server CPU %.3f ms a request", $0 * 1000) }
        ?? "")
  }

  /// A fixed-rate run in words: offered, achieved, p50 / p99 / max, and whether it kept up.
  static func rated(_ figures: RateFigures) -> String {
    var text = String(
      format: "offered %ld/s, achieved %.0f/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms",
      figures.offered, figures.achieved, figures.p50 * 1000, figures.p99 * 1000,
      figures.max * 1000)
    if figures.failures > 0 { text += " (\(figures.failures) failed)" }
    if let cpu = figures.cpuPerRequest {
      text += String(format: ", server CPU %.3f ms a request", cpu * 1000)
    }
    if figures.keptUp { return text + "; kept up" }
    var reasons: [String] = []
    if figures.achieved < 0.98 * Double(figures.offered) { reasons.append("under 98% achieved") }
    if figures.failures > 0 { reasons.append("failures") }
    if figures.late > 0 {
      reasons.append(String(
        format: "%ld of %ld requests sent over 1 ms late (up to %.1f ms), a wait their latency "
          + "leaves out", figures.late, figures.requests, figures.latest * 1000))
    }
    return text + "; did not keep up: " + reasons.joined(separator: ", ")
  }

  /// The machine's 1-minute load average (other work competes for the cores).
  static func loadAverage() -> String {
    let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
    return text.split(separator: " ").first.map(String.init) ?? "?"
  }

  static func fileBytes(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
  }

  /// The figures as rows of the README's table: benchmark, csar, target, reference, ratio.
  static func table(_ all: [Figures]) -> [String] {
    var rows = [
      "| benchmark | csar | target | reference | csar/ref |", "| --- | --- | --- | --- | --- |",
    ]
    func row(_ name: String, _ value: String, _ target: String, _ ref: String = "",
      _ ratio: String = "") {
      rows.append("| \(name) | \(value) | \(target) | \(ref) | \(ratio) |")
    }
    func mark(_ ok: Bool) -> String { ok ? " ✓" : " ✗" }
    func cpu(_ load: LoadFigures) -> String {
      load.cpuPerRequest.map { String(format: "; CPU %.3f ms/request", $0 * 1000) } ?? ""
    }
    func label(_ hashes: Int) -> String {
      hashes >= 1_000_000 && hashes % 1_000_000 == 0 ? "\(hashes / 1_000_000)M" : String(hashes)
    }
    for f in all {
      let n = label(f.hashes)
      if let l = f.lookups {
        let ref =
          f.reference.map {
            String(format: "%.0f/s, p99 %.2f ms", $0.perSecond, $0.p99 * 1000)
          } ?? (f.referenceProblem ?? "")
        let ratio = f.reference.map { String(format: "%.1f×", l.perSecond / $0.perSecond) } ?? ""
        row("lookups/s at \(n), 64 connections (p50 / p99)",
          String(format: "%.0f/s (%.2f / %.2f ms)", l.perSecond, l.p50 * 1000, l.p99 * 1000)
            + (l.failures > 0 ? ", \(l.failures) failed" : "") + cpu(l),
          "≥ 20,000/s, p99 < 5 ms" + mark(l.perSecond >= 20_000 && l.p99 < 0.005), ref, ratio)
      }
      if let r = f.rated {
        let ref =
          f.referenceRated.map {
            String(format: "achieved %.0f/s, p99 %.2f ms", $0.achieved, $0.p99 * 1000)
              + ($0.keptUp ? "" : ", did not keep up")
          } ?? (f.referenceProblem ?? "")
        let ratio = f.referenceRated.map { String(format: "%.1f×", r.achieved / $0.achieved) }
        row("lookups at \(n), \(r.offered)/s offered over 64 connections "
          + "(achieved; p50 / p99 / max)",
          String(format: "%.0f/s (%.2f / %.2f / %.2f ms)", r.achieved, r.p50 * 1000,
            r.p99 * 1000, r.max * 1000)
            + (r.keptUp ? "" : ", did not keep up")
            + (r.cpuPerRequest.map { String(format: "; CPU %.3f ms/request", $0 * 1000) } ?? ""),
          r.offered >= 20_000
            ? "p99 < 5 ms at 20,000/s, kept up" + mark(r.keptUp && r.p99 < 0.005) : "",
          ref, ratio ?? "")
      } else if let problem = f.ratedProblem {
        row("lookups at \(n), fixed offered rate", problem, "")
      }
      if let s = f.scans {
        row("scans/s at \(n), 1600x1004 JPEG (p50 / p99)",
          String(format: "%.0f/s (%.2f / %.2f ms)", s.perSecond, s.p50 * 1000, s.p99 * 1000)
            + cpu(s),
          "≥ 100/s, p99 < 60 ms" + mark(s.perSecond >= 100 && s.p99 < 0.060))
      }
      row("`csar serve` start at \(n), with the snapshot (CPU; without the snapshot)",
        "\(ms(f.warmStart)) (\(ms(f.warmStartCPU)); \(ms(f.coldStart)))",
        f.hashes >= 10_000_000 ? "< 1 s" + mark(f.warmStart < 1) : "",
        f.reference != nil ? "start \(ms(f.referenceStart))" : "")
      row("`csar scan` of one image at \(n), one process (CPU)",
        "\(ms(f.scanCommand)) (\(ms(f.scanCommandCPU)))",
        f.hashes == 1_000_000 ? "< 100 ms" + mark(f.scanCommand < 0.1) : "")
      // Per million hashes only from the difference with a size at least 1M hashes smaller:
      // a single size's RSS is mostly the service's fixed base at small sizes.
      let refMemory = f.reference != nil ? mib(f.referenceBytes) + " (sum over workers)" : ""
      if let base = all.filter({ $0.hashes <= f.hashes - 1_000_000 && $0.serverBytes > 0 })
        .max(by: { $0.hashes < $1.hashes })
      {
        let perMillion = Double(f.serverBytes - base.serverBytes)
          / (Double(f.hashes - base.hashes) / 1e6)
        row("server memory at \(n) (per million hashes: the RSS difference from "
          + "\(label(base.hashes)) over the difference in hashes)",
          "\(mib(f.serverBytes)) (\(mib(Int(perMillion))))", "", refMemory)
      } else {
        row("server memory at \(n)", mib(f.serverBytes), "", refMemory)
      }
    }
    return rows
  }
}
