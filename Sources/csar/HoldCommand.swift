// `csar hold place|release|list`: legal holds that keep data beyond the retention period.

import ArgumentParser
import Foundation
import Moderation
import Store

/// Legal holds: an authority asked to keep a report or an item beyond the retention period.
struct HoldCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hold",
    abstract: "Place, release and list legal holds (exempt from the retention purge).",
    subcommands: [HoldPlaceCommand.self, HoldReleaseCommand.self, HoldListCommand.self]
  )
}

/// `csar hold place (--case REF | --item ID) --reason TEXT`.
struct HoldPlaceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "place", abstract: "Keep a report or an item beyond the retention period.")

  @Option(name: .customLong("case"), help: "Case reference of the report to keep.")
  var caseRef: String?

  @Option(name: .long, help: "Id of the flagged item to keep.")
  var item: Int64?

  @Option(name: .long, help: "The authority's request (e.g. its reference).")
  var reason: String

  @OptionGroup var options: ReportOptions

  func validate() throws {
    guard (caseRef == nil) != (item == nil) else {
      throw ValidationError("name exactly one of --case and --item")
    }
  }

  func run() throws {
    let setup = try ReportSetup(options)
    let name = try setup.operatorName(options.operator)
    let hold = try setup.database.placeLegalHold(
      caseRef: caseRef, itemId: item, reason: reason, by: name)
    print("hold \(hold.id) placed on \(hold.entity) \(hold.label)")
  }
}

/// `csar hold release ID`.
struct HoldReleaseCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "release", abstract: "Release a legal hold (the next purge may remove the data).")

  @Argument(help: "The hold's id (see csar hold list).")
  var id: Int64

  @OptionGroup var options: ReportOptions

  func run() throws {
    let setup = try ReportSetup(options)
    let name = try setup.operatorName(options.operator)
    try setup.database.releaseLegalHold(id: id, by: name)
    print("hold \(id) released")
  }
}

/// `csar hold list [--json]`.
struct HoldListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List legal holds, active first.")

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  @OptionGroup var options: ReportOptions

  func run() throws {
    let setup = try ReportSetup(options)
    for hold in try setup.database.legalHolds() {
      if json {
        print(
          OrderedJSON.object([
            ("id", .int(hold.id)), ("entity", .string(hold.entity)),
            ("entity_id", .int(hold.entityId)), ("label", .string(hold.label)),
            ("reason", .string(hold.reason)),
            ("placed_by", .string(hold.placedBy)), ("placed_at", .int(hold.placedAt)),
            ("released_at", hold.releasedAt.map { .int($0) } ?? .null),
          ]))
      } else {
        print(
          [String(hold.id), hold.entity, DisplayText.escapingControls(hold.label),
           DisplayText.escapingControls(hold.reason),
           hold.placedBy, hold.releasedAt == nil ? "active" : "released"]
            .joined(separator: "\t"))
      }
    }
  }
}
