import Compliance
import TextSafety

// MARK: - Parsing consent import files (pure: bytes in, records and issues out)

/// The file formats of a consent import.
public enum ConsentImportFormat: String, Sendable, CaseIterable {
  /// Comma-separated with a header line; quoted fields may not span lines.
  case csv
  /// One JSON object per line (JSON Lines).
  case jsonl

  /// The format for a file name (`.csv`; `.jsonl`, `.ndjson`, `.json`), else from its first
  /// non-blank byte (`{` means JSON Lines).
  public static func detect(path: String, bytes: [UInt8]) -> ConsentImportFormat {
    let lower = path.lowercased()
    if lower.hasSuffix(".csv") { return .csv }
    if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") || lower.hasSuffix(".json") {
      return .jsonl
    }
    for byte in bytes where byte != 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D {
      if byte == 0xEF { continue }  // UTF-8 byte order mark
      if byte == 0xBB || byte == 0xBF { continue }
      return byte == UInt8(ascii: "{") ? .jsonl : .csv
    }
    return .csv
  }
}

/// One consent event read from an import file, not yet checked against the database.
public struct ConsentImportRecord: Hashable, Sendable {
  /// 1-based line in the file.
  public var line: Int
  public var eventId: String
  /// The provider's account id (`account.external_id`).
  public var account: String
  /// The service code.
  public var service: String
  public var state: ConsentState
  /// Unix seconds.
  public var occurredAt: Int64
  public var source: ConsentSource
  public var termsVersion: String
  public var reason: String?
}

/// A line of an import that was not accepted: where and why.
public struct ConsentImportIssue: Error, Hashable, Sendable, CustomStringConvertible {
  /// 1-based line in the file.
  public var line: Int
  public var reason: String

  public init(line: Int, reason: String) {
    self.line = line
    self.reason = reason
  }

  public var description: String { "line \(line): \(reason)" }
}

/// Parses consent import files. Columns/keys: `event_id`, `account`, `service`, `state`,
/// `occurred_at` (ISO-8601 UTC such as `2026-11-25T10:00:00Z`, or Unix seconds),
/// `source`, `terms_version`, optional `reason`. Blank lines are skipped.
public enum ConsentImportParser {
  static let required = [
    "event_id", "account", "service", "state", "occurred_at", "source", "terms_version",
  ]
  /// The required fields, then the optional `reason` (index 7): what ``record(line:lookup:)``
  /// asks for by index.
  static let fields = required + ["reason"]
  static let maxIdLength = 128

  /// Parses a whole file; `onRecord` / `onIssue` get every line in file order.
  public static func parse(
    _ bytes: [UInt8], format: ConsentImportFormat,
    onRecord: (ConsentImportRecord) -> Void, onIssue: (ConsentImportIssue) -> Void
  ) {
    /// The column of each of `fields` (nil: absent), once the header is read.
    if let problem = encodingProblem(bytes) {
      onIssue(ConsentImportIssue(line: 1, reason: problem))
      return
    }
    var columns: [Int?]?
    var columnCount = 0
    var values: [String?] = []
    var stopped = false
    let lines = forEachLine(bytes) { line, slice in
      switch format {
      case .csv:
        guard let header = columns else {
          switch csvHeader(slice) {
          case .success(let map):
            columns = fields.map { map[$0] }
            columnCount = map.count
          case .failure(let issue):
            onIssue(ConsentImportIssue(line: line, reason: issue.reason))
            stopped = true
            return false
          }
          return true
        }
        values.removeAll(keepingCapacity: true)
        if let problem = splitCSV(slice, into: &values) {
          onIssue(ConsentImportIssue(line: line, reason: problem))
          return true
        }
        if values.count != columnCount {
          onIssue(
            ConsentImportIssue(
              line: line,
              reason: "expected \(columnCount) columns (as the header), found \(values.count)"))
          return true
        }
        report(line: line, lookup: { k in header[k].flatMap { values[$0] } },
               onRecord: onRecord, onIssue: onIssue)
      case .jsonl:
        var object: [String: FlatJSONValue] = [:]
        if let problem = FlatJSON.parseObject(slice, into: &object) {
          onIssue(ConsentImportIssue(line: line, reason: "bad JSON: \(problem)"))
          return true
        }
        report(line: line, lookup: { k in object[fields[k]]?.text },
               onRecord: onRecord, onIssue: onIssue)
      }
      return true
    }
    if format == .csv, columns == nil, !stopped {
      onIssue(ConsentImportIssue(line: max(1, lines), reason: "the file has no header line"))
    }
  }

  /// Calls `body` with each non-blank line (1-based number, bytes without CR/LF; a UTF-8 byte
  /// order mark at the start is skipped) until it returns false. Returns the number of lines
  /// read.
  @discardableResult
  static func forEachLine(
    _ bytes: [UInt8], _ body: (Int, UnsafeBufferPointer<UInt8>) -> Bool
  ) -> Int {
    bytes.withUnsafeBufferPointer { buffer in
      var start = 0
      if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
        start = 3
      }
      var line = 0
      while start < buffer.count {
        line += 1
        var end = start
        while end < buffer.count, buffer[end] != 0x0A { end += 1 }
        var stop = end
        if stop > start, buffer[stop - 1] == 0x0D { stop -= 1 }
        let slice = UnsafeBufferPointer(rebasing: buffer[start..<stop])
        start = end + 1
        if isBlank(slice) { continue }
        if !body(line, slice) { break }
      }
      return line
    }
  }

  /// Builds a record from the fields (by index into ``fields``), or reports the first field
  /// that is wrong.
  static func report(
    line: Int, lookup: (Int) -> String?,
    onRecord: (ConsentImportRecord) -> Void, onIssue: (ConsentImportIssue) -> Void
  ) {
    switch record(line: line, lookup: lookup) {
    case .success(let record): onRecord(record)
    case .failure(let issue): onIssue(issue)
    }
  }

  static func record(line: Int, lookup: (Int) -> String?)
    -> Result<ConsentImportRecord, ConsentImportIssue>
  {
    func fail(_ reason: String) -> Result<ConsentImportRecord, ConsentImportIssue> {
      .failure(ConsentImportIssue(line: line, reason: reason))
    }
    // The required fields in order, in locals (an array per line costs an allocation).
    var values = ("", "", "", "", "", "", "")
    for (k, name) in required.enumerated() {
      guard var value = lookup(k), !value.isEmpty else {
        return fail("\(name): missing or empty")
      }
      // Identifiers (not state, occurred_at, source: those are parsed below).
      if k != 3, k != 4, k != 5 {
        if let problem = identifierProblem(value) {
          return fail("\(name): \"\(printable(value))\" \(problem)")
        }
        value = Identifier.normalized(value)
      }
      switch k {
      case 0: values.0 = value
      case 1: values.1 = value
      case 2: values.2 = value
      case 3: values.3 = value
      case 4: values.4 = value
      case 5: values.5 = value
      default: values.6 = value
      }
    }
    let state: ConsentState
    let source: ConsentSource
    do {
      state = try ConsentState(code: values.3, field: "state")
      source = try ConsentSource(code: values.5, field: "source")
    } catch {
      return fail(error.description)
    }
    guard let at = parseTimestamp(values.4) else {
      return fail(
        "occurred_at: \"\(printable(values.4))\" is not valid; expected ISO-8601 UTC "
          + "(2026-11-25T10:00:00Z) or Unix seconds")
    }
    var reason = lookup(7)
    if let text = reason, text.isEmpty { reason = nil }
    if let problem = AppDatabase.freeTextProblem(reason, field: "reason") { return fail(problem) }
    return .success(
      ConsentImportRecord(
        line: line, eventId: values.0, account: values.1, service: values.2, state: state,
        occurredAt: at, source: source, termsVersion: values.6, reason: reason))
  }

  static func identifierProblem(_ value: String) -> String? {
    if value.utf8.count > maxIdLength { return "is longer than \(maxIdLength) bytes" }
    // ASCII is checked byte by byte; only other text needs the Unicode tables (C1 controls).
    var ascii = true
    for byte in value.utf8 {
      if byte < 0x20 || byte == 0x7F { return "contains control characters" }
      if byte >= 0x80 { ascii = false }
    }
    if !ascii,
      value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
    {
      return "contains control characters"
    }
    return nil
  }

  /// A value for a message: controls, bidi and invisible characters escaped (TextSafety),
  /// cut at 60 characters.
  static func printable(_ value: String) -> String { SafeText.quoted(value, limit: 60) }

  static func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 }
  }

  // MARK: - CSV

  static func csvHeader(_ bytes: UnsafeBufferPointer<UInt8>)
    -> Result<[String: Int], ConsentImportIssue>
  {
    var fields: [String?] = []
    if let problem = splitCSV(bytes, into: &fields) {
      return .failure(ConsentImportIssue(line: 1, reason: "header: \(problem)"))
    }
    var map: [String: Int] = [:]
    for (index, field) in fields.enumerated() {
      let name = (field ?? "").trimmingSpaces().lowercased()
      if map[name] != nil {
        return .failure(ConsentImportIssue(line: 1, reason: "header: column \(name) twice"))
      }
      map[name] = index
    }
    let missing = required.filter { map[$0] == nil }
    if !missing.isEmpty {
      return .failure(
        ConsentImportIssue(
          line: 1,
          reason: "header: missing column(s) \(missing.joined(separator: ", ")); expected "
            + (required + ["reason"]).joined(separator: ",")))
    }
    return .success(map)
  }

  /// Splits one CSV line (RFC 4180 quoting, `""` inside quotes); nil when fine, else why not.
  static func splitCSV(_ bytes: UnsafeBufferPointer<UInt8>, into fields: inout [String?])
    -> String?
  {
    let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
    var i = 0
    let n = bytes.count
    while true {
      if i < n, bytes[i] == quote {
        var value: [UInt8] = []
        i += 1
        var closed = false
        while i < n {
          if bytes[i] == quote {
            if i + 1 < n, bytes[i + 1] == quote {
              value.append(quote)
              i += 2
              continue
            }
            closed = true
            i += 1
            break
          }
          value.append(bytes[i])
          i += 1
        }
        if !closed {
          return "bad CSV quoting: field \(fields.count + 1) has no closing quote"
        }
        if i < n, bytes[i] != comma {
          return "bad CSV quoting: text after the closing quote of field \(fields.count + 1)"
        }
        guard let text = value.withUnsafeBufferPointer(utf8Text) else {
          return "field \(fields.count + 1) is not valid UTF-8"
        }
        fields.append(text)
      } else {
        let begin = i
        while i < n, bytes[i] != comma {
          if bytes[i] == quote {
            return "bad CSV quoting: a quote inside unquoted field \(fields.count + 1)"
          }
          i += 1
        }
        guard let text = utf8Text(UnsafeBufferPointer(rebasing: bytes[begin..<i])) else {
          return "field \(fields.count + 1) is not valid UTF-8"
        }
        fields.append(text)
      }
      if i >= n { return nil }
      i += 1  // the comma
      if i == n {
        fields.append("")
        return nil
      }
    }
  }

  /// The text of UTF-8 bytes; nil when they are not valid UTF-8 (never a U+FFFD stand-in, which
  /// would make different ids one).
  static func utf8Text(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
    if !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
    return String(validating: bytes, as: UTF8.self)
  }

  /// Why `bytes` cannot be a UTF-8 text file, judged from its start: a UTF-16 or UTF-32 byte
  /// order mark, or NUL bytes (UTF-16 text without one); nil when nothing says so.
  public static func encodingProblem(_ bytes: [UInt8]) -> String? {
    let head = bytes.prefix(4)
    if head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0xFE, 0xFF])
      || head.starts(with: [0x00, 0x00, 0xFE, 0xFF])
      || bytes.prefix(512).contains(0)
    {
      return "the file is not UTF-8 text (UTF-16?); save it as UTF-8"
    }
    return nil
  }

  // MARK: - Timestamps

  /// Unix seconds from `1764064800` or `2026-11-25T10:00:00Z` (also `+00:00`, fractional
  /// seconds dropped, `T` or space); nil otherwise.
  public static func parseTimestamp(_ text: String) -> Int64? {
    let b = Array(text.utf8)
    if !b.isEmpty, b.count <= 12, b.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
      return Int64(text)
    }
    guard b.count >= 20 else { return nil }
    func num(_ from: Int, _ count: Int) -> Int? {
      var v = 0
      for k in from..<(from + count) {
        let d = Int(b[k]) - 48
        guard d >= 0, d <= 9 else { return nil }
        v = v * 10 + d
      }
      return v
    }
    guard b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 32 || b[10] == 116,
      b[13] == 58, b[16] == 58,
      let year = num(0, 4), let month = num(5, 2), let day = num(8, 2),
      let hour = num(11, 2), let minute = num(14, 2), let second = num(17, 2),
      hour < 24, minute < 60, second < 60,
      let date = try? CalendarDate(year: year, month: month, day: day)
    else { return nil }
    var k = 19
    if b[k] == 46 {  // fractional seconds
      k += 1
      let digits = k
      while k < b.count, b[k] >= 48, b[k] <= 57 { k += 1 }
      guard k > digits else { return nil }
    }
    let zone = Array(b[k...])
    guard zone == [90] || zone == [122] || zone == Array("+00:00".utf8) else { return nil }
    return Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
  }
}

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while s.first == " " || s.first == "\t" { s.removeFirst() }
    while s.last == " " || s.last == "\t" { s.removeLast() }
    return String(s)
  }
}
