// MARK: - Questionnaires: the methodology as data

/// A versioned risk-categorisation methodology: weighted sections of questions, points per
/// answer, thresholds and floor rules. Loaded from `data/questionnaires/*.toml` with
/// ``Questionnaire/parse(_:file:)``, which reports every problem with file, line and key.
public struct Questionnaire: Hashable, Sendable {
  /// Versioned id stored with every assessment, e.g. `csar-2024@1`.
  public let id: String
  public let title: String
  /// Free text shown with results (e.g. that the weights are a reviewable default).
  public let note: String
  public let sections: [QuestionnaireSection]
  public let thresholds: Thresholds
  public let floors: [FloorRule]

  /// Every question in order, across sections.
  public var questions: [Question] { sections.flatMap(\.questions) }

  /// The question with an id, if any.
  public func question(_ id: String) -> Question? {
    questions.first { $0.id == id }
  }

  /// The section holding a question.
  public func section(of questionId: String) -> QuestionnaireSection? {
    sections.first { $0.questions.contains { $0.id == questionId } }
  }
}

/// A group of questions whose normalised score counts with `weight` in the total.
public struct QuestionnaireSection: Hashable, Sendable {
  public let id: String
  public let title: String
  public let weight: Double
  public let questions: [Question]

  /// The most points the section's questions can give.
  public var maxPoints: Double { questions.map(\.maxPoints).reduce(0, +) }
}

/// How a question is answered.
public enum QuestionKind: String, DomainCode {
  /// Exactly one of the answers.
  case single
  /// Any number of the answers (points add up).
  case multiple
  /// `yes` or `no`.
  case yesNo = "yes_no"
  /// A number, scored by the band it falls in.
  case numeric

  public static let fieldName = "kind"
}

/// One question with its help text and the points of each answer.
public struct Question: Hashable, Sendable {
  public let id: String
  public let kind: QuestionKind
  public let text: String
  public let help: String
  /// Answers to choose from (single, multiple, yes/no), in file order.
  public let options: [AnswerOption]
  /// Bands of a numeric question, ascending by `min`.
  public let bands: [NumericBand]
  /// Unit of a numeric answer (`users`), for display.
  public let unit: String

  /// The most points an answer can give: the best option, the sum of a multiple choice's
  /// options, or the best band.
  public var maxPoints: Double {
    switch kind {
    case .multiple: options.map { max(0, $0.points) }.reduce(0, +)
    case .numeric: bands.map(\.points).max() ?? 0
    case .single, .yesNo: options.map(\.points).max() ?? 0
    }
  }

  /// The option with an id.
  public func option(_ id: String) -> AnswerOption? { options.first { $0.id == id } }

  /// The band a number falls in (the last band whose `min` is at most the number).
  public func band(for value: Double) -> NumericBand? {
    bands.last { $0.min <= value }
  }
}

/// One answer of a choice question.
public struct AnswerOption: Hashable, Sendable {
  public let id: String
  public let label: String
  public let points: Double
}

/// A range of a numeric question: from `min` (inclusive) up to the next band's `min`.
public struct NumericBand: Hashable, Sendable {
  public let id: String
  public let label: String
  public let min: Double
  public let points: Double
}

/// Total scores (0–100) from which a service is HIGH or MEDIUM risk; below `medium` it is LOW.
public struct Thresholds: Hashable, Sendable {
  public let high: Double
  public let medium: Double

  /// The category of a total score.
  public func category(for total: Double) -> RiskCategory {
    if total >= high { return .high }
    if total >= medium { return .medium }
    return .low
  }
}

/// A rule that puts a service at least in a category whatever its score, when all of its
/// conditions hold (e.g. children can access a livestreaming service: at least HIGH).
public struct FloorRule: Hashable, Sendable {
  public let id: String
  public let atLeast: RiskCategory
  public let reason: String
  public let conditions: [FloorCondition]
}

/// A floor condition: the answer to `question` is one of `answers` (for a multiple choice,
/// any of them is chosen; for a numeric question, the band ids).
public struct FloorCondition: Hashable, Sendable {
  public let question: String
  public let answers: [String]
}

// MARK: - Problems

/// One problem in a questionnaire or answers file: file, line, key and what is wrong.
public struct FileProblem: Error, Hashable, Sendable, CustomStringConvertible {
  public let file: String
  public let line: Int
  /// Dotted key path (`sections.architecture.questions.e2ee.answers.yes.points`); may be empty.
  public let key: String
  public let message: String

  public init(file: String, line: Int, key: String, message: String) {
    self.file = file
    self.line = line
    self.key = key
    self.message = message
  }

  public var description: String {
    key.isEmpty ? "\(file):\(line): \(message)" : "\(file):\(line): \(key): \(message)"
  }
}

/// Every problem found in a file; the description lists them one per line.
public struct FileProblems: Error, Hashable, Sendable, CustomStringConvertible {
  public let problems: [FileProblem]

  public init(_ problems: [FileProblem]) { self.problems = problems }

  public var description: String { problems.map(\.description).joined(separator: "\n") }
}

// MARK: - Loading

extension Questionnaire {
  /// Parses and validates a questionnaire text. `file` names it in messages (the caller reads
  /// the file). Throws ``FileProblems`` listing every problem: syntax, unknown keys (typos),
  /// wrong types, missing keys, duplicate ids, bad thresholds and floors.
  public static func parse(_ text: String, file: String) throws(FileProblems) -> Questionnaire {
    let (root, syntax) = TOMLReader.parse(text)
    var checker = Checker(file: file)
    for error in syntax {
      checker.problems.append(
        FileProblem(file: file, line: error.line, key: "", message: error.message))
    }
    let questionnaire = checker.questionnaire(root)
    guard checker.problems.isEmpty, let questionnaire else {
      throw FileProblems(checker.problems.sorted { ($0.line, $0.key) < ($1.line, $1.key) })
    }
    return questionnaire
  }
}

/// Walks the parsed tree, collecting problems instead of stopping at the first.
private struct Checker {
  let file: String
  var problems: [FileProblem] = []

  mutating func problem(_ line: Int, _ key: String, _ message: String) {
    problems.append(FileProblem(file: file, line: line, key: key, message: message))
  }

  /// Reports keys of `table` not in `known`.
  mutating func onlyKnown(_ table: TOMLTable, _ path: String, _ known: [String]) {
    for (key, value) in table.entries where !known.contains(key) {
      problem(
        value.line, join(path, key),
        "unknown key; expected one of \(known.joined(separator: ", "))")
    }
  }

  func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

  mutating func string(_ table: TOMLTable, _ path: String, _ key: String, required: Bool = true)
    -> String?
  {
    guard let value = table[key] else {
      if required { problem(table.line, join(path, key), "missing; expected a string") }
      return nil
    }
    guard let s = value.string else {
      problem(value.line, join(path, key), "expected a string, found \(value.typeName)")
      return nil
    }
    if required, s.trimmingSpaces.isEmpty {
      problem(value.line, join(path, key), "must not be empty")
      return nil
    }
    return s
  }

  mutating func number(_ table: TOMLTable, _ path: String, _ key: String) -> Double? {
    guard let value = table[key] else {
      problem(table.line, join(path, key), "missing; expected a number")
      return nil
    }
    guard let n = value.number else {
      problem(value.line, join(path, key), "expected a number, found \(value.typeName)")
      return nil
    }
    return n
  }

  mutating func subtable(_ table: TOMLTable, _ path: String, _ key: String) -> TOMLTable? {
    guard let value = table[key] else {
      problem(table.line, join(path, key), "missing; expected a table")
      return nil
    }
    guard let t = value.table else {
      problem(value.line, join(path, key), "expected a table, found \(value.typeName)")
      return nil
    }
    return t
  }

  mutating func questionnaire(_ root: TOMLTable) -> Questionnaire? {
    onlyKnown(root, "", ["id", "title", "note", "thresholds", "sections", "floors"])
    let id = string(root, "", "id")
    let title = string(root, "", "title")
    let note = string(root, "", "note", required: false) ?? ""
    let thresholds = thresholdsTable(root)
    var sections: [QuestionnaireSection] = []
    var seen: [String: Int] = [:]
    if let table = subtable(root, "", "sections") {
      if table.keys.isEmpty { problem(table.line, "sections", "needs at least one section") }
      for (key, value) in table.entries {
        let path = "sections.\(key)"
        guard let t = value.table else {
          problem(value.line, path, "expected a table, found \(value.typeName)")
          continue
        }
        if let section = section(key, t, path, seen: &seen) { sections.append(section) }
      }
    }
    let all = sections.flatMap(\.questions)
    let floors = floorRules(root, questions: all)
    guard let id, let title, let thresholds else { return nil }
    return Questionnaire(
      id: id, title: title, note: note, sections: sections, thresholds: thresholds,
      floors: floors)
  }

  mutating func thresholdsTable(_ root: TOMLTable) -> Thresholds? {
    guard let table = subtable(root, "", "thresholds") else { return nil }
    onlyKnown(table, "thresholds", ["high", "medium"])
    let high = number(table, "thresholds", "high")
    let medium = number(table, "thresholds", "medium")
    guard let high, let medium else { return nil }
    if !(0 < medium && medium < high && high <= 100) {
      let line = table["high"]?.line ?? table.line
      problem(line, "thresholds", "expected 0 < medium < high <= 100 (scores are 0-100)")
      return nil
    }
    return Thresholds(high: high, medium: medium)
  }

  mutating func section(
    _ id: String, _ table: TOMLTable, _ path: String, seen: inout [String: Int]
  ) -> QuestionnaireSection? {
    onlyKnown(table, path, ["title", "weight", "questions"])
    let title = string(table, path, "title")
    let weight = number(table, path, "weight")
    if let weight, weight <= 0, let line = table["weight"]?.line {
      problem(line, path + ".weight", "must be greater than 0")
    }
    var questions: [Question] = []
    if let qs = subtable(table, path, "questions") {
      if qs.keys.isEmpty { problem(qs.line, path + ".questions", "needs at least one question") }
      for (key, value) in qs.entries {
        let qpath = "\(path).questions.\(key)"
        guard let t = value.table else {
          problem(value.line, qpath, "expected a table, found \(value.typeName)")
          continue
        }
        if let first = seen[key] {
          problem(t.line, qpath, "duplicate question id \(key) (first defined on line \(first))")
          continue
        }
        seen[key] = t.line
        if let q = question(key, t, qpath) { questions.append(q) }
      }
    }
    // A section with a bad title or weight is already a problem (so nothing loads), but its
    // questions are still known: floors that name them must not report follow-on problems.
    let usableWeight = weight.flatMap { $0 > 0 ? $0 : nil } ?? 1
    return QuestionnaireSection(
      id: id, title: title ?? id, weight: usableWeight, questions: questions)
  }

  mutating func question(_ id: String, _ table: TOMLTable, _ path: String) -> Question? {
    onlyKnown(table, path, ["kind", "text", "help", "unit", "answers", "bands"])
    let text = string(table, path, "text")
    let help = string(table, path, "help")
    let unit = string(table, path, "unit", required: false) ?? ""
    var kind: QuestionKind?
    if let code = string(table, path, "kind") {
      do {
        kind = try QuestionKind(code: code)
      } catch {
        problem(table["kind"]!.line, path + ".kind", "\"\(code)\" is not valid; \(error.expected)")
      }
    }
    var options: [AnswerOption] = []
    var bands: [NumericBand] = []
    if kind == .numeric {
      if let value = table["answers"] {
        problem(value.line, path + ".answers", "a numeric question has bands, not answers")
      }
      bands = numericBands(table, path)
    } else if kind != nil {
      if let value = table["bands"] {
        problem(value.line, path + ".bands", "only numeric questions have bands")
      }
      options = answerOptions(table, path, yesNo: kind == .yesNo)
    }
    guard let kind, let text, let help else { return nil }
    return Question(
      id: id, kind: kind, text: text, help: help, options: options, bands: bands, unit: unit)
  }

  mutating func answerOptions(_ table: TOMLTable, _ path: String, yesNo: Bool) -> [AnswerOption] {
    guard let answers = subtable(table, path, "answers") else { return [] }
    let apath = path + ".answers"
    var options: [AnswerOption] = []
    for (key, value) in answers.entries {
      let opath = "\(apath).\(key)"
      guard let t = value.table else {
        problem(value.line, opath, "expected a table such as { label = \"…\", points = 0 }")
        continue
      }
      onlyKnown(t, opath, ["label", "points"])
      let label = yesNo ? (string(t, opath, "label", required: false) ?? key)
        : string(t, opath, "label")
      let points = number(t, opath, "points")
      if let points, points < 0, let line = t["points"]?.line {
        problem(line, opath + ".points", "must not be negative")
      }
      if let label, let points { options.append(AnswerOption(id: key, label: label, points: points)) }
    }
    if yesNo {
      if Set(answers.keys) != ["yes", "no"] {
        problem(answers.line, apath, "a yes_no question has exactly the answers yes and no")
      }
    } else if answers.keys.count < 2 {
      problem(answers.line, apath, "needs at least two answers")
    }
    return options
  }

  mutating func numericBands(_ table: TOMLTable, _ path: String) -> [NumericBand] {
    let bpath = path + ".bands"
    guard let value = table["bands"] else {
      problem(table.line, bpath, "missing; expected an array of { id, label, min, points }")
      return []
    }
    guard let items = value.array else {
      problem(value.line, bpath, "expected an array, found \(value.typeName)")
      return []
    }
    var bands: [NumericBand] = []
    for (n, item) in items.enumerated() {
      let ipath = "\(bpath)[\(n)]"
      guard let t = item.table else {
        problem(item.line, ipath, "expected a table such as { id = \"…\", min = 0, points = 0 }")
        continue
      }
      onlyKnown(t, ipath, ["id", "label", "min", "points"])
      let id = string(t, ipath, "id")
      let label = string(t, ipath, "label")
      let min = number(t, ipath, "min")
      let points = number(t, ipath, "points")
      if let min, let previous = bands.last, min <= previous.min {
        problem(t["min"]!.line, ipath + ".min", "bands must be in ascending order of min")
      }
      if let id, bands.contains(where: { $0.id == id }) {
        problem(t["id"]!.line, ipath + ".id", "duplicate band id \(id)")
      }
      if let id, let label, let min, let points {
        bands.append(NumericBand(id: id, label: label, min: min, points: points))
      }
    }
    if items.count < 2 { problem(value.line, bpath, "needs at least two bands") }
    return bands
  }

  mutating func floorRules(_ root: TOMLTable, questions: [Question]) -> [FloorRule] {
    guard let value = root["floors"] else { return [] }
    guard let items = value.array else {
      problem(value.line, "floors", "expected [[floors]] tables, found \(value.typeName)")
      return []
    }
    var rules: [FloorRule] = []
    for (n, item) in items.enumerated() {
      let path = "floors[\(n)]"
      guard let t = item.table else {
        problem(item.line, path, "expected a table")
        continue
      }
      onlyKnown(t, path, ["id", "at_least", "reason", "when"])
      let id = string(t, path, "id")
      let reason = string(t, path, "reason")
      var atLeast: RiskCategory?
      if let code = string(t, path, "at_least") {
        if code == "medium" || code == "high" {
          atLeast = RiskCategory(rawValue: code)
        } else {
          problem(t["at_least"]!.line, path + ".at_least", "expected \"medium\" or \"high\"")
        }
      }
      let conditions = floorConditions(t, path, questions: questions)
      if let id, let reason, let atLeast, !conditions.isEmpty {
        rules.append(FloorRule(id: id, atLeast: atLeast, reason: reason, conditions: conditions))
      }
    }
    return rules
  }

  mutating func floorConditions(_ t: TOMLTable, _ path: String, questions: [Question])
    -> [FloorCondition]
  {
    let wpath = path + ".when"
    guard let value = t["when"] else {
      problem(t.line, wpath, "missing; expected [{ question = \"…\", answers = [\"…\"] }]")
      return []
    }
    guard let items = value.array, !items.isEmpty else {
      problem(value.line, wpath, "expected a non-empty array of conditions")
      return []
    }
    var conditions: [FloorCondition] = []
    for (n, item) in items.enumerated() {
      let cpath = "\(wpath)[\(n)]"
      guard let c = item.table else {
        problem(item.line, cpath, "expected { question = \"…\", answers = [\"…\"] }")
        continue
      }
      onlyKnown(c, cpath, ["question", "answers"])
      guard let qid = string(c, cpath, "question") else { continue }
      guard let question = questions.first(where: { $0.id == qid }) else {
        problem(c["question"]!.line, cpath + ".question", "no question has the id \(qid)")
        continue
      }
      guard let list = c["answers"]?.array else {
        problem(c.line, cpath + ".answers", "expected an array of answer ids")
        continue
      }
      var ids: [String] = []
      let valid = question.kind == .numeric ? question.bands.map(\.id) : question.options.map(\.id)
      for entry in list {
        guard let s = entry.string, valid.contains(s) else {
          problem(
            entry.line, cpath + ".answers",
            "\(entry.string.map { "\"\($0)\"" } ?? entry.typeName) is not an answer of \(qid); "
              + "expected one of \(valid.joined(separator: ", "))")
          continue
        }
        ids.append(s)
      }
      if !ids.isEmpty { conditions.append(FloorCondition(question: qid, answers: ids)) }
    }
    return conditions
  }
}

extension String {
  var trimmingSpaces: String {
    String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
  }
}
