// `csar bank export NAME --format csv|te-csv|te|hma-json|stopncii-json|ncmec-xml|vpdq|
// threatexchange-vpdq [-o PATH]`.

import ArgumentParser
import Foundation
import Moderation
import Store

/// Writes a bank in a format csar and the other tools read back (audited: `bank.export`).
struct BankExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract:
      "Write a bank as csar CSV, threatexchange CSV or lines, HMA, StopNCII or NCMEC lists, "
      + "or vPDQ files.",
    discussion: """
      csv: type,hash,label,source_id,metadata (metadata a JSON object), what `csar bank \
      import` reads back unchanged. te-csv: threatexchange dataset --csv columns \
      signal_type,signal_str,collab,category,tags (category = label; collab and tags from \
      metadata, collab defaults to the bank's name). te: threatexchange's TYPE VALUE lines \
      (its local_file collaboration reads them; SHA-1, which threatexchange has no type for, \
      is left out and counted) after a line `# csar audit_head EVENTS:MAC`, the audit log's \
      head when the export began (`csar audit verify --expect-head` checks it). hma-json: a \
      JSON array of HMA bank contents \
      {"bank":{"name"},"signals":{"pdq":"..."},"metadata":{"content_id","json":{"label",...}}}. \
      md5 is written as video_md5 and sha256 as video_sha256 (the digest of the file), as \
      threatexchange and HMA name them. stopncii-json: a StopNCII FetchHashes reply \
      {"csar_audit_head":{"events","mac"},"hashRecords":[{"signalType":"ImagePDQ"|"VideoMD5",\
      "hashValue","hashStatus",...}],"count","hasMoreRecords"} (SHA-1 and SHA-256 left out and \
      counted; StopNCII's readers skip csar_audit_head). ncmec-xml: an NCMEC fingerprint list, \
      a comment <!-- csar audit_head EVENTS:MAC --> and an <image> (or <video>) per hash with \
      its id, classification, member and timestamp (SHA-256 left out and counted). Writes to \
      --output (a private file, replaced atomically, exact bytes) or standard output (text \
      from data passes the output sanitiser); a summary goes to standard error. vpdq and \
      threatexchange-vpdq write the bank's known videos instead: ThreatExchange's \
      frame,quality,hex,timestamp lines or python-threatexchange's JSON array, one file per \
      video into the --output FOLDER (one video may go to standard output).
      """)

  @Argument(help: "Bank name.")
  var name: String

  @Option(
    name: .long,
    help: """
      csv, te-csv, te, hma-json, stopncii-json, ncmec-xml; vpdq, threatexchange-vpdq \
      (default csv; vpdq: videos).
      """)
  var format: String?

  @Option(
    name: [.short, .long], help: "File to write, or folder for vPDQ (default: standard output).")
  var output: String?

  @OptionGroup var options: ModerationOptions

  func run() throws {
    let (database, operatorName) = try options.open()
    let format = try self.format ?? Self.defaultFormat(bank: name, database: database)
    if let video = BankVideoExport.format(format) {
      return try BankVideoExport.run(
        name: name, format: video, output: output, database: database)
    }
    guard let format = BankExportFormat(rawValue: format) else {
      throw ValidationError(
        "--format \(format): use csv, te-csv, te, hma-json, stopncii-json, ncmec-xml, vpdq "
          + "or threatexchange-vpdq")
    }
    let summary: BankExportSummary
    if let output {
      let temporary = try PrivateFiles.Temporary(for: output)
      defer { temporary.discard() }
      summary = try BankExport.export(bank: name, format: format, database: database) {
        try temporary.write(Array($0.utf8))
      }
      try temporary.sync()
      try temporary.commit()
    } else {
      summary = try BankExport.export(bank: name, format: format, database: database) {
        // Through the one writer (controls escaped); --output keeps the exact bytes.
        print($0.hasSuffix("\n") ? String($0.dropLast()) : $0)
      }
    }
    try database.recordBankExport(
      name: name, format: format.rawValue, hashes: summary.written,
      destination: output ?? "stdout", by: operatorName)
    var note = "bank \(summary.bank): \(summary.written) hashes written as \(format.rawValue)"
    for (type, count) in summary.leftOut.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
      note += "; \(count) \(type.rawValue) left out (the format has no such type)"
    }
    DetectText.printError(note)
  }

  /// csv, or vpdq for a bank that holds known videos and no hashes.
  static func defaultFormat(bank: String, database: AppDatabase) throws -> String {
    let hashes = try database.hashBank(name: bank).total
    guard hashes == 0, try !database.bankVideos(bank: bank).isEmpty else {
      return BankExportFormat.csv.rawValue
    }
    return "vpdq"
  }
}
