// Parsing and validating URL list files for `csar url import`.

import Detection
import Foundation
import Store

/// A parsed URL list: the good entries and every bad line.
public struct URLListFile: Sendable {
  /// Valid entries in file order (duplicates removed).
  public var entries: [URLListEntry]
  /// Every bad line.
  public var problems: [LineProblem]

  /// Reads and parses the file at `path`.
  public static func load(path: String) throws(ModerationError) -> URLListFile {
    parse(try ImportText.read(path), file: path)
  }

  /// Parses URL list text: one URL or host/path expression per line, optionally a tab and a
  /// label. Each is canonicalised as Safe Browsing does and stored as the expression of its
  /// full form (`host/path[?query]`), which the lookups of any URL under it will produce.
  /// Blank lines and lines starting with `#` are ignored.
  public static func parse(_ text: String, file: String) -> URLListFile {
    var result = URLListFile(entries: [], problems: [])
    var seen: [String: Int] = [:]
    for (number, line) in ImportText.lines(text) {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      func bad(_ reason: String) {
        result.problems.append(LineProblem(file: file, line: number, reason: reason))
      }
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      guard fields.count <= 2 else {
        bad("too many columns: \(fields.count) (URL, then an optional label after a tab)")
        continue
      }
      let urlText = fields[0].trimmingCharacters(in: .whitespaces)
      let label = fields.count == 2 ? fields[1].trimmingCharacters(in: .whitespaces) : ""
      guard !urlText.isEmpty else {
        bad("empty URL")
        continue
      }
      if ImportText.hasControl(label) {
        bad("label contains a control character")
        continue
      }
      let expression: String
      do {
        expression = try expressionOf(urlText)
      } catch {
        bad("not a URL: \(DisplayText.clean(error.reason))")
        continue
      }
      if let first = seen[expression] {
        bad("duplicate of line \(first) (both are \(DisplayText.clean(expression)))")
        continue
      }
      seen[expression] = number
      result.entries.append(
        URLListEntry(expression: expression, label: label.isEmpty ? nil : label))
    }
    return result
  }

  /// The Safe Browsing expression of a URL's full form: canonical host, path and query.
  public static func expressionOf(_ url: String) throws(URLCanonicalizationError) -> String {
    let canonical = try URLCanonicalizer.parse(url)
    guard !canonical.host.isEmpty else {
      throw URLCanonicalizationError(input: url, reason: "no host")
    }
    guard canonical.host.contains(".") || canonical.hostIsIPv4 else {
      throw URLCanonicalizationError(input: url, reason: "host has no dot")
    }
    return canonical.host + canonical.path + (canonical.query.map { "?" + $0 } ?? "")
  }
}
