// The summary table of `csar bench all`.

/// One line of the summary: a median (or rate) with its target, the reference tool's figure
/// beside it and the peak memory of the process that measured it.
struct BenchRow {
  var name: String
  var value: String
  var target = ""
  /// Whether the target is met; nil when there is none (or no figure).
  var met: Bool?
  var reference = ""
  var ratio = ""
  var peak = ""
}

/// Rows collected while the benchmarks run, printed as a Markdown table.
struct BenchTable {
  var rows: [BenchRow] = []
  var failures: [String] = []

  mutating func add(_ row: BenchRow) { rows.append(row) }

  /// A row for a benchmark whose process failed or printed no figure.
  mutating func failed(_ name: String, _ problem: String, peak: String = "") {
    failures.append("\(name): \(problem)")
    rows.append(BenchRow(name: name, value: "failed: " + problem, peak: peak))
  }

  /// `value` seconds as milliseconds or seconds, whichever reads better.
  static func time(_ seconds: Double) -> String {
    if seconds >= 1 { return trimmed(BenchFigures.format(seconds, 2)) + " s" }
    return trimmed(BenchFigures.format(seconds * 1000, seconds < 0.001 ? 3 : 2)) + " ms"
  }

  /// "150.0" as "150".
  private static func trimmed(_ number: String) -> String {
    number.hasSuffix(".0") ? String(number.dropLast(2)) : number
  }

  static func mebibytes(_ bytes: Int) -> String {
    bytes > 0 ? "\(Int((Double(bytes) / 1_048_576).rounded())) MiB" : "?"
  }

  /// `csar / reference` as a factor (below 1: csar is faster).
  static func ratio(_ ours: Double, _ theirs: Double) -> String {
    theirs > 0 ? BenchFigures.format(ours / theirs, 2) + "×" : ""
  }

  /// The table in Markdown (readable as text too); targets show ✓ or ✗.
  func markdown() -> String {
    let header = ["benchmark", "median", "target", "reference", "csar/ref", "peak RSS"]
    let cells = rows.map { row -> [String] in
      let mark = row.met.map { $0 ? " ✓" : " ✗" } ?? ""
      return [row.name, row.value, row.target + (row.target.isEmpty ? "" : mark),
              row.reference, row.ratio, row.peak]
    }
    var widths = header.map(\.count)
    for line in cells {
      for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) }
    }
    func render(_ line: [String]) -> String {
      "| " + line.enumerated().map { i, cell in
        cell + String(repeating: " ", count: widths[i] - cell.count)
      }.joined(separator: " | ") + " |"
    }
    let rule = "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|")
      + "|"
    return ([render(header), rule] + cells.map(render)).joined(separator: "\n")
  }
}
