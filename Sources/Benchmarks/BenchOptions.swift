// Options more than one `csar bench …` command takes, as argument-parser option groups.

import ArgumentParser

/// The reference tool of `bench all` and `bench images`: which Python runs it, and the script.
public struct BenchReferenceOptions: ParsableArguments {
  public init() {}

  @Option(name: .long, help: "Python for the reference tools.")
  var python = "python3"

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The reference script (default: bench/reference.py; for `bench images`, "
        + "bench/formats_reference.py)."))
  var referenceScript: String?
}

/// Options of the benchmarks that drive the console in-process (`console`, `queue`).
public struct ConsoleBenchOptions: ParsableArguments {
  public init() {}

  @Option(name: .long, help: "Database to open (e.g. one made by `csar demo --items 100000`).")
  var db: String

  @Option(name: .long, help: "Times each measurement is repeated.")
  var runs = 21

  @Option(name: .long, help: "Screen size as WIDTHxHEIGHT.")
  var size = "120x40"

  /// The screen size from `--size`, once `--runs` is at least `minimumRuns`.
  func screen(minimumRuns: Int) throws -> (width: Int, height: Int) {
    let parts = size.split(separator: "x").compactMap { Int($0) }
    guard parts.count == 2, runs >= minimumRuns else {
      throw ValidationError(
        "--size must look like 120x40 and --runs be at least \(minimumRuns)")
    }
    return (parts[0], parts[1])
  }
}
