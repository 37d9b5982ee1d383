import Foundation
import Terminal
import Testing

// MARK: - Text snapshots

/// Compares a rendered screen's text with `__Snapshots__/NAME.txt` beside this file.
///
/// A missing snapshot fails the test (so CI can never pass by recording); run the tests with
/// `CSAR_RECORD_SNAPSHOTS=1` to (re)write them, then read the files before committing.
func assertSnapshot(
  _ screen: Screen, named name: String, filePath: String = #filePath,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let folder = URL(fileURLWithPath: filePath).deletingLastPathComponent()
    .appendingPathComponent("__Snapshots__")
  let file = folder.appendingPathComponent("\(name).txt")
  let actual = screen.text + "\n"
  if ProcessInfo.processInfo.environment["CSAR_RECORD_SNAPSHOTS"] == "1" {
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try? actual.write(to: file, atomically: true, encoding: .utf8)
    return
  }
  guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
    Issue.record(
      "no snapshot \(file.path); run with CSAR_RECORD_SNAPSHOTS=1 to record it",
      sourceLocation: sourceLocation)
    return
  }
  if expected != actual {
    let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var diff: [String] = []
    for index in 0..<max(expectedLines.count, actualLines.count) {
      let e = index < expectedLines.count ? String(expectedLines[index]) : "<none>"
      let a = index < actualLines.count ? String(actualLines[index]) : "<none>"
      if e != a { diff.append("row \(index):\n  expected: \(e)\n  actual:   \(a)") }
    }
    Issue.record(
      "snapshot \(name) differs:\n\(diff.prefix(8).joined(separator: "\n"))",
      sourceLocation: sourceLocation)
  }
}
