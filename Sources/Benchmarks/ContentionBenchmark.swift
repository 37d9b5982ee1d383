// `csar bench contention`: several reviewer processes working one database at once.

import ArgumentParser
import Compliance
import Foundation
import Store

/// Starts N worker processes (this binary, `--worker K`) that each claim and decide queue
/// items on one database for a bounded time, and importer processes (`--importer`) that import
/// consent events meanwhile; then checks what they left: no item decided twice, every decision
/// and import a process saw succeed is stored, no "database is locked" error reached a process,
/// the audit chain and SQLite's integrity check pass. Prints decisions per second.
///
/// It writes to the database (claims, decisions, reports, audit events as operators
/// `contention-1` …): run it on a demo database.
public struct ContentionBenchmark: ParsableArguments {
  public init() {}

  @Option(name: .long, help: "Database file (a demo database: it is written to).")
  var db: String

  @Option(name: .long, help: "Worker processes.")
  var workers = 4

  @Option(name: .long, help: "Seconds each worker works.")
  var seconds = 5.0

  @Option(name: .long, help: "Processes importing consent events at the same time.")
  var importers = 1

  @Option(name: .long, help: "Run as worker K (used by the benchmark itself).")
  var worker: Int?

  @Flag(name: .long, help: "Run as an importer (used by the benchmark itself).")
  var importer = false

  public func validate() throws {
    guard (1...32).contains(workers) else { throw ValidationError("--workers must be 1-32") }
    guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be 0-600") }
    guard (0...8).contains(importers) else { throw ValidationError("--importers must be 0-8") }
  }

  /// Runs the coordinator, a worker or an importer (by the options) on the database `open`
  /// opens; throws ``ContentionFailure`` when a check fails.
  public func run(open: DatabaseOpener) throws {
    if importer {
      print(try ContentionImporter(database: open(db), seconds: seconds).work().line)
      return
    }
    if let worker {
      let tally = try ContentionWorker(
        database: open(db), name: "contention-\(worker)", seconds: seconds
      ).work()
      print(tally.line)
      return
    }
    try coordinate(open: open)
  }

  // MARK: - Coordinator

  private func coordinate(open: DatabaseOpener) throws {
    let database = try open(db)
    for index in 1...workers {
      try database.ensureOperator(name: "contention-\(index)", role: .reviewer)
    }
    // Decisions already recorded under the workers' names (an earlier run).
    var earlier: [String: Int] = [:]
    for index in 1...workers {
      earlier["contention-\(index)"] = try database.decisionCount(by: "contention-\(index)")
    }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    let started = monotonicSeconds()
    let roles = (1...workers).map { ["--worker", String($0)] }
      + Array(repeating: ["--importer"], count: importers)
    // Their output goes to files in the temporary folder (removed with each process).
    let processes = try roles.map { role in
      try BenchProcess(
        [executable, "bench", "contention", "--db", db, "--seconds", String(seconds)] + role,
        folder: NSTemporaryDirectory())
    }
    var tallies: [ContentionWorker.Tally] = []
    var failures: [String] = []
    for (index, process) in processes.enumerated() {
      let status = process.finish()
      let output = process.out
      if status != 0 {
        failures.append(
          "worker \(index + 1) exited with status \(status): "
            + (process.err.split(separator: "\n").last.map(String.init) ?? "no message"))
      }
      if let tally = ContentionWorker.Tally(line: output) { tallies.append(tally) }
    }
    let elapsed = monotonicSeconds() - started
    let reviewers = tallies.filter { !$0.name.hasPrefix(ContentionImporter.namePrefix) }
    let importTallies = tallies.filter { $0.name.hasPrefix(ContentionImporter.namePrefix) }
    let decided = reviewers.map(\.decisions).reduce(0, +)
    let imported = importTallies.map(\.decisions).reduce(0, +)
    let conflicts = tallies.map(\.conflicts).reduce(0, +)
    let locked = tallies.map(\.locked).reduce(0, +)
    if tallies.count != roles.count {
      failures.append("\(roles.count - tallies.count) processes reported nothing")
    }
    let checks = try check(database, tallies: reviewers, earlier: earlier)
    for tally in importTallies {
      let stored = try database.consentEventCount(
        idPrefix: ContentionImporter.eventPrefix(tally.name))
      if stored != tally.decisions {
        failures.append("\(tally.name) imported \(tally.decisions) events, \(stored) stored")
      }
    }
    print(
      "\(workers) workers, \(BenchFigures.format(elapsed, 2)) s: \(decided) decisions "
        + "(\(BenchFigures.format(Double(decided) / elapsed, 1))/s), \(conflicts) claims lost "
        + "to another worker, \(imported) consent events imported alongside, \(locked) "
        + "'database is locked' errors")
    for line in checks.lines { print(line) }
    failures += checks.failures
    if locked > 0 { failures.append("\(locked) operations saw 'database is locked'") }
    if !failures.isEmpty {
      throw ContentionFailure(problems: failures)
    }
  }

  /// What the workers left behind, checked.
  private func check(
    _ database: AppDatabase, tallies: [ContentionWorker.Tally], earlier: [String: Int]
  ) throws -> (lines: [String], failures: [String])
  {
    var lines: [String] = []
    var failures: [String] = []
    let twice = try database.itemsDecidedTwice()
    lines.append("items decided twice: \(twice)")
    if twice != 0 { failures.append("\(twice) items were decided twice") }
    for tally in tallies {
      let stored = try database.decisionCount(by: tally.name) - (earlier[tally.name] ?? 0)
      if stored != tally.decisions {
        failures.append("\(tally.name) saw \(tally.decisions) decisions succeed, \(stored) stored")
      }
    }
    lines.append("decisions stored as the workers saw them: \(failures.isEmpty ? "yes" : "no")")
    let integrity = try database.integrityCheck()
    lines.append("integrity check: \(integrity)")
    if integrity != "ok" { failures.append("integrity check: \(integrity)") }
    let chain = try database.verifyAuditChain()
    lines.append(chain.description)
    if !chain.isOK { failures.append(chain.description) }
    return (lines, failures)
  }
}

/// The problems a contention run found.
public struct ContentionFailure: Error, CustomStringConvertible {
  /// Each problem, in words.
  public let problems: [String]
  public var description: String {
    "contention check failed: " + problems.joined(separator: "; ")
  }
}

// MARK: - Worker

/// One reviewer process: claims the first item it can get and decides it, until time is up.
struct ContentionWorker {
  /// What a worker did, printed as one line for the coordinator.
  struct Tally {
    var name: String
    var decisions = 0
    var conflicts = 0
    var locked = 0

    var line: String { "tally \(name) \(decisions) \(conflicts) \(locked)" }

    init(name: String) { self.name = name }

    init?(line: String) {
      let words = line.split(whereSeparator: \.isWhitespace)
      guard words.count == 5, words[0] == "tally", let d = Int(words[2]), let c = Int(words[3]),
        let l = Int(words[4])
      else { return nil }
      name = String(words[1])
      decisions = d
      conflicts = c
      locked = l
    }
  }

  let database: AppDatabase
  let name: String
  let seconds: Double

  init(database: AppDatabase, name: String, seconds: Double) {
    self.database = database
    self.name = name
    self.seconds = seconds
  }

  func work() throws -> Tally {
    var tally = Tally(name: name)
    let deadline = monotonicSeconds() + seconds
    var generator = SystemRandomNumberGenerator()
    while monotonicSeconds() < deadline {
      do {
        let page = try database.queuePage(filter: QueueFilter(), after: nil, limit: 20)
        guard !page.isEmpty else { break }
        var claimed: QueueItem?
        for item in page {
          do {
            claimed = try database.claimItem(id: item.id, by: name, leaseSeconds: 60)
            break
          } catch is ClaimError {
            tally.conflicts += 1
          }
        }
        guard let claimed else { continue }
        let decision: ReviewDecisionKind = Bool.random(using: &generator) ? .dismiss : .confirm
        _ = try database.decide(itemId: claimed.id, decision: decision, note: nil, by: name)
        tally.decisions += 1
      } catch let error as ClaimError {
        _ = error
        tally.conflicts += 1
      } catch {
        if "\(error)".contains("locked") || "\(error)".contains("busy") {
          tally.locked += 1
        } else {
          throw error
        }
      }
    }
    return tally
  }
}

// MARK: - Importer

/// A consent import running alongside the reviewers: files of new accounts' events
/// (granted, then withdrawn) imported one after another until time is up.
struct ContentionImporter {
  static let namePrefix = "importer-"

  /// The event ids of an importer start with this (its process id keeps runs apart).
  static func eventPrefix(_ name: String) -> String {
    "cx-" + name.dropFirst(namePrefix.count) + "-"
  }

  let database: AppDatabase
  let name: String
  let seconds: Double

  init(database: AppDatabase, seconds: Double) {
    self.database = database
    name = Self.namePrefix + String(ProcessInfo.processInfo.processIdentifier)
    self.seconds = seconds
  }

  func work() throws -> ContentionWorker.Tally {
    var tally = ContentionWorker.Tally(name: name)
    try database.ensureOperator(name: name, role: .reviewer)
    let today = CalendarDate(unixSeconds: AppDatabase.systemClock())
    let services = try database.services(today: today).map(\.code)
    guard !services.isEmpty else { return tally }
    let prefix = Self.eventPrefix(name)
    let deadline = monotonicSeconds() + seconds
    var file = 0
    while monotonicSeconds() < deadline {
      var lines = ["event_id,account,service,state,occurred_at,source,terms_version"]
      for i in 0..<100 {
        let account = "\(prefix)acct-\(file)-\(i)"
        let service = services[i % services.count]
        let at = 1_780_000_000 + file * 1000 + i
        lines.append("\(prefix)\(file)-\(i)-g,\(account),\(service),granted,\(at),app,tos-9")
        lines.append(
          "\(prefix)\(file)-\(i)-w,\(account),\(service),withdrawn,\(at + 60),app,tos-9")
      }
      file += 1
      do {
        let report = try database.importConsent(
          bytes: Array(lines.joined(separator: "\n").utf8), fileName: "contention.csv",
          format: .csv, options: ConsentImportOptions(batchSize: 100, operatorName: name))
        tally.decisions += report.accepted
      } catch {
        guard "\(error)".contains("locked") || "\(error)".contains("busy") else { throw error }
        tally.locked += 1
      }
    }
    return tally
  }
}
