// MARK: - Answers and scoring

/// An answer to one question.
public enum Answer: Hashable, Sendable {
  /// The id of the chosen option (single choice, `yes`/`no`).
  case choice(String)
  /// The ids of the chosen options (multiple choice; may be empty).
  case choices([String])
  /// A number (numeric question).
  case number(Double)

  /// The largest magnitude a numeric answer may have (10^15: exact as a Double and as an
  /// Int64, and more users than exist).
  public static let largestNumber = 1e15
}

/// An answer that does not fit its question, or a missing one: names the question.
public struct AnswerError: Error, Hashable, Sendable, CustomStringConvertible {
  public let question: String
  public let message: String

  public init(question: String, message: String) {
    self.question = question
    self.message = message
  }

  public var description: String { "\(question): \(message)" }
}

/// One section's part of a score.
public struct SectionScore: Hashable, Sendable {
  public let id: String
  public let title: String
  public let weight: Double
  public let points: Double
  public let maxPoints: Double
  /// Points of the total (0–100) this section gives: weight share × points / maximum.
  public let contribution: Double
  /// Most the section could give to the total.
  public let maxContribution: Double
}

/// Why a service scored as it did: one answer and how much of the total it gave.
public struct ScoreReason: Hashable, Sendable {
  public let question: String
  public let questionText: String
  public let answerLabel: String
  /// Points of the total (0–100) this answer gave.
  public let contribution: Double
}

/// The outcome of scoring: per section, total, category, floors and reasons.
public struct ScoreResult: Hashable, Sendable {
  public let questionnaireId: String
  public let sections: [SectionScore]
  /// 0–100, rounded to one decimal.
  public let total: Double
  /// Category the thresholds alone give.
  public let scoreCategory: RiskCategory
  /// Final category: the thresholds' one raised by floors.
  public let category: RiskCategory
  /// Floors whose conditions held (in file order); those above `scoreCategory` raised it.
  public let floorsApplied: [FloorRule]
  /// Answers that gave points, the largest first (ties in questionnaire order).
  public let reasons: [ScoreReason]

  /// Short lines explaining the category: the threshold, then raising floors.
  public func explanation(thresholds: Thresholds) -> [String] {
    var lines = [
      "Score \(ScoreResult.format(total)) of 100 → \(scoreCategory.label) (HIGH from "
        + "\(ScoreResult.format(thresholds.high)), MEDIUM from "
        + "\(ScoreResult.format(thresholds.medium)))"
    ]
    for floor in floorsApplied {
      let effect = floor.atLeast > scoreCategory ? "raised to" : "already at least"
      lines.append("Floor \(floor.id): \(effect) \(floor.atLeast.label) — \(floor.reason)")
    }
    return lines
  }

  /// One decimal, without a trailing `.0`.
  public static func format(_ value: Double) -> String {
    // Huge or non-finite numbers (a hostile answers file) are shown as Swift prints them.
    guard value.isFinite, abs(value) < 1e15 else { return String(value) }
    let rounded = (value * 10).rounded() / 10
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    return String(rounded)
  }
}

extension Questionnaire {
  /// Checks one answer against its question; returns the points it gives and its label.
  public func evaluate(_ answer: Answer, for question: Question) throws(AnswerError)
    -> (points: Double, label: String)
  {
    func fail(_ message: String) -> AnswerError {
      AnswerError(question: question.id, message: message)
    }
    let ids = question.options.map(\.id).joined(separator: ", ")
    switch (question.kind, answer) {
    case (.single, .choice(let id)), (.yesNo, .choice(let id)):
      guard let option = question.option(id) else {
        throw fail("\"\(id)\" is not an answer; expected one of \(ids)")
      }
      return (option.points, option.label)
    case (.multiple, .choices(let chosen)):
      var points = 0.0
      var labels: [String] = []
      for id in chosen {
        guard let option = question.option(id) else {
          throw fail("\"\(id)\" is not an answer; expected some of \(ids)")
        }
        points += option.points
        labels.append(option.label)
      }
      if Set(chosen).count != chosen.count { throw fail("an answer is chosen twice") }
      return (points, labels.isEmpty ? "none" : labels.joined(separator: ", "))
    case (.numeric, .number(let value)):
      guard value.isFinite, abs(value) <= Answer.largestNumber else {
        throw fail("\(value) is out of range; expected at most 10^15")
      }
      guard let band = question.band(for: value) else {
        let low = question.bands.first.map { ScoreResult.format($0.min) } ?? "0"
        throw fail("\(ScoreResult.format(value)) is out of range; expected at least \(low)")
      }
      let unit = question.unit.isEmpty ? "" : " " + question.unit
      return (band.points, "\(ScoreResult.format(value))\(unit) (\(band.label))")
    case (.single, _):
      throw fail("expected one answer id (one of \(ids))")
    case (.yesNo, _):
      throw fail("expected yes or no")
    case (.multiple, _):
      throw fail("expected a list of answer ids (some of \(ids))")
    case (.numeric, _):
      throw fail("expected a number")
    }
  }

  /// Scores a complete set of answers. Deterministic: the same answers always give the same
  /// result. Throws naming the first question (in questionnaire order) that is unanswered or
  /// wrongly answered, or an answer to a question that does not exist.
  public func score(_ answers: [String: Answer]) throws(AnswerError) -> ScoreResult {
    let known = Set(questions.map(\.id))
    if let stray = answers.keys.sorted().first(where: { !known.contains($0) }) {
      throw AnswerError(question: stray, message: "no such question in \(id)")
    }
    let totalWeight = sections.map(\.weight).reduce(0, +)
    var sectionScores: [SectionScore] = []
    var reasons: [(ScoreReason, Int)] = []
    var order = 0
    for section in sections {
      let share = totalWeight > 0 ? section.weight / totalWeight * 100 : 0
      let maximum = section.maxPoints
      var points = 0.0
      for question in section.questions {
        guard let answer = answers[question.id] else {
          throw AnswerError(question: question.id, message: "not answered")
        }
        let (gained, label) = try evaluate(answer, for: question)
        points += gained
        let contribution = maximum > 0 ? share * gained / maximum : 0
        if contribution > 0 {
          reasons.append(
            (
              ScoreReason(
                question: question.id, questionText: question.text, answerLabel: label,
                contribution: contribution), order
            ))
        }
        order += 1
      }
      let contribution = maximum > 0 ? share * min(points, maximum) / maximum : 0
      sectionScores.append(
        SectionScore(
          id: section.id, title: section.title, weight: section.weight, points: points,
          maxPoints: maximum, contribution: contribution, maxContribution: share))
    }
    let raw = sectionScores.map(\.contribution).reduce(0, +)
    let total = min(100, max(0, (raw * 10).rounded() / 10))
    let byThreshold = thresholds.category(for: total)
    var category = byThreshold
    var applied: [FloorRule] = []
    for floor in floors where floor.holds(for: answers, in: self) {
      applied.append(floor)
      category = max(category, floor.atLeast)
    }
    let sorted = reasons.sorted {
      $0.0.contribution != $1.0.contribution ? $0.0.contribution > $1.0.contribution : $0.1 < $1.1
    }.map(\.0)
    return ScoreResult(
      questionnaireId: id, sections: sectionScores, total: total, scoreCategory: byThreshold,
      category: category, floorsApplied: applied, reasons: sorted)
  }

  /// Checks a partial set of answers (a draft): every given answer must fit its question.
  public func validatePartial(_ answers: [String: Answer]) throws(AnswerError) {
    for key in answers.keys.sorted() {
      guard let question = question(key) else {
        throw AnswerError(question: key, message: "no such question in \(id)")
      }
      _ = try evaluate(answers[key]!, for: question)
    }
  }
}

extension FloorRule {
  /// Whether every condition holds for the answers.
  public func holds(for answers: [String: Answer], in questionnaire: Questionnaire) -> Bool {
    conditions.allSatisfy { condition in
      guard let answer = answers[condition.question],
        let question = questionnaire.question(condition.question)
      else { return false }
      switch answer {
      case .choice(let id): return condition.answers.contains(id)
      case .choices(let ids): return ids.contains { condition.answers.contains($0) }
      case .number(let value):
        guard let band = question.band(for: value) else { return false }
        return condition.answers.contains(band.id)
      }
    }
  }
}

// MARK: - Answers files

extension Questionnaire {
  /// Reads answers from a TOML or JSON text (`question = "answer"`, a list for multiple
  /// choice, a number for numeric questions, `true`/`false` allowed for yes/no). Reports every
  /// problem with file, line and question; unknown questions are errors. Does not require every
  /// question to be answered (``score(_:)`` does).
  public func parseAnswers(_ text: String, file: String) throws(FileProblems) -> [String: Answer]
  {
    let trimmed = text.drop { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r\n" }
    let (table, syntax) =
      trimmed.first == "{" ? TOMLReader.parseJSON(text) : TOMLReader.parse(text)
    var problems = syntax.map {
      FileProblem(file: file, line: $0.line, key: "", message: $0.message)
    }
    var answers: [String: Answer] = [:]
    for (key, value) in table.entries {
      guard let question = question(key) else {
        problems.append(
          FileProblem(file: file, line: value.line, key: key, message: "no such question in \(id)"))
        continue
      }
      let answer: Answer
      switch (question.kind, value.kind) {
      case (.yesNo, .bool(let b)): answer = .choice(b ? "yes" : "no")
      case (.single, .string(let s)), (.yesNo, .string(let s)): answer = .choice(s)
      case (.multiple, .array(let items)):
        let ids = items.compactMap(\.string)
        if ids.count != items.count {
          problems.append(
            FileProblem(
              file: file, line: value.line, key: key, message: "expected a list of answer ids"))
          continue
        }
        answer = .choices(ids)
      case (.multiple, .string(let s)): answer = .choices([s])
      case (.numeric, _) where value.number != nil: answer = .number(value.number!)
      default:
        let expected: String
        switch question.kind {
        case .single: expected = "an answer id (a string)"
        case .yesNo: expected = "yes or no"
        case .multiple: expected = "a list of answer ids"
        case .numeric: expected = "a number"
        }
        problems.append(
          FileProblem(
            file: file, line: value.line, key: key,
            message: "expected \(expected), found \(value.typeName)"))
        continue
      }
      do {
        _ = try evaluate(answer, for: question)
        answers[key] = answer
      } catch {
        problems.append(
          FileProblem(file: file, line: value.line, key: key, message: error.message))
      }
    }
    if !problems.isEmpty { throw FileProblems(problems) }
    return answers
  }
}

// MARK: - Answers as JSON-like values (stored drafts and assessments)

extension Answer {
  /// A plain representation for storage: a string, a list of strings or a number.
  public var storedValue: StoredAnswer {
    switch self {
    case .choice(let id): .string(id)
    case .choices(let ids): .list(ids)
    case .number(let n): .number(n)
    }
  }
}

/// An answer as stored (in JSON): string, list of strings or number.
public enum StoredAnswer: Hashable, Sendable {
  case string(String)
  case list([String])
  case number(Double)

  /// The answer for a question of a kind; nil when the shape does not fit.
  public func answer(for kind: QuestionKind) -> Answer? {
    switch (kind, self) {
    case (.single, .string(let s)), (.yesNo, .string(let s)): .choice(s)
    case (.multiple, .list(let l)): .choices(l)
    case (.numeric, .number(let n)): .number(n)
    default: nil
    }
  }
}
