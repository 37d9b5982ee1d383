import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

@Suite("Dashboard, services and reports on demo data")
struct DashboardTests {
  @Test func countsMatchTheTables() throws {
    let db = sharedDemo
    let summary = try db.dashboard(today: fixedToday)
    #expect(summary.serviceCount == 12)
    #expect(summary.accountCount == 1_500)
    #expect(summary.accountCount == (try count(db, "SELECT count(*) FROM account")))
    for kind in FlagKind.allCases {
      for state in FlagState.allCases {
        let actual = try count(
          db, "SELECT count(*) FROM flagged_item WHERE kind = ? AND state = ?",
          [kind.rawValue, state.rawValue])
        #expect(summary.items(state: state, kind: kind) == actual, "\(kind) \(state)")
      }
    }
    #expect(
      summary.openItems
        == (try count(
          db, "SELECT count(*) FROM flagged_item WHERE state IN ('pending', 'escalated')")))
    for state in ReportState.allCases {
      let actual = try count(db, "SELECT count(*) FROM report WHERE state = ?", [state.rawValue])
      #expect((summary.reportCounts[state] ?? 0) == actual)
      #expect(actual > 0, "a report in state \(state)")
    }
    for stats in summary.consent {
      let granted = try count(
        db, "SELECT count(*) FROM consent_current WHERE service_id = ? AND state = 'granted'",
        [stats.serviceId])
      #expect(stats.granted == granted)
      #expect(stats.total == 1_500)
      let monthStart = try CalendarDate(year: fixedToday.year, month: fixedToday.month, day: 1)
      let withdrawals = try count(
        db,
        "SELECT count(*) FROM consent_event WHERE service_id = ? AND state = 'withdrawn' "
          + "AND occurred_at >= ? AND occurred_at < ?",
        [stats.serviceId, monthStart.unixSeconds, monthStart.adding(months: 1).unixSeconds])
      #expect(stats.withdrawalsThisMonth == withdrawals)
    }
    #expect(summary.consent.contains { $0.withdrawalsThisMonth > 0 })
  }

  @Test func deadlinesCoverEveryStateAndSortOverdueFirst() throws {
    let summary = try sharedDemo.dashboard(today: fixedToday)
    let states = summary.deadlines.map(\.deadline.state)
    #expect(Set(states) == Set(DeadlineState.allCases))
    #expect(states.map(\.urgency) == states.map(\.urgency).sorted())
    let overdue = summary.deadlines.filter { $0.deadline.state == .overdue }
    #expect(overdue.map { $0.deadline.due! } == overdue.map { $0.deadline.due! }.sorted())
    let categories = Set(summary.deadlines.compactMap(\.deadline.category))
    #expect(categories == Set(RiskCategory.allCases))
    #expect(summary.activeOrders.count == 2)
    #expect(summary.activeOrders.contains { $0.endingSoon })
    #expect(summary.activeOrders.contains { !$0.endingSoon })
  }

  @Test func dueSoonWindowIsConfigurable() throws {
    let db = sharedDemo
    let standard = try db.services(today: fixedToday)
    let soon = try #require(standard.first { $0.deadline.state == .dueSoon })
    let days = try #require(soon.deadline.daysLeft)
    let narrow = try db.services(today: fixedToday, dueSoonDays: days - 1)
    #expect(narrow.first { $0.id == soon.id }?.deadline.state == .ok)
    let dashboard = try db.dashboard(today: fixedToday, dueSoonDays: days - 1)
    #expect(dashboard.deadlines.first { $0.serviceId == soon.id }?.deadline.state == .ok)
    let wide = try db.dashboard(today: fixedToday, dueSoonDays: days)
    #expect(wide.deadlines.first { $0.serviceId == soon.id }?.deadline.state == .dueSoon)
  }

  @Test func servicesAndDetail() throws {
    let db = sharedDemo
    let services = try db.services(today: fixedToday)
    #expect(services.count == 12)
    #expect(services.map(\.code) == services.map(\.code).sorted())
    #expect(services.contains { $0.name.contains("\u{1B}[31m") })
    let chat = try #require(services.first { $0.code == "chat-eu" })
    #expect(chat.deadline.state == .overdue && chat.deadline.category == .high)
    #expect(chat.activeOrderCount == 1)
    #expect(
      chat.openItemCount
        == (try count(
          db,
          "SELECT count(*) FROM flagged_item WHERE service_id = ? AND state IN "
            + "('pending', 'escalated')", [chat.id])))
    let detail = try #require(try db.serviceDetail(id: chat.id))
    #expect(detail.service.name == "Café Chat")
    #expect(detail.assessments.first?.status == .draft)
    #expect(detail.assessments.filter { $0.status == .completed }.count >= 2)
    #expect(detail.orders.count == 2 && detail.measures.count == 4)
    #expect(try db.serviceDetail(id: 999) == nil)
    let never = try #require(services.first { $0.code == "search-eu" })
    #expect(never.deadline.state == .neverAssessed && never.latestScore == nil)
  }

  @Test func reportsAndAuditOfTheDemo() throws {
    let db = sharedDemo
    let reports = try db.reports(limit: 10)
    #expect(reports.count == 10)
    #expect(reports.map(\.id) == reports.map(\.id).sorted(by: >))
    #expect(try db.verifyAuditChain().isOK)
    let actions = try db.writer.read { db in
      try String.fetchSet(db, sql: "SELECT DISTINCT action FROM audit_event")
    }
    for action in [
      "operator.create", "service.create", "assessment.complete", "order.register",
      "consent.change", "item.decide", "report.create", "report.reveal",
    ] {
      #expect(actions.contains(action), "\(action)")
    }
    let times = try db.writer.read { db in
      try Int64.fetchAll(db, sql: "SELECT at FROM audit_event ORDER BY id")
    }
    #expect(times == times.sorted())
    #expect(times.last! <= fixedNow)
  }

  @Test func demoIsDeterministic() throws {
    func fingerprint() throws -> [String] {
      let db = try AppDatabase.inMemory(clock: { fixedNow })
      try DemoGenerator(seed: 3).generate(
        into: db, items: 300, accounts: 100, today: fixedToday, now: fixedNow)
      return try db.writer.read { db in
        try String.fetchAll(db, sql: "SELECT hash FROM audit_event ORDER BY id DESC LIMIT 3")
          + String.fetchAll(
            db, sql: "SELECT pseudonym || coalesce(sha256, url) FROM flagged_item f "
              + "JOIN account a ON a.id = f.account_id ORDER BY f.id LIMIT 5")
      }
    }
    #expect(try fingerprint() == fingerprint())
  }

  @Test func demoRefusesAFilledDatabase() throws {
    #expect(throws: StoreError.self) {
      try DemoGenerator().generate(into: sharedDemo, items: 1, today: fixedToday)
    }
  }
}
