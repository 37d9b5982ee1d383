// `csar order add|list`: the register of detection orders.

import ArgumentParser
import Compliance
import Foundation
import Moderation
import Store

/// The register of detection orders issued to the provider's services.
struct OrderCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "order",
    abstract: "Register detection orders and list them.",
    subcommands: [OrderAddCommand.self, OrderListCommand.self]
  )
}

/// `csar order add`: registers an order (audited).
struct OrderAddCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "add", abstract: "Register a detection order issued to a service.")

  @Option(name: .long, help: "Service code.")
  var service: String

  @Option(name: .long, help: "Issuing authority.")
  var authority: String

  @Option(name: .long, help: "The order's reference.")
  var reference: String

  @Option(name: .long, help: "First day in force (YYYY-MM-DD).")
  var from: String

  @Option(name: .long, help: "Last day in force (YYYY-MM-DD).")
  var to: String

  @Option(name: .long, help: "Scope: known,new,grooming and images,videos,urls.")
  var scope: String

  @Flag(name: .long, help: "End-to-end encrypted communication is included.")
  var e2ee = false

  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  @Option(name: .long, help: CallerIdentity.optionHelp)
  var `operator`: String?

  func run() throws {
    let terms = DetectionOrderTerms(
      authority: authority, reference: reference,
      starts: try CalendarDate(parsing: from, field: "--from"),
      ends: try CalendarDate(parsing: to, field: "--to"),
      scope: try DetectionScope(codes: scope), includesEndToEndEncrypted: e2ee)
    let setup = try RiskCommandSetup(db: db, today: nil, createIfMissing: false)
    let name = try setup.operatorName(`operator`)
    guard let row = try setup.database.service(code: service) else {
      throw RiskCommandError("--service: no service has the code \"\(service)\"")
    }
    let order = try setup.database.addDetectionOrder(serviceId: row.id, terms: terms, by: name)
    print("order \(order.id) registered for \(row.code): \(terms.starts) → \(terms.ends)")
  }
}

/// `csar order list`: every order, by end date.
struct OrderListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract: "List detection orders by end date.",
    discussion: """
      With --json, one object per line: {"id","service","authority","reference","from","to",\
      "scope","e2ee","active","ending_soon","days_left"}. Ending soon = in force and ending \
      within 60 days of --today.
      """)

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  @Option(name: .long, help: "Evaluate as of this day (YYYY-MM-DD; default: today, UTC).")
  var today: String?

  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  func run() throws {
    let setup = try RiskCommandSetup(db: db, today: today, createIfMissing: false)
    for row in try setup.database.detectionOrders() {
      let t = row.order.terms
      let active = t.isActive(on: setup.today)
      let soon = t.isEndingSoon(on: setup.today)
      let left = setup.today.days(until: t.ends)
      if json {
        print(
          OrderedJSON.object([
            ("id", .int(row.order.id)), ("service", .string(row.serviceCode)),
            ("authority", .string(t.authority)), ("reference", .string(t.reference)),
            ("from", .string(t.starts.description)), ("to", .string(t.ends.description)),
            ("scope", .string(t.scope.codes)), ("e2ee", .bool(t.includesEndToEndEncrypted)),
            ("active", .bool(active)), ("ending_soon", .bool(soon)),
            ("days_left", .int(Int64(left))),
          ]))
      } else {
        let marker = soon ? "! " : "  "
        let state = soon ? "ending soon" : active ? "active" : left < 0 ? "ended" : "not started"
        print(
          [
            marker + String(row.order.id), row.serviceCode,
            DisplayText.escapingControls(t.reference),
            DisplayText.escapingControls(t.authority), "\(t.starts)..\(t.ends)", t.scope.codes,
            t.includesEndToEndEncrypted ? "e2ee" : "-", state,
          ].joined(separator: "\t"))
      }
    }
  }
}
