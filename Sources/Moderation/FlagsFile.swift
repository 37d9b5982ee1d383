// Parsing and validating classifier score files (JSON Lines) for `csar flags import`.

import Foundation
import Store

/// One classifier event as read from the file.
public struct ClassifierEvent: Hashable, Sendable {
  /// 1-based line number.
  public var line: Int
  /// The account's external id.
  public var account: String
  /// The service code.
  public var service: String
  /// The media path (as the detector named it).
  public var media: String
  /// The model name.
  public var model: String
  /// The score, 0...1.
  public var score: Double
  /// The detector's event id, if any.
  public var id: String?
}

/// A parsed JSON Lines file of classifier scores.
public struct FlagsFile: Sendable {
  /// Valid events in file order.
  public var events: [ClassifierEvent]
  /// Every bad line.
  public var problems: [LineProblem]

  /// Reads and parses the file at `path`.
  public static func load(path: String) throws(ModerationError) -> FlagsFile {
    parse(try ImportText.read(path), file: path)
  }

  /// Parses JSON Lines: each line an object with `account`, `service`, `media`, `model`
  /// (strings), `score` (number in 0...1) and an optional `id` (a string, or a whole number
  /// written with digits, kept exactly as written). Blank lines are ignored; other fields are
  /// ignored too. A key given twice, invalid UTF-8 and lone surrogate escapes are bad lines.
  public static func parse(_ text: String, file: String) -> FlagsFile {
    var result = FlagsFile(events: [], problems: [])
    var seenIds: [String: Int] = [:]
    var fields: [String: FlatJSONValue] = [:]
    for (number, line) in ImportText.lines(text) {
      if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
      func bad(_ reason: String) {
        result.problems.append(LineProblem(file: file, line: number, reason: reason))
      }
      if let problem = FlatJSON.parseObject(line, into: &fields, allowNested: true) {
        switch line.first(where: { $0 != " " && $0 != "\t" }) {
        case "{": bad("not valid JSON: \(problem)")
        case "[": bad("not a JSON object")
        default: bad("not valid JSON")
        }
        continue
      }
      var strings: [String: String] = [:]
      var problem: String?
      for name in ["account", "service", "media", "model"] {
        guard let value = fields[name], value != .null else {
          problem = problem ?? "missing field \"\(name)\""
          continue
        }
        guard case .string(let text) = value else {
          problem = problem ?? "field \"\(name)\" must be a string"
          continue
        }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
          problem = problem ?? "field \"\(name)\" is empty"
          continue
        }
        guard !ImportText.hasControl(text) else {
          problem = problem ?? "field \"\(name)\" contains a control character"
          continue
        }
        // Ids in one Unicode form (NFC), as the store keeps them.
        strings[name] = name == "account" ? Identifier.normalized(text) : text
      }
      if let problem {
        bad(problem)
        continue
      }
      guard let scoreValue = fields["score"], scoreValue != .null else {
        bad("missing field \"score\"")
        continue
      }
      guard case .number(let scoreText) = scoreValue, let score = Double(scoreText) else {
        bad("field \"score\" must be a number")
        continue
      }
      guard score.isFinite, (0...1).contains(score) else {
        bad("score \(score) is not in 0...1")
        continue
      }
      var id: String?
      switch fields["id"] {
      case nil, .null?: id = nil
      case .string(let text)?: id = Identifier.normalized(text)
      case let value? where value.isIntegerLiteral: id = value.text
      default:
        bad("field \"id\" must be a string or an integer")
        continue
      }
      if let id, id.isEmpty || ImportText.hasControl(id) {
        bad("field \"id\" must be non-empty text without control characters")
        continue
      }
      if let id, let first = seenIds[id] {
        bad("duplicate id \"\(DisplayText.clean(id))\" (first on line \(first))")
        continue
      }
      if let id { seenIds[id] = number }
      result.events.append(
        ClassifierEvent(
          line: number, account: strings["account"]!, service: strings["service"]!,
          media: strings["media"]!, model: strings["model"]!, score: score, id: id))
    }
    return result
  }
}
