import Compliance
import Foundation
import GRDB

// MARK: - Detection orders and the provider's flag of a possible need for one (audited)

/// The provider's recorded decision to flag (or withdraw the flag of) a possible need for a
/// detection order on a service.
public struct OrderNeedFlagRow: Hashable, Sendable {
  public var id: Int64
  public var serviceId: Int64
  public var flagged: Bool
  public var reason: String
  /// Unix seconds.
  public var decidedAt: Int64
  public var operatorName: String?

  /// Creates a value with every field given.
  public init(
    id: Int64, serviceId: Int64, flagged: Bool, reason: String, decidedAt: Int64,
    operatorName: String?
  ) {
    self.id = id
    self.serviceId = serviceId
    self.flagged = flagged
    self.reason = reason
    self.decidedAt = decidedAt
    self.operatorName = operatorName
  }
}

/// A detection order with its service, for `csar order list`.
public struct OrderListRow: Hashable, Sendable {
  public var order: DetectionOrderRow
  public var serviceCode: String
  public var serviceName: String

  /// Creates a value with every field given.
  public init(order: DetectionOrderRow, serviceCode: String, serviceName: String) {
    self.order = order
    self.serviceCode = serviceCode
    self.serviceName = serviceName
  }
}

extension AppDatabase {
  /// Records a flag decision with its reason (required). Audited as `order_need.flag`.
  @discardableResult
  public func flagOrderNeed(
    serviceId: Int64, flagged: Bool, reason: String, by operatorName: String
  ) throws -> OrderNeedFlagRow {
    let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !reason.isEmpty else {
      throw StoreError.invalidValue(field: "reason", value: "", reason: "a reason is required")
    }
    try Self.checkFreeText(reason, field: "reason")
    return try audited(by: operatorName) { db, audit in
      let operatorId = try Self.operatorId(db, name: operatorName)
      let code = try Self.serviceCode(db, id: serviceId)
      try db.execute(
        sql: """
          INSERT INTO order_need_flag (service_id, flagged, reason, decided_at, operator_id)
          VALUES (?, ?, ?, ?, ?)
          """, arguments: [serviceId, flagged, reason, audit.at, operatorId])
      let id = db.lastInsertedRowID
      try audit.record(
        action: "order_need.flag", entity: "service", entityId: String(serviceId),
        after: [
          "service": .string(code), "flagged": .bool(flagged), "reason": .string(reason),
          "decision": .int(id),
        ])
      return OrderNeedFlagRow(
        id: id, serviceId: serviceId, flagged: flagged, reason: reason, decidedAt: audit.at,
        operatorName: operatorName)
    }
  }

  /// Flag decisions of a service, newest first.
  public func orderNeedFlags(serviceId: Int64) throws -> [OrderNeedFlagRow] {
    try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT f.*, o.name AS operator_name FROM order_need_flag f
          LEFT JOIN operator o ON o.id = f.operator_id
          WHERE f.service_id = ? ORDER BY f.decided_at DESC, f.id DESC
          """, arguments: [serviceId]
      ).map {
        OrderNeedFlagRow(
          id: $0["id"], serviceId: $0["service_id"], flagged: $0["flagged"],
          reason: $0["reason"], decidedAt: $0["decided_at"], operatorName: $0["operator_name"])
      }
    }
  }

  /// Registers a detection order for a service (audited as `order.create`). The end must not
  /// be before the start, the scope needs at least one content type (images, videos, URLs),
  /// and authority and reference must not be empty.
  @discardableResult
  public func addDetectionOrder(
    serviceId: Int64, terms: DetectionOrderTerms, by operatorName: String
  ) throws -> DetectionOrderRow {
    guard terms.starts <= terms.ends else {
      throw StoreError.invalidValue(
        field: "to", value: terms.ends.description,
        reason: "the order ends before it starts (\(terms.starts))")
    }
    let content: DetectionScope = [.images, .videos, .urls]
    guard !terms.scope.isDisjoint(with: content) else {
      throw StoreError.invalidValue(
        field: "scope", value: terms.scope.codes,
        reason: "name at least one of images, videos, urls (orders cover visual content and "
          + "URLs only)")
    }
    for (field, value) in [("authority", terms.authority), ("reference", terms.reference)]
    where value.trimmingCharacters(in: .whitespaces).isEmpty {
      throw StoreError.invalidValue(field: field, value: value, reason: "must not be empty")
    }
    return try audited(by: operatorName) { db, audit in
      _ = try Self.operatorId(db, name: operatorName)
      let code = try Self.serviceCode(db, id: serviceId)
      try db.execute(
        sql: """
          INSERT INTO detection_order (service_id, authority, reference, starts_on, ends_on,
            scope, e2ee)
          VALUES (?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          serviceId, terms.authority, terms.reference, terms.starts.description,
          terms.ends.description, terms.scope.codes, terms.includesEndToEndEncrypted,
        ])
      let id = db.lastInsertedRowID
      try audit.record(
        action: "order.create", entity: "detection_order", entityId: String(id),
        after: [
          "service": .string(code), "authority": .string(terms.authority),
          "reference": .string(terms.reference), "from": .string(terms.starts.description),
          "to": .string(terms.ends.description), "scope": .string(terms.scope.codes),
          "e2ee": .bool(terms.includesEndToEndEncrypted),
        ])
      return DetectionOrderRow(id: id, serviceId: serviceId, terms: terms)
    }
  }

  /// Every detection order with its service, by end date then id.
  public func detectionOrders() throws -> [OrderListRow] {
    try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT d.*, s.code AS service_code, s.name AS service_name
          FROM detection_order d JOIN service s ON s.id = d.service_id
          ORDER BY d.ends_on, d.id
          """
      ).map {
        OrderListRow(
          order: try Self.order($0), serviceCode: $0["service_code"],
          serviceName: $0["service_name"])
      }
    }
  }

  /// Every service's re-categorisation deadline on `today`, most urgent first (overdue, never
  /// assessed, due soon, ok; then by due date and code).
  public func deadlines(today: CalendarDate, dueSoonDays: Int = Deadline.defaultDueSoonDays)
    throws -> [ServiceDeadline]
  {
    try read { db in
      try Self.serviceOverviews(db, today: today).map {
        ServiceDeadline(
          serviceId: $0.id, code: $0.code, name: $0.name, kind: $0.kind,
          deadline: Deadline(
            lastAssessed: $0.deadline.lastAssessed, category: $0.deadline.category,
            today: today, dueSoonDays: dueSoonDays))
      }.sorted(by: Self.deadlineOrder)
    }
  }
}
