// The steps of `csar bench all`: each runs one `csar bench …` command and reads its figures.

import DemoPictures
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Runs the benchmarks one after another as child processes of this binary, echoes their
/// output and turns their figures into rows of ``BenchTable``.
struct BenchSuite {
  let executable: String
  let folder: String
  var table = BenchTable()
  /// PDQ figures kept for the reference tools' ratios: csar's hash time, query time per size.
  private var pdqHash: Double?
  private var queryMedians: [Int: Double] = [:]
  private var matchRows: [Int: Int] = [:]
  private var pdqRow: Int?

  init(executable: String, folder: String) {
    self.executable = executable
    self.folder = folder
  }

  static let keypressTarget = 0.016

  /// Runs csar with `arguments` as its own process, echoing its output (for extensions).
  mutating func runChild(_ title: String, _ arguments: [String]) -> BenchChild? {
    child(title, arguments)
  }

  /// Runs `arguments` (csar's, or a whole command line when `own` is false), echoing its output.
  private mutating func child(_ title: String, _ arguments: [String], own: Bool = true)
    -> BenchChild?
  {
    print("\n== \(title)")
    fflush(nil)
    do {
      let result = try BenchChild.run(own ? [executable] + arguments : arguments, folder: folder)
      print(result.out, terminator: "")
      if !result.succeeded { print(result.err, terminator: "") }
      print("(\(BenchFigures.format(result.seconds, 1)) s, peak "
        + "\(BenchTable.mebibytes(result.peakBytes)), exit \(result.status))")
      fflush(nil)  // progress shows while the suite runs, even into a file
      return result
    } catch {
      table.failed(title, "\(error)")
      return nil
    }
  }

  /// A row for `figure`, or a failure row when the process failed or printed no such figure.
  mutating func row(
    _ name: String, _ result: BenchChild, _ figure: Double?, target: Double? = nil,
    targetText: String? = nil
  ) {
    let peak = BenchTable.mebibytes(result.peakBytes)
    guard result.succeeded, let figure else {
      table.failed(name, result.succeeded ? "no figure in its output" : result.lastError,
                   peak: peak)
      return
    }
    var row = BenchRow(name: name, value: BenchTable.time(figure), peak: peak)
    if let target {
      row.target = targetText ?? "< " + BenchTable.time(target)
      row.met = figure < target
    }
    table.add(row)
  }

  // MARK: - Steps

  mutating func demo(db: String, items: Int) {
    if FileManager.default.fileExists(atPath: db) {
      let size = (try? FileManager.default.attributesOfItem(atPath: db)[.size] as? Int) ?? 0
      print("\n== demo database\n\(db) exists (delete it to time its creation)")
      table.add(BenchRow(
        name: "demo database, \(items) items", value: "existing, " + FileSizeText.of(size)))
      return
    }
    guard let result = child("demo --items \(items)", ["demo", "--db", db, "--items", "\(items)"])
    else { return }
    let seconds = result.figure("  took", after: "took")
    let size = result.line(startingWith: "  took").flatMap { line in
      line.range(of: "file size ").map { String(line[$0.upperBound...]) }
    } ?? "?"
    row("demo database, \(items) items", result, seconds, target: 60, targetText: "< 60 s (1M)")
    if result.succeeded, seconds != nil { table.rows[table.rows.count - 1].value += ", " + size }
  }

  mutating func console(db: String, runs: Int) {
    guard let result = child("console", ["bench", "console", "--db", db, "--runs", "\(runs)"])
    else { return }
    row("startup to first frame (warm)", result,
        result.figure("startup to first frame", after: "warm median"), target: 0.150)
    if let cold = result.figure("startup to first frame", after: "cold"), result.succeeded {
      table.add(BenchRow(name: "startup to first frame (cold, 1 run)",
                         value: BenchTable.time(cold), target: "< 150 ms", met: cold < 0.150,
                         peak: BenchTable.mebibytes(result.peakBytes)))
    }
    for screen in [
      "1 Dashboard:", "2 Services:", "2 Services, detail open:", "2 Services, assessment wizard:",
      "3 Review:", "3 Review, a colleague writing before each key:", "4 Consent:",
      "5 Reports & audit:",
    ] {
      row("keypress-to-frame, " + screen.dropLast(), result,
          result.figure(screen, after: "keypress-to-frame median"), target: Self.keypressTarget)
    }
    row("review: next item (claim + decode + draw)", result,
        result.figure("review:", after: "decode + draw) median"), target: 0.030)
    row("review: less blur (audited write)", result,
        result.figure("review:", after: "(audited) median"), target: Self.keypressTarget)
    row("audited commit, no anchor (scratch database)", result,
        result.figure("audited commit:", after: "unanchored median"))
    row("audited commit, anchored (scratch database)", result,
        result.figure("audited commit:", after: ", anchored median"))
    let resident = result.figure("resident memory:", after: "resident memory:")
    if result.succeeded, let resident {
      let peak = Double(result.peakBytes) / 1_048_576
      table.add(BenchRow(
        name: "console resident memory", value: "\(Int(resident)) MiB at end",
        target: "< 150 MB (peak)", met: peak * 1_048_576 < 150_000_000,
        peak: BenchTable.mebibytes(result.peakBytes)))
    } else {
      row("console resident memory", result, nil)
    }
  }

  mutating func queue(db: String, runs: Int) {
    guard let result = child("queue", ["bench", "queue", "--db", db, "--runs", "\(runs)"])
    else { return }
    row("queue filter (f), keypress-to-frame", result,
        result.figure("queue filter (f", after: "keypress-to-frame median"),
        target: Self.keypressTarget)
    row("queue filter query (count + 100 rows)", result,
        result.figure("queue filter query", after: "median"))
  }

  mutating func preview(file: String, iterations: Int) {
    guard let result = child(
      "preview", ["bench", "preview", "--iterations", "\(iterations)", file])
    else { return }
    row("preview 1600x1004 JPEG (decode..cells)", result,
        result.figure("item preview", after: "62x27)"), target: 0.030)
    row("preview decode + downscale + blur", result, result.figure("total\t", after: "total"))
  }

  mutating func pdq(file: String, iterations: Int) {
    guard let result = child("pdq", ["bench", "pdq", "--iterations", "\(iterations)", file])
    else { return }
    row("JPEG decode 1600x1004", result, result.figure("decode\t", after: "decode"))
    pdqHash = result.figure("pdq hash\t", after: "pdq hash")
    row("PDQ hash (decoded pixels)", result, pdqHash)
    pdqRow = table.rows.count - 1
  }

  mutating func match(hashes: Int, queries: Int) {
    guard let result = child(
      "match \(hashes)", ["bench", "match", "--hashes", "\(hashes)", "--queries", "\(queries)"])
    else { return }
    let median = result.figure("query d<=", after: "median")
    queryMedians[hashes] = median
    row("PDQ match d<=31, \(hashes) hashes", result, median, target: 0.005,
        targetText: hashes >= 10_000_000 ? "< 5 ms (10M)" : "< 5 ms at 10M")
    matchRows[hashes] = table.rows.count - 1
    row("PDQ index build, \(hashes) hashes", result, result.figure("build", after: "build"))
  }

  mutating func consent(events: Int, runs: Int, queries: Int) {
    guard let result = child("consent", [
      "bench", "consent", "--events", "\(events)", "--accounts", "\(events)", "--runs",
      "\(runs)", "--queries", "\(queries)", "--folder", folder,
    ]) else { return }
    row("consent import, \(events) events", result,
        result.figure("import\t", after: "median"), target: 15, targetText: "< 15 s (1M)")
    row("consent account search (per key)", result,
        result.figure("search, all", after: "median"), target: Self.keypressTarget)
  }

  mutating func reports(_ count: Int, runs: Int) {
    guard let result = child("reports", [
      "bench", "reports", "--reports", "\(count)", "--runs", "\(runs)", "--folder", folder,
    ]) else { return }
    row("report export, \(count) reports", result, result.figure("export\t", after: "median"))
  }

  mutating func contention(db: String, workers: Int, seconds: Double) {
    guard let result = child("contention, \(workers) workers", [
      "bench", "contention", "--db", db, "--workers", "\(workers)", "--seconds", "\(seconds)",
    ]) else { return }
    let rate = result.figure("\(workers) workers", after: "decisions (")
    let name = "contention, \(workers) reviewer processes + consent import"
    guard result.succeeded, let rate else {
      row(name, result, nil)
      return
    }
    table.add(BenchRow(
      name: name, value: BenchFigures.format(rate, 1) + " decisions/s",
      target: "checks pass", met: true, peak: BenchTable.mebibytes(result.peakBytes)))
  }

  // MARK: - Reference tools

  mutating func referenceSkipped(_ why: String) {
    print("\n== reference tools\n" + why)
    table.add(BenchRow(name: "reference tools (pdqhash, faiss)", value: why))
  }

  /// Runs bench/reference.py and puts its figures beside csar's.
  mutating func reference(_ commandLine: [String]) {
    guard let result = child("reference tools (pdqhash, faiss)", commandLine, own: false)
    else { return }
    guard result.succeeded else {
      table.failed("reference tools (pdqhash, faiss)", result.lastError)
      return
    }
    func milliseconds(_ name: String) -> Double? {
      result.line(startingWith: name + "\t").flatMap { line in
        line.split(separator: "\t").dropFirst().first.flatMap { Double($0) }
      }.map { $0 / 1000 }
    }
    if let index = pdqRow, let theirs = milliseconds("pdqhash") {
      table.rows[index].reference = "pdqhash " + BenchTable.time(theirs)
      table.rows[index].ratio = pdqHash.map { BenchTable.ratio($0, theirs) } ?? ""
    }
    for (hashes, index) in matchRows {
      guard let flat = milliseconds("faiss flat \(hashes)") else { continue }
      var text = "faiss flat " + BenchTable.time(flat)
      if let multi = milliseconds("faiss multihash \(hashes)") {
        text += ", multihash " + BenchTable.time(multi)
      }
      table.rows[index].reference = text
      table.rows[index].ratio = queryMedians[hashes].map { BenchTable.ratio($0, flat) } ?? ""
    }
    table.add(BenchRow(
      name: "reference tools (python)", value: "", peak: BenchTable.mebibytes(result.peakBytes)))
  }
}
