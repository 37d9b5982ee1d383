import Compliance
import GRDB
import Testing

@testable import Store

/// Every answer of the shipped questionnaire: a large messaging service open to children.
let storeHighAnswers: [String: Answer] = [
  "users": .number(25_000_000), "child_access": .choice("yes"),
  "service_type": .choice("messaging"),
  "realtime": .choices(["direct_messages", "group_chats", "video_calls"]),
  "e2ee": .choice("yes"), "anonymous_use": .choice("pseudonymous"), "vpn_tor": .choice("yes"),
  "p2p": .choice("no"), "crypto_payments": .choice("no"), "saving_content": .choice("yes"),
  "clear_rules": .choice("yes"), "reporting_tools": .choice("yes"),
  "age_assurance": .choice("self_declaration"), "parental_controls": .choice("yes"),
  "law_enforcement": .choice("yes"), "behavioural_signals": .choice("yes"),
  "public_private": .choice("mainly_private"), "report_history": .choice("few"),
]

@Suite struct AssessmentStoreTests {
  let questionnaire = try! BuiltinQuestionnaire.load()
  let source = BuiltinQuestionnaire.text + "\n"

  func serviceId(_ db: AppDatabase, _ code: String = "chat-eu") throws -> Int64 {
    try #require(try db.service(code: code)).id
  }

  @Test func draftSavesResumesAndCompletes() throws {
    let db = try seededDatabase()
    let id = try serviceId(db)
    let partial: [String: Answer] = ["users": .number(2_000), "realtime": .choices(["group_chats"])]
    let draftId = try db.saveAssessmentDraft(
      serviceId: id, questionnaire: questionnaire, source: source, answers: partial,
      currentQuestion: "service_type", by: "alice")
    let draft = try #require(try db.assessmentDraft(serviceId: id, questionnaire: questionnaire))
    #expect(draft.id == draftId)
    #expect(draft.answers == partial)
    #expect(draft.currentQuestion == "service_type")
    // Saving again updates the same draft.
    let again = try db.saveAssessmentDraft(
      serviceId: id, questionnaire: questionnaire, source: source,
      answers: partial.merging(["e2ee": .choice("no")]) { $1 }, currentQuestion: "e2ee",
      by: "alice")
    #expect(again == draftId)
    #expect(try count(db, "SELECT count(*) FROM assessment WHERE status = 'draft'") == 1)

    let (row, result) = try db.completeAssessment(
      serviceId: id, questionnaire: questionnaire, source: source, answers: storeHighAnswers,
      on: fixedToday, by: "alice")
    #expect(row.id == draftId)
    #expect(result.category == .high)
    #expect(try db.assessmentDraft(serviceId: id, questionnaire: questionnaire) == nil)
    let detail = try #require(try db.serviceDetail(id: id))
    #expect(detail.assessments.first?.status == .completed)
    #expect(detail.assessments.first?.category == .high)
    #expect(detail.assessments.first?.completedOn == fixedToday)
    #expect(detail.measures.count == MitigationTemplate.standard.count)
    #expect(detail.measures.allSatisfy { $0.requirement == .obligatory })
    let actions = try db.writer.read {
      try String.fetchAll($0, sql: "SELECT action FROM audit_event ORDER BY id")
    }
    #expect(actions.filter { $0 == "assessment.draft" }.count == 2)
    #expect(actions.contains("assessment.complete"))
    #expect(actions.filter { $0 == "measure.create" }.count == MitigationTemplate.standard.count)
    let deadline = try db.deadlines(today: fixedToday).first { $0.code == "chat-eu" }
    #expect(deadline?.deadline.due == fixedToday.adding(months: 12))
    #expect(deadline?.deadline.state == .ok)
  }

  @Test func incompleteAnswersStoreNothing() throws {
    let db = try seededDatabase()
    var answers = storeHighAnswers
    answers["e2ee"] = nil
    let before = try count(db, "SELECT count(*) FROM audit_event")
    #expect(throws: StoreError.invalidValue(field: "answer e2ee", value: "", reason: "not answered"))
    {
      try db.completeAssessment(
        serviceId: try serviceId(db), questionnaire: questionnaire, source: source,
        answers: answers, on: fixedToday, by: "alice")
    }
    #expect(try count(db, "SELECT count(*) FROM assessment") == 0)
    #expect(try count(db, "SELECT count(*) FROM audit_event") == before)
  }

  @Test func changedQuestionnaireWithTheSameIdIsRefused() throws {
    let db = try seededDatabase()
    let id = try serviceId(db)
    try db.completeAssessment(
      serviceId: id, questionnaire: questionnaire, source: source, answers: storeHighAnswers,
      on: fixedToday, by: "alice")
    #expect(throws: StoreError.self) {
      try db.completeAssessment(
        serviceId: id, questionnaire: questionnaire, source: source + "# edited\n",
        answers: storeHighAnswers, on: fixedToday, by: "alice")
    }
  }

  @Test func measuresFlagsAndOrdersAreAudited() throws {
    let db = try seededDatabase()
    let id = try serviceId(db)
    try db.completeAssessment(
      serviceId: id, questionnaire: questionnaire, source: source, answers: storeHighAnswers,
      on: fixedToday, by: "alice")
    let measure = try #require(try db.serviceDetail(id: id)?.measures.first)
    let moved = try db.setMeasureStatus(id: measure.id, to: measure.status.next, by: "bahar")
    #expect(moved.status == .inProgress)
    try db.updateMeasure(id: measure.id, owner: "T&S", due: fixedToday, by: "bahar")
    #expect(try db.serviceDetail(id: id)?.measures.first?.owner == "T&S")

    #expect(throws: StoreError.self) {
      try db.flagOrderNeed(serviceId: id, flagged: true, reason: "  ", by: "bahar")
    }
    try db.flagOrderNeed(serviceId: id, flagged: true, reason: "grooming reports", by: "bahar")
    #expect(try db.orderNeedFlags(serviceId: id).first?.reason == "grooming reports")

    let terms = DetectionOrderTerms(
      authority: "Coimisiún na Meán", reference: "DO-2025-7", starts: fixedToday,
      ends: fixedToday.adding(days: 30), scope: [.knownMaterial, .images, .urls],
      includesEndToEndEncrypted: true)
    try db.addDetectionOrder(serviceId: id, terms: terms, by: "bahar")
    #expect(try db.detectionOrders().map(\.order.terms) == [terms])
    let bad = DetectionOrderTerms(
      authority: "A", reference: "R", starts: fixedToday, ends: fixedToday.adding(days: -1),
      scope: [.images], includesEndToEndEncrypted: false)
    #expect(throws: StoreError.self) {
      try db.addDetectionOrder(serviceId: id, terms: bad, by: "bahar")
    }
    let actions = Set(
      try db.writer.read { try String.fetchAll($0, sql: "SELECT action FROM audit_event") })
    #expect(actions.isSuperset(of: [
      "measure.status", "measure.update", "order_need.flag", "order.create",
    ]))
    let summary = try db.dashboard(today: fixedToday)
    #expect(summary.activeOrders.first { $0.serviceCode == "chat-eu" }?.endingSoon == true)
  }

  @Test func deadlinesOverdueFirst() throws {
    let rows = try sharedDemo.deadlines(today: fixedToday)
    let urgencies = rows.map(\.deadline.state.urgency)
    #expect(urgencies == urgencies.sorted())
    #expect(rows.first?.deadline.state == .overdue)
    // A wider due-soon window turns ok rows into due soon, never the other way round.
    let wide = try sharedDemo.deadlines(today: fixedToday, dueSoonDays: 400)
    #expect(
      wide.filter { $0.deadline.state == .dueSoon }.count
        >= rows.filter { $0.deadline.state == .dueSoon }.count)
  }
}
