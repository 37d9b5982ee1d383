// `csar assess --service CODE --answers FILE`: score a filled answers file and store it.

import ArgumentParser
import Compliance
import Foundation
import Moderation
import Store

/// Scores a filled answers file (TOML or JSON) and stores a completed, audited assessment, as
/// the wizard does: for bulk re-assessment from scripts.
struct AssessCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "assess",
    abstract: "Score a filled answers file and store it as a completed assessment.",
    discussion: """
      The answers file maps question ids to answers: an answer id ("yes"), a list of ids for \
      multiple choice (["direct_messages", "livestreaming"]) or a number for numeric \
      questions (users = 2_500_000), as TOML (question = answer) or as a JSON object. Every \
      question must be answered. Errors name the file, line and question; nothing is stored \
      then. The assessment completes on --today and replaces the service's draft if any.
      """
  )

  @Option(name: .long, help: "Service code (e.g. chat-eu).")
  var service: String

  @Option(name: .long, help: "Answers file (.toml or .json).")
  var answers: String

  @Flag(name: .long, help: "Print the result as one JSON object.")
  var json = false

  @Option(name: .long, help: "Completion day (YYYY-MM-DD; default: today, UTC).")
  var today: String?

  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  @Option(name: .long, help: "Questionnaire file (default: the shipped csar-2024.toml).")
  var questionnaire: String?

  @Option(name: .long, help: CallerIdentity.optionHelp)
  var `operator`: String?

  func run() throws {
    let (methodology, source) = try RiskCommandSetup.questionnaire(path: questionnaire)
    let fileName = (answers as NSString).lastPathComponent
    let text: String
    do {
      text = try String(contentsOfFile: answers, encoding: .utf8)
    } catch {
      throw RiskCommandError("\(answers): cannot read the answers file")
    }
    let parsed: [String: Answer]
    do {
      parsed = try methodology.parseAnswers(text, file: fileName)
    } catch {
      throw RiskCommandError(error.description)
    }
    if let missing = methodology.questions.first(where: { parsed[$0.id] == nil }) {
      throw RiskCommandError(
        "\(fileName): \(missing.id): not answered (\(missing.text)); "
          + "\(methodology.questions.filter { parsed[$0.id] == nil }.count) unanswered")
    }
    let setup = try RiskCommandSetup(db: db, today: today, createIfMissing: false)
    let name = try setup.operatorName(`operator`)
    guard let row = try setup.database.service(code: service) else {
      throw RiskCommandError("--service: no service has the code \"\(service)\"")
    }
    let (assessment, result) = try setup.database.completeAssessment(
      serviceId: row.id, questionnaire: methodology, source: source, answers: parsed,
      on: setup.today, by: name)
    let due = setup.today.adding(months: result.category.recategorisationMonths)
    if json {
      let sections: [JSONValue] = result.sections.map {
        ["id": .string($0.id), "score": .double(round1($0.contribution)),
         "max": .double(round1($0.maxContribution))]
      }
      let reasons: [JSONValue] = result.reasons.map {
        ["question": .string($0.question), "answer": .string($0.answerLabel),
         "score": .double(round1($0.contribution))]
      }
      print(
        OrderedJSON.object([
          ("service", .string(row.code)), ("assessment", .int(assessment.id)),
          ("questionnaire", .string(methodology.id)),
          ("category", .string(result.category.rawValue)),
          ("score", .double(result.total)),
          ("score_category", .string(result.scoreCategory.rawValue)),
          ("floors", .array(result.floorsApplied.map { .string($0.id) })),
          ("completed_on", .string(setup.today.description)), ("due", .string(due.description)),
          ("sections", .array(sections)), ("reasons", .array(reasons)),
        ]))
      return
    }
    let obligations = result.category.obligations
    print(
      "\(row.code) \(DisplayText.escapingControls(row.name)): \(result.category.label) "
        + "(assessment \(assessment.id), \(methodology.id))")
    for line in result.explanation(thresholds: methodology.thresholds) { print("  \(line)") }
    print("  Sections:")
    for s in result.sections {
      print(
        "    \(s.title): \(ScoreResult.format(s.contribution)) of "
          + ScoreResult.format(s.maxContribution))
    }
    print("  Top reasons:")
    for r in result.reasons.prefix(5) {
      print("    +\(ScoreResult.format(r.contribution))  \(r.question) = \(r.answerLabel)")
    }
    print(
      "  Detection order: \(obligations.detectionOrderPossible ? "possible" : "none"); "
        + "mitigation measures: \(obligations.mitigation.rawValue); "
        + "sanctions: \(obligations.sanctionLabel)")
    print("  Next re-categorisation due: \(due)")
  }

  private func round1(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}
