import Terminal

// MARK: - Wrapping text

/// Splits text into display lines at spaces (wide characters count as two columns).
enum TextWrap {
  /// Lines of at most `width` columns (the first of at most `firstWidth`, when given: text
  /// after a label); a word longer than a line stays whole (and is clipped when drawn).
  /// Newlines start new lines.
  static func lines(_ text: String, width: Int, firstWidth: Int? = nil) -> [String] {
    guard width > 4 else { return [text] }
    var lines: [String] = []
    for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
      var line = ""
      for word in paragraph.split(separator: " ") {
        let candidate = line.isEmpty ? String(word) : line + " " + word
        let limit = lines.isEmpty ? firstWidth ?? width : width
        if DisplayWidth.of(candidate) > limit, !line.isEmpty {
          lines.append(line)
          line = String(word)
        } else {
          line = candidate
        }
      }
      lines.append(line)
    }
    return lines
  }

  /// Wraps styled lines, indenting continuations under the line's own indentation plus two;
  /// returns where line `focus` of the input starts in the output.
  static func styled<Role>(
    _ input: [(String, Role)], width: Int, focus: Int?
  ) -> (lines: [(String, Role)], focus: Int?) {
    var output: [(String, Role)] = []
    var moved: Int?
    for (index, (text, role)) in input.enumerated() {
      if index == focus { moved = output.count }
      guard DisplayWidth.of(text) > width, index != focus else {
        output.append((text, role))
        continue
      }
      let lead = text.prefix { $0 == " " }.count
      let indent = String(repeating: " ", count: lead + 2)
      let parts = lines(String(text.dropFirst(lead)), width: width - indent.count)
      for (n, part) in parts.enumerated() {
        output.append(((n == 0 ? String(indent.dropLast(2)) : indent) + part, role))
      }
    }
    return (output, moved)
  }
}
