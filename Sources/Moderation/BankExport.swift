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
  /// the types threatexchange knows: pdq, video_md5, video_sha256), after a first line
  /// `# csar audit_head EVENTS:MAC` (the audit log's head when the export began; csar skips
  /// `#` lines, and `local_file` drops it: `#` is no signal type).
  case te
  /// HMA 2.0 bank contents: a JSON array of `{"id","bank","signals","metadata"}`.
  case hmaJSON = "hma-json"
  /// A StopNCII FetchHashes reply: `{"csar_audit_head":{"events","mac"},"hashRecords":[{
  /// "signalType","hashValue","hashStatus",...}],"count","hasMoreRecords":false}` (PDQ as
  /// ImagePDQ, MD5 as VideoMD5; the label and source id as `label` and `sourceId`, other
  /// metadata as it was imported). `csar_audit_head`, the audit log's head when the export
  /// began, is a member no StopNCII reader looks for (csar's importer skips it too).
  case stopNCIIJSON = "stopncii-json"
  /// An NCMEC-style XML fingerprint list: `<queryResult>` with an `<image>` (or `<video>`, when
  /// the hash's metadata says so) per hash: its `<id>` (source id), `<classification>`
  /// (label), `<member>` and `<timestamp>` from metadata, and one fingerprint (md5, sha1 or
  /// pdq); before `<queryResult>`, the comment `<!-- csar audit_head EVENTS:MAC -->`.
  case ncmecXML = "ncmec-xml"

  /// Whether an export starts with the audit log's head: the formats with a comment or a
  /// member their readers skip (threatexchange lines, StopNCII JSON, NCMEC XML). CSV has no
  /// comment syntax, and the HMA array no member a reader ignores.
  public var carriesAuditHead: Bool {
    switch self {
    case .te, .stopNCIIJSON, .ncmecXML: true
    case .csv, .teCSV, .hmaJSON: false
    }
  }

  /// The csar types the format has no name for (left out and counted).
  var unsupported: Set<BankHashType> {
    switch self {
    case .csv, .teCSV, .hmaJSON: []
    case .te: [.sha1]
    case .stopNCIIJSON: [.sha1, .sha256]
    case .ncmecXML: [.sha256]
    }
  }
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
    // The audit log's head when the export began, where the format has a place for it that
    // its readers skip (see ``BankExportFormat``).
    let head = format.carriesAuditHead ? try database.auditHead() : nil
    switch format {
    case .csv: out = "type,hash,label,source_id,metadata\n"
    case .teCSV: out = "signal_type,signal_str,collab,category,tags\n"
    case .hmaJSON: out = "["
    case .stopNCIIJSON:
      out = "{" + (head.map { #""csar_audit_head":\#($0.json),"# } ?? "") + #""hashRecords":["#
    case .ncmecXML: out = NCMECExport.header(head: head)
    case .te: out = head.map { "# csar audit_head \($0)\n" } ?? ""
    }
    // NCMEC lists keep images and videos apart: videos in a second pass.
    let passes: [NCMECExport.Media?] = format == .ncmecXML ? [.image, .video] : [nil]
    var bank: BankRow?
    for media in passes {
      if let media { out += media.open }
      bank = try database.forEachBankHash(name: name) { entry in
        let metadata = entry.metadata.flatMap(BankFile.metadataPairs(json:)) ?? []
        func meta(_ key: String) -> String? { metadata.first { $0.0 == key }?.1 }
        if let media, NCMECExport.media(of: metadata) != media { return }
        guard !format.unsupported.contains(entry.type) else {
          leftOut[entry.type, default: 0] += 1
          return
        }
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
          out += signalName(entry.type) + " " + entry.hash + "\n"
        case .stopNCIIJSON:
          out += (first ? "\n" : ",\n") + StopNCIIExport.record(entry, metadata: metadata)
        case .ncmecXML:
          out += NCMECExport.entry(entry, media: media ?? .image, metadata: metadata)
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
      if let media { out += media.close }
    }
    switch format {
    case .hmaJSON: out += "\n]\n"
    case .stopNCIIJSON: out += #"],"count":\#(written),"hasMoreRecords":false}"# + "\n"
    case .ncmecXML: out += NCMECExport.footer
    default: break
    }
    try flush(true)
    return BankExportSummary(bank: bank!.name, written: written, leftOut: leftOut)
  }

  /// A CSV field, quoted when it holds a comma, quote, or leading/trailing space.
  static func csvField(_ text: String) -> String {
    let needsQuotes = text.contains { $0 == "," || $0 == "\"" || $0 == "\t" }
      || text.first == " " || text.last == " "
    guard needsQuotes else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}

// MARK: - StopNCII and NCMEC

/// StopNCII records as `bank export --format stopncii-json` writes them.
enum StopNCIIExport {
  /// StopNCII's signal type for a csar type (PDQ and MD5 only).
  static func signalType(_ type: BankHashType) -> String {
    type == .pdq ? "ImagePDQ" : "VideoMD5"
  }

  /// One hash record: type, value and status first, then the label, source id and metadata
  /// (`caseNumbers` and `CSPFeedbacks` as the JSON they were, `lastModtimestamp` as a number).
  static func record(_ entry: BankHashEntry, metadata: [(String, String)]) -> String {
    var pairs: [(String, JSONValue)] = [
      ("signalType", .string(signalType(entry.type))), ("hashValue", .string(entry.hash)),
    ]
    var fields: [(String, String)] = metadata.filter {
      $0.0 != "signalType" && $0.0 != "hashValue"
    }
    if !fields.contains(where: { $0.0 == "hashStatus" }) {
      fields.insert(("hashStatus", "Active"), at: 0)
    }
    var raw: [String: String] = [:]
    for (key, value) in fields {
      if key == "lastModtimestamp", let number = Int64(value) {
        pairs.append((key, .int(number)))
      } else if ["caseNumbers", "CSPFeedbacks"].contains(key), isJSONContainer(value) {
        raw[key] = value
        pairs.append((key, .null))
      } else {
        pairs.append((key, .string(value)))
      }
    }
    if let label = entry.label { pairs.append(("label", .string(label))) }
    if let source = entry.sourceId { pairs.append(("sourceId", .string(source))) }
    return "{" + pairs.map { key, value in
      JSONValue.string(key).description + ":" + (raw[key] ?? value.description)
    }.joined(separator: ",") + "}"
  }

  /// Whether `text` is one JSON object or array.
  static func isJSONContainer(_ text: String) -> Bool {
    guard text.first == "{" || text.first == "[" else { return false }
    var copy = text
    return copy.withUTF8 { bytes in
      var reader = ListJSONReader(bytes)
      return (try? reader.values())?.count == 1
    }
  }
}

/// NCMEC-style XML as `bank export --format ncmec-xml` writes it.
enum NCMECExport {
  /// Which list an entry goes in.
  enum Media: String {
    case image, video

    var open: String { "<\(rawValue)s>\n" }
    var close: String { "</\(rawValue)s>\n" }
  }

  /// The XML declaration, a comment with the audit log's `head` (when there is one: XML
  /// readers skip comments), and the opening `<queryResult>`.
  static func header(head: AuditHead?) -> String {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      + (head.map { "<!-- csar audit_head \($0) -->\n" } ?? "")
      + "<queryResult xmlns=\"https://hashsharing.ncmec.org/hashsharing/v2\">\n"
  }
  static let footer = "</queryResult>\n"

  /// `video` when the metadata's `media` says so, else `image`.
  static func media(of metadata: [(String, String)]) -> Media {
    metadata.first { $0.0 == "media" }?.1 == "video" ? .video : .image
  }

  /// One `<image>` or `<video>` with one fingerprint.
  static func entry(_ entry: BankHashEntry, media: Media, metadata: [(String, String)])
    -> String
  {
    func meta(_ key: String) -> String? { metadata.first { $0.0 == key }?.1 }
    var xml = "<\(media.rawValue)>"
    if let member = meta("member") {
      let id = meta("member_id").map { " id=\"\(escape($0))\"" } ?? ""
      xml += "<member\(id)>\(escape(member))</member>"
    }
    if let timestamp = meta("timestamp") { xml += "<timestamp>\(escape(timestamp))</timestamp>" }
    if let id = entry.sourceId { xml += "<id>\(escape(id))</id>" }
    if let label = entry.label {
      xml += "<classification>\(escape(label))</classification>"
    }
    let algorithm = entry.type.rawValue
    xml += "<fingerprints><\(algorithm)>\(entry.hash)</\(algorithm)></fingerprints>"
    return xml + "</\(media.rawValue)>\n"
  }

  /// Text escaped for XML content and attributes.
  static func escape(_ text: String) -> String {
    var out = ""
    for c in text {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      default: out.append(c)
      }
    }
    return out
  }
}
