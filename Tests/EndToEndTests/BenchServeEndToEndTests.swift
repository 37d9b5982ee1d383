import Foundation
import Testing

/// Whether wrk (Debian package wrk), which `bench serve` drives the service with, is here.
private let wrkInstalled = ["/usr/bin/wrk", "/usr/local/bin/wrk"].contains {
  FileManager.default.isExecutableFile(atPath: $0)
}

/// `csar bench serve` at a toy size: besides the saturation runs, lookups at a fixed offered
/// rate, read back from the report its wrk script writes (no timing is asserted).
@Suite("Bench serve end to end")
struct BenchServeEndToEndTests {
  /// The folder's name has a quote and a Lua long-string end: the report's path and the
  /// JPEG's path go into wrk's scripts as Lua strings.
  @Test(.enabled(if: wrkInstalled, "needs wrk (apt-get install wrk)"))
  func aFixedRateRunReportsTheRateAchieved() throws {
    let parent = try CsarBinary.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: parent) }
    let folder = parent + "/rate \"q\" ]]"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let result = try CsarBinary.run(
      ["bench", "serve", "--hashes", "1000", "--seconds", "1", "--rate", "200", "--dir", folder],
      timeout: 600)
    #expect(result.status == 0, "\(result.out)\n\(result.err)")
    let lines = result.out.split(separator: "\n")
    let line = lines.first { $0.hasPrefix("serve 1000\tlookups at a fixed rate: ") } ?? ""
    #expect(line.contains("offered 200/s, achieved "), "\(result.out)")
    #expect(line.contains(" ms, p99 ") && line.contains(" ms, max "), "\(line)")
    #expect(line.contains("; kept up; ") || line.contains("; did not keep up: "), "\(line)")
    // Every lookup the scripts send (formatted once, in each wrk thread's `init`) is answered.
    let lookups = lines.filter { $0.hasPrefix("serve 1000\tlookups ") }
    #expect(lookups.count == 2, "\(result.out)")
    for lookup in lookups {
      #expect(!lookup.contains("failed") && !lookup.contains("failures"), "\(lookup)")
    }
    let row = lines.first { $0.hasPrefix("| lookups at 1000, 200/s offered over 64 connections") }
    #expect(row != nil, "\(result.out)")
    #expect(result.out.contains("serve 1000\tscans "), "\(result.out)")
  }
}
