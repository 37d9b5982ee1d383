// Known videos in banks: `bank import` of vPDQ hash files, `bank export` of them, and
// `bank vpdq-threshold`.

import ArgumentParser
import Foundation
import Moderation
import Store

// MARK: - Import

/// `csar bank import NAME PATH` when PATH is a folder or a vPDQ hash file.
enum BankVideoImport {
  /// Imports and prints the summary (plain or JSON).
  /// `threshold` sets the bank's PDQ threshold (the frame distance of the vPDQ rule).
  static func run(name: String, path: String, threshold: Int?, options: ImportOptions) throws {
    let (database, operatorName) = try options.moderation.open(create: true)
    let outcome = try ImportReporting.run("csar bank import") {
      try Imports.videoBank(
        name: name, path: path, skipInvalid: options.skipInvalid, database: database,
        by: operatorName)
    }
    if let threshold {
      try database.setBankThreshold(name: name, threshold: threshold, by: operatorName)
    }
    let s = outcome.summary
    let videos = try database.bankVideoCounts()[name] ?? 0
    if options.json {
      print(
        OrderedJSON.object([
          ("bank", .string(s.bank)), ("created", .bool(s.created)), ("type", "vpdq"),
          ("added", .int(Int64(s.added))), ("already_present", .int(Int64(s.alreadyPresent))),
          ("frames", .int(Int64(s.frames))),
          ("skipped_lines", .int(Int64(outcome.problems.count))),
          ("videos", .int(Int64(videos))),
        ]))
    } else {
      var parts = [
        ImportReporting.plural(s.added, "video") + " added (\(s.frames) frames)",
        "\(s.alreadyPresent) already present",
      ]
      if !outcome.problems.isEmpty {
        parts.append("\(ImportReporting.plural(outcome.problems.count, "bad line")) skipped")
      }
      print(
        "bank \(s.bank)\(s.created ? " (new)" : ""): " + parts.joined(separator: ", ")
          + "; \(ImportReporting.plural(videos, "video")) in the bank")
    }
  }
}

// MARK: - Export

/// `csar bank export NAME --format vpdq|threatexchange-vpdq [--output PATH]` (called by
/// ``BankExportCommand`` for the vPDQ formats): --format vpdq writes ThreatExchange's
/// sample-hash lines (frame,quality,hex,timestamp); --format threatexchange-vpdq writes
/// python-threatexchange's JSON array of "hex,quality,timestamp" strings. One video per file:
/// with one video and no --output it goes to stdout; with --output FOLDER each video is
/// FOLDER/<name>.txt (or .json), written atomically and privately. `csar bank import` reads
/// both back.
enum BankVideoExport {
  /// The vPDQ export formats by name (nil for any other name).
  static func format(_ name: String) -> VideoHashFormat? {
    guard let format = VideoHashFormat(rawValue: name), format != .threatExchangeLegacy
    else { return nil }
    return format
  }

  /// Writes bank `name`'s known videos in `format`.
  static func run(
    name: String, format: VideoHashFormat, output: String?, database: AppDatabase
  ) throws {
    let videos = try database.bankVideos(bank: name)
    guard let output else {
      guard videos.count == 1 else {
        throw RiskCommandError(
          "csar bank export: bank \(name) holds \(videos.count) videos; give --output FOLDER "
            + "(one file per video)")
      }
      print(String(VideoBankFile.write(videos[0], format: format).dropLast()))
      return
    }
    try PrivateFiles.makeFolder(output)
    var used = Set<String>()
    for video in videos {
      var stem = Self.safeName(video.name)
      var n = 2
      while !used.insert(stem).inserted {
        stem = Self.safeName(video.name) + "-\(n)"
        n += 1
      }
      let path = (output as NSString).appendingPathComponent(stem + "." + format.fileExtension)
      try PrivateFiles.writeAtomically(VideoBankFile.write(video, format: format), to: path)
    }
    print("bank \(name): \(ImportReporting.plural(videos.count, "video")) written to \(output)")
  }

  /// A file name from a video's name: letters, digits, '-', '_' and '.' kept, others '_'.
  static func safeName(_ name: String) -> String {
    let kept = String(
      name.unicodeScalars.map {
        $0.isASCII
          && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0))
          ? Character($0) : "_"
      })
    let trimmed = kept.drop { $0 == "." }
    return trimmed.isEmpty ? "video" : String(trimmed.prefix(100))
  }
}

// MARK: - Thresholds

/// `csar bank vpdq-threshold NAME --query-percent Q --compared-percent C`.
struct BankVPDQThresholdCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "vpdq-threshold",
    abstract: "Set how much of two videos must match for a vPDQ match (audited).",
    discussion: """
      A video upload matches a known video of the bank when at least --query-percent of the \
      upload's distinct frames (quality >= 50) lie within the bank's PDQ threshold of one of \
      its frames, and at least --compared-percent of its frames of one of the upload's. \
      Defaults 80 and 0, as ThreatExchange's. Without options, prints the current values.
      """)

  @Argument(help: "Bank name.")
  var name: String

  @Option(name: .long, help: "Percent of the upload's frames that must match (0...100).")
  var queryPercent: Double?

  @Option(name: .long, help: "Percent of the known video's frames that must match (0...100).")
  var comparedPercent: Double?

  @OptionGroup var options: ModerationOptions

  func run() throws {
    let (database, operatorName) = try options.open()
    var thresholds = try database.vpdqThresholds(bank: name)
    if queryPercent != nil || comparedPercent != nil {
      thresholds.queryPercent = queryPercent ?? thresholds.queryPercent
      thresholds.comparedPercent = comparedPercent ?? thresholds.comparedPercent
      thresholds = try database.setVPDQThresholds(name: name, thresholds, by: operatorName)
    }
    print(
      "\(name)\tvpdq query \(VideoScanText.percent(thresholds.queryPercent))"
        + "\tcompared \(VideoScanText.percent(thresholds.comparedPercent))")
  }
}
