// `csar bench reports`: `csar report export` of many ready reports.

import ArgumentParser
import Compliance
import Foundation
import GRDB
import Store

/// `csar bench reports`: how long exporting ready reports to an outbox takes (pseudonymised,
/// one atomic file each, marked sent and audited), as medians over several runs.
public struct ReportsBenchmark: ParsableArguments {
  public init() {}

  @Option(name: .long, help: "Ready reports per export.")
  var reports = 10_000

  @Option(name: .long, help: "Exports to time.")
  var runs = 3

  @Option(name: .long, help: "Reports per write transaction.")
  var batch = 100

  @Option(name: .long, help: "Folder for the database and the outbox (default: the temp folder).")
  var folder: String?

  public func validate() throws {
    guard reports >= 1, runs >= 1, batch >= 1 else {
      throw ValidationError("--reports, --runs and --batch must be positive")
    }
  }

  /// Measures and prints the figures.
  public func run() throws {
    let directory = (folder ?? NSTemporaryDirectory()) + "/csar-bench-reports-\(getpid())"
    try? FileManager.default.removeItem(atPath: directory)
    try FileManager.default.createDirectory(
      atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let key = ProviderKey(bytes: Array(0..<32))
    var times: [Double] = []
    for run in 0..<runs {
      // A fresh database per run: a report exported is never made ready again by hand
      // (the export refuses reports whose state disagrees with their audit trail).
      let db = try BenchDatabase.scratch(path: directory + "/bench-\(run).sqlite")
      try db.ensureOperator(name: "bench", role: .lead)
      try db.createService(code: "photos", name: "Photos", kind: .hosting, by: "bench")
      try fill(db)
      let outbox = try Outbox(directory: directory + "/outbox-\(run)")
      let t = monotonicSeconds()
      let exported = try db.exportReadyReports(
        to: outbox, provider: "Bench GmbH", key: key, by: "bench", batchSize: batch)
      times.append(monotonicSeconds() - t)
      guard exported.count == reports else {
        throw BenchmarkError("exported \(exported.count) of \(reports) reports")
      }
      print("run \(run + 1)\t\(BenchFigures.format(times[run], 2)) s")
      try? FileManager.default.removeItem(atPath: outbox.directory)
    }
    let median = BenchFigures.median(times)
    print("export\tmedian \(BenchFigures.format(median, 2)) s for \(reports) reports "
      + "(\(Int(Double(reports) / median)) reports/s, "
      + "\(BenchFigures.ms(median / Double(reports))) each; batches of \(batch))")
  }

  /// Items, accounts with details, and one ready report per item, in one audited
  /// transaction (each report with its `report.create` event, as a decision makes it).
  func fill(_ database: AppDatabase) throws {
    let accounts = max(1, reports / 4)
    try database.audited(by: "bench") { db, audit in
      for n in 1...accounts {
        try db.execute(
          sql: "INSERT INTO account (id, external_id, pseudonym, created_at) VALUES (?, ?, ?, 0)",
          arguments: [n, "acct-\(n)", "u-\(n)"])
        for (field, value) in [
          ("ip_address", "198.51.100.\(n % 250)"), ("device_id", "dev-\(n)"),
          ("name", "Name \(n)"),
        ] {
          try db.execute(
            sql: """
              INSERT INTO account_detail (account_id, field, value, seen_at) VALUES (?, ?, ?, 1)
              """, arguments: [n, field, value])
        }
      }
      let now = AppDatabase.systemClock()
      let sha = String(repeating: "ab", count: 32)
      let md5 = String(repeating: "cd", count: 16)
      for n in 1...reports {
        let account = n % accounts + 1
        try db.execute(
          sql: """
            INSERT INTO flagged_item (id, kind, state, priority, service_id, account_id, sha256,
              md5, pdq, bank, label, distance, created_at, decided_at)
            VALUES (?, 'known_match', 'confirmed', 2, 1, ?, ?, ?, ?, 'NCMEC', 'bench', 3, ?, ?)
            """, arguments: [n, account, sha, md5, sha, now, now])
        try db.execute(
          sql: """
            INSERT INTO report (id, case_ref, state, kind, account_id, created_at)
            VALUES (?, ?, 'ready', 'known_match', ?, ?)
            """, arguments: [n, "CSAR-BENCH-\(n)", account, now])
        try db.execute(
          sql: "INSERT INTO report_item (report_id, item_id) VALUES (?, ?)", arguments: [n, n])
        try audit.record(
          action: "report.create", entity: "report", entityId: String(n),
          after: ["case": .string("CSAR-BENCH-\(n)"), "state": "ready"])
      }
    }
  }
}
