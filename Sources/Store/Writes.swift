import Compliance
import Foundation
import GRDB

// MARK: - Operator writes (each through the audited path)

extension AppDatabase {
  /// Adds a service; `code` must be unique (lowercase letters, digits and dashes).
  @discardableResult
  public func createService(
    code: String, name: String, kind: ServiceKind, description: String = "", by: String
  ) throws -> ServiceRow {
    guard !code.isEmpty,
      code.unicodeScalars.allSatisfy({
        ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
      })
    else {
      throw StoreError.invalidValue(
        field: "service code", value: code, reason: "use lowercase letters, digits and dashes")
    }
    return try audited(by: by) { db, audit in
      _ = try Self.operatorId(db, name: by)
      if try Bool.fetchOne(
        db, sql: "SELECT 1 FROM service WHERE code = ?", arguments: [code]) == true
      {
        throw StoreError.duplicate(entity: "service", field: "code", value: code)
      }
      try db.execute(
        sql: """
          INSERT INTO service (code, name, kind, description, created_at)
          VALUES (?, ?, ?, ?, ?)
          """, arguments: [code, name, kind.rawValue, description, audit.at])
      let id = db.lastInsertedRowID
      try audit.record(
        action: "service.create", entity: "service", entityId: String(id),
        after: [
          "code": .string(code), "name": .string(name), "kind": .string(kind.rawValue),
          "description": .string(description),
        ])
      return ServiceRow(
        id: id, code: code, name: name, kind: kind, description: description,
        createdAt: audit.at)
    }
  }

  /// Records a consent change for an account on a service, checked by the Compliance state
  /// machine: an illegal transition throws its `ConsentTransitionError` and writes nothing.
  /// Support changes need a reason. Returns the new event.
  @discardableResult
  public func recordConsentChange(
    accountId: Int64, serviceId: Int64, to newState: ConsentState, source: ConsentSource,
    termsVersion: String, reason: String?, by operatorName: String
  ) throws -> ConsentEventRow {
    let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines)
    try Self.checkFreeText(reason, field: "reason")
    if source == .support, reason?.isEmpty ?? true {
      throw StoreError.invalidValue(
        field: "reason", value: "", reason: "a change made through support needs a reason")
    }
    return try audited(by: operatorName) { db, audit in
      let operatorId = try Self.operatorId(db, name: operatorName)
      guard
        let service = try Row.fetchOne(
          db, sql: "SELECT code, name FROM service WHERE id = ?", arguments: [serviceId])
      else { throw StoreError.notFound(entity: "service", id: String(serviceId)) }
      guard
        try Bool.fetchOne(
          db, sql: "SELECT 1 FROM account WHERE id = ?", arguments: [accountId]) == true
      else { throw StoreError.notFound(entity: "account", id: String(accountId)) }

      let currentRow = try Row.fetchOne(
        db,
        sql: """
          SELECT state, updated_at FROM consent_current WHERE account_id = ? AND service_id = ?
          """,
        arguments: [accountId, serviceId])
      let current =
        try currentRow?.code(ConsentState.self, "state", table: "consent_current")
        ?? .notAsked
      let next = try current.transition(to: newState)
      // Never before the last recorded change (an imported event may carry a later time than
      // this clock), so the history stays in the order the state machine checked.
      let at = max(audit.at, currentRow?["updated_at"] ?? audit.at)

      let eventId = "op-" + UUID().uuidString.lowercased()
      try db.execute(
        sql: """
          INSERT INTO consent_event (event_id, account_id, service_id, state, occurred_at,
            source, terms_version, operator_id, reason)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          eventId, accountId, serviceId, next.rawValue, at, source.rawValue,
          termsVersion, operatorId, reason,
        ])
      try db.execute(
        sql: """
          INSERT INTO consent_current (account_id, service_id, state, updated_at)
          VALUES (?, ?, ?, ?)
          ON CONFLICT (account_id, service_id)
          DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at
          """, arguments: [accountId, serviceId, next.rawValue, at])
      try audit.record(
        action: "consent.change", entity: "account", entityId: String(accountId),
        before: ["service": .int(serviceId), "state": .string(current.rawValue)],
        after: [
          "service": .int(serviceId), "state": .string(next.rawValue),
          "source": .string(source.rawValue), "terms": .string(termsVersion),
          "reason": .text(reason), "event": .string(eventId),
        ])
      return ConsentEventRow(
        eventId: eventId, accountId: accountId, serviceId: serviceId,
        serviceCode: service["code"], serviceName: service["name"], state: next,
        occurredAt: at, source: source, termsVersion: termsVersion,
        operatorName: operatorName, reason: reason)
    }
  }
}
