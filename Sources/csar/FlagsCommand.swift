// `csar flags import FILE`: new-material scores from an external classifier.

import ArgumentParser
import Moderation
import Store

/// Classifier flags: the product ships no classifier; it imports an external detector's scores.
struct FlagsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "flags",
    abstract: "Import new-material scores from an external classifier into the review queue.",
    subcommands: [FlagsImportCommand.self]
  )
}

/// `csar flags import FILE`.
struct FlagsImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Import classifier scores (JSON Lines) as new-material review items.",
    discussion: """
      One JSON object per line: {"account","service","media","model","score"} and optionally \
      "id" (the detector's event id); other keys are ignored. account is the provider's \
      account id, service a service code, score a number in 0...1. An event for an account \
      that has not granted consent on the service is a bad line (detection before \
      transmission is for consenting users only). Scores at or above \
      --threshold become new_material items (priority 1 from 0.97, else 2); lower ones are \
      counted only. Re-importing is harmless: an event seen before (by id, or by all its \
      fields when it has none) is not queued again. Every bad line is printed as \
      FILE:LINE: reason; a file with any bad line imports nothing unless --skip-invalid. \
      media paths (relative ones are beside the database) must lie inside the media roots \
      (config media_roots; default: the media folder beside the database), and the file of \
      a queued item must be readable: its SHA-256 is recorded and checked before display. \
      Transactions of 10,000 events; audited per item (flag.create) and per batch \
      (flags.import). Ctrl-C stops between batches; running the same import again finishes it.
      """)

  @Argument(help: "JSON Lines file.")
  var file: String

  @Option(name: .long, help: "Lowest score that is queued (0...1).")
  var threshold = Imports.defaultFlagThreshold

  @OptionGroup var options: ImportOptions

  func run() throws {
    let setup = try options.moderation.setup()
    let database = setup.database
    let operatorName = try setup.operatorName(options.moderation.operator)
    let outcome = try ImportReporting.run("csar flags import") {
      try LongRunCommand.run(task: "flags import", unit: "events", json: options.json) {
        try Imports.flags(
          path: file, skipInvalid: options.skipInvalid, threshold: threshold,
          database: database, mediaRoots: setup.mediaRoots, by: operatorName, observer: $0)
      }
    }
    let s = outcome.summary
    if options.json {
      print(
        OrderedJSON.object([
          ("queued", .int(Int64(s.queued.count))), ("items", .array(s.queued.map { .int($0) })),
          ("below_threshold", .int(Int64(s.belowThreshold))),
          ("already_imported", .int(Int64(s.alreadyImported))),
          ("skipped_lines", .int(Int64(s.skipped))),
        ]))
    } else {
      var text = ImportReporting.plural(s.queued.count, "item") + " queued, "
        + "\(s.belowThreshold) below the threshold, \(s.alreadyImported) imported before"
      if s.skipped > 0 {
        text += ", " + ImportReporting.plural(s.skipped, "bad line") + " skipped"
      }
      print(text)
    }
  }
}
