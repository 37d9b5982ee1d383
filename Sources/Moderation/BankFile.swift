// Parsing and validating text hash lists for `csar bank import`: csar's CSV/TSV,
// `threatexchange dataset --csv` output and threatexchange's `TYPE VALUE` lists. Other formats
// (JSON, XML) and the entry point that detects them are in HashListFormat.swift.

import Foundation
import Store
import TextSafety

/// A parsed hash list in any format (see ``HashListFormat``): the good entries and every bad
/// line.
public struct BankFile: Sendable {
  /// Valid entries in file order (duplicates within the file removed).
  public var entries: [BankHashEntry]
  /// Every bad line.
  public var problems: [LineProblem]
  /// The delimiter found (`,`, tab, or space for `TYPE VALUE` lists).
  public var delimiter: Character
  /// Whether the first line was a header.
  public var hasHeader: Bool
  /// The format the content was read as.
  public var format: HashListFormat = .text
  /// Hashes of types csar has no bank for (NCMEC's PhotoDNA, StopNCII's VideoTMK, HMA's
  /// vPDQ, ...), by the list's own type name: counted and reported, not errors.
  public var unsupported: [String: Int] = [:]
  /// Entries the list marks as withdrawn or deleted (StopNCII `hashStatus` Withdrawn or
  /// Deleted): not imported; a retraction may apply them.
  public var withdrawn: [BankHashEntry] = []
  /// The list's ids of entries it deletes without hashes (NCMEC `deletedImage`/`deletedVideo`).
  public var withdrawnSourceIds: [String] = []
  /// Valid hashes a JSON or XML list names more than once (kept once, not errors).
  public var duplicates = 0

  /// Parses hash list text (CSV, TSV, `TYPE VALUE`). Columns: type (`pdq`, `md5`, `sha256`,
  /// `sha1` or an alias such as
  /// `video_md5`, `HASH_PDQ`, `ImagePDQ`; see ``hashType(named:)``), hash, optional label,
  /// optional source id. A header line (a first line whose first field is a column name such
  /// as `type` or `hash`, or that names both a type and a hash column) is optional and may
  /// reorder the columns; other header columns (threatexchange's `collab`, `tags`, ...) are
  /// kept as the entry's metadata. The delimiter is a tab when the
  /// first line has one, else a comma, else runs of spaces (threatexchange's `pdq <hex>`
  /// lines). Blank lines and lines starting with `#` are ignored. Works on UTF-8 bytes (a
  /// million-line list parses in a second or two).
  public static func parse(_ text: String, file: String) -> BankFile {
    var text = text
    return text.withUTF8 { parse(bytes: $0, file: file) }
  }

  static func parse(bytes: UnsafeBufferPointer<UInt8>, file: String) -> BankFile {
    let lines = byteLines(bytes)
    let firstLine = lines.first { !isSkippable(bytes[$0.range]) }
    let delimiterByte = firstLine.map { Self.separator(of: bytes[$0.range]) } ?? UInt8(ascii: ",")
    let spaced = delimiterByte == UInt8(ascii: " ")
    let delimiter = Character(Unicode.Scalar(delimiterByte))
    var columns = ["type", "hash", "label", "source_id"]
    var hasHeader = false
    var metadata: [(index: Int, name: Substring)] = []
    var result = BankFile(entries: [], problems: [], delimiter: delimiter, hasHeader: false)
    result.entries.reserveCapacity(lines.count)
    var seen: [BankHashType: [String: Int]] = [:]
    for (number, range) in lines {
      let line = bytes[range]
      if isSkippable(line) { continue }
      func bad(_ reason: String) {
        result.problems.append(LineProblem(file: file, line: number, reason: reason))
      }
      let fields: [String]
      if spaced {
        fields = trimmed(line).split(separator: delimiterByte)
          .map { String(decoding: trimmed($0), as: UTF8.self) }
      } else if !line.contains(UInt8(ascii: "\"")) {
        fields = line.split(separator: delimiterByte, omittingEmptySubsequences: false)
          .map { String(decoding: trimmed($0), as: UTF8.self) }
      } else {
        do {
          fields = try splitFields(
            Substring(String(decoding: line, as: UTF8.self)), delimiter: delimiter
          ).map { String(decoding: trimmed(Array($0.utf8)[...]), as: UTF8.self) }
        } catch {
          bad(error.reason)
          continue
        }
      }
      if number == firstLine?.number, let header = headerColumns(fields) {
        switch header {
        case .success(let names):
          columns = names
          hasHeader = true
          metadata = names.enumerated().compactMap { i, name in
            name.hasPrefix(metadataPrefix) ? (i, name.dropFirst(metadataPrefix.count)) : nil
          }
        case .failure(let problem):
          bad(problem.reason)
        }
        continue
      }
      if fields.count > columns.count {
        bad("too many columns: \(fields.count) (at most \(columns.count): "
          + columns.joined(separator: ", ") + ")")
        continue
      }
      func value(_ column: String) -> String? {
        guard let i = columns.firstIndex(of: column), i < fields.count else { return nil }
        return fields[i]
      }
      let typeText = value("type") ?? ""
      guard !typeText.isEmpty else {
        bad("missing hash type (pdq, md5, sha256 or sha1)")
        continue
      }
      guard let type = BankHashType(rawValue: typeText) ?? hashType(named: typeText) else {
        bad("unknown hash type \"\(DisplayText.clean(typeText))\" (use pdq, md5, sha256, sha1, "
          + "or an alias such as video_md5, HASH_PDQ, ImagePDQ)")
        continue
      }
      var hash = value("hash") ?? ""
      guard !hash.isEmpty else {
        bad("empty \(type.rawValue) hash")
        continue
      }
      if let digits = ByteText.hexDigits(hash, length: type.hexLength) {
        hash = digits
      } else {
        if hash.utf8.contains(where: { (0x41...0x5A).contains($0) }) { hash = hash.lowercased() }
        if let offender = hash.unicodeScalars.first(where: { !isHexDigit($0) }) {
          bad("\(type.rawValue) hash has a non-hex character "
            + "\"\(DisplayText.clean(String(offender)))\"")
          continue
        }
      }
      guard hash.utf8.count == type.hexLength else {
        bad("\(type.rawValue) hash must have \(type.hexLength) hex digits, not \(hash.count)")
        continue
      }
      let label = value("label").flatMap { $0.isEmpty ? nil : $0 }
      var pairs: [(String, String)] = []
      if let json = value("metadata"), !json.isEmpty {
        guard let read = Self.metadataPairs(json: json) else {
          bad("metadata must be a JSON object, such as {\"collab\":\"x\"}")
          continue
        }
        pairs = read
      }
      for (i, name) in metadata where i < fields.count && !fields[i].isEmpty {
        pairs.append((String(name), fields[i]))
      }
      if pairs.contains(where: { ImportText.hasControl($0.0) || ImportText.hasControl($0.1) }) {
        bad("metadata contains a control character")
        continue
      }
      let source = value("source_id").flatMap { $0.isEmpty ? nil : $0 }
      if let label, ImportText.hasControl(label) {
        bad("label contains a control character")
        continue
      }
      if let source, ImportText.hasControl(source) {
        bad("source id contains a control character")
        continue
      }
      if seen[type] == nil { seen[type] = Dictionary(minimumCapacity: lines.count) }
      // One look-up for a new hash (the usual case); a repeated one puts the first line back.
      if let first = seen[type]!.updateValue(number, forKey: hash) {
        seen[type]![hash] = first
        bad("duplicate \(type.rawValue) hash (first on line \(first))")
        continue
      }
      result.entries.append(
        BankHashEntry(
          type: type, hash: hash, label: label, sourceId: source,
          metadata: pairs.isEmpty ? nil : Self.metadataJSON(pairs)))
    }
    result.hasHeader = hasHeader
    return result
  }

  // MARK: - Helpers

  /// Numbered lines as byte ranges (LF or CRLF; a UTF-8 BOM is skipped; no empty last line).
  static func byteLines(_ bytes: UnsafeBufferPointer<UInt8>)
    -> [(number: Int, range: Range<Int>)]
  {
    var lines: [(Int, Range<Int>)] = []
    var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    var number = 0
    while start < bytes.count {
      var end = start
      while end < bytes.count, bytes[end] != 0x0A { end += 1 }
      number += 1
      let stop = end > start && bytes[end - 1] == 0x0D ? end - 1 : end
      lines.append((number, start..<stop))
      start = end + 1
    }
    return lines
  }

  /// `field` without surrounding spaces and tabs.
  static func trimmed<Bytes: BidirectionalCollection>(_ field: Bytes) -> Bytes
  where Bytes.Element == UInt8, Bytes.SubSequence == Bytes {
    var f = field
    while let c = f.first, c == 0x20 || c == 0x09 { f = f.dropFirst() }
    while let c = f.last, c == 0x20 || c == 0x09 { f = f.dropLast() }
    return f
  }

  static func isSkippable(_ line: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
    let t = trimmed(line)
    return t.isEmpty || t.first == UInt8(ascii: "#")
  }

  /// The delimiter of a list whose first line is `line`: tab, else comma, else space.
  static func separator(of line: Slice<UnsafeBufferPointer<UInt8>>) -> UInt8 {
    for byte in [UInt8(ascii: "\t"), UInt8(ascii: ",")] where line.contains(byte) {
      return byte
    }
    return trimmed(line).contains(UInt8(ascii: " ")) ? UInt8(ascii: " ") : UInt8(ascii: ",")
  }

  /// csar's type for a type name other tools write, case-insensitively and ignoring `_`, `-`
  /// and spaces: threatexchange's `pdq`, `video_md5`, `video_sha256`; HMA's `HASH_PDQ`,
  /// `HASH_MD5`; StopNCII's `ImagePDQ`, `VideoMD5`; `photo_`/`image_`/`file_` forms. An MD5 or
  /// SHA-256 of a video is the digest of its file, which is what csar's digest types are.
  public static func hashType(named name: String) -> BankHashType? {
    let ignored = "_- ".unicodeScalars
    let key = String(name.lowercased().unicodeScalars.filter { !ignored.contains($0) })
    for prefix in ["hash", "video", "photo", "image", "file", ""] where key.hasPrefix(prefix) {
      if let type = BankHashType(rawValue: String(key.dropFirst(prefix.count))) { return type }
    }
    return nil
  }

  static func isHexDigit(_ s: Unicode.Scalar) -> Bool {
    ("0"..."9").contains(s) || ("a"..."f").contains(s)
  }

  /// Column names a header may use, by column.
  static let headerNames: [String: String] = [
    "type": "type", "hash_type": "type", "kind": "type", "signal_type": "type",
    "hash": "hash", "value": "hash", "signal": "hash", "signal_value": "hash",
    "signal_str": "hash", "digest": "hash", "label": "label", "labels": "label",
    "tag": "label", "tags": "label", "category": "label", "source_id": "source_id",
    "source": "source_id", "id": "source_id", "source id": "source_id",
    "metadata": "metadata",
  ]

  /// The pairs of a JSON object (csar's `metadata` column); values that are not text are kept
  /// as their JSON. Nil when `json` is not one object.
  static func metadataPairs(json: String) -> [(String, String)]? {
    var text = json
    return text.withUTF8 { bytes -> [(String, String)]? in
      var reader = ListJSONReader(bytes)
      guard let values = try? reader.values(), values.count == 1,
        case .object(let members) = values[0].kind
      else { return nil }
      return members.map { ($0.key, $0.value.metadataText) }
    }
  }

  /// How a metadata column (a header column csar has no field for) is named in `columns`.
  static let metadataPrefix = "meta:"

  /// Header names: a header is a first line whose first field is a column name, or that names
  /// both a type and a hash column. Columns after the first label column, and columns csar
  /// does not know, are metadata (kept in the entry's metadata as `name: value`; a `metadata`
  /// column holding a JSON object is merged into it).
  static func headerColumns(_ fields: [String]) -> Result<[String], FieldError>? {
    let names = fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    let known = names.compactMap { headerNames[$0] }
    guard let first = names.first,
      headerNames[first] != nil || (known.contains("type") && known.contains("hash"))
    else { return nil }
    var columns: [String] = []
    for name in names {
      switch headerNames[name] {
      case "label"? where columns.contains("label"):
        columns.append(metadataPrefix + name)
      case let column?: columns.append(column)
      case nil:
        guard !name.isEmpty, !ImportText.hasControl(name) else {
          return .failure(FieldError(reason: "header has an empty or unreadable column name"))
        }
        columns.append(metadataPrefix + name)
      }
    }
    guard columns.contains("hash"), columns.contains("type") else {
      return .failure(FieldError(reason: "header needs a type and a hash column"))
    }
    guard Set(columns).count == columns.count else {
      return .failure(FieldError(reason: "header names a column twice"))
    }
    return .success(columns)
  }

  /// A field-level problem.
  struct FieldError: Error {
    var reason: String
  }

  /// Splits one line; fields may be double-quoted (`""` inside quotes is a quote).
  static func splitFields(_ line: Substring, delimiter: Character) throws(FieldError)
    -> [String]
  {
    var fields: [String] = []
    var current = ""
    var inQuotes = false
    var wasQuoted = false
    var chars = line.makeIterator()
    var pending: Character? = nil
    while let c = pending ?? chars.next() {
      pending = nil
      if inQuotes {
        if c == "\"" {
          if let next = chars.next() {
            if next == "\"" { current.append("\"") } else {
              inQuotes = false
              pending = next
            }
          } else {
            inQuotes = false
          }
        } else {
          current.append(c)
        }
      } else if c == delimiter {
        fields.append(current)
        current = ""
        wasQuoted = false
      } else if c == "\"" && current.trimmingCharacters(in: .whitespaces).isEmpty && !wasQuoted {
        current = ""
        inQuotes = true
        wasQuoted = true
      } else {
        current.append(c)
      }
    }
    if inQuotes { throw FieldError(reason: "unterminated quoted field") }
    fields.append(current)
    return fields
  }
}

/// Makes text from files and the database safe to quote in messages and command output: the
/// escaping rendering of TextSafety's one sanitiser (`SafeText.escaped`).
public enum DisplayText {
  /// `text` with controls, bidi controls and invisible format characters (newline and tab
  /// included) shown as `\uXXXX` escapes, so nothing it holds can reach a terminal as a
  /// control sequence or hide in a line.
  public static func escapingControls(_ text: String) -> String { SafeText.escaped(text) }

  /// ``escapingControls(_:)``, cut to 80 characters (for quoting a value in a message).
  public static func clean(_ text: String) -> String { SafeText.quoted(text) }
}
