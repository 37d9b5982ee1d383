// `csar bench consent`: a consent import of a million events, and account search.

import ArgumentParser
import Compliance
import Foundation
import Store

/// `csar bench consent`: how long importing a million consent events takes, and how fast the
/// Consent screen's account search answers on a million accounts (medians).
public struct ConsentBenchmark: ParsableArguments {
  public init() {}

  @Option(name: .long, help: "Consent events per import.")
  var events = 1_000_000

  @Option(name: .long, help: "Accounts the events are spread over (one new account each).")
  var accounts = 1_000_000

  @Option(name: .long, help: "Events per transaction (as `csar consent import --batch`).")
  var batch = ConsentImportOptions().batchSize

  @Option(name: .long, help: "Imports to time (a new database each).")
  var runs = 3

  @Option(name: .long, help: "Account searches to time.")
  var queries = 2_000

  @Option(
    name: .long,
    help: "Folder for the database files (default: a private folder in the temp folder).")
  var folder: String?

  public func validate() throws {
    guard events >= 1, accounts >= 1, runs >= 1, queries >= 1 else {
      throw ValidationError("--events, --accounts, --runs and --queries must be positive")
    }
  }

  /// Measures and prints the figures.
  public func run() throws {
    // csar refuses a database in a folder others can write to (such as /tmp itself), so the
    // default is a private folder of this run inside it, removed at the end.
    let ownFolder = folder == nil
    let directory = folder ?? NSTemporaryDirectory() + "csar-bench-consent-\(getpid())"
    if ownFolder { try PrivateFiles.makeFolder(directory) }
    defer { if ownFolder { try? FileManager.default.removeItem(atPath: directory) } }
    let started = monotonicSeconds()
    let file = Self.csv(events: events, accounts: accounts)
    print("file\t\(events) events over \(accounts) accounts and 2 services, "
      + "\(file.count / 1_048_576) MiB, generated in "
      + "\(BenchFigures.format(monotonicSeconds() - started, 2)) s")

    var importTimes: [Double] = []
    var importCPU: [Double] = []
    var reimportTimes: [Double] = []
    var reimportCPU: [Double] = []
    var database: AppDatabase?
    var path = ""
    defer { if !path.isEmpty { BenchDatabase.remove(path) } }  // also when a run fails
    for run in 0..<runs {
      if !path.isEmpty { BenchDatabase.remove(path) }
      path = directory + "/csar-bench-consent-\(getpid())-\(run).sqlite"
      BenchDatabase.remove(path)
      let db = try BenchDatabase.scratch(path: path)
      try db.ensureOperator(name: "bench", role: .lead)
      try Self.createServices(db)
      var t = monotonicSeconds()
      var cpu = BenchFigures.cpuSeconds()
      let report = try db.importConsent(
        bytes: file, fileName: "bench.csv", options: ConsentImportOptions(batchSize: batch))
      importTimes.append(monotonicSeconds() - t)
      importCPU.append(BenchFigures.cpuSeconds() - cpu)
      guard report.accepted == events, report.rejected.isEmpty else {
        throw BenchmarkError(
          "bench import accepted \(report.accepted) of \(events) events; first problem: "
            + (report.rejected.first?.description ?? "none"))
      }
      t = monotonicSeconds()
      cpu = BenchFigures.cpuSeconds()
      let again = try db.importConsent(
        bytes: file, fileName: "bench.csv", options: ConsentImportOptions(batchSize: batch))
      reimportTimes.append(monotonicSeconds() - t)
      reimportCPU.append(BenchFigures.cpuSeconds() - cpu)
      guard again.duplicates == events else {
        throw BenchmarkError("bench re-import: \(again.duplicates) duplicates of \(events)")
      }
      print("run \(run + 1)\timport \(BenchFigures.format(importTimes[run], 2)) s "
        + "(CPU \(BenchFigures.format(importCPU[run], 2)) s), "
        + "re-import \(BenchFigures.format(reimportTimes[run], 2)) s "
        + "(CPU \(BenchFigures.format(reimportCPU[run], 2)) s)")
      database = db
    }
    let importMedian = BenchFigures.median(importTimes)
    print("import\tmedian \(BenchFigures.format(importMedian, 2)) s of \(runs) "
      + "(\(Int(Double(events) / importMedian)) events/s; target < 15 s for 1M); CPU time "
      + "median \(BenchFigures.format(BenchFigures.median(importCPU), 2)) s")
    print("re-import\tmedian \(BenchFigures.format(BenchFigures.median(reimportTimes), 2)) s "
      + "(all duplicates); CPU time median "
      + "\(BenchFigures.format(BenchFigures.median(reimportCPU), 2)) s")
    try importWhileAnotherConnectionWrites(file, folder: directory)
    if let database { try searchBench(database) }
  }

  /// The services the file's events name.
  static func createServices(_ database: AppDatabase) throws {
    try database.createService(code: "chat", name: "Chat", kind: .messaging, by: "bench")
    try database.createService(code: "photos", name: "Photos", kind: .hosting, by: "bench")
  }

  /// The same import into another fresh database while another connection (a console
  /// deciding, say) makes an audited write every 50 ms (see ``WriteProbe``).
  func importWhileAnotherConnectionWrites(_ file: [UInt8], folder: String) throws {
    let path = folder + "/csar-bench-consent-\(getpid())-shared.sqlite"
    defer { BenchDatabase.remove(path) }
    let probe = try WriteProbe(path: path)
    try Self.createServices(probe.importer)
    let (_, line) = try probe.run({ report in
      "\(report.accepted) consent events stored (\(report.batches) transactions)"
    }) {
      try probe.importer.importConsent(
        bytes: file, fileName: "bench.csv", options: ConsentImportOptions(batchSize: batch))
    }
    print(line)
  }

  /// Times searches as the screen runs them: one per key typed, 200 rows at most.
  func searchBench(_ database: AppDatabase) throws {
    var random = BenchRandom(seed: 99)
    let count = try database.searchAccounts(prefix: "", limit: 1).count
    guard count > 0 else { return }
    var byId: [Double] = []
    var byPseudonym: [Double] = []
    var misses: [Double] = []
    for q in 0..<queries {
      let n = Int(random.next() % UInt64(accounts))
      let id = Self.accountId(n)
      // The pseudonym of a random account (found through its id, outside the timing).
      guard let account = try database.account(externalIdOrPseudonym: id) else { continue }
      let typed = q % 2 == 0 ? id : account.pseudonym
      for length in 1...typed.count {
        let prefix = String(typed.prefix(length))
        let t = monotonicSeconds()
        let found = try database.searchAccounts(prefix: prefix, limit: Self.limit)
        let elapsed = monotonicSeconds() - t
        if q % 2 == 0 { byId.append(elapsed) } else { byPseudonym.append(elapsed) }
        if found.isEmpty { throw BenchmarkError("no account matches \(prefix)") }
      }
      let t = monotonicSeconds()
      _ = try database.searchAccounts(prefix: typed + "zz", limit: Self.limit)
      misses.append(monotonicSeconds() - t)
    }
    let all = byId + byPseudonym
    print("search\t\(accounts) accounts, \(all.count) keystrokes, \(Self.limit) rows max")
    print("search by id\tmedian \(BenchFigures.ms(BenchFigures.median(byId))), "
      + "p99 \(BenchFigures.ms(BenchFigures.percentile(byId, 0.99)))")
    print("search by pseudonym\tmedian \(BenchFigures.ms(BenchFigures.median(byPseudonym))), "
      + "p99 \(BenchFigures.ms(BenchFigures.percentile(byPseudonym, 0.99)))")
    print("search, no match\tmedian \(BenchFigures.ms(BenchFigures.median(misses)))")
    print("search, all\tmedian \(BenchFigures.ms(BenchFigures.median(all))), "
      + "max \(BenchFigures.ms(all.max() ?? 0)) (target within 16 ms)")
  }

  static let limit = 200

  static func accountId(_ n: Int) -> String { "acct-" + String(n + 1_000_000) }

  /// A CSV file in time order: event `i` is account `i % accounts`'s event number
  /// `i / accounts` on service `chat` or `photos` (by account), each a legal next step.
  static func csv(events: Int, accounts: Int) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(events * 72 + 100)
    out += Array("event_id,account,service,state,occurred_at,source,terms_version\n".utf8)
    let start: Int64 = 1_735_689_600  // 2025-01-01
    for i in 0..<events {
      let account = i % accounts
      let step = i / accounts
      let refusedFirst = account % 5 == 0
      let state: String
      switch (step, refusedFirst) {
      case (0, true): state = "refused"
      case (0, false): state = "granted"
      default: state = step % 2 == 1 ? (refusedFirst ? "granted" : "withdrawn")
          : (refusedFirst ? "withdrawn" : "granted")
      }
      let service = account % 3 == 0 ? "photos" : "chat"
      let at = start + Int64(i)
      out += Array(
        "ev-\(i),\(accountId(account)),\(service),\(state),\(at),app,tos-2025-01\n".utf8)
    }
    return out
  }
}
