// `csar audit verify [--json]`: checks the audit log's hash chain.

import ArgumentParser
import Foundation
import Store

/// The audit log.
struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Check the audit log.",
    subcommands: [AuditVerifyCommand.self]
  )
}

/// `csar audit verify`: walks the hash chain and names the first bad event; exit 1 if broken.
struct AuditVerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Verify the audit log's hash chain; exit 1 naming the first bad event.",
    discussion: """
      Each event's hash covers its fields and the previous event's hash, so an edited row, a \
      deleted row (a gap in the ids, a broken link) and rows deleted at the end are found. \
      The newest event's hash is printed too: record it elsewhere to notice a log rewritten \
      from some event on. With --json: {"ok":true,"events":N,"head_id":ID,"head_hash":HEX} \
      or {"ok":false,"event":ID,"reason":"..."}.
      """)

  @Flag(name: .long, help: "Print one JSON object.")
  var json = false

  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  func run() throws {
    let setup = try RiskCommandSetup(db: db, today: nil, createIfMissing: false)
    let result = try setup.database.verifyAuditChain()
    try checkOperators(setup.database, chain: result)
    switch result {
    case .ok(let count):
      let head = try setup.database.auditHead()
      if json {
        print(
          OrderedJSON.object([
            ("ok", .bool(true)), ("events", .int(Int64(count))),
            ("head_id", head.map { .int($0.id) } ?? .null),
            ("head_hash", head.map { .string($0.mac) } ?? .null),
          ]))
      } else {
        print(result.description)
        if let head { print("head: event \(head.id) \(head.mac)") }
      }
    case .broken(let id, let reason):
      print(
        json
          ? OrderedJSON.object([
            ("ok", .bool(false)), ("event", id.map { .int($0) } ?? .null),
            ("reason", .string(reason)),
          ])
          : result.description)
      throw ExitCode(1)
    }
  }

  /// With an intact chain, every operator row must agree with its last audited change (a
  /// role, uid or state edited outside csar); the first that does not fails the check.
  private func checkOperators(_ database: AppDatabase, chain: AuditVerification) throws {
    guard case .ok = chain, let mismatch = try database.operatorAuditMismatches().first
    else { return }
    let reason = mismatch.description + " (edited outside csar)"
    print(
      json
        ? OrderedJSON.object([
          ("ok", .bool(false)), ("operator", .string(mismatch.name)),
          ("reason", .string(reason)),
        ])
        : "audit log broken: " + reason)
    throw ExitCode(1)
  }
}
