import Compliance
import GRDB

// MARK: - Dashboard

extension AppDatabase {
  /// The Dashboard's figures on `today`: a few small indexed queries and trigger-kept
  /// counters, whatever the size of the queue or the number of accounts.
  public func dashboard(
    today: CalendarDate, dueSoonDays: Int = Deadline.defaultDueSoonDays
  ) throws -> DashboardSummary {
    try read { db in
      let overviews = try Self.serviceOverviews(db, today: today, dueSoonDays: dueSoonDays)
      let deadlines = overviews.map {
        ServiceDeadline(
          serviceId: $0.id, code: $0.code, name: $0.name, kind: $0.kind, deadline: $0.deadline)
      }.sorted(by: Self.deadlineOrder)

      let accounts =
        try Int.fetchOne(db, sql: "SELECT n FROM tally WHERE name = 'account'") ?? 0

      var itemCounts: [ItemCount] = []
      for row in try Row.fetchAll(
        db,
        sql: """
          SELECT kind, state, sum(n) AS n FROM flag_tally
          GROUP BY kind, state HAVING sum(n) > 0 ORDER BY kind, state
          """)
      {
        itemCounts.append(
          ItemCount(
            kind: try row.code(FlagKind.self, "kind", table: "flagged_item"),
            state: try row.code(FlagState.self, "state", table: "flagged_item"),
            count: row["n"]))
      }

      var reportCounts: [ReportState: Int] = [:]
      for row in try Row.fetchAll(
        db, sql: "SELECT state, count(*) AS n FROM report GROUP BY state")
      {
        reportCounts[try row.code(ReportState.self, "state", table: "report")] = row["n"]
      }

      let orders = try Row.fetchAll(
        db,
        sql: """
          SELECT d.*, s.code AS service_code, s.name AS service_name
          FROM detection_order d JOIN service s ON s.id = d.service_id
          WHERE d.ends_on >= ?1 AND d.starts_on <= ?1
          ORDER BY d.ends_on, d.id
          """, arguments: [today.description]
      ).map { row in
        let order = try Self.order(row)
        return OrderSummary(
          id: order.id, serviceId: order.serviceId, serviceCode: row["service_code"],
          serviceName: row["service_name"], terms: order.terms,
          endingSoon: order.terms.isEndingSoon(on: today),
          daysLeft: today.days(until: order.terms.ends))
      }

      let consent = try Self.consentStats(db, today: today, accounts: accounts)
      return DashboardSummary(
        today: today, serviceCount: overviews.count, accountCount: accounts,
        itemCounts: itemCounts, reportCounts: reportCounts, deadlines: deadlines,
        activeOrders: orders, consent: consent)
    }
  }

  static func deadlineOrder(_ a: ServiceDeadline, _ b: ServiceDeadline) -> Bool {
    if a.deadline.state.urgency != b.deadline.state.urgency {
      return a.deadline.state.urgency < b.deadline.state.urgency
    }
    switch (a.deadline.due, b.deadline.due) {
    case (let x?, let y?) where x != y: return x < y
    case (nil, _?): return false
    case (_?, nil): return true
    default: return a.code < b.code
    }
  }

  static func consentStats(_ db: Database, today: CalendarDate, accounts: Int) throws
    -> [ServiceConsentStats]
  {
    let month = String(today.description.prefix(7))
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT s.id, s.code, s.name,
          (SELECT coalesce(sum(n), 0) FROM consent_tally
            WHERE service_id = s.id AND state = 'granted') AS granted,
          (SELECT coalesce(sum(n), 0) FROM consent_tally
            WHERE service_id = s.id AND state = 'refused') AS refused,
          (SELECT coalesce(sum(n), 0) FROM consent_tally
            WHERE service_id = s.id AND state = 'withdrawn') AS withdrawn,
          (SELECT coalesce(sum(n), 0) FROM consent_month_tally
            WHERE service_id = s.id AND month = ?1 AND state = 'withdrawn') AS withdrawals
        FROM service s ORDER BY s.code
        """, arguments: [month])
    return rows.map { row in
      let granted: Int = row["granted"]
      let refused: Int = row["refused"]
      let withdrawn: Int = row["withdrawn"]
      return ServiceConsentStats(
        serviceId: row["id"], code: row["code"], name: row["name"],
        granted: granted, refused: refused, withdrawn: withdrawn,
        notAsked: max(0, accounts - granted - refused - withdrawn),
        withdrawalsThisMonth: row["withdrawals"])
    }
  }
}
