// `csar bench all`: every benchmark on one demo database, summarised in one table.

import ArgumentParser
import Foundation
import Imaging

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs the whole suite: makes a demo database of `--items` items when missing, then runs each
/// `csar bench …` command on it as its own process (this binary), so that every figure is the
/// one the standalone command prints and every peak memory is that benchmark's own (VmHWM
/// only grows within a process), and the reference tools (pdqhash, faiss) when installed.
public struct AllBenchmark: ParsableArguments {
  public init() {}

  @Option(name: .long, help: "Items in the demo database.")
  var items = 1_000_000

  @Option(name: .long, help: "Side of the large square PNG and JPEG hashed for peak memory.")
  var largeSide = 9999

  @Option(name: .long, help: "Folder for the databases and files the benchmarks make.")
  var dir = "csar-bench"

  @Option(name: .long, help: "Repetitions of the console and queue measurements.")
  var runs = 21

  @Option(name: .long, help: "Repetitions of the PDQ and preview measurements.")
  var iterations = 30

  @Option(name: .long, help: "Image for preview and PDQ (default: a 1600x1004 JPEG).")
  var image: String?

  @Option(name: .long, help: "Index sizes for PDQ matching, comma-separated.")
  var matchHashes = "1000000,10000000"

  @Option(name: .long, help: "PDQ queries per index size.")
  var queries = 1000

  @Option(name: .long, help: "Consent events per import.")
  var consentEvents = 1_000_000

  @Option(name: .long, help: "Consent imports to time.")
  var consentRuns = 3

  @Option(name: .long, help: "Consent account searches to time.")
  var consentQueries = 200

  @Option(name: .long, help: "Hashes per file of the hash-list formats import (bench formats).")
  var formatHashes = 1_000_000

  @Option(name: .long, help: "Ready reports per export.")
  var reports = 10_000

  @Option(name: .long, help: "Report exports to time.")
  var reportRuns = 3

  @Option(name: .long, help: "Worker processes for the contention runs, comma-separated.")
  var workers = "2,4"

  @Option(name: .long, help: "Seconds each contention worker works.")
  var contentionSeconds = 5.0

  @Option(name: .long, help: "Bank sizes for `bench serve` (wrk), comma-separated.")
  var serveHashes = "1000000"

  @Option(name: .long, help: "Seconds of each wrk run of `bench serve`.")
  var serveSeconds = 10

  @Option(
    name: .long,
    help: "Lookups a second `bench serve` offers in its fixed-rate run (0 leaves it out).")
  var serveRate = 20_000

  @OptionGroup var reference: BenchReferenceOptions

  @Flag(name: .long, help: "Do not run the reference tools.")
  var noReference = false

  public func validate() throws {
    guard items >= 1, largeSide >= 1, runs >= 2, iterations >= 1, queries >= 1, consentEvents >= 1,
      consentRuns >= 1, consentQueries >= 1, reports >= 1, reportRuns >= 1,
      contentionSeconds > 0, formatHashes >= 1
    else {
      throw ValidationError(
        "sizes and repetitions must be positive (--runs at least 2, as `bench console`)")
    }
    guard !sizes(matchHashes).isEmpty, !sizes(workers).isEmpty else {
      throw ValidationError("--match-hashes and --workers are comma-separated positive numbers")
    }
    guard sizes(serveHashes).allSatisfy({ $0 >= 1_000 }), !sizes(serveHashes).isEmpty,
      serveSeconds >= 1, serveRate >= 0
    else {
      throw ValidationError(
        "--serve-hashes: sizes of at least 1000, comma-separated; --serve-seconds at least 1; "
          + "--serve-rate at least 0")
    }
  }

  func sizes(_ text: String) -> [Int] {
    let values = text.split(separator: ",").map { Int($0) }
    return values.contains { $0 == nil || $0! < 1 } ? [] : values.compactMap { $0 }
  }

  /// Runs every benchmark and prints the table; throws when any failed.
  public func run() throws {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    print(BenchMachine.describe())
    var suite = BenchSuite(
      executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path,
      folder: dir)
    let db = dir + "/demo-\(items).sqlite"
    suite.demo(db: db, items: items)
    suite.console(db: db, runs: runs)
    suite.queue(db: db, runs: runs)
    let picture = try BenchFiles.picture(image: image, dir: dir)
    suite.preview(file: picture, iterations: iterations)
    suite.pdq(file: picture, iterations: iterations)
    suite.largeImages(side: largeSide)
    for count in sizes(matchHashes) { suite.match(hashes: count, queries: queries) }
    suite.consent(events: consentEvents, runs: consentRuns, queries: consentQueries)
    suite.reports(reports, runs: reportRuns)
    suite.formats(hashes: formatHashes)
    for count in sizes(workers) {
      suite.contention(db: db, workers: count, seconds: contentionSeconds)
    }
    for count in sizes(serveHashes) {
      suite.serve(hashes: count, seconds: serveSeconds, rate: serveRate)
    }
    if noReference {
      suite.referenceSkipped("skipped (--no-reference)")
    } else {
      try runReference(&suite, picture: picture)
    }
    suite.table.add(BenchRow(
      name: "bench all itself", value: "", peak: BenchTable.mebibytes(BenchFigures.peakBytes())))
    print("\n" + BenchMachine.load(prefix: "load average at the end"))
    print("\n" + suite.table.markdown())
    if !suite.table.failures.isEmpty {
      throw BenchmarkError(
        "\(suite.table.failures.count) benchmark(s) failed: "
          + suite.table.failures.joined(separator: "; "))
    }
  }

  // MARK: - Reference tools

  private func runReference(_ suite: inout BenchSuite, picture: String) throws {
    let install = "skipped (install: pip install pdqhash faiss-cpu numpy)"
    guard let script = reference.referenceScript ?? BenchFiles.script("reference.py") else {
      suite.referenceSkipped("skipped (bench/reference.py not found; use --reference-script)")
      return
    }
    let probe = try? BenchChild.run(
      [reference.python, "-c", "import pdqhash, faiss, numpy"], folder: dir)
    guard probe?.succeeded == true else {
      suite.referenceSkipped(install)
      return
    }
    // The same decoded pixels csar hashes, as raw RGB.
    let decoded = try ImageDecoder.decode(path: picture).image
    let pixels = dir + "/reference-pixels.rgb"
    try ImageEncoder.write(decoded.pixels, to: pixels)
    defer { unlink(pixels) }
    suite.reference([
      reference.python, script, "--pixels", pixels, "--width", String(decoded.width),
      "--height", String(decoded.height), "--iterations", String(iterations), "--hashes",
      matchHashes, "--queries", String(queries), "--distance", "31",
    ])
  }
}

// MARK: - Machine

/// What the figures were measured on.
enum BenchMachine {
  static func describe() -> String {
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
      .map { $0.split(separator: ":", maxSplits: 1).last.map(String.init) ?? "" }?
      .trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
    let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
    let kib = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
      .flatMap { $0.split(separator: " ").compactMap { Int($0) }.first } ?? 0
    return "machine: \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores (\(model)), "
      + "\(kib / 1_048_576) GiB memory\n" + load(prefix: "load average at the start")
  }

  static func load(prefix: String) -> String {
    let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?"
    return prefix + ": " + text.split(separator: " ").prefix(3).joined(separator: " ")
  }
}
