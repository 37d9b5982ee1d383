// `csar bench contention`: several reviewer processes working one database at once.

import ArgumentParser
import Compliance
import Foundation
import Store

/// Starts N worker processes (this binary, `--worker K`) that each claim and decide queue
/// items on one database for a bounded time, then checks what they left: no item decided
/// twice, every decision a worker saw succeed is stored, no "database is locked" error reached
/// a worker, the audit chain and SQLite's integrity check pass. Prints decisions per second.
///
/// It writes to the database (claims, decisions, reports, audit events as operators
/// `contention-1` …): run it on a demo database.
struct ContentionBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "contention",
    abstract: "Several reviewer processes deciding items on one database; checks the result.")

  @Option(name: .long, help: "Database file (a demo database: it is written to).")
  var db: String

  @Option(name: .long, help: "Worker processes.")
  var workers = 4

  @Option(name: .long, help: "Seconds each worker works.")
  var seconds = 5.0

  @Option(name: .long, help: "Run as worker K (used by the benchmark itself).")
  var worker: Int?

  func validate() throws {
    guard (1...32).contains(workers) else { throw ValidationError("--workers must be 1-32") }
    guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be 0-600") }
  }

  func run() throws {
    if let worker {
      let tally = try ContentionWorker(db: db, name: "contention-\(worker)", seconds: seconds)
        .work()
      print(tally.line)
      return
    }
    try coordinate()
  }

  // MARK: - Coordinator

  private func coordinate() throws {
    let database = try AppDatabase.open(path: db)
    for index in 1...workers {
      try database.ensureOperator(name: "contention-\(index)", role: .reviewer)
    }
    // Decisions already recorded under the workers' names (an earlier run).
    var earlier: [String: Int] = [:]
    for index in 1...workers {
      earlier["contention-\(index)"] = try database.decisionCount(by: "contention-\(index)")
    }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var processes: [(Process, Pipe)] = []
    let started = BenchCommand.now()
    for index in 1...workers {
      let process = Process()
      process.executableURL = executable
      process.arguments = [
        "bench", "contention", "--db", db, "--seconds", String(seconds), "--worker",
        String(index),
      ]
      let pipe = Pipe()
      process.standardOutput = pipe
      try process.run()
      processes.append((process, pipe))
    }
    var tallies: [ContentionWorker.Tally] = []
    var failures: [String] = []
    for (index, (process, pipe)) in processes.enumerated() {
      let output = String(
        decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      if process.terminationStatus != 0 {
        failures.append("worker \(index + 1) exited with status \(process.terminationStatus)")
      }
      if let tally = ContentionWorker.Tally(line: output) { tallies.append(tally) }
    }
    let elapsed = BenchCommand.now() - started
    let decided = tallies.map(\.decisions).reduce(0, +)
    let conflicts = tallies.map(\.conflicts).reduce(0, +)
    let locked = tallies.map(\.locked).reduce(0, +)
    let checks = try check(database, tallies: tallies, earlier: earlier)
    print(
      "\(workers) workers, \(BenchCommand.format(elapsed, 2)) s: \(decided) decisions "
        + "(\(BenchCommand.format(Double(decided) / elapsed, 1))/s), \(conflicts) claims lost "
        + "to another worker, \(locked) 'database is locked' errors")
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
struct ContentionFailure: Error, CustomStringConvertible {
  let problems: [String]
  var description: String { "contention check failed: " + problems.joined(separator: "; ") }
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

  init(db: String, name: String, seconds: Double) throws {
    database = try AppDatabase.open(path: db)
    self.name = name
    self.seconds = seconds
  }

  func work() throws -> Tally {
    var tally = Tally(name: name)
    let deadline = BenchCommand.now() + seconds
    var generator = SystemRandomNumberGenerator()
    while BenchCommand.now() < deadline {
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
