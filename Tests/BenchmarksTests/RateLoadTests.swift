import Foundation
import Testing
import TestSupport

@testable import Benchmarks

/// The report a fixed-rate run's wrk script writes, read back: a real one recorded from
/// `csar bench serve`, and each way a report can be wrong, named by file and line.
@Suite("Fixed-rate load report")
struct RateLoadTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path
  /// A debug build's `csar bench serve --hashes 20000 --seconds 2 --rate 500`.
  static let fixture = fixtures + "/rate-report.txt"
  /// The same at `--rate 2000`, at a load average of 5: it fell behind its schedule.
  static let lateFixture = fixtures + "/rate-report-late.txt"

  func fixtureText() throws -> String {
    try String(contentsOfFile: Self.fixture, encoding: .utf8)
  }

  /// `text` with its line `number` (from 1) replaced by `line`.
  func replacing(line number: Int, with line: String, in text: String) -> String {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    lines[number - 1] = line
    return lines.joined(separator: "\n")
  }

  @Test func readsARealReport() throws {
    let figures = try RateReport.read(path: Self.fixture)
    #expect(figures.offered == 500)
    #expect(figures.requests == 1_001)
    #expect(figures.seconds == 2.002_044)
    #expect(figures.failures == 0)
    #expect(figures.p50 == 0.000_438)
    #expect(figures.p99 == 0.007_549)
    #expect(figures.max == 0.028_747)
    #expect(figures.late == 0)
    #expect(figures.latest == 0)
    #expect(abs(figures.achieved - 1_001 / 2.002_044) < 1e-9)
    #expect(figures.keptUp)
  }

  /// 99.4% of the offered rate was achieved, but 1,779 of 4,001 requests left late: the
  /// achieved rate alone would have hidden it.
  @Test func aRunBehindItsScheduleDidNotKeepUp() throws {
    let figures = try RateReport.read(path: Self.lateFixture)
    #expect(figures.achieved > 0.98 * 2_000)
    #expect(figures.late == 1_779 && figures.latest == 0.075_336)
    #expect(!figures.keptUp)
    let words = ServeBenchmark.rated(figures)
    #expect(words.hasPrefix("offered 2000/s, achieved 1988/s, p50 13.71 ms"), "\(words)")
    #expect(words.hasSuffix(
      "did not keep up: 1779 of 4001 requests sent over 1 ms late (up to 75.3 ms), a wait "
        + "their latency leaves out"), "\(words)")
  }

  @Test func namesFileAndLineOfAMalformedLine() throws {
    let text = replacing(line: 5, with: "p50_us 0.8ms", in: try fixtureText())
    let expected = RateReportError(file: "run.report", line: 5, problem: .malformed("p50_us 0.8ms"))
    #expect(throws: expected) { try RateReport.parse(text, file: "run.report") }
    #expect(expected.description.hasPrefix("run.report:5: "))
    for bad in ["p50_us -3", "p50_us", "p50_us 1 2", "p50_us  1", ""] {
      let text = replacing(line: 5, with: bad, in: try fixtureText())
      #expect(throws: RateReportError(file: "f", line: 5, problem: .malformed(bad))) {
        try RateReport.parse(text, file: "f")
      }
    }
  }

  @Test func refusesUnknownRepeatedAndMissingFigures() throws {
    let text = try fixtureText()
    #expect(throws: RateReportError(file: "f", line: 2, problem: .unknownName("requestz"))) {
      try RateReport.parse(replacing(line: 2, with: "requestz 3997", in: text), file: "f")
    }
    #expect(throws: RateReportError(file: "f", line: 3, problem: .repeated("requests"))) {
      try RateReport.parse(replacing(line: 3, with: "requests 1", in: text), file: "f")
    }
    let withoutLate = text.split(separator: "\n").filter { !$0.hasPrefix("late ") }
      .joined(separator: "\n")
    #expect(throws: RateReportError(file: "f", line: 0, problem: .missing("late"))) {
      try RateReport.parse(withoutLate, file: "f")
    }
    #expect(throws: RateReportError(file: "f", line: 0, problem: .missing("offered"))) {
      try RateReport.parse("", file: "f")
    }
    #expect(throws: RateReportError(file: "f", line: 0, problem: .noDuration)) {
      try RateReport.parse(replacing(line: 3, with: "duration_us 0", in: text), file: "f")
    }
  }

  /// wrk ending before its `done()` wrote the report is an error naming the file, not a run
  /// of zero requests.
  @Test func aMissingReportIsAnErrorNamingIt() throws {
    let path = try ScratchSpace.path("no-such-report")
    #expect(throws: RateReportError.self) { try RateReport.read(path: path) }
    do {
      _ = try RateReport.read(path: path)
    } catch let error as RateReportError {
      #expect(error.file == path && error.line == 0)
      #expect(error.description.hasPrefix(path + ": cannot read the rate report"))
    }
  }

  /// Kept up: 98% of the offered rate answered, at most 1% of the requests sent late, no
  /// failure. Anything else says so, and the rate given is the one achieved.
  @Test func keptUpNeedsTheRateTheScheduleAndNoFailures() throws {
    let real = try RateReport.read(path: Self.fixture)
    #expect(real.keptUp)
    var slow = real
    slow.requests = 900  // 450/s of 500/s
    #expect(!slow.keptUp)
    var late = real
    late.late = 11  // just over 1% of 1,001
    #expect(!late.keptUp)
    late.late = 10
    #expect(late.keptUp)
    var failing = real
    failing.failures = 1
    #expect(!failing.keptUp)
    let words = ServeBenchmark.rated(slow)
    #expect(words.contains("offered 500/s, achieved 450/s"), "\(words)")
    #expect(words.contains("did not keep up: under 98% achieved"), "\(words)")
    #expect(ServeBenchmark.rated(real).hasSuffix("; kept up"))
  }

  /// Paths go into the wrk scripts as Lua string literals that no byte can end early.
  @Test func luaStringEscapesEveryByteButPlainPathBytes() {
    #expect(WrkLoad.luaString("/tmp/a-b_c.d") == "\"/tmp/a-b_c.d\"")
    #expect(WrkLoad.luaString("x\"]]\n5") == "\"x\\034\\093\\093\\0105\"")
    #expect(WrkLoad.luaString("é") == "\"\\195\\169\"")
  }
}

/// The table `bench serve` prints: memory per million hashes only where it means something,
/// and the fixed-rate row gives the rate achieved beside the reference's.
@Suite("bench serve table")
struct ServeTableTests {
  static func figures(_ hashes: Int, mebibytes: Int) -> ServeBenchmark.Figures {
    var figures = ServeBenchmark.Figures(hashes: hashes)
    figures.serverBytes = mebibytes * 1_048_576
    return figures
  }

  func row(_ table: [String], _ prefix: String) -> String? {
    table.first { $0.hasPrefix("| " + prefix) }
  }

  /// At 20,000 hashes a 97 MiB service was reported as "4860 MiB per million hashes".
  @Test func noPerMillionFigureFromOneSmallSize() {
    let table = ServeBenchmark.table([Self.figures(20_000, mebibytes: 97)])
    let memory = row(table, "server memory at 20000")
    #expect(memory?.contains("| 97 MiB |") == true, "\(table)")
    #expect(memory?.contains("per million") == false, "\(table)")
    #expect(!table.joined().contains("4860"), "\(table)")
  }

  @Test func perMillionFromTheDifferenceBetweenSizes() {
    let table = ServeBenchmark.table([
      Self.figures(1_000_000, mebibytes: 424), Self.figures(10_000_000, mebibytes: 3_514),
    ])
    // (3,514 - 424) MiB over 9 million hashes.
    let large = row(table, "server memory at 10M (per million hashes: the RSS difference")
    #expect(large?.contains("| 3514 MiB (343 MiB) |") == true, "\(table)")
    let small = row(table, "server memory at 1M")
    #expect(small?.contains("per million") == false, "\(table)")
    // Sizes less than 1M hashes apart give no per-million figure either.
    let close = ServeBenchmark.table([
      Self.figures(20_000, mebibytes: 97), Self.figures(40_000, mebibytes: 99),
    ])
    #expect(!close.joined().contains("per million"), "\(close)")
  }

  @Test func theFixedRateRowGivesTheRateAchieved() throws {
    var figures = Self.figures(1_000_000, mebibytes: 424)
    let real = try RateReport.read(path: RateLoadTests.fixture)
    var rated = real
    rated.offered = 20_000
    rated.requests = 150_000
    rated.seconds = 10
    figures.rated = rated
    var reference = real
    reference.offered = 20_000
    reference.requests = 2_000
    reference.seconds = 10
    reference.late = 1_900
    figures.referenceRated = reference
    let table = ServeBenchmark.table([figures])
    let line = row(table, "lookups at 1M, 20000/s offered over 64 connections") ?? ""
    #expect(line.contains("| 15000/s (0.44 / 7.55 / 28.75 ms), did not keep up |"), "\(line)")
    #expect(line.contains("p99 < 5 ms at 20,000/s, kept up ✗"), "\(line)")
    #expect(line.contains("achieved 200/s, p99 7.55 ms, did not keep up | 75.0× |"), "\(line)")
  }
}
