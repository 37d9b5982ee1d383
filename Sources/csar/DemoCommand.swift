import ArgumentParser
import DemoPictures
import Foundation
import Store

#if canImport(Glibc)
  import Glibc
#endif

/// `csar demo`: creates a database filled with realistic synthetic data.
struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Create a database filled with realistic synthetic data.",
    discussion: """
      Services in every risk category and deadline state, detection orders, operators \
      (alice, bahar, chen, and you as admin, all bound to your OS account: a reveal needs \
      a lead of a second account), accounts with consent histories, a review queue with evidence, \
      the hash banks and URL lists its items matched (so bank list and url list show what \
      the queue names), decisions, reports in every state and a hash-chained audit log. The same seed gives \
      the same data (times are relative to now).
      """
  )

  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  @Option(name: .long, help: "Number of flagged items in the review queue.")
  var items: Int = DemoGenerator.defaultItems

  @Option(name: .long, help: "Number of accounts (default: 5000 or items/4, the larger).")
  var accounts: Int?

  @Option(name: .long, help: "Seed of the generator.")
  var seed: UInt64 = 1

  @Flag(name: .long, help: "Replace an existing database file (with its -wal and -shm).")
  var force = false

  func validate() throws {
    if items < 0 { throw ValidationError("--items must be 0 or more, not \(items)") }
    if let accounts, accounts < 1 {
      throw ValidationError("--accounts must be at least 1, not \(accounts)")
    }
  }

  func run() throws {
    let path = db ?? AppDatabase.defaultPath()
    if FileManager.default.fileExists(atPath: path), !force {
      throw DemoCommandError(
        "\(path): a database already exists; pass --force to replace it")
    }
    let started = Date()
    let summary: DemoSummary
    // Items record the real SHA-256 of the pictures they point at (previews check it).
    let pictures = try DemoMedia.files()
    let building = DemoGenerator.buildingPath(for: path)
    do {
      let auditKey = try DatabaseAccess.auditKey(
        configuration: DatabaseAccess.defaultConfiguration(), databasePath: path)
      summary = try LongRunCommand.run(
        task: "demo", unit: "rows",
        onAbort: {
          // The second Ctrl-C: no half-built database is left behind.
          for suffix in ["", "-wal", "-shm"] { unlink(building + suffix) }
        },
        describe: { stopped in
          "demo stopped: \(LongRunCommand.count(stopped.committed, of: stopped.total, "rows")) "
            + "were built, in a temporary file now removed; \(path) is untouched. To finish, "
            + "run the same command again: the demo is built anew."
        }
      ) {
        try DemoGenerator.makeDatabase(
          at: path, auditKey: auditKey, items: items, accounts: accounts, seed: seed,
          replace: force, mediaDigests: DemoMedia.digests(of: pictures), observer: $0)
      }
    } catch let error as StoreError {
      throw DemoCommandError(error.description)
    }
    let seconds = Date().timeIntervalSince(started)
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    let images = try DemoMedia.write(pictures, besideDatabase: path)
    print("created \(path)")
    print("  \(images) synthetic images in media/ (one truncated, one missing, on purpose)")
    print(
      "  \(summary.services) services, \(summary.assessments) assessments, "
        + "\(summary.orders) detection orders, \(summary.measures) measures")
    print(
      "  \(summary.operators) operators: alice (reviewer), bahar (lead), chen (reviewer), "
        + "you (admin), all bound to your OS account (uid \(OSAccount.effectiveUid))")
    print("  \(summary.accounts) accounts, \(summary.consentEvents) consent events")
    print(
      "  \(summary.items) flagged items, \(summary.decisions) decisions, "
        + "\(summary.reports) reports")
    print("  \(summary.auditEvents) audit events (hash-chained)")
    print(
      "  took \(String(format: "%.2f", seconds)) s; file size "
        + FileSizeText.of(size))
  }

  /// Creates a demo database at `path` when none exists (first start of `csar`); returns true
  /// when it made one.
  static func ensureDemoDatabase(at path: String) throws -> Bool {
    try DemoGenerator.ensureDemoDatabase(
      at: path,
      auditKey: DatabaseAccess.auditKey(
        configuration: DatabaseAccess.defaultConfiguration(), databasePath: path))
  }
}

/// A `csar demo` failure, printed as `Error: <message>` with a non-zero exit.
struct DemoCommandError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
