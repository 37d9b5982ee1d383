// `csar bench serve`: options only; the benchmark is `Benchmarks.ServeBenchmark`.

import ArgumentParser
import Benchmarks
import Foundation

/// The service under load over loopback (wrk), beside the Python reference.
struct ServeBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Drive `csar serve` with wrk: lookups/s, scans/s, p99, start and scan times.",
    discussion: """
      For each --hashes size: a database of that many random PDQ hashes in --dir (kept for \
      later runs), `csar serve` started without and with its index snapshot, `csar scan` of \
      one JPEG as its own process, then wrk (Debian package wrk) for --seconds: lookups of \
      one PDQ hash a request over 64 connections at saturation (a closed loop), the same \
      lookups at --rate a second offered on an even schedule over the same connections \
      (the rate achieved, p50, p99, max), and scans of the JPEG. With --python (a Python \
      with flask, gunicorn and threatexchange), the same lookups, both ways, against \
      bench/reference_lookup.py under gunicorn on the same hashes. Use a release build.
      """)

  @Option(name: .long, help: "Bank sizes, comma-separated.")
  var hashes = "1000000,10000000"

  @Option(name: .long, help: "Folder for the databases, snapshots and scripts.")
  var dir = "csar-bench"

  @Option(name: .long, help: "The JPEG to scan (default: a 1600x1004 JPEG).")
  var image: String?

  @Option(name: .long, help: "Seconds of each wrk run.")
  var seconds = 10

  @Option(name: .long, help: "wrk threads.")
  var threads = 2

  @Option(name: .long, help: "Connections for scans.")
  var scanConnections = 4

  @Option(name: .long, help: "Lookups a second offered in the fixed-rate run (0: none).")
  var rate = 20_000

  @Option(name: .long, help: "A Python with flask, gunicorn and threatexchange.")
  var python: String?

  @Option(name: .long, help: "The reference service (default: bench/reference_lookup.py).")
  var referenceScript: String?

  func run() throws {
    let sizes = hashes.split(separator: ",").compactMap { Int($0) }
    guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 1_000 }), seconds >= 1 else {
      throw ValidationError("--hashes: sizes of at least 1000, comma-separated")
    }
    guard rate >= 0 else { throw ValidationError("--rate: lookups a second, 0 or more") }
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var benchmark = ServeBenchmark(
      csar: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path,
      sizes: sizes, folder: URL(fileURLWithPath: dir).standardizedFileURL.path,
      image: try BenchFiles.picture(image: image, dir: dir))
    benchmark.seconds = seconds
    benchmark.threads = threads
    benchmark.scanConnections = scanConnections
    benchmark.rate = rate
    benchmark.python = python
    benchmark.referenceScript = referenceScript ?? BenchFiles.script("reference_lookup.py")
    try withBenchOutput { _ = try benchmark.run() }
  }
}
