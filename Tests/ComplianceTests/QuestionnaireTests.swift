import Foundation
import Testing

@testable import Compliance

/// The shipped file, read from the package (tests run from anywhere).
func shippedQuestionnaireText() throws -> String {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  return try String(
    contentsOf: root.appendingPathComponent("data/questionnaires/csar-2024.toml"),
    encoding: .utf8)
}

/// Replaces the first occurrence of `old` in the shipped text (the test fails if absent).
func shippedText(replacing old: String, with new: String) throws -> String {
  let text = try shippedQuestionnaireText()
  let range = try #require(text.range(of: old), "\(old) not in the shipped questionnaire")
  return text.replacingCharacters(in: range, with: new)
}

/// 1-based line of the first line containing `fragment`.
func lineOf(_ fragment: String, in text: String) -> Int {
  let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
  return (lines.firstIndex { $0.contains(fragment) } ?? -1) + 1
}

func problems(_ text: String) -> [FileProblem] {
  do {
    _ = try Questionnaire.parse(text, file: "csar-2024.toml")
    return []
  } catch {
    return error.problems
  }
}

@Suite struct QuestionnaireTests {
  @Test func shippedQuestionnaireLoads() throws {
    let q = try Questionnaire.parse(try shippedQuestionnaireText(), file: "csar-2024.toml")
    #expect(q.id == "csar-2024@1")
    #expect(q.sections.map(\.id) == [
      "size", "children", "type", "architecture", "policies", "communication", "tendencies",
    ])
    #expect(q.sections.map(\.weight).reduce(0, +) == 100)
    #expect(q.thresholds == Thresholds(high: 60, medium: 35))
    #expect(q.floors.map(\.id) == [
      "children_livestreaming", "children_direct_contact", "report_history",
    ])
    let kinds = Set(q.questions.map(\.kind))
    #expect(kinds == [.single, .multiple, .yesNo, .numeric])
    #expect(q.questions.allSatisfy { !$0.help.isEmpty })
    #expect(q.note.contains("not the official annex"))
  }

  @Test func embeddedCopyEqualsTheFile() throws {
    #expect(
      BuiltinQuestionnaire.text + "\n" == (try shippedQuestionnaireText()),
      "Sources/Compliance/BuiltinQuestionnaire.swift is stale")
    #expect(try BuiltinQuestionnaire.load().id == "csar-2024@1")
  }

  @Test func wrongTypeNamesFileLineAndKey() throws {
    let text = try shippedText(
      replacing: "answers.yes = { points = 3 }", with: "answers.yes = { points = \"3\" }")
    let found = problems(text)
    let line = lineOf("points = \"3\"", in: text)
    #expect(found.map(\.description) == [
      "csar-2024.toml:\(line): sections.architecture.questions.e2ee.answers.yes.points: "
        + "expected a number, found a string"
    ])
  }

  @Test func typoInAKeyIsAnError() throws {
    let text = try shippedText(replacing: "weight = 25", with: "wieght = 25")
    let found = problems(text)
    let line = lineOf("wieght", in: text)
    #expect(found.count == 2, "\(found)")
    #expect(found.contains {
      $0.line == line && $0.key == "sections.architecture.wieght"
        && $0.message.hasPrefix("unknown key")
    })
    #expect(found.contains {
      $0.key == "sections.architecture.weight" && $0.message.hasPrefix("missing")
    })
  }

  @Test func missingThresholds() throws {
    let text = try shippedText(replacing: "[thresholds]\nhigh = 60\nmedium = 35\n", with: "")
    #expect(problems(text).map(\.description) == [
      "csar-2024.toml:1: thresholds: missing; expected a table"
    ])
    let missingHigh = try shippedText(replacing: "high = 60\n", with: "")
    #expect(problems(missingHigh).map(\.key) == ["thresholds.high"])
    let swapped = try shippedText(replacing: "high = 60", with: "high = 30")
    #expect(problems(swapped).map(\.key) == ["thresholds"])
  }

  @Test func duplicateQuestionId() throws {
    let text = try shippedText(
      replacing: "[sections.architecture.questions.p2p]",
      with: "[sections.architecture.questions.p2p]\n") + """

      [sections.tendencies.questions.p2p]
      kind = "yes_no"
      text = "Again"
      help = "Again"
      answers.yes = { points = 1 }
      answers.no = { points = 0 }

      """
    let found = problems(text)
    #expect(found.count == 1)
    #expect(found.first?.key == "sections.tendencies.questions.p2p")
    #expect(found.first?.message.hasPrefix("duplicate question id p2p") == true)
    #expect(found.first?.line == lineOf("[sections.tendencies.questions.p2p]", in: text))
  }

  @Test func everyProblemIsReported() throws {
    var text = try shippedText(replacing: "kind = \"numeric\"", with: "kind = \"number\"")
    text = text.replacingOccurrences(of: "at_least = \"medium\"", with: "at_least = \"low\"")
    text = text.replacingOccurrences(of: "title = \"Size of the service\"", with: "title = 3")
    let found = problems(text)
    #expect(found.map(\.key) == [
      "sections.size.title", "sections.size.questions.users.kind",
      "floors[1].at_least", "floors[2].at_least",
    ])
    #expect(found[1].message.contains("one of single, multiple, yes_no, numeric"))
  }

  @Test func syntaxErrorsHaveLines() throws {
    let text = try shippedText(replacing: "medium = 35", with: "medium = 35 35")
    let found = problems(text)
    #expect(found.first?.line == lineOf("medium = 35 35", in: text))
  }

  @Test func floorConditionsMustNameRealAnswers() throws {
    let text = try shippedText(
      replacing: "answers = [\"many\"]", with: "answers = [\"lots\"]")
    let found = problems(text)
    #expect(found.map(\.key) == ["floors[2].when[0].answers"])
    #expect(found.first?.message.contains("expected one of none, few, many") == true)
  }

  @Test func readerHandlesTheSubset() {
    let (table, errors) = TOMLReader.parse(
      """
      a = "x\\ty" # comment
      b = 'lit\\eral'
      c = [1, 2.5,
        true]
      [t.u]
      d = { e = 1_000, f = { g = "h" } }
      [[arr]]
      n = 1
      [[arr]]
      n = 2
      """)
    #expect(errors.isEmpty)
    #expect(table["a"]?.string == "x\ty")
    #expect(table["b"]?.string == "lit\\eral")
    #expect(table["c"]?.array?.count == 3)
    #expect(table["c"]?.line == 3)
    let d = table["t"]?.table?["u"]?.table?["d"]
    #expect(d?.line == 6)
    #expect(d?.table?["e"]?.number == 1000)
    #expect(table["arr"]?.array?.map { $0.table?["n"]?.number } == [1, 2])
    #expect(table["arr"]?.array?.map(\.line) == [7, 9])
  }
}
