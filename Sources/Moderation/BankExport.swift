// `csar bank export`: a bank written in a format csar and the other tools read back.

import Foundation
import Store

/// The formats a bank can be exported in.
public enum BankExportFormat: String, Sendable, CaseIterable {
  /// csar's CSV: `type,hash,label,source_id,metadata` (metadata a JSON object).
  case csv
  /// `threatexchange dataset --csv`'s columns: `signal_type,signal_str,collab,category,tags`
  /// (category is the label; collab and tags come from metadata, collab defaults to the bank).
  case teCSV = "te-csv"
  /// threatexchange's `TYPE VALUE` lines, as its `local_file` collaboration reads them (only
  /// the types threatexchange knows: pdq, video_md5, video_sha256).
  case te
  /// HMA 2.0 bank contents: a JSON array of `{"id","bank","signals","metadata"}`.
  case hmaJSON = "hma-json"
}

/// What an export wrote.
public struct BankExportSummary: Hashable, Sendable {
  /// The bank.
  public var bank: String
  /// Hashes written.
  public var written: Int
  /// Hashes left out because the format has no type for them, by csar type.
  public var leftOut: [BankHashType: Int]
}

/// Writes banks in the formats of ``BankExportFormat``.
public enum BankExport {
  /// The type name other tools use for a csar type (threatexchange's and HMA's signal names;
  /// SHA-1, which neither has, keeps csar's name).
  public static func signalName(_ type: BankHashType) -> String {
    switch type {
    case .pdq: "pdq"
    case .md5: "video_md5"
    case .sha256: "video_sha256"
    case .sha1: "sha1"
    }
  }

  /// Writes bank `name` in `format` through `write` (called with chunks of about 1 MB).
  public static func export(
    bank name: String, format: BankExportFormat, database: AppDatabase,
    write: (String) throws -> Void
  ) throws -> BankExportSummary {
    var out = ""
    var written = 0
    var leftOut: [BankHashType: Int] = [:]
    var first = true
    func flush(_ force: Bool = false) throws {
      if force || out.utf8.count >= 1 << 20 {
        try write(out)
        out = ""
      }
    }
    switch format {
    case .csv: out = "type,hash,label,source_id,metadata\n"
    case .teCSV: out = "signal_type,signal_str,collab,category,tags\n"
    case .hmaJSON: out = "["
    case .te: break
    }
    let bank = try database.forEachBankHash(name: name) { entry in
      let metadata = entry.metadata.flatMap(BankFile.metadataPairs(json:)) ?? []
      func meta(_ key: String) -> String? { metadata.first { $0.0 == key }?.1 }
      switch format {
      case .csv:
        out += [
          entry.type.rawValue, entry.hash, csvField(entry.label ?? ""),
          csvField(entry.sourceId ?? ""), csvField(entry.metadata ?? ""),
        ].joined(separator: ",") + "\n"
      case .teCSV:
        out += [
          signalName(entry.type), entry.hash, csvField(meta("collab") ?? name),
          csvField(entry.label ?? ""), csvField(meta("tags") ?? ""),
        ].joined(separator: ",") + "\n"
      case .te:
        guard entry.type != .sha1 else {
          leftOut[entry.type, default: 0] += 1
          return
        }
        out += signalName(entry.type) + " " + entry.hash + "\n"
      case .hmaJSON:
        var json: [String: JSONValue] = [:]
        for (key, value) in metadata { json[key] = .string(value) }
        if let label = entry.label { json["label"] = .string(label) }
        var hmaMetadata: [String: JSONValue] = [:]
        if let source = entry.sourceId { hmaMetadata["content_id"] = .string(source) }
        if !json.isEmpty { hmaMetadata["json"] = .object(json) }
        var pairs: [(String, JSONValue)] = [
          ("bank", .object(["name": .string(name)])),
          ("signals", .object([signalName(entry.type): .string(entry.hash)])),
        ]
        if !hmaMetadata.isEmpty { pairs.append(("metadata", .object(hmaMetadata))) }
        out += (first ? "\n" : ",\n") + OrderedJSON.object(pairs)
      }
      first = false
      written += 1
      try flush()
    }
    if format == .hmaJSON { out += "\n]\n" }
    try flush(true)
    return BankExportSummary(bank: bank.name, written: written, leftOut: leftOut)
  }

  /// A CSV field, quoted when it holds a comma, quote, or leading/trailing space.
  static func csvField(_ text: String) -> String {
    let needsQuotes = text.contains { $0 == "," || $0 == "\"" || $0 == "\t" }
      || text.first == " " || text.last == " "
    guard needsQuotes else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
