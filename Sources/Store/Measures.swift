import Compliance
import Foundation
import GRDB

// MARK: - Mitigation measures (audited)

extension AppDatabase {
  /// Moves a measure to a status (audited as `measure.status`); returns the updated row.
  @discardableResult
  public func setMeasureStatus(id: Int64, to status: MeasureStatus, by operatorName: String)
    throws -> MeasureRow
  {
    try audited(by: operatorName) { db, audit in
      _ = try Self.operatorId(db, name: operatorName)
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT * FROM mitigation_measure WHERE id = ?", arguments: [id])
      else { throw StoreError.notFound(entity: "mitigation measure", id: String(id)) }
      var measure = try Self.measure(row)
      guard measure.status != status else { return measure }
      try db.execute(
        sql: "UPDATE mitigation_measure SET status = ? WHERE id = ?",
        arguments: [status.rawValue, id])
      try audit.record(
        action: "measure.status", entity: "mitigation_measure", entityId: String(id),
        before: ["code": .string(measure.code), "status": .string(measure.status.rawValue)],
        after: ["code": .string(measure.code), "status": .string(status.rawValue)])
      measure.status = status
      return measure
    }
  }

  /// Sets a measure's owner and due date (audited as `measure.update`).
  @discardableResult
  public func updateMeasure(
    id: Int64, owner: String, due: CalendarDate?, by operatorName: String
  ) throws -> MeasureRow {
    let owner = owner.trimmingCharacters(in: .whitespaces)
    return try audited(by: operatorName) { db, audit in
      _ = try Self.operatorId(db, name: operatorName)
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT * FROM mitigation_measure WHERE id = ?", arguments: [id])
      else { throw StoreError.notFound(entity: "mitigation measure", id: String(id)) }
      var measure = try Self.measure(row)
      guard measure.owner != owner || measure.dueOn != due else { return measure }
      try db.execute(
        sql: "UPDATE mitigation_measure SET owner = ?, due_on = ? WHERE id = ?",
        arguments: [owner, due?.description, id])
      try audit.record(
        action: "measure.update", entity: "mitigation_measure", entityId: String(id),
        before: ["owner": .string(measure.owner), "due": .text(measure.dueOn?.description)],
        after: ["owner": .string(owner), "due": .text(due?.description)])
      measure.owner = owner
      measure.dueOn = due
      return measure
    }
  }

  /// Puts the standard checklist on a service after an assessment: missing measures are
  /// created (status planned, due `due`), existing ones get the category's requirement.
  static func applyChecklist(
    _ db: Database, audit: AuditTrail, serviceId: Int64, serviceCode: String,
    requirement: MitigationRequirement, due: CalendarDate
  ) throws {
    for template in MitigationTemplate.standard {
      let existing = try Row.fetchOne(
        db,
        sql: "SELECT id, requirement FROM mitigation_measure WHERE service_id = ? AND code = ?",
        arguments: [serviceId, template.code])
      if let existing {
        let old: String = existing["requirement"]
        guard old != requirement.rawValue else { continue }
        let id: Int64 = existing["id"]
        try db.execute(
          sql: "UPDATE mitigation_measure SET requirement = ? WHERE id = ?",
          arguments: [requirement.rawValue, id])
        try audit.record(
          action: "measure.requirement", entity: "mitigation_measure", entityId: String(id),
          before: ["requirement": .string(old)],
          after: ["requirement": .string(requirement.rawValue)])
      } else {
        try db.execute(
          sql: """
            INSERT INTO mitigation_measure (service_id, code, title, requirement, owner, status,
              due_on)
            VALUES (?, ?, ?, ?, '', 'planned', ?)
            """,
          arguments: [
            serviceId, template.code, template.title, requirement.rawValue, due.description,
          ])
        try audit.record(
          action: "measure.create", entity: "mitigation_measure",
          entityId: String(db.lastInsertedRowID),
          after: [
            "service": .string(serviceCode), "code": .string(template.code),
            "requirement": .string(requirement.rawValue), "status": "planned",
            "due": .string(due.description),
          ])
      }
    }
  }
}
