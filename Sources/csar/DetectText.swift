// Small text helpers for the detection commands' output.

/// Text helpers of the detection commands (hash, url, bank); JSON strings are `JSONValue`'s.
enum DetectText {
  /// Prints a line to stderr (through ``Output``).
  static func printError(_ line: String) { Output.error(line) }
}
