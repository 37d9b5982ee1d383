import Compliance
import Foundation
import Store
import Terminal
import Testing
import TestSupport

@testable import ConsoleUI

/// A console on the Reports screen of `database`, acting as `name`, writing reports to
/// `outbox` with a fixed provider key.
func reportsConsole(_ database: AppDatabase, as name: String, outbox: String) throws -> Console {
  let context = ConsoleContext(
    database: database, operatorName: name, theme: try Theme.load(nameOrPath: "default"),
    today: try CalendarDate(parsing: "2026-11-25"), dueSoonDays: 60)
  context.reporting = ReportingSettings(
    provider: "Example GmbH", key: ProviderKey(bytes: Array(0..<32)), outbox: outbox)
  let console = Console(context: context)
  console.handle(.character("5"))
  return console
}

/// A demo database with its reports, and a fresh outbox folder name (not created yet).
struct ReportsFixture {
  let database: AppDatabase
  let outbox: String

  init() throws {
    let today = try CalendarDate(parsing: "2026-11-25")
    let now: Int64 = 1_795_622_400
    database = try AppDatabase.inMemory(clock: { now })
    try DemoGenerator(seed: 7).generate(into: database, items: 120, accounts: 300, today: today)
    outbox = try ScratchSpace.path("outbox")
  }

  func console(_ name: String) throws -> Console {
    try reportsConsole(database, as: name, outbox: outbox)
  }

  /// Moves the report cursor to the newest report in `state` (with case reference `ref`).
  @discardableResult
  func select(_ state: ReportState, ref: String? = nil, in console: Console) throws
    -> ReportListing
  {
    let screen = try #require(console.screens[4] as? ReportsScreen)
    func wanted(_ report: ReportListing?) -> Bool {
      report?.state == state && (ref == nil || report?.caseRef == ref)
    }
    console.handle(.character("g"))
    for _ in 0..<200 where !wanted(screen.selectedReport) {
      console.handle(.character("j"))
    }
    return try #require(screen.selectedReport.flatMap { wanted($0) ? $0 : nil })
  }

  func state(_ ref: String) throws -> ReportState? {
    try database.reportListings().first { $0.caseRef == ref }?.state
  }

  func cleanUp() { try? FileManager.default.removeItem(atPath: outbox) }
}

extension Console {
  var reports: ReportsScreen { screens[4] as! ReportsScreen }
}

@Suite("Reports screen")
struct ReportsScreenTests {
  @Test(arguments: [(80, 24), (120, 40)])
  func snapshotsOfDetailsAndTheAuditPane(width: Int, height: Int) throws {
    let fixture = try ReportsFixture()
    let console = try fixture.console("alice")
    try fixture.select(.revealed, in: console)
    console.handle(.enter)
    assertSnapshot(
      console.render(width: width, height: height), named: "reports-details-\(width)x\(height)")
    console.press(.escape, .tab, .enter)
    assertSnapshot(
      console.render(width: width, height: height), named: "reports-event-\(width)x\(height)")
  }

  @Test func theListMovesAndDetailsFollowTheSelectedReport() throws {
    let fixture = try ReportsFixture()
    let console = try fixture.console("alice")
    let all = try fixture.database.reportListings()
    #expect(console.reports.selectedReport?.caseRef == all.last?.caseRef, "newest first")
    console.press(.character("j"), .enter)
    let second = all[all.count - 2]
    #expect(console.reports.selectedReport?.caseRef == second.caseRef)
    #expect(console.shows("Report \(second.caseRef) · Esc closes"))
    #expect(console.shows("report.create"), "the case's own audit events")
    console.press(.character("j"))
    let third = all[all.count - 3]
    #expect(console.shows("Report \(third.caseRef) · Esc closes"))
    console.press(.escape)
    #expect(console.shows("Audit log (append-only"))
    #expect(console.shows("\(Format.count(3)) of \(all.count)"))
  }

  @Test func theAuditListNamesCaseReferences() throws {
    let fixture = try ReportsFixture()
    let console = try fixture.console("alice")
    console.press(.tab, .character("/"))
    console.type("report.")
    console.press(.enter)
    let rows = console.reports.events.rows
    #expect(!rows.isEmpty)
    for event in rows {
      #expect(event.caseRef?.hasPrefix("CSAR-") == true, "event \(event.id) names no case")
    }
    let text = console.render(width: 120, height: 40).text
    #expect(text.contains(try #require(rows.first?.caseRef)))
    #expect(!text.contains("│report "), "a report is named by its case reference")
    // An item that is part of a report names the case too.
    let itemEvents = try fixture.database.auditPage(
      beforeId: nil, limit: 400, actionPrefix: "item.decide")
    let reported = try fixture.database.reportListings().flatMap(\.itemIds)
    let event = try #require(itemEvents.first { reported.contains(Int64($0.entityId) ?? -1) })
    #expect(event.caseRef != nil)
    #expect(ReportsScreen.entity(event).hasPrefix("item \(event.entityId) · CSAR-"))
  }

  @Test func exportWritesTheReadyReportsToTheOutbox() throws {
    let fixture = try ReportsFixture()
    defer { fixture.cleanUp() }
    let console = try fixture.console("alice")
    let ready = try fixture.database.reportListings(state: .ready)
    try #require(!ready.isEmpty)
    #expect(console.shows("\(ready.count) ready (x exports)"))
    console.press(.character("x"))
    #expect(console.shows("Export \(ready.count) ready report"))
    #expect(console.shows(fixture.outbox))
    console.press(.enter)
    #expect(console.shows("Exported \(ready.count) report"))
    for report in ready {
      #expect(FileManager.default.fileExists(atPath: "\(fixture.outbox)/\(report.caseRef).json"))
      #expect(try fixture.state(report.caseRef) == .sent)
    }
    #expect(!console.shows("ready (x exports)"), "the list was read again")
    console.press(.character("x"))
    #expect(console.shows("No report is ready to export"))
  }

  @Test func exportWithoutTheProviderKeySaysWhy() throws {
    let console = try makeConsole()
    console.press(.character("5"), .character("x"))
    #expect(console.shows("Writing reports needs the provider key"))
  }

  @Test func verdictsImportAllOrNothing() throws {
    let fixture = try ReportsFixture()
    defer { fixture.cleanUp() }
    let console = try fixture.console("alice")
    let sent = try #require(try fixture.database.reportListings(state: .sent).first)
    let file = fixture.outbox + "-verdicts.jsonl"
    defer { try? FileManager.default.removeItem(atPath: file) }
    // A bad line refuses the whole file; the prompt keeps the path to correct.
    try (
      "{\"case_ref\":\"\(sent.caseRef)\",\"verdict\":\"not_manifestly_unfounded\"}\n"
        + "{\"case_ref\":\"CSAR-1999-000001\",\"verdict\":\"manifestly_unfounded\"}\n"
    ).write(toFile: file, atomically: true, encoding: .utf8)
    console.press(.character("v"))
    console.type(file)
    console.press(.enter)
    #expect(console.shows("problem(s), nothing imported · line 2"))
    #expect(try fixture.state(sent.caseRef) == .sent)
    try "{\"case_ref\":\"\(sent.caseRef)\",\"verdict\":\"not_manifestly_unfounded\"}\n"
      .write(toFile: file, atomically: true, encoding: .utf8)
    console.press(.enter)
    #expect(console.shows("1 verdict(s) recorded"))
    #expect(console.shows("founded, may be revealed (four eyes): \(sent.caseRef)"))
    #expect(try fixture.state(sent.caseRef) == .founded)
  }

  /// Four eyes as in the CLI: the Store compares OS accounts (uids), not names. The demo's
  /// operators all belong to the account that made it, so its lead cannot approve a
  /// request of its reviewer; a lead bound to another account can.
  @Test func revealNeedsALeadOfAnotherAccount() throws {
    let fixture = try ReportsFixture()
    defer { fixture.cleanUp() }
    let db = fixture.database
    try db.ensureOperator(name: "dana", role: .lead, uid: 4242)
    let sent = try #require(try db.reportListings(state: .sent).first)
    try db.importVerdicts(
      Array("{\"case_ref\":\"\(sent.caseRef)\",\"verdict\":\"not_manifestly_unfounded\"}".utf8),
      format: .jsonl, file: "v.jsonl", by: "alice")
    let alice = try fixture.console("alice")
    let report = try fixture.select(.founded, ref: sent.caseRef, in: alice)
    #expect(report.caseRef == sent.caseRef)
    #expect(alice.shows("reveal: request r · approve a · o"))
    alice.press(.character("o"))
    #expect(alice.shows("Reveal \(report.caseRef)"))
    alice.press(.enter)
    #expect(alice.shows("nobody requested the reveal"), "refused in the dialog")
    alice.press(.escape, .character("r"))
    #expect(alice.shows("Request the reveal of \(report.caseRef)"))
    alice.press(.enter)
    #expect(alice.shows("reveal requested by alice"))

    let bahar = try fixture.console("bahar")
    try fixture.select(.founded, ref: sent.caseRef, in: bahar)
    bahar.press(.character("a"))
    #expect(bahar.shows("Requested by  alice"))
    bahar.press(.enter)
    #expect(bahar.shows("are the same OS account"))
    bahar.press(.escape)

    let dana = try fixture.console("dana")
    try fixture.select(.founded, ref: sent.caseRef, in: dana)
    dana.press(.character("a"), .enter)
    #expect(dana.shows("reveal approved by dana"))

    alice.press(.control("r"), .enter)
    #expect(alice.shows("approved by dana"), "the details name both eyes")
    alice.press(.character("o"), .enter)
    #expect(alice.shows("revealed to \(fixture.outbox)/\(report.caseRef)-reveal.json"))
    #expect(try fixture.state(report.caseRef) == .revealed)
    let actions = try db.reportFollowUp(reportId: report.id).events.map(\.action)
    #expect(actions.suffix(3) == ["report.request_reveal", "report.approve_reveal", "report.reveal"])
    #expect(try db.verifyAuditChain().isOK)
  }

  @Test func aClosedCaseAsksForTheUserNotification() throws {
    let fixture = try ReportsFixture()
    let db = fixture.database
    let sent = try #require(try db.reportListings(state: .sent).first)
    try db.importVerdicts(
      Array("{\"case_ref\":\"\(sent.caseRef)\",\"verdict\":\"manifestly_unfounded\"}".utf8),
      format: .jsonl, file: "v.jsonl", by: "alice")
    let console = try fixture.console("alice")
    try fixture.select(.closed, ref: sent.caseRef, in: console)
    #expect(console.shows("notify the user (u)"))
    console.press(.character("u"), .enter)
    #expect(console.shows("user notification recorded by alice"))
    #expect(try db.reportListings().first { $0.caseRef == sent.caseRef }?.notifiedAt != nil)
  }

  @Test func aDemoDatabaseIsMarkedOnEveryScreen() throws {
    let console = try makeConsole()
    for key in "12345" {
      console.handle(.character(key))
      #expect(console.render(width: 80, height: 24).text.hasPrefix(" csar  DEMO "))
      #expect(console.render(width: 50, height: 12).text.hasPrefix(" csar  DEMO "))
    }
    let empty = try AppDatabase.inMemory()
    let real = Console(
      context: ConsoleContext(
        database: empty, operatorName: "alice", theme: try Theme.load(nameOrPath: "default"),
        today: try CalendarDate(parsing: "2026-11-25"), dueSoonDays: 60))
    #expect(!real.render(width: 80, height: 24).text.contains("DEMO"))
  }

  /// `V` checks what `csar audit verify` checks: a report reset to `ready` by hand leaves the
  /// hash chain intact, and the console said the log verified.
  @Test func verifyFindsAReportThatDisagreesWithTheLog() throws {
    let fixture = try ReportsFixture()
    defer { fixture.cleanUp() }
    let console = try fixture.console("alice")
    console.verifyAndWait()
    #expect(console.render(width: 120, height: 40).text.contains("head "))
    let sent = try #require(try fixture.database.reportListings().first { $0.state == .revealed })
    try fixture.database.writer.write { db in
      try db.execute(
        sql: "UPDATE report SET state = 'ready', sent_at = NULL WHERE case_ref = ?",
        arguments: [sent.caseRef])
    }
    console.verifyAndWait()
    let screen = console.render(width: 120, height: 40).text
    #expect(screen.contains("audit log broken"), "\(screen)")
    #expect(screen.contains("report "), "\(screen)")
  }
}
