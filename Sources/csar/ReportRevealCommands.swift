// `csar report request-reveal|approve|reveal ID`: revealing a founded case, four eyes.

import ArgumentParser
import Foundation
import Store

/// `csar report request-reveal ID`: asks for a founded case to be revealed.
struct ReportRequestRevealCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "request-reveal",
    abstract: "Ask for the metadata of a founded case to be revealed (needs a lead's approval).")

  @Argument(help: "Case reference (CSAR-YYYY-NNNNNN).")
  var caseRef: String

  @OptionGroup var options: ReportOptions

  func run() throws {
    let setup = try ReportSetup(options)
    let name = try setup.operatorName(options.operator)
    guard try setup.database.requestReveal(caseRef: caseRef, by: name) else {
      print("\(caseRef): already recorded: \(name) asked for this reveal before")
      return
    }
    print("\(caseRef): reveal requested by \(name); a lead other than \(name) must approve it")
  }
}

/// `csar report approve ID`: a lead approves a requested reveal (the second pair of eyes).
struct ReportApproveCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "approve",
    abstract: "Approve a requested reveal (a lead other than the requester).")

  @Argument(help: "Case reference (CSAR-YYYY-NNNNNN).")
  var caseRef: String

  @OptionGroup var options: ReportOptions

  func run() throws {
    let setup = try ReportSetup(options)
    let name = try setup.operatorName(options.operator)
    guard try setup.database.approveReveal(caseRef: caseRef, by: name) else {
      print("\(caseRef): already recorded: \(name) approved this reveal before")
      return
    }
    print("\(caseRef): reveal approved by \(name)")
  }
}

/// `csar report reveal ID --outbox DIR`: writes the clear-text metadata package.
struct ReportRevealCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "reveal",
    abstract: "Write a founded case's clear-text metadata package (after a lead's approval).",
    discussion: """
      Writes <case ref>-reveal.json to the outbox: the report with the account data in the \
      clear and the table from each pseudonym sent to its clear value. Refused until a lead \
      other than you approved the reveal. Audited with the file's SHA-256.
      """)

  @Argument(help: "Case reference (CSAR-YYYY-NNNNNN).")
  var caseRef: String

  @Option(name: .long, help: "Folder the package is written to (created if missing).")
  var outbox: String

  @OptionGroup var options: ReportOptions

  func run() throws {
    let setup = try ReportSetup(options)
    let name = try setup.operatorName(options.operator)
    let key = try setup.providerKey()
    let written = try setup.database.reveal(
      caseRef: caseRef, to: try Outbox(directory: outbox), provider: setup.provider, key: key,
      by: name)
    print("\(caseRef)\t\(written.path)")
  }
}
