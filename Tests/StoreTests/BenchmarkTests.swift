import Compliance
import Foundation
import Testing

@testable import Store

/// Query timings on a big demo database; opt-in: `CSAR_STORE_BENCH_DB=/path/to/csar.sqlite`
/// (make one with `csar demo --items 1000000`). Prints medians; fails only on errors.
@Suite(
  "Store benchmarks",
  .enabled(if: ProcessInfo.processInfo.environment["CSAR_STORE_BENCH_DB"] != nil))
struct BenchmarkTests {
  static func median(_ label: String, runs: Int = 15, _ body: () throws -> Void) rethrows {
    var times: [Double] = []
    for _ in 0..<runs {
      let start = DispatchTime.now().uptimeNanoseconds
      try body()
      times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    times.sort()
    print("bench \(label): median \(String(format: "%.2f", times[runs / 2])) ms")
  }

  @Test func queries() throws {
    let path = ProcessInfo.processInfo.environment["CSAR_STORE_BENCH_DB"]!
    let open = DispatchTime.now().uptimeNanoseconds
    let key = try ProviderKey.loadOrCreate(path: ProviderKey.defaultPath(databasePath: path))
    let db = try AppDatabase.open(path: path, auditKey: AuditKey(providerKey: key))
    print("bench open: \(Double(DispatchTime.now().uptimeNanoseconds - open) / 1e6) ms")
    let today = CalendarDate(unixSeconds: AppDatabase.systemClock())
    try Self.median("dashboard") { _ = try db.dashboard(today: today) }
    try Self.median("services") { _ = try db.services(today: today) }
    try Self.median("serviceDetail") { _ = try db.serviceDetail(id: 1) }
    let filters: [(String, QueueFilter)] = [
      ("open", QueueFilter()), ("kind", QueueFilter(kind: .urlMatch)),
      ("service", QueueFilter(serviceId: 3)), ("bank", QueueFilter(bank: "IWF")),
      ("kind+service", QueueFilter(kind: .newMaterial, serviceId: 2)),
      ("dismissed", QueueFilter(states: [.dismissed])),
    ]
    for (name, filter) in filters {
      try Self.median("queue first page \(name)") {
        _ = try db.queuePage(filter: filter, after: nil, limit: 50)
      }
      var page = try db.queuePage(filter: filter, after: nil, limit: 50)
      var deep = page.last!.cursor
      for _ in 0..<200 {
        page = try db.queuePage(filter: filter, after: deep, limit: 50)
        guard let last = page.last else { break }
        deep = last.cursor
      }
      try Self.median("queue page 200 \(name)") {
        _ = try db.queuePage(filter: filter, after: deep, limit: 50)
      }
      try Self.median("queue previous page \(name)") {
        _ = try db.queuePage(filter: filter, before: deep, limit: 50)
      }
      try Self.median("queue count \(name)") { _ = try db.queueCount(filter: filter) }
    }
    try Self.median("flaggedItem") { _ = try db.flaggedItem(id: 777_777) }
    for prefix in ["A1001", "u-3f", "A100123456", "zz"] {
      try Self.median("searchAccounts \(prefix)") {
        _ = try db.searchAccounts(prefix: prefix, limit: 50)
      }
    }
    try Self.median("consentHistory") { _ = try db.consentHistory(accountId: 123_456) }
    try Self.median("consentStates") { _ = try db.consentStates(accountId: 123_456) }
    try Self.median("auditPage") { _ = try db.auditPage(beforeId: nil, limit: 50) }
    try Self.median("auditPage consent.") {
      _ = try db.auditPage(beforeId: nil, limit: 50, actionPrefix: "consent.")
    }
    try Self.median("auditPage report.") {
      _ = try db.auditPage(beforeId: 100_000, limit: 50, actionPrefix: "report.")
    }
    try Self.median("reports") { _ = try db.reports(limit: 50) }
    try Self.median("banks") { _ = try db.banks() }
    var verification = AuditVerification.ok(count: 0)
    try Self.median("verifyAuditChain", runs: 1) { verification = try db.verifyAuditChain() }
    #expect(verification.isOK)
  }
}
