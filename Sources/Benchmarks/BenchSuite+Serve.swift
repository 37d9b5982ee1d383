// `csar bench all`'s service step: `csar bench serve` under wrk, as its own process.

import Foundation

extension BenchSuite {
  /// Whether `name` is an executable in PATH.
  static func inPath(_ name: String) -> Bool {
    let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
      .split(separator: ":")
    return folders.contains { access("\($0)/\(name)", X_OK) == 0 }
  }

  /// `csar bench serve` at `hashes` for `seconds` of wrk per load: a row for lookups and
  /// one for scans (requests/s, p50 / p99, server CPU a request), with their targets, and
  /// one for lookups at `rate` a second offered (none when 0); one skipped row when wrk is
  /// missing. Its databases are kept in FOLDER/serve for later runs.
  mutating func serve(hashes: Int, seconds: Int, rate: Int) {
    let name = "serve: lookups/s at \(hashes) hashes, 64 connections"
    guard Self.inPath("wrk") else {
      print("\n== serve \(hashes)\nskipped: wrk is not installed (apt-get install wrk)")
      table.add(BenchRow(name: name, value: "skipped (install the Debian package wrk)"))
      return
    }
    guard
      let result = runChild("serve \(hashes)", [
        "bench", "serve", "--hashes", "\(hashes)", "--seconds", "\(seconds)", "--rate", "\(rate)",
        "--dir", folder + "/serve",
      ])
    else { return }
    let peak = BenchTable.mebibytes(result.peakBytes)
    for (kind, rowName, rate, p99) in [
      ("lookups", name, 20_000.0, 0.005),
      ("scans", "serve: scans/s at \(hashes) hashes, 1600x1004 JPEG", 100.0, 0.060),
    ] {
      let prefix = "serve \(hashes)\t\(kind)"
      guard result.succeeded, let perSecond = result.figure(prefix, after: kind),
        let p50 = result.figure(prefix, after: "p50"),
        let late = result.figure(prefix, after: "p99")
      else {
        table.failed(rowName, result.succeeded ? "no figure in its output" : result.lastError,
                     peak: peak)
        continue
      }
      let cpu = result.figure(prefix, after: "server CPU").map {
        ", CPU " + BenchTable.time($0) + " a request"
      } ?? ""
      table.add(BenchRow(
        name: rowName,
        value: "\(Int(perSecond))/s (p50 \(BenchTable.time(p50)), p99 \(BenchTable.time(late))"
          + cpu + ")",
        target: "≥ \(Int(rate))/s, p99 < \(BenchTable.time(p99))",
        met: perSecond >= rate && late < p99, peak: peak))
    }
    if rate > 0 { fixedRateRow(result, hashes: hashes, rate: rate, peak: peak) }
  }

  /// The fixed-rate run's row: the rate achieved, p50 / p99, and whether it kept up (see
  /// ``RateFigures/keptUp``), against p99 < 5 ms at the offered rate.
  private mutating func fixedRateRow(_ result: BenchChild, hashes: Int, rate: Int, peak: String) {
    let name = "serve: lookups at \(hashes) hashes, \(rate)/s offered"
    let prefix = "serve \(hashes)\tlookups at a fixed rate: "
    guard result.succeeded, let line = result.line(startingWith: prefix),
      let achieved = result.figure(prefix, after: "achieved"),
      let p50 = result.figure(prefix, after: "p50"), let p99 = result.figure(prefix, after: "p99")
    else {
      table.failed(name, result.succeeded ? "no figure in its output" : result.lastError,
                   peak: peak)
      return
    }
    let keptUp = line.contains("; kept up")
    table.add(BenchRow(
      name: name,
      value: "achieved \(Int(achieved))/s (p50 \(BenchTable.time(p50)), p99 "
        + "\(BenchTable.time(p99))), " + (keptUp ? "kept up" : "did not keep up"),
      target: "kept up, p99 < 5.0 ms", met: keptUp && p99 < 0.005, peak: peak))
  }
}
