// `csar bank import|list|enable|disable|threshold`: hash banks of known material.

import ArgumentParser
import Foundation
import Moderation
import Store

/// Hash banks: lists of PDQ, MD5, SHA-256 and SHA-1 hashes of known material that scans match.
struct BankCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bank",
    abstract: "Import, curate and list hash banks; enable, disable and tune them.",
    subcommands: [
      BankImportCommand.self, BankListCommand.self, BankEnableCommand.self,
      BankDisableCommand.self, BankThresholdCommand.self, BankExportCommand.self,
      BankVPDQThresholdCommand.self,
      // Curation (BankCurationCommands.swift).
      BankRemoveCommand.self, BankRetractCommand.self, BankDeleteCommand.self,
      BankRenameCommand.self, BankOnMatchCommand.self, BankVersionsCommand.self,
      BankSyncCommand.self,
    ]
  )

  /// One bank as a JSON line.
  static func json(_ bank: BankRow, videos: Int = 0) -> String {
    OrderedJSON.object([
      ("name", .string(bank.name)), ("enabled", .bool(bank.enabled)),
      ("pdq_threshold", .int(Int64(bank.pdqThreshold))), ("pdq", .int(Int64(bank.pdqCount))),
      ("md5", .int(Int64(bank.md5Count))), ("sha256", .int(Int64(bank.sha256Count))),
      ("sha1", .int(Int64(bank.sha1Count))),
      ("total", .int(Int64(bank.total))), ("created_at", .int(bank.createdAt)),
      ("vpdq", .int(Int64(videos))),
      ("on_match", .string(bank.onMatch.rawValue)),
      ("version", bank.version.map { .int(Int64($0.version)) } ?? .null),
      ("source_file", .text(bank.lastSource?.file)),
      ("source_format", .text(bank.lastSource?.format)),
      ("changed_at", bank.version.map { .int($0.createdAt) } ?? .null),
      ("change", bank.version.map { .string($0.change.rawValue) } ?? .null),
      ("added", bank.version.map { .int(Int64($0.added)) } ?? .null),
      ("removed", bank.version.map { .int(Int64($0.removed)) } ?? .null),
      ("changed_by", .text(bank.version?.operatorName)),
      (
        "pending_import",
        bank.pendingImport.map { pending in
          .object([
            "staged": .int(Int64(pending.staged)), "batches": .int(Int64(pending.batches)),
            "source_file": .text(pending.sourceFile), "operator": .string(pending.operatorName),
            "started_at": .int(pending.startedAt),
          ])
        } ?? .null
      ),
    ])
  }

  /// Enables or disables a bank and prints it.
  static func setEnabled(_ name: String, _ enabled: Bool, _ options: ModerationOptions) throws {
    let (database, operatorName) = try options.open()
    print(line(try database.setBankEnabled(name: name, enabled: enabled, by: operatorName)))
  }

  /// One bank as a tab-separated line.
  static func line(_ bank: BankRow, videos: Int? = nil) -> String {
    ([
      bank.name, bank.enabled ? "enabled" : "disabled", "threshold \(bank.pdqThreshold)",
      "pdq \(bank.pdqCount)", "md5 \(bank.md5Count)", "sha256 \(bank.sha256Count)",
      "sha1 \(bank.sha1Count)",
      "on match: \(bank.onMatch.rawValue)",
      bank.version.map { version in
        "v\(version.version) \(version.change.rawValue) +\(version.added) -\(version.removed) "
          + "by \(version.operatorName) \(BankVersionText.utc(version.createdAt))"
      } ?? "v? (no version yet)",
      (bank.lastSource?.file).map { file in
        "from " + file + ((bank.lastSource?.format).map { " (\($0))" } ?? "")
      } ?? "from -",
    ] + (videos.map { ["vpdq \($0)"] } ?? [])
      + (bank.pendingImport.map { pending in
        [
          "importing: \(pending.staged) staged by \(pending.operatorName) since "
            + BankVersionText.utc(pending.startedAt)
            + (pending.sourceFile.map { " from \($0)" } ?? "")
            + ", not yet in the bank (run the import again to finish it)"
        ]
      } ?? [])).joined(separator: "\t")
  }
}

/// `csar bank import NAME FILE`.
struct BankImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Import a hash list (CSV, TSV, threatexchange, HMA, StopNCII, NCMEC) into a bank.",
    discussion: """
      Columns: hash type (pdq, md5, sha256 or sha1, or an alias such as video_md5, HASH_PDQ, \
      ImagePDQ, VideoMD5, any case), hash (hex), then optionally a label and the list's own \
      id. A header line (type,hash,label,source_id) is optional and may reorder the columns; \
      other header columns are kept in the label as name=value, so `threatexchange dataset \
      -P --csv` output imports as it is. The delimiter is a tab when the first line has one, \
      else a comma, else spaces (threatexchange's `pdq <hex>` lines). Blank \
      lines and lines starting with # are ignored. A folder, or a file of vPDQ frames \
      (frame,quality,hex,timestamp lines, or threatexchange's JSON array of \
      "hex,quality,timestamp"), imports known videos, one per file. Every bad line is printed as \
      FILE:LINE: reason; a file with any bad line imports nothing unless --skip-invalid. \
      Hashes the bank holds already are counted, not added twice. The whole file is checked \
      first; the hashes are then written in batches of 5,000, each a short transaction \
      (other consoles and commands write in between), and become part of the bank all at once \
      with the last one, which makes the new version and the bank.import event. An import \
      stopped or killed between batches leaves the bank as it was: run it again to finish \
      it (hashes already staged or in the bank are skipped). A file starting with { or [ is \
      read as HMA 2.0 JSON (signal objects, bank contents) or StopNCII JSON (signalType, \
      hashValue; Withdrawn and Deleted records are removed from the bank); one starting with \
      < as an NCMEC XML fingerprint list (md5, sha1, pdq; other algorithms are counted, not \
      errors; deleted ids are removed from the bank; no DTD accepted). \
      Extra columns and fields are kept as the hash's metadata. Files over 1 GiB are refused.
      """)

  @Argument(help: "Bank name (letters, digits, '-', '_', '.').")
  var name: String

  @Argument(help: "Hash list (CSV, TSV, TYPE VALUE, JSON, XML); or vPDQ files (file or folder).")
  var file: String

  @Option(name: .long, help: "Set the bank's PDQ threshold (0...64; new banks get 31).")
  var threshold: Int?

  @OptionGroup var options: ImportOptions

  func run() throws {
    if VideoBankFile.isVideoHashes(path: file) {
      return try BankVideoImport.run(
        name: name, path: file, threshold: threshold, options: options)
    }
    let (database, operatorName) = try options.moderation.open(create: true)
    let outcome = try ImportReporting.run("csar bank import") {
      try LongRunCommand.run(
        task: "bank import into '\(name)'", unit: "hashes", json: options.json
      ) {
        try Imports.bank(
          name: name, path: file, skipInvalid: options.skipInvalid, threshold: threshold,
          database: database, by: operatorName, observer: $0)
      }
    }
    let s = outcome.summary
    let bank = try database.hashBank(name: name)
    if options.json {
      print(
        OrderedJSON.object([
          ("bank", .string(s.bank)), ("created", .bool(s.created)),
          ("added", .int(Int64(s.added))), ("already_present", .int(Int64(s.alreadyPresent))),
          ("skipped_lines", .int(Int64(s.skipped))), ("total", .int(Int64(bank.total))),
          ("pdq_threshold", .int(Int64(bank.pdqThreshold))),
          ("format", .text(outcome.list?.format.rawValue)),
          (
            "unsupported",
            .object((outcome.list?.unsupported ?? [:]).mapValues { .int(Int64($0)) })
          ),
          ("withdrawn", .int(Int64(outcome.list?.withdrawn ?? 0))),
          ("withdrawn_removed", .int(Int64(s.withdrawn))),
          ("resumed", .int(Int64(s.resumed))),
          ("version", s.version.map { .int(Int64($0.version)) } ?? .null),
        ]))
    } else {
      var parts = [
        ImportReporting.plural(s.added, "hash", "hashes") + " added",
        "\(s.alreadyPresent) already present",
      ]
      if s.resumed > 0 { parts[0] += " (\(s.resumed) staged by an interrupted run)" }
      if s.withdrawn > 0 {
        parts.append(ImportReporting.plural(s.withdrawn, "withdrawn hash", "withdrawn hashes")
          + " removed")
      }
      if s.skipped > 0 { parts.append("\(ImportReporting.plural(s.skipped, "bad line")) skipped") }
      print(
        "bank \(s.bank)\(s.created ? " (new)" : ""): " + parts.joined(separator: ", ")
          + "; \(bank.total) in the bank"
          + (s.version.map { " (v\($0.version): +\($0.added) -\($0.removed))" } ?? "")
          + ", PDQ threshold \(bank.pdqThreshold)"
          + (outcome.list?.notes ?? ""))
    }
  }
}

/// `csar bank list`.
struct BankListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract: "List the banks with their state, PDQ threshold and hash counts.",
    discussion: """
      Plain: NAME<TAB>enabled|disabled<TAB>threshold N<TAB>pdq N<TAB>md5 N<TAB>sha256 N\
      <TAB>sha1 N<TAB>on match: review|report<TAB>vN CHANGE +ADDED -REMOVED by OPERATOR TIME \
      (the current version)<TAB>from FILE (FORMAT) (the newest file it took hashes from)\
      [<TAB>vpdq N (known videos)][<TAB>importing: N staged ... (an import still writing, or \
      stopped: run it again to finish it)]. With --versions, each bank's versions follow it, \
      one per line, indented (as `bank versions NAME` prints them). With --json, one object \
      per line: {"name","enabled","pdq_threshold","pdq","md5","sha256","sha1","total",\
      "created_at","vpdq","on_match","version","source_file","source_format","changed_at",\
      "change","added","removed","changed_by","pending_import"} (and "versions", a list, with \
      --versions).
      """)

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  @Flag(name: .long, help: "Also list every version of each bank.")
  var versions = false

  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  func run() throws {
    let setup = try RiskCommandSetup(db: db, today: nil, createIfMissing: false)
    let videos = try setup.database.bankVideoCounts()
    for bank in try setup.database.hashBanks() {
      let n = videos[bank.name] ?? 0
      let history = versions ? try setup.database.bankVersions(name: bank.name) : []
      if json {
        var line = BankCommand.json(bank, videos: n)
        if versions {
          line = String(line.dropLast()) + #","versions":["#
            + history.map(BankVersionText.json).joined(separator: ",") + "]}"
        }
        print(line)
      } else {
        print(BankCommand.line(bank, videos: n))
        for version in history { print("  " + BankVersionText.line(version)) }
      }
    }
  }
}

/// `csar bank enable NAME`.
struct BankEnableCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "enable", abstract: "Match scans against a bank again (audited).")

  @Argument(help: "Bank name.")
  var name: String

  @OptionGroup var options: ModerationOptions

  func run() throws { try BankCommand.setEnabled(name, true, options) }
}

/// `csar bank disable NAME`.
struct BankDisableCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "disable", abstract: "Stop matching scans against a bank (audited).")

  @Argument(help: "Bank name.")
  var name: String

  @OptionGroup var options: ModerationOptions

  func run() throws { try BankCommand.setEnabled(name, false, options) }
}

/// `csar bank threshold NAME N`.
struct BankThresholdCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "threshold",
    abstract: "Set the largest PDQ Hamming distance that counts as a match (audited).",
    discussion: "0...64 bits of 256; 31 is the recommended value and the default.")

  @Argument(help: "Bank name.")
  var name: String

  @Argument(help: "Largest PDQ distance that matches.")
  var distance: Int

  @OptionGroup var options: ModerationOptions

  func run() throws {
    let (database, operatorName) = try options.open()
    let bank = try database.setBankThreshold(name: name, threshold: distance, by: operatorName)
    print(BankCommand.line(bank))
  }
}
