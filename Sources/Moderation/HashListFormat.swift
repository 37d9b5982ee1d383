// The one entry point for reading a hash-list file of any format: the format is detected from
// the content (then the file name), and each reader fills the same `BankFile`.

import Foundation
import Store

/// The hash-list formats csar reads (and, for some, writes).
public enum HashListFormat: String, Sendable, CaseIterable {
  /// csar's CSV/TSV, `threatexchange dataset --csv` output, and `TYPE VALUE` lists.
  case text
  /// HMA 2.0 JSON: signal objects (`{"pdq": "..."}`) and bank contents (`{"id", "signals"}`),
  /// one document, an array, or JSON Lines.
  case hmaJSON = "hma-json"
  /// StopNCII-style JSON: records with `signalType` (ImagePDQ, VideoMD5) and `hashValue`, alone,
  /// in an array, or in a FetchHashes reply (`hashRecords`).
  case stopNCIIJSON = "stopncii-json"
  /// NCMEC-style XML fingerprint lists (`<image>`/`<video>` entries with `<fingerprints>`).
  case ncmecXML = "ncmec-xml"

  /// The format of `bytes` by their first meaningful character (`{`/`[` JSON, `<` XML, else
  /// text); a file named `.json`, `.jsonl`, `.ndjson` or `.xml` whose content starts otherwise
  /// is read as text (and its problems say so).
  static func detect(_ bytes: UnsafeBufferPointer<UInt8>) -> HashListFormat {
    var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
    guard i < bytes.count else { return .text }
    switch bytes[i] {
    case UInt8(ascii: "{"), UInt8(ascii: "["): return .hmaJSON
    case UInt8(ascii: "<"): return .ncmecXML
    default: return .text
    }
  }
}

extension BankFile {
  /// The largest hash-list file read (1 GiB): larger files are refused before they are read.
  public static let maximumBytes = 1 << 30

  /// Reads and parses the hash-list file at `path` in any format csar reads (see
  /// ``HashListFormat``): the format is detected from the content. Files larger than
  /// `maximumBytes` are refused. This is the entry point for imports, retraction lists and
  /// folder sync alike.
  public static func load(path: String, maximumBytes: Int = maximumBytes)
    throws(ModerationError) -> BankFile
  {
    let bytes = try ImportText.readBytes(path, maximumBytes: maximumBytes)
    guard bytes.withUnsafeBufferPointer({ String(validating: $0, as: UTF8.self) }) != nil else {
      throw ModerationError.unreadable(
        file: path,
        reason: ConsentImportParser.encodingProblem(Array(bytes.prefix(512))) ?? "not UTF-8 text")
    }
    return parse(bytes: bytes, file: path)
  }

  /// Parses a hash list held in memory (`file` names it in problems), in any format.
  public static func parse(bytes: [UInt8], file: String) -> BankFile {
    bytes.withUnsafeBufferPointer { buffer in
      let format = HashListFormat.detect(buffer)
      guard String(validating: buffer, as: UTF8.self) != nil else {
        let reason =
          ConsentImportParser.encodingProblem(Array(buffer.prefix(512))) ?? "not UTF-8 text"
        return BankFile(
          entries: [], problems: [LineProblem(file: file, line: 1, reason: reason)],
          delimiter: ",", hasHeader: false, format: format)
      }
      switch format {
      case .text: return parse(bytes: buffer, file: file)
      case .hmaJSON, .stopNCIIJSON: return HashListJSONFile.parse(buffer, file: file)
      case .ncmecXML: return NCMECFile.parse(buffer, file: file)
      }
    }
  }
}

// MARK: - Collecting entries from structured formats

/// Validates and gathers the hashes a JSON or XML list names: types by csar's names or an
/// alias, hex checked, duplicates kept once (counted), types csar has no bank for counted.
struct EntryCollector {
  let file: String
  var result: BankFile
  var seen: [BankHashType: Set<String>] = [:]

  init(file: String, format: HashListFormat) {
    self.file = file
    result = BankFile(entries: [], problems: [], delimiter: ",", hasHeader: false, format: format)
  }

  mutating func problem(line: Int, field: String, _ reason: String) {
    let place = field.isEmpty ? "" : DisplayText.clean(field) + ": "
    result.problems.append(LineProblem(file: file, line: line, reason: place + reason))
  }

  /// Adds one hash; `typeName` as the list names it. Returns the entry when it is valid (also
  /// when it was a duplicate).
  @discardableResult
  mutating func add(
    typeName: String, value: String, line: Int, field: String, label: String? = nil,
    sourceId: String? = nil, metadata: [(String, String)] = [], withdrawn: Bool = false
  ) -> BankHashEntry? {
    guard let type = BankHashType(rawValue: typeName) ?? BankFile.hashType(named: typeName) else {
      result.unsupported[typeName, default: 0] += 1
      return nil
    }
    var hash = value.trimmingCharacters(in: .whitespaces)
    if hash.utf8.contains(where: { (0x41...0x5A).contains($0) }) { hash = hash.lowercased() }
    if let offender = hash.unicodeScalars.first(where: { !BankFile.isHexDigit($0) }) {
      problem(
        line: line, field: field,
        "\(type.rawValue) hash has a non-hex character \"\(DisplayText.clean(String(offender)))\"")
      return nil
    }
    guard hash.utf8.count == type.hexLength else {
      problem(
        line: line, field: field,
        "\(type.rawValue) hash must have \(type.hexLength) hex digits, not \(hash.utf8.count)")
      return nil
    }
    for (name, text) in [("label", label), ("source id", sourceId)] {
      if let text, ImportText.hasControl(text) {
        problem(line: line, field: field, "\(name) contains a control character")
        return nil
      }
    }
    if metadata.contains(where: { ImportText.hasControl($0.0) || ImportText.hasControl($0.1) }) {
      problem(line: line, field: field, "metadata contains a control character")
      return nil
    }
    let entry = BankHashEntry(
      type: type, hash: hash, label: label.flatMap { $0.isEmpty ? nil : $0 },
      sourceId: sourceId.flatMap { $0.isEmpty ? nil : $0 },
      metadata: BankFile.metadataJSON(metadata))
    if withdrawn {
      result.withdrawn.append(entry)
    } else if seen[type, default: []].insert(hash).inserted {
      result.entries.append(entry)
    } else {
      result.duplicates += 1
    }
    return entry
  }
}

extension BankFile {
  /// Metadata pairs as csar stores them: a JSON object of text values (keys sorted), or nil
  /// when there are none. A repeated name keeps its first value.
  static func metadataJSON(_ pairs: [(String, String)]) -> String? {
    guard !pairs.isEmpty else { return nil }
    var object: [String: JSONValue] = [:]
    for (key, value) in pairs where object[key] == nil { object[key] = .string(value) }
    return JSONValue.object(object).description
  }
}

// MARK: - Reading files with a size limit

extension ImportText {
  /// The bytes of the file at `path`, refusing (before reading) a regular file larger than
  /// `maximumBytes`, and stopping a pipe or device after `maximumBytes`.
  static func readBytes(_ path: String, maximumBytes: Int) throws(ModerationError) -> [UInt8] {
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw ModerationError.unreadable(file: path, reason: String(cString: strerror(errno)))
    }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      throw ModerationError.unreadable(file: path, reason: "it is a folder")
    }
    if (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) > maximumBytes {
      throw ModerationError.tooLarge(file: path, bytes: Int(info.st_size), limit: maximumBytes)
    }
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw ModerationError.unreadable(file: path, reason: String(cString: strerror(errno)))
    }
    defer { try? handle.close() }
    var bytes: [UInt8] = []
    do {
      while let chunk = try handle.read(upToCount: 1 << 24), !chunk.isEmpty {
        bytes.append(contentsOf: chunk)
        if bytes.count > maximumBytes {
          throw ModerationError.tooLarge(file: path, bytes: bytes.count, limit: maximumBytes)
        }
      }
    } catch let error as ModerationError {
      throw error
    } catch {
      throw ModerationError.unreadable(file: path, reason: (error as NSError).localizedDescription)
    }
    return bytes
  }
}

// MARK: - What a list held besides its entries

/// What a hash-list file held besides its good entries and bad lines, for import summaries.
public struct HashListReport: Hashable, Sendable {
  /// The format read.
  public var format: HashListFormat
  /// Hashes of types csar has no bank for, by the list's type name.
  public var unsupported: [String: Int]
  /// Entries the list marks as withdrawn or deleted (with or without a hash).
  public var withdrawn: Int
  /// Valid hashes named more than once.
  public var duplicates: Int

  /// `; unsupported: pdna 2, VideoTMK 1; 3 withdrawn` (empty when there is nothing to say).
  public var notes: String {
    var parts: [String] = []
    if !unsupported.isEmpty {
      parts.append(
        "not imported (no such type in csar): "
          + unsupported.sorted { $0.key < $1.key }
          .map { "\(DisplayText.clean($0.key)) \($0.value)" }.joined(separator: ", "))
    }
    if withdrawn > 0 { parts.append("\(withdrawn) withdrawn by the list") }
    if duplicates > 0 { parts.append("\(duplicates) repeated in the list (kept once)") }
    return parts.map { "; " + $0 }.joined()
  }
}

extension BankFile {
  /// The file's format, unsupported types, withdrawals and repeats.
  public var report: HashListReport {
    HashListReport(
      format: format, unsupported: unsupported,
      withdrawn: withdrawn.count + withdrawnSourceIds.count, duplicates: duplicates)
  }
}
