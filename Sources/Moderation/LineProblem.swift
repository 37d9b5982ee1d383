// Problems found in an import file, each with its line number.

/// One bad line of an import file: `FILE:LINE: reason`.
public struct LineProblem: Hashable, Sendable, CustomStringConvertible {
  /// The file as named on the command line.
  public var file: String
  /// 1-based line number.
  public var line: Int
  /// What is wrong with the line.
  public var reason: String

  /// Creates a problem.
  public init(file: String, line: Int, reason: String) {
    self.file = file
    self.line = line
    self.reason = reason
  }

  /// `FILE:LINE: reason`.
  public var description: String { "\(file):\(line): \(reason)" }
}

/// Why an import or scan could not go ahead.
public enum ModerationError: Error, Hashable, Sendable, CustomStringConvertible {
  /// The file had bad lines and `--skip-invalid` was not given: nothing was imported.
  case invalidLines(file: String, problems: [LineProblem])
  /// The file could not be read.
  case unreadable(file: String, reason: String)
  /// The file holds no entries at all.
  case empty(file: String)
  /// A threshold given on the command line is out of range.
  case badThreshold(String)
  /// A removal or retraction list had bad lines: nothing was changed (they apply whole).
  case invalidRemovalLines(file: String, problems: [LineProblem])

  /// The bad lines the error is about (empty for other errors).
  public var problems: [LineProblem] {
    switch self {
    case .invalidLines(_, let problems), .invalidRemovalLines(_, let problems): problems
    default: []
    }
  }
  /// The file is larger than the import limit (refused before it is read).
  case tooLarge(file: String, bytes: Int, limit: Int)

  public var description: String {
    switch self {
    case .invalidLines(let file, let problems):
      let n = problems.count
      return "\(file): \(n) bad line\(n == 1 ? "" : "s"); nothing imported "
        + "(fix them, or pass --skip-invalid to import the good lines)"
    case .unreadable(let file, let reason): return "\(file): cannot read: \(reason)"
    case .empty(let file): return "\(file): no entries to import"
    case .badThreshold(let reason): return reason
    case .invalidRemovalLines(let file, let problems):
      let n = problems.count
      return "\(file): \(n) bad line\(n == 1 ? "" : "s"); nothing changed (a removal or "
        + "retraction list applies whole or not at all: fix the lines and run it again)"
    case .tooLarge(let file, let bytes, let limit):
      return "\(file): \(bytes) bytes is larger than the \(limit >> 20) MiB a list may have; "
        + "nothing imported (split the list)"
    }
  }
}

/// Text helpers shared by the parsers.
enum ImportText {
  /// The lines of `text` (LF or CRLF), numbered from 1; a UTF-8 BOM is dropped.
  static func lines(_ text: String) -> [(number: Int, text: Substring)] {
    var body = Substring(text)
    if body.hasPrefix("\u{FEFF}") { body = body.dropFirst() }
    var out: [(Int, Substring)] = []
    var number = 0
    // "\r\n" is one Character in Swift: split on it as well as on "\n".
    let split = body.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
    for raw in split {
      number += 1
      var line = raw
      if line.hasSuffix("\r") { line = line.dropLast() }
      out.append((number, line))
    }
    if let last = out.last, last.1.isEmpty { out.removeLast() }
    return out
  }

  /// Whether `text` holds a control character (which must never reach a terminal or a label).
  static func hasControl(_ text: some StringProtocol) -> Bool {
    text.utf8.withContiguousStorageIfAvailable { ByteText.hasControl($0) }
      ?? text.unicodeScalars.contains {
        $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value)
      }
  }

  /// The UTF-8 text of a file's bytes (`file` names it in the error).
  static func decode(_ bytes: [UInt8], file path: String) throws(ModerationError) -> String {
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw ModerationError.unreadable(
        file: path,
        reason: ConsentImportParser.encodingProblem(Array(bytes.prefix(512)))
          ?? "not UTF-8 text")
    }
    return text
  }

  /// Reads a whole text file.
  static func read(_ path: String) throws(ModerationError) -> String {
    do {
      return try decode([UInt8](Data(contentsOf: URL(fileURLWithPath: path))), file: path)
    } catch let error as ModerationError {
      throw error
    } catch {
      throw ModerationError.unreadable(file: path, reason: (error as NSError).localizedDescription)
    }
  }
}

import Foundation
import Store
