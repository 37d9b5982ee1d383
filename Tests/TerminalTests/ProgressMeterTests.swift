import Testing

@testable import Terminal

// MARK: - The progress line of long commands

@Suite("Progress meter")
struct ProgressMeterTests {
  @Test func lineShowsDoneTotalPercentRateAndTimeLeft() {
    var meter = ProgressMeter(task: "consent import", unit: "events")
    let d1 = meter.record(0, of: 1_000_000, at: 0)
    #expect(d1)
    #expect(meter.line() == "consent import: 0 of 1,000,000 events (0%)")
    let d2 = meter.record(430_000, of: 1_000_000, at: 10)
    #expect(d2)
    // 43,000 events a second; 570,000 left take 13.26 s, shown rounded up.
    #expect(
      meter.line() == "consent import: 430,000 of 1,000,000 events (43%), 43,000/s, ETA 0:14")
  }

  @Test func withoutATotalThereIsNoPercentOrETA() {
    var meter = ProgressMeter(task: "bank import", unit: "hashes")
    _ = meter.record(1_000, of: nil, at: 0)
    _ = meter.record(3_000, of: nil, at: 1)
    #expect(meter.line() == "bank import: 3,000 hashes, 2,000/s")
    #expect(meter.secondsLeft == nil)
  }

  @Test func redrawsAreThrottledButTheLastOneIsAlwaysDrawn() {
    var meter = ProgressMeter(task: "t", unit: "u")
    let d3 = meter.record(1, of: 100, at: 0)
    #expect(d3)
    let d4 = meter.record(2, of: 100, at: 0.05)
    #expect(!d4)
    let d5 = meter.record(3, of: 100, at: 0.09)
    #expect(!d5)
    let d6 = meter.record(4, of: 100, at: 0.11)
    #expect(d6)
    let d7 = meter.record(5, of: 100, at: 0.12)
    #expect(!d7)
    let d8 = meter.record(100, of: 100, at: 0.13)
    #expect(d8)
  }

  /// The rate follows the recent batches (a window of 10 s), not the run's start.
  @Test func rateIsMeasuredOverTheRecentWindow() {
    var meter = ProgressMeter(task: "t", unit: "u")
    _ = meter.record(0, of: nil, at: 0)
    _ = meter.record(100, of: nil, at: 10)  // slow start: 10/s
    for second in 11...30 {
      _ = meter.record(100 + (second - 10) * 1_000, of: nil, at: Double(second))
    }
    let rate = try! #require(meter.rate)
    #expect(rate > 900 && rate <= 1_000)
  }

  @Test func durationsAndNumbersAreReadable() {
    #expect(ProgressMeter.duration(7) == "0:07")
    #expect(ProgressMeter.duration(754) == "12:34")
    #expect(ProgressMeter.duration(7384) == "2:03:04")
    #expect(ProgressMeter.grouped(0) == "0")
    #expect(ProgressMeter.grouped(999) == "999")
    #expect(ProgressMeter.grouped(1_000) == "1,000")
    #expect(ProgressMeter.grouped(-1_234_567) == "-1,234,567")
  }

  /// The line never wraps: redrawing in place needs one row.
  @Test func theLineFitsTheTerminalWidth() {
    var meter = ProgressMeter(
      task: "bank import into 'a very long bank name indeed'", unit: "hashes")
    _ = meter.record(1_000_000, of: 2_000_000, at: 0)
    _ = meter.record(1_500_000, of: 2_000_000, at: 1)
    let line = meter.line(width: 40)
    #expect(line.count == 39 && line.hasSuffix("…"))
  }

  @Test func summarySaysWhatWasCommittedAndHowFast() {
    var meter = ProgressMeter(task: "purge", unit: "reports and items")
    _ = meter.record(5_000, of: 5_000, at: 2)
    #expect(
      meter.summary(elapsed: 2.5)
        == "purge: 5,000 reports and items committed in 2.5 s (2,000/s)")
  }
}
