// `csar bench all`'s hash-list formats step: `csar bench formats`, one row per format.

extension BenchSuite {
  /// Runs `csar bench formats --hashes N` (without the reference tool, which `bench formats`
  /// alone runs) and adds a row per format: read, parse and store of N hashes, against the
  /// 15 s target of a 1M-hash import.
  mutating func formats(hashes: Int) {
    guard
      let result = runChild(
        "formats", ["bench", "formats", "--hashes", "\(hashes)", "--reference", "false"])
    else { return }
    for format in FormatsBenchmark.formats {
      row(
        "bank import, \(format.name), \(hashes) hashes", result,
        result.figure("import \(format.name)\t", after: "hashes in"), target: 15,
        targetText: "< 15 s (1M)")
    }
  }
}
