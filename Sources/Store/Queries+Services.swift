import Compliance
import GRDB

// MARK: - Services, assessments, orders, measures

extension AppDatabase {
  /// Every service with its deadline on `today` (due soon within `dueSoonDays`), latest score,
  /// orders in force and open items; ordered by code.
  public func services(
    today: CalendarDate, dueSoonDays: Int = Deadline.defaultDueSoonDays
  ) throws -> [ServiceOverview] {
    try read { db in try Self.serviceOverviews(db, today: today, dueSoonDays: dueSoonDays) }
  }

  /// A service with its assessments (newest first), orders and measures; nil if unknown.
  public func serviceDetail(id: Int64) throws -> ServiceDetail? {
    try read { db in
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT * FROM service WHERE id = ?", arguments: [id])
      else { return nil }
      let service = try Self.service(row)
      let assessments = try Row.fetchAll(
        db,
        sql: """
          SELECT a.*, o.name AS operator_name FROM assessment a
          LEFT JOIN operator o ON o.id = a.operator_id
          WHERE a.service_id = ?
          ORDER BY a.started_at DESC, a.id DESC
          """, arguments: [id]
      ).map(Self.assessment)
      let orders = try Row.fetchAll(
        db,
        sql: """
          SELECT * FROM detection_order WHERE service_id = ?
          ORDER BY ends_on DESC, id DESC
          """, arguments: [id]
      ).map(Self.order)
      let measures = try Row.fetchAll(
        db, sql: "SELECT * FROM mitigation_measure WHERE service_id = ? ORDER BY code, id",
        arguments: [id]
      ).map(Self.measure)
      return ServiceDetail(
        service: service, assessments: assessments, orders: orders, measures: measures)
    }
  }

  /// Every operator, by name.
  public func operators() throws -> [OperatorRow] {
    try read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM operator ORDER BY name").map(Self.operatorRow)
    }
  }

  // MARK: - Shared with the dashboard

  static func serviceOverviews(
    _ db: Database, today: CalendarDate, dueSoonDays: Int = Deadline.defaultDueSoonDays
  ) throws -> [ServiceOverview] {
    let day = today.description
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT s.id, s.code, s.name, s.kind,
          a.completed_on, a.category, a.total_score,
          (SELECT count(*) FROM detection_order d
            WHERE d.service_id = s.id AND d.starts_on <= ?1 AND d.ends_on >= ?1)
            AS active_orders,
          (SELECT coalesce(sum(t.n), 0) FROM flag_tally t
            WHERE t.service_id = s.id AND t.state IN ('pending', 'escalated'))
            AS open_items
        FROM service s
        LEFT JOIN assessment a ON a.id = (
          SELECT id FROM assessment
          WHERE service_id = s.id AND status = 'completed'
          ORDER BY completed_on DESC, id DESC LIMIT 1)
        ORDER BY s.code
        """, arguments: [day])
    return try rows.map { row in
      let category = try row.optionalCode(RiskCategory.self, "category", table: "assessment")
      let completed = try row.optionalDay("completed_on", table: "assessment")
      return ServiceOverview(
        id: row["id"], code: row["code"], name: row["name"],
        kind: try row.code(ServiceKind.self, "kind", table: "service"),
        deadline: Deadline(
          lastAssessed: completed, category: category, today: today, dueSoonDays: dueSoonDays),
        latestScore: row["total_score"],
        activeOrderCount: row["active_orders"],
        openItemCount: row["open_items"])
    }
  }

  // MARK: - Row mapping

  static func service(_ row: Row) throws -> ServiceRow {
    ServiceRow(
      id: row["id"], code: row["code"], name: row["name"],
      kind: try row.code(ServiceKind.self, "kind", table: "service"),
      description: row["description"], createdAt: row["created_at"])
  }

  static func assessment(_ row: Row) throws -> AssessmentRow {
    let table = "assessment"
    return AssessmentRow(
      id: row["id"], serviceId: row["service_id"], questionnaireId: row["questionnaire_id"],
      status: try row.code(AssessmentStatus.self, "status", table: table),
      startedAt: row["started_at"],
      completedOn: try row.optionalDay("completed_on", table: table),
      category: try row.optionalCode(RiskCategory.self, "category", table: table),
      totalScore: row["total_score"], answersJSON: row["answers_json"],
      breakdownJSON: row["breakdown_json"], operatorName: row["operator_name"])
  }

  static func order(_ row: Row) throws -> DetectionOrderRow {
    let table = "detection_order"
    let scopeText: String = row["scope"]
    let scope: DetectionScope
    do {
      scope = try DetectionScope(codes: scopeText)
    } catch {
      throw DomainValueError(
        field: "\(table).scope", value: error.value, expected: error.expected)
    }
    let terms = DetectionOrderTerms(
      authority: row["authority"], reference: row["reference"],
      starts: try row.day("starts_on", table: table),
      ends: try row.day("ends_on", table: table),
      scope: scope, includesEndToEndEncrypted: row["e2ee"])
    return DetectionOrderRow(id: row["id"], serviceId: row["service_id"], terms: terms)
  }

  static func measure(_ row: Row) throws -> MeasureRow {
    let table = "mitigation_measure"
    return MeasureRow(
      id: row["id"], serviceId: row["service_id"], code: row["code"], title: row["title"],
      requirement: try row.code(MitigationRequirement.self, "requirement", table: table),
      owner: row["owner"],
      status: try row.code(MeasureStatus.self, "status", table: table),
      dueOn: try row.optionalDay("due_on", table: table))
  }
}
