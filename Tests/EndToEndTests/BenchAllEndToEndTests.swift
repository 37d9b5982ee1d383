import Foundation
import Testing

/// `csar bench all` at toy sizes: it makes its demo database, runs every benchmark and prints
/// a row for each (no timing is asserted: speed is measured, not tested).
@Suite("Bench all end to end")
struct BenchAllEndToEndTests {
  /// The temp folder is shared (mode 1777) and csar refuses databases there, so `bench
  /// consent` without `--folder` works in a private folder of its own (it failed before).
  @Test func consentBenchmarkRunsWithoutAFolder() throws {
    let result = try CsarBinary.run([
      "bench", "consent", "--events", "200", "--accounts", "100", "--runs", "1",
      "--queries", "5",
    ])
    #expect(result.status == 0, "\(result.out)\n\(result.err)")
    #expect(result.out.contains("import\tmedian"), "\(result.out)")
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())
      .filter { $0.hasPrefix("csar-bench-consent-") }
    #expect(leftovers.isEmpty, "left behind: \(leftovers)")
  }

  /// The benchmarks live in their own module: what they print still goes through csar's one
  /// writer, so a folder name with an escape sequence reaches the terminal as text.
  @Test func benchAllWritesThroughTheOneWriter() throws {
    let parent = try CsarBinary.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: parent) }
    let folder = parent + "/bench\u{1B}]0;owned\u{07}"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    // An existing "demo database" is only named, not opened, by the demo step.
    _ = FileManager.default.createFile(atPath: folder + "/demo-1.sqlite", contents: Data())
    let result = try CsarBinary.run([
      "bench", "all", "--items", "1", "--dir", folder, "--runs", "2", "--iterations", "1",
      "--match-hashes", "100", "--queries", "1", "--consent-events", "10", "--consent-runs",
      "1", "--consent-queries", "1", "--reports", "1", "--report-runs", "1", "--workers", "1",
      "--contention-seconds", "0.1", "--large-side", "16", "--format-hashes", "10",
      "--serve-hashes", "1000", "--serve-seconds", "1", "--no-reference",
    ])
    let named = "bench\\u001b]0;owned\\u0007/demo-1.sqlite exists"
    #expect(result.out.contains(named), "\(result.out)")
    #expect(!result.out.contains("\u{1B}") && !result.out.contains("\u{07}"), "\(result.out)")
  }

  @Test func runsEveryBenchmarkAndPrintsEveryRow() throws {
    let folder = try CsarBinary.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let result = try CsarBinary.run([
      "bench", "all", "--items", "300", "--dir", folder, "--runs", "2", "--iterations", "2",
      "--match-hashes", "1000,2000", "--queries", "10", "--consent-events", "300",
      "--consent-runs", "1", "--consent-queries", "5", "--reports", "20", "--report-runs", "1",
      "--contention-seconds", "0.3", "--python", "csar-test-no-such-python",
      "--large-side", "300", "--format-hashes", "200", "--serve-hashes", "1000",
      "--serve-seconds", "1", "--serve-rate", "300",
    ])
    #expect(result.status == 0, "\(result.out)\n\(result.err)")
    // `bench serve` needs wrk: three rows with it (saturation lookups, scans, lookups at
    // the offered rate), one skipped row without.
    let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].contains {
      FileManager.default.isExecutableFile(atPath: $0)
    }
    let serveRows =
      ["serve: lookups/s at 1000 hashes"]
      + (wrk
        ? ["serve: scans/s at 1000 hashes", "serve: lookups at 1000 hashes, 300/s offered"] : [])
    let rows = serveRows + [
      "demo database, 300 items", "startup to first frame (warm)",
      "startup to first frame (cold, 1 run)", "keypress-to-frame, 1 Dashboard",
      "keypress-to-frame, 2 Services", "keypress-to-frame, 2 Services, detail open",
      "keypress-to-frame, 2 Services, assessment wizard", "keypress-to-frame, 3 Review",
      "keypress-to-frame, 3 Review, a colleague writing before each key",
      "keypress-to-frame, 4 Consent", "keypress-to-frame, 5 Reports & audit",
      "review: next item", "review: less blur", "audited commit, no anchor",
      "audited commit, anchored", "console resident memory",
      "queue filter (f), keypress-to-frame", "queue filter query",
      "preview 1600x1004 JPEG", "preview decode + downscale + blur", "JPEG decode 1600x1004",
      "PDQ hash (decoded pixels)", "PDQ match d<=31, 1000 hashes",
      "PDQ index build, 1000 hashes", "PDQ match d<=31, 2000 hashes",
      "PDQ index build, 2000 hashes", "hash 300x300 PNG", "hash 300x300 JPEG",
      "preview 300x200 JPEG", "consent import, 300 events", "consent account search",
      "report export, 20 reports", "contention, 2 reviewer processes",
      "contention, 4 reviewer processes",
      "reference tools (pdqhash, faiss)", "bench all itself",
    ] + [
      "csar csv", "threatexchange dataset csv", "threatexchange TYPE VALUE", "HMA JSON",
      "StopNCII JSON", "NCMEC XML",
    ].map { "bank import, \($0), 200 hashes" }
    // The summary is the last table (`bench serve` echoes a table of its own before it).
    let lines = result.out.split(separator: "\n")
    let start = lines.lastIndex { $0.hasPrefix("| benchmark") } ?? lines.startIndex
    let table = lines[start...].filter { $0.hasPrefix("| ") }
    #expect(table.first?.hasPrefix("| benchmark") == true, "\(result.out)")
    for name in rows {
      let line = table.first { $0.hasPrefix("| " + name) }
      #expect(line != nil, "no row \(name) in\n\(result.out)")
      #expect(line?.contains("failed") == false, "\(line ?? "")")
    }
    #expect(table.count == rows.count + 1, "\(table.joined(separator: "\n"))")
    #expect(result.out.contains("skipped (install: pip install pdqhash faiss-cpu numpy)"))
    #expect(result.out.contains("machine: "))
    #expect(FileManager.default.fileExists(atPath: folder + "/demo-300.sqlite"))
  }
}
