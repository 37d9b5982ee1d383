import Compliance
import Crypto
import Foundation
import GRDB

// MARK: - Assessment drafts and completion (audited)

/// A saved, not yet completed assessment: the answers so far and where the wizard stood.
public struct AssessmentDraft: Hashable, Sendable {
  public var id: Int64
  public var serviceId: Int64
  public var questionnaireId: String
  /// Answers that fit the questionnaire (answers to unknown questions are dropped).
  public var answers: [String: Answer]
  /// Question the wizard was on, if saved.
  public var currentQuestion: String?

  /// Creates a value with every field given.
  public init(
    id: Int64, serviceId: Int64, questionnaireId: String, answers: [String: Answer],
    currentQuestion: String?
  ) {
    self.id = id
    self.serviceId = serviceId
    self.questionnaireId = questionnaireId
    self.answers = answers
    self.currentQuestion = currentQuestion
  }
}

extension AppDatabase {
  /// The service with a code, if any.
  public func service(code: String) throws -> ServiceRow? {
    try read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM service WHERE code = ?", arguments: [code])
        .map(Self.service)
    }
  }

  /// The draft of a service, its answers read against `questionnaire` (answers that no longer
  /// fit it are dropped, so a changed questionnaire never blocks resuming).
  public func assessmentDraft(serviceId: Int64, questionnaire: Questionnaire) throws
    -> AssessmentDraft?
  {
    try read { db in
      guard
        let row = try Row.fetchOne(
          db,
          sql: """
            SELECT id, questionnaire_id, answers_json, current_question FROM assessment
            WHERE service_id = ? AND status = 'draft'
            """, arguments: [serviceId])
      else { return nil }
      var answers = Self.decodeAnswers(row["answers_json"], questionnaire: questionnaire)
      answers = answers.filter { key, value in
        guard let question = questionnaire.question(key) else { return false }
        return (try? questionnaire.evaluate(value, for: question)) != nil
      }
      return AssessmentDraft(
        id: row["id"], serviceId: serviceId, questionnaireId: row["questionnaire_id"],
        answers: answers, currentQuestion: row["current_question"])
    }
  }

  /// Saves the answers so far as the service's draft (creating it, or updating the one there
  /// is). Audited as `assessment.draft`.
  @discardableResult
  public func saveAssessmentDraft(
    serviceId: Int64, questionnaire: Questionnaire, source: String,
    answers: [String: Answer], currentQuestion: String?, by operatorName: String
  ) throws -> Int64 {
    do {
      try questionnaire.validatePartial(answers)
    } catch {
      throw StoreError.invalidValue(
        field: "answer \(error.question)", value: "", reason: error.message)
    }
    return try audited(by: operatorName) { db, audit in
      let operatorId = try Self.operatorId(db, name: operatorName)
      let code = try Self.serviceCode(db, id: serviceId)
      try Self.registerQuestionnaire(db, questionnaire, source: source, at: audit.at)
      let json = Self.encodeAnswers(answers).description
      let existing = try Row.fetchOne(
        db,
        sql: "SELECT id, answers_json FROM assessment WHERE service_id = ? AND status = 'draft'",
        arguments: [serviceId])
      let id: Int64
      if let existing {
        id = existing["id"]
        try db.execute(
          sql: """
            UPDATE assessment SET questionnaire_id = ?, answers_json = ?, current_question = ?,
              operator_id = ?
            WHERE id = ?
            """,
          arguments: [questionnaire.id, json, currentQuestion, operatorId, id])
      } else {
        try db.execute(
          sql: """
            INSERT INTO assessment (service_id, questionnaire_id, status, started_at,
              answers_json, breakdown_json, operator_id, current_question)
            VALUES (?, ?, 'draft', ?, ?, '{}', ?, ?)
            """,
          arguments: [
            serviceId, questionnaire.id, audit.at, json, operatorId, currentQuestion,
          ])
        id = db.lastInsertedRowID
      }
      try audit.record(
        action: "assessment.draft", entity: "assessment", entityId: String(id),
        before: existing.map { ["answers": .string($0["answers_json"])] },
        after: [
          "service": .string(code), "questionnaire": .string(questionnaire.id),
          "answered": .int(Int64(answers.count)),
          "of": .int(Int64(questionnaire.questions.count)), "answers": .string(json),
        ])
      return id
    }
  }

  /// Scores `answers` and stores a completed assessment for the service on `day`: the draft
  /// becomes completed when there is one, else a new row is written. Also puts the standard
  /// mitigation checklist on the service (obligatory or recommended by category). Audited as
  /// `assessment.complete` (and `measure.create` / `measure.requirement`). Throws a
  /// ``StoreError/invalidValue(field:value:reason:)`` naming the question when an answer is
  /// missing or does not fit.
  @discardableResult
  public func completeAssessment(
    serviceId: Int64, questionnaire: Questionnaire, source: String,
    answers: [String: Answer], on day: CalendarDate, by operatorName: String
  ) throws -> (assessment: AssessmentRow, result: ScoreResult) {
    let result: ScoreResult
    do {
      result = try questionnaire.score(answers)
    } catch {
      throw StoreError.invalidValue(
        field: "answer \(error.question)", value: "", reason: error.message)
    }
    return try audited(by: operatorName) { db, audit in
      let operatorId = try Self.operatorId(db, name: operatorName)
      let code = try Self.serviceCode(db, id: serviceId)
      try Self.registerQuestionnaire(db, questionnaire, source: source, at: audit.at)
      let json = Self.encodeAnswers(answers).description
      let breakdown = Self.breakdown(result).description
      let draftId = try Int64.fetchOne(
        db, sql: "SELECT id FROM assessment WHERE service_id = ? AND status = 'draft'",
        arguments: [serviceId])
      let id: Int64
      var startedAt = audit.at
      if let draftId {
        id = draftId
        startedAt = try Int64.fetchOne(
          db, sql: "SELECT started_at FROM assessment WHERE id = ?", arguments: [id]) ?? audit.at
        try db.execute(
          sql: """
            UPDATE assessment SET questionnaire_id = ?, status = 'completed', completed_on = ?,
              category = ?, total_score = ?, answers_json = ?, breakdown_json = ?,
              operator_id = ?, current_question = NULL
            WHERE id = ?
            """,
          arguments: [
            questionnaire.id, day.description, result.category.rawValue, result.total, json,
            breakdown, operatorId, id,
          ])
      } else {
        try db.execute(
          sql: """
            INSERT INTO assessment (service_id, questionnaire_id, status, started_at,
              completed_on, category, total_score, answers_json, breakdown_json, operator_id)
            VALUES (?, ?, 'completed', ?, ?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            serviceId, questionnaire.id, audit.at, day.description, result.category.rawValue,
            result.total, json, breakdown, operatorId,
          ])
        id = db.lastInsertedRowID
      }
      try audit.record(
        action: "assessment.complete", entity: "assessment", entityId: String(id),
        before: ["status": draftId == nil ? .null : "draft"],
        after: [
          "service": .string(code), "questionnaire": .string(questionnaire.id),
          "category": .string(result.category.rawValue), "score": .double(result.total),
          "completed_on": .string(day.description), "answers": .string(json),
          "floors": .array(result.floorsApplied.map { .string($0.id) }),
        ])
      try Self.applyChecklist(
        db, audit: audit, serviceId: serviceId, serviceCode: code,
        requirement: result.category.obligations.mitigation,
        due: day.adding(months: 6))
      let row = AssessmentRow(
        id: id, serviceId: serviceId, questionnaireId: questionnaire.id, status: .completed,
        startedAt: startedAt, completedOn: day, category: result.category,
        totalScore: result.total, answersJSON: json, breakdownJSON: breakdown,
        operatorName: operatorName)
      return (row, result)
    }
  }

  // MARK: - Helpers

  static func serviceCode(_ db: Database, id: Int64) throws -> String {
    guard
      let code = try String.fetchOne(
        db, sql: "SELECT code FROM service WHERE id = ?", arguments: [id])
    else { throw StoreError.notFound(entity: "service", id: String(id)) }
    return code
  }

  /// Records the questionnaire version used (once). The same id with a different text is an
  /// error: a changed methodology needs a new id, so every assessment names what it used.
  static func registerQuestionnaire(
    _ db: Database, _ questionnaire: Questionnaire, source: String, at: Int64
  ) throws {
    let checksum = AuditChain.hex(SHA256.hash(data: Data(source.utf8)))
    if let existing = try String.fetchOne(
      db, sql: "SELECT checksum FROM questionnaire_version WHERE id = ?",
      arguments: [questionnaire.id])
    {
      guard existing == checksum else {
        throw StoreError.invalidValue(
          field: "questionnaire id", value: questionnaire.id,
          reason: "a different text with this id was used before; give the changed "
            + "questionnaire a new id (e.g. bump @N)")
      }
      return
    }
    try db.execute(
      sql: """
        INSERT INTO questionnaire_version (id, title, checksum, loaded_at) VALUES (?, ?, ?, ?)
        """, arguments: [questionnaire.id, questionnaire.title, checksum, at])
  }

  /// Answers as a JSON object: strings, lists of strings, numbers.
  static func encodeAnswers(_ answers: [String: Answer]) -> JSONValue {
    var object: [String: JSONValue] = [:]
    for (key, answer) in answers {
      switch answer.storedValue {
      case .string(let s): object[key] = .string(s)
      case .list(let l): object[key] = .array(l.map { .string($0) })
      case .number(let n):
        // Whole numbers within Int64 as integers; anything else (never a trap) as a double.
        object[key] = n == n.rounded() && abs(n) < 9e18 ? .int(Int64(n)) : .double(n)
      }
    }
    return .object(object)
  }

  /// Reads stored answers for a questionnaire (booleans of older rows read as yes/no).
  public static func decodeAnswers(_ json: String, questionnaire: Questionnaire)
    -> [String: Answer]
  {
    let (table, _) = TOMLReader.parseJSON(json)
    var answers: [String: Answer] = [:]
    for (key, value) in table.entries {
      guard let question = questionnaire.question(key) else { continue }
      let stored: StoredAnswer?
      switch value.kind {
      case .string(let s): stored = .string(s)
      case .bool(let b): stored = .string(b ? "yes" : "no")
      case .array(let items): stored = .list(items.compactMap(\.string))
      // One case per kind: a shared `case .integer, .float` that re-reads `value` here
      // crashes the Swift 6.3 optimiser (CopyPropagation) in release builds.
      case .integer(let i): stored = .number(Double(i))
      case .float(let d): stored = .number(d)
      default: stored = nil
      }
      if let answer = stored?.answer(for: question.kind) { answers[key] = answer }
    }
    return answers
  }

  /// The breakdown stored with a completed assessment: sections, reasons, floors.
  static func breakdown(_ result: ScoreResult) -> JSONValue {
    func round(_ d: Double) -> JSONValue { .double((d * 10).rounded() / 10) }
    return [
      "sections": .array(
        result.sections.map {
          [
            "id": .string($0.id), "points": .double($0.points),
            "max_points": .double($0.maxPoints), "score": round($0.contribution),
            "max_score": round($0.maxContribution),
          ]
        }),
      "score_category": .string(result.scoreCategory.rawValue),
      "floors": .array(result.floorsApplied.map { .string($0.id) }),
      "reasons": .array(
        result.reasons.prefix(5).map {
          [
            "question": .string($0.question), "answer": .string($0.answerLabel),
            "score": round($0.contribution),
          ]
        }),
    ]
  }
}
