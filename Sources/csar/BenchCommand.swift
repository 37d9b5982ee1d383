// `csar bench …`: the commands only. Each parses its options (declared beside the benchmark,
// in the `Benchmarks` module) and runs the benchmark with its output going through `Output`;
// the figures and their lines are in `Benchmarks`.

import ArgumentParser
import Benchmarks

/// Benchmarks of the detection engine, the console, the store and the service (run a release
/// build).
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract:
      "Measure PDQ, bank, scan, console, consent and report export speed (use a release build).",
    subcommands: [
      AllBench.self, PDQBench.self, MatchBench.self, BankBench.self, PreviewBench.self,
      ConsoleBench.self, QueueBench.self, ConsentBench.self, ContentionBench.self,
      ReportsBench.self, VideoBench.self, FormatsBench.self, ServeBench.self,
      ImagesBench.self,
    ]
  )
}

/// Runs a benchmark with its lines written by this module's `print`, that is ``Output``.
func withBenchOutput(_ body: () throws -> Void) throws {
  try BenchOutput.writing(to: { print($0, terminator: $1) }, body)
}

// MARK: - bench all

/// Every benchmark on one demo database, summarised in one table.
struct AllBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "all",
    abstract: "Run every benchmark on a demo database; print medians and peak memory.",
    discussion: """
      Use a release build: swift build -c release && .build/release/csar bench all. \
      The database is DIR/demo-ITEMS.sqlite (created, and its creation timed, when missing; \
      the contention and review benchmarks write to it). Reference figures come from \
      bench/reference.py when python3 has pdqhash, faiss and numpy \
      (pip install pdqhash faiss-cpu numpy).
      """)

  @OptionGroup var benchmark: AllBenchmark

  func run() throws { try withBenchOutput { try benchmark.run() } }
}

// MARK: - Pictures and PDQ

/// Decode and hash times of one image file.
struct PDQBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pdq", abstract: "Median decode time and PDQ hash time of an image file.")

  @OptionGroup var benchmark: PDQBenchmark

  func run() throws { try withBenchOutput { try benchmark.run() } }
}

/// Decode, downscale and blur for a review preview.
struct PreviewBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "preview",
    abstract: "Median time of decode + downscale + blur of a file, and of a review preview.")

  @OptionGroup var benchmark: PreviewBenchmark

  func run() throws { try withBenchOutput { try benchmark.run() } }
}

/// Query speed of the PDQ index.
struct MatchBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "match",
    abstract: "Median PDQ query time at distance 31 against N random hashes plus planted "
      + "near-duplicates.")

  @OptionGroup var benchmark: MatchBenchmark

  func run() throws { try withBenchOutput { try benchmark.run() } }
}

/// Decode + PDQ time of one picture in every image format.
struct ImagesBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "images",
    abstract: "Median decode + PDQ time of one picture as PNG, JPEG, WebP, GIF, BMP and TIFF "
      + "(made with the ffmpeg CLI), and of any FILE given (e.g. HEIC), beside pdqhash.",
    discussion: """
      The reference is bench/formats_reference.py: Pillow decodes, pdqhash (Facebook's PDQ) \
      hashes (`pip install pdqhash pillow numpy`); formats Pillow cannot read say so.
      """)

  @OptionGroup var benchmark: ImagesBenchmark

  func run() throws { try withBenchOutput { try benchmark.run() } }
}

/// vPDQ hashing of a test video beside the `vpdq` package, and vPDQ matching.
struct VideoBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "video",
    abstract: "Time vPDQ hashing of a test video (beside the vpdq package) and vPDQ matching.")

  @OptionGroup var benchmark: VideoBenchmark

  func run() throws { try withBenchOutput { try benchmark.run() } }
}

// MARK: - Banks and hash lists

/// A bank import of N PDQ hashes, a retraction, the matcher's load, and scans.
struct BankBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bank",
    abstract: "Time a bank import of N PDQ hashes, a retraction, the matcher's load, and scans.")

  @OptionGroup var benchmark: BankBenchmark

  func run() throws { try withBenchOutput { try benchmark.run() } }
}

/// `bank import` of N hashes in each format csar reads.
struct FormatsBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "formats",
    abstract: "Time bank import of N hashes in each format (CSV, threatexchange, HMA, ...).",
    discussion: """
      One row per format: total seconds (read + parse, store), hashes per second, file size. \
      With --reference (default on), threatexchange's `fetch` of the same hashes as a \
      local_file collaboration, in a scratch HOME, when `threatexchange` is on PATH.
      """)

  @OptionGroup var benchmark: FormatsBenchmark

  func run() throws { try withBenchOutput { try benchmark.run() } }
}

// MARK: - Console and store

/// The console's first frame and keypress-to-frame on each screen.
struct ConsoleBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "console",
    abstract: "Time the console's first frame and keypress-to-frame on each screen.")

  @OptionGroup var benchmark: ConsoleBenchmark

  func run() throws {
    try withBenchOutput { try benchmark.run(open: { try DatabaseAccess.open(path: $0) }) }
  }
}

/// The review queue's filters.
struct QueueBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "queue",
    abstract: "Time the review queue's filters: keypress to frame, and the queries alone.")

  @OptionGroup var benchmark: QueueBenchmark

  func run() throws {
    try withBenchOutput { try benchmark.run(open: { try DatabaseAccess.open(path: $0) }) }
  }
}

/// A consent import of many events and account search.
struct ConsentBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "consent",
    abstract: "Time a consent import (1M events) and account search on the accounts it made.",
    discussion: """
      Each run imports a generated CSV file into a new database file (WAL mode, as `csar \
      consent import`), then re-imports it (every line a duplicate). Search is timed on the \
      last run's accounts: prefixes of provider ids and pseudonyms, typed one key at a time.
      """)

  @OptionGroup var benchmark: ConsentBenchmark

  func run() throws { try withBenchOutput { try benchmark.run() } }
}

/// Several reviewer processes deciding items on one database.
struct ContentionBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "contention",
    abstract: "Several reviewer processes deciding items on one database; checks the result.")

  @OptionGroup var benchmark: ContentionBenchmark

  func run() throws {
    try withBenchOutput { try benchmark.run(open: { try DatabaseAccess.open(path: $0) }) }
  }
}

/// `csar report export` of many ready reports.
struct ReportsBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "reports",
    abstract: "Time `csar report export` of many ready reports (10k by default).",
    discussion: """
      Fills a new database file with known-material items and one ready report each (accounts \
      with an IP address, a device id and a name), then times the export to a fresh outbox; \
      each run fills a new database (an exported report is never made ready again: the \
      export refuses reports that disagree with their audit trail).
      """)

  @OptionGroup var benchmark: ReportsBenchmark

  func run() throws { try withBenchOutput { try benchmark.run() } }
}
