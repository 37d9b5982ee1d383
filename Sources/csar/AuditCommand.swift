// `csar audit verify [--json] [--expect-head EVENTS:MAC]`, `csar audit rekey`, `csar audit
// reanchor`: the audit log.

import ArgumentParser
import Foundation
import Store

/// The audit log.
struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Check the audit log; key an old one or anchor a restored one anew (admins).",
    subcommands: [AuditVerifyCommand.self, AuditRekeyCommand.self, AuditReanchorCommand.self]
  )
}

/// `csar audit verify`: the chain, its anchor, the triggers, and operators, reports and items
/// against the log; exit 1 naming what is wrong.
struct AuditVerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Verify the audit log; exit 1 naming the first bad event or row.",
    discussion: """
      Checks: each event's MAC (HMAC-SHA-256 under a key derived from the provider key, \
      which the database does not hold) covers its fields and the previous event's MAC, and \
      ids run from 1 without gaps, so an edited, deleted, inserted or renumbered event is \
      found even when the unkeyed hashes were recomputed; the anchor beside the key records \
      how many events there were, so a log cut at the end is found; the triggers that keep \
      the log append-only and operators bound exist with their SQL; every operator, report \
      and review item agrees with its last audited change. The head (EVENTS:MAC) is printed: \
      write it down, and later --expect-head checks that it is still in the log (exports \
      carry the head they were made at). Twin accounts (one id in two Unicode forms, see \
      `csar consent twins`) are counted on a line of their own; they are not tampering and \
      leave the exit status alone. With --json: {"ok":true,"events":N,"head_id":ID,\
      "head_hash":HEX,"head":"N:HEX","twins":N} (and "notes":[...] when the anchor of a copy \
      vouches for its log only from the copy's first change on) or {"ok":false,\
      "event":ID,"reason":"...","problems":[...]}.
      """)

  @Flag(name: .long, help: "Print one JSON object.")
  var json = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Fail unless this head (EVENTS:MAC, or the MAC alone) is an event of the intact log.",
      valueName: "HEAD"))
  var expectHead: String?

  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  func validate() throws {
    if let expectHead, AuditHead(parsing: expectHead) == nil {
      throw ValidationError(
        "--expect-head: \"\(expectHead)\" is not EVENTS:MAC or a MAC of 64 hex digits")
    }
  }

  func run() throws {
    let setup = try RiskCommandSetup(db: db, today: nil, createIfMissing: false)
    let expected = expectHead.flatMap(AuditHead.init(parsing:))
    let check = try setup.database.verifyAudit(expectedHead: expected)
    guard check.isOK else {
      let eventId: Int64? =
        if case .broken(let id, _) = check.chain { id } else { nil }
      if json {
        print(
          OrderedJSON.object([
            ("ok", .bool(false)), ("event", eventId.map { .int($0) } ?? .null),
            ("reason", .string(check.problems[0])),
            ("problems", .array(check.problems.map { .string($0) })),
          ]))
      } else {
        for problem in check.problems { print(problem) }
        // Never in the way of the failure: a log that fails may sit on a damaged database.
        if let twins = (try? ConsentCommand.Twins.notice(setup.database)) ?? nil { print(twins) }
      }
      throw ExitCode(1)
    }
    let count: Int = if case .ok(let count) = check.chain { count } else { 0 }
    if json {
      var fields: [(String, JSONValue)] = [
        ("ok", .bool(true)), ("events", .int(Int64(count))),
        ("head_id", check.head.map { .int($0.events) } ?? .null),
        ("head_hash", check.head.map { .string($0.mac) } ?? .null),
        ("head", check.head.map { .string($0.description) } ?? .null),
      ]
      if let since = check.eventsSinceExpectedHead {
        fields.append(("events_since_expected_head", .int(since)))
      }
      if !check.notes.isEmpty {
        fields.append(("notes", .array(check.notes.map { .string($0) })))
      }
      fields.append(("twins", .int(Int64(try setup.database.accountTwins().count))))
      print(OrderedJSON.object(fields))
      return
    }
    print(check.chain.description)
    for note in check.notes { print("note: \(note)") }
    print("triggers, operators, reports and items agree with the log")
    if let since = check.eventsSinceExpectedHead {
      print("expected head found: \(since) event(s) added since")
    }
    if let head = check.head { print("head: \(head)") }
    if let twins = try ConsentCommand.Twins.notice(setup.database) { print(twins) }
  }
}

/// `csar audit rekey`: an admin keys an intact log that was not keyed automatically.
struct AuditRekeyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rekey",
    abstract: "Key an intact unkeyed audit log with the provider key (admins; audited).",
    discussion: """
      A log from before keyed chains is keyed automatically at its first open only while the \
      provider key anchors no database yet. After that an unkeyed log might be one rewritten \
      by someone without the key, so keying it (accepting its history) is an admin's \
      explicit decision: check it first (`csar audit verify`), then \
      run this. The chain must be intact; the audit.rekey event names the admin and the \
      unkeyed head that was accepted.
      """)

  @OptionGroup var options: ModerationOptions

  func run() throws {
    let (database, admin) = try options.open()
    guard try database.rekeyAuditChain(by: admin) else {
      print("the audit log is keyed with this provider key already: nothing to do")
      return
    }
    let head = try database.auditHead()
    print("audit log keyed by \(admin)" + (head.map { "; head: \($0)" } ?? ""))
  }
}

/// `csar audit reanchor`: an admin accepts a log that no longer reaches its anchor.
struct AuditReanchorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "reanchor",
    abstract: "Anchor the audit log anew when it no longer reaches its anchor (admins; audited).",
    discussion: """
      An audited change never writes over an anchor the log does not reach (events cut, or \
      the database file replaced by an older one) or cannot use (damaged): verify keeps \
      failing. When that is known and wanted (a database restored from an older backup on \
      purpose), an admin runs this. The chain must be intact; the audit.reanchor event names \
      the admin and what the old anchor recorded, so the events the restore lost stay on record.
      """)

  @OptionGroup var options: ModerationOptions

  func run() throws {
    let (database, admin) = try options.open()
    guard let done = try database.reanchorAuditLog(by: admin) else {
      print("the audit log reaches its anchor: nothing to do")
      return
    }
    print(
      "audit log anchored anew by \(admin) at event \(done.events) (\(done.path)); the old "
        + "anchor recorded: \(done.replaced)")
  }
}
