// `csar operator add|list|disable`: operators are OS accounts with a role (admin only).

import ArgumentParser
import Compliance
import Foundation
import Moderation
import Store

/// Operators of a database: OS accounts bound to a role. Every subcommand is for admins and
/// is audited.
struct OperatorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "operator",
    abstract: "Add, list and disable operators (OS accounts with a role; admins only).",
    discussion: """
      An operator is an OS account (login name and uid) with a role: reviewer, lead (also \
      approves reveals) or admin (also manages operators). The account that creates a \
      database is its first admin. A name is never rebound to another uid; disabled \
      operators keep their name, so the audit log always maps to an account.
      """,
    subcommands: [OperatorAddCommand.self, OperatorListCommand.self, OperatorDisableCommand.self]
  )
}

extension OperatorRole: ExpressibleByArgument {}

/// `csar operator add LOGIN --role reviewer|lead|admin`.
struct OperatorAddCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "add",
    abstract: "Bind an OS account as an operator with a role, or change its role.",
    discussion: """
      LOGIN must be an account of this host (its uid is looked up now and bound for good). \
      Also binds an operator that existed before operators were bound to accounts, and \
      enables a disabled one again.
      """)

  @Argument(help: "The OS login name.")
  var login: String

  @Option(name: .long, help: "reviewer, lead or admin.")
  var role: OperatorRole

  @OptionGroup var options: ModerationOptions

  func run() throws {
    let (database, admin) = try options.open()
    let (row, change) = try database.addOperator(login: login, role: role, by: admin)
    print(
      "\(DisplayText.escapingControls(row.name)) (uid \(row.uid.map(String.init) ?? "-")): "
        + "\(row.role.rawValue), \(change.rawValue)")
  }
}

/// `csar operator list [--json]`.
struct OperatorListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "Every operator: name, uid, role and state.")

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  @OptionGroup var options: ModerationOptions

  func run() throws {
    let (database, admin) = try options.open()
    for row in try database.listOperators(by: admin) {
      let state = row.isEnabled ? (row.uid == nil ? "unbound" : "enabled") : "disabled"
      if json {
        print(
          OrderedJSON.object([
            ("name", .string(row.name)), ("uid", row.uid.map { .int(Int64($0)) } ?? .null),
            ("role", .string(row.role.rawValue)), ("state", .string(state)),
            ("created_at", .int(row.createdAt)),
            ("disabled_at", row.disabledAt.map { .int($0) } ?? .null),
          ]))
      } else {
        let fields = [
          DisplayText.escapingControls(row.name), row.uid.map(String.init) ?? "-",
          row.role.rawValue, state,
        ]
        print(fields.joined(separator: "\t"))
      }
    }
  }
}

/// `csar operator disable LOGIN`.
struct OperatorDisableCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "disable",
    abstract: "Stop an operator from acting (the name stays bound to its account).")

  @Argument(help: "The operator's name.")
  var name: String

  @OptionGroup var options: ModerationOptions

  func run() throws {
    let (database, admin) = try options.open()
    let row = try database.disableOperator(name: name, by: admin)
    print("\(DisplayText.escapingControls(row.name)): disabled")
  }
}
