import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

// MARK: - An observer that asks to stop after some batches

/// Records every committed batch and asks to stop once `stopAfter` batches were committed
/// (as a person pressing Ctrl-C would); `between` runs after each batch, outside any
/// transaction (another console acting while the run goes on).
final class StoppingObserver: LongRunObserver, @unchecked Sendable {
  private let lock = NSLock()
  private var seen: [(done: Int, total: Int?)] = []
  let stopAfter: Int?
  let between: @Sendable (Int) throws -> Void

  init(stopAfter: Int?, between: @escaping @Sendable (Int) throws -> Void = { _ in }) {
    self.stopAfter = stopAfter
    self.between = between
  }

  func committed(_ done: Int, of total: Int?) {
    let batch = lock.withLock {
      seen.append((done, total))
      return seen.count
    }
    try? between(batch)
  }

  var stopRequested: Bool {
    lock.withLock { stopAfter.map { seen.count >= $0 } ?? false }
  }

  var reports: [(done: Int, total: Int?)] { lock.withLock { seen } }
}

@Suite("Long runs: progress and stopping between batches")
struct LongRunTests {
  // MARK: - Consent import

  @Test func consentImportStopsAtABatchBoundaryAndARerunFinishes() throws {
    let db = try seededDatabase()
    let lines = (0..<600).map {
      "lr\($0),LR-\($0),\($0 % 2 == 0 ? "chat-eu" : "foto-de"),granted,"
        + "2025-01-01T10:00:00Z,app,tos-1,"
    }
    let observer = StoppingObserver(stopAfter: 3)
    let stopped = #expect(throws: LongRunStopped.self) {
      try db.importConsent(
        bytes: consentCSV(lines), fileName: "consent.csv",
        options: ConsentImportOptions(batchSize: 50), observer: observer)
    }
    #expect(stopped?.task == "consent import" && stopped?.unit == "events")
    #expect(stopped?.committed == 150 && stopped?.total == 600)
    #expect(
      stopped?.description
        == "consent import stopped: 150 of 600 events committed. To finish, run the same "
        + "command again: events already recorded are skipped.")
    #expect(observer.reports.map(\.done) == [50, 100, 150])
    #expect(observer.reports.allSatisfy { $0.total == 600 })
    #expect(try count(db, "SELECT count(*) FROM consent_event") == 150)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'consent.import'") == 3)

    let rerun = try db.importConsent(
      bytes: consentCSV(lines), fileName: "consent.csv",
      options: ConsentImportOptions(batchSize: 50), observer: StoppingObserver(stopAfter: nil))
    #expect(rerun.accepted == 450 && rerun.duplicates == 150)
    #expect(try count(db, "SELECT count(*) FROM consent_event") == 600)
    #expect(try db.verifyAuditChain().isOK)
  }

  // MARK: - Classifier flags

  @Test func flagsImportCommitsInBatchesAndStopsBetweenThem() throws {
    let db = try seededDatabase()
    let records = (0..<35).map { ClassifierImport(externalRef: "ev-\($0)", item: nil) }
    let observer = StoppingObserver(stopAfter: 2)
    let stopped = #expect(throws: LongRunStopped.self) {
      try db.importClassifierFlags(
        records, file: "flags.jsonl", by: "alice", batchSize: 10, observer: observer)
    }
    #expect(stopped?.task == "flags import" && stopped?.committed == 20 && stopped?.total == 35)
    #expect(observer.reports.map(\.done) == [10, 20])
    #expect(try count(db, "SELECT count(*) FROM flag_import") == 20)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'flags.import'") == 2)

    let rerun = try db.importClassifierFlags(
      records, file: "flags.jsonl", by: "alice", batchSize: 10)
    #expect(rerun.alreadyImported == 20 && rerun.belowThreshold == 15)
    #expect(try count(db, "SELECT count(*) FROM flag_import") == 35)
    #expect(try db.verifyAuditChain().isOK)
  }

  // MARK: - Report export

  @Test func reportExportStopsBetweenBatchesAndTheRestFollowsOnARerun() throws {
    let (db, refs) = try ReportTests.withReadyReports(5)
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let outbox = try Outbox(directory: folder.file("outbox"))
    let observer = StoppingObserver(stopAfter: 1)
    let stopped = #expect(throws: LongRunStopped.self) {
      try db.exportReadyReports(
        to: outbox, provider: "P", key: ReportTests.key, by: "alice", batchSize: 2,
        observer: observer)
    }
    #expect(stopped?.task == "report export" && stopped?.committed == 2 && stopped?.total == 5)
    #expect(try db.reportListings(state: .sent).map(\.caseRef) == Array(refs.prefix(2)))
    #expect(try FileManager.default.contentsOfDirectory(atPath: outbox.directory).count == 2)
    let rest = try db.exportReadyReports(
      to: outbox, provider: "P", key: ReportTests.key, by: "alice", batchSize: 2)
    #expect(rest.map(\.caseRef) == Array(refs.suffix(3)))
    #expect(try db.verifyAuditChain().isOK)
  }

  // MARK: - Purge

  @Test func purgeStopsBetweenBatchesAndARerunPurgesTheRest() throws {
    let (db, _, old, _, dismissed, _) = try RetentionTests.aged()
    let observer = StoppingObserver(stopAfter: 1)
    let stopped = #expect(throws: LongRunStopped.self) {
      try db.purge(by: "bahar", batchSize: 2, observer: observer)
    }
    #expect(stopped?.task == "purge" && stopped?.committed == 2 && stopped?.total == 5)
    // Reports go first.
    #expect(try db.reportListings().filter { $0.purgedAt != nil }.map(\.caseRef) == old)
    #expect(try count(db, "SELECT count(*) FROM flagged_item WHERE state = 'purged'") == 0)
    let rest = try db.purge(by: "bahar", batchSize: 2)
    #expect(rest.reports.isEmpty && rest.items.count == 3)
    #expect(try itemState(db, dismissed) == "purged")
    #expect(try db.verifyAuditChain().isOK)
  }

  /// A legal hold placed while a purge runs (between its batches) keeps the item.
  @Test func aHoldPlacedDuringThePurgeIsRespected() throws {
    let (db, _, _, _, dismissed, _) = try RetentionTests.aged()
    let observer = StoppingObserver(stopAfter: nil) { batch in
      if batch == 1 {
        try db.placeLegalHold(itemId: dismissed, reason: "court order", by: "bahar")
      }
    }
    let purged = try db.purge(by: "bahar", batchSize: 2, observer: observer)
    #expect(purged.reports.count == 2 && purged.items.count == 2)
    #expect(!purged.items.map(\.id).contains(dismissed))
    #expect(try itemState(db, dismissed) == "dismissed")
    #expect(observer.reports.map(\.done) == [2, 4, 5])
  }

  // MARK: - Demo

  @Test func demoReportsRowsUpToItsTotal() throws {
    let db = try AppDatabase.inMemory(clock: { fixedNow })
    let observer = StoppingObserver(stopAfter: nil)
    let summary = try DemoGenerator(seed: 3).generate(
      into: db, items: 300, accounts: 200, today: fixedToday, now: fixedNow,
      observer: observer)
    let last = try #require(observer.reports.last)
    #expect(last.done == 200 + 300 + summary.auditEvents && last.total == last.done)
    let done = observer.reports.map(\.done)
    #expect(done == done.sorted())
  }

  /// A demo stopped between batches leaves neither a database nor its temporary file.
  @Test func aStoppedDemoLeavesNothingBehind() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("demo.sqlite")
    let stopped = #expect(throws: LongRunStopped.self) {
      try DemoGenerator.makeDatabase(
        at: path, auditKey: folder.auditKey, items: 300, accounts: 200, now: fixedNow,
        observer: StoppingObserver(stopAfter: 2))
    }
    #expect(stopped?.task == "demo" && stopped?.committed == 200)
    let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    #expect(!left.contains { $0.hasPrefix("demo.sqlite") || $0.contains(".building-") })
  }
}
