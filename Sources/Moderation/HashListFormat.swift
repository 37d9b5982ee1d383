// The one entry point for reading a hash-list file of any format: the format is detected from
// the content (then the file name), and each reader fills the same `BankFile`.

import Foundation
import Store

#if canImport(Glibc)
  import Glibc
#endif

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
    try parse(fileBytes: ImportText.readBytes(path, maximumBytes: maximumBytes), path: path)
  }

  /// Parses the bytes of the file at `path`, in any format; bytes that are not UTF-8 are an
  /// error naming the file (as ``load(path:maximumBytes:)`` and folder sync report it).
  static func parse(fileBytes bytes: [UInt8], path: String) throws(ModerationError) -> BankFile {
    try bytes.withUnsafeBufferPointer { buffer throws(ModerationError) in
      guard ByteText.isValidUTF8(buffer) else {
        throw ModerationError.unreadable(
          file: path,
          reason: ConsentImportParser.encodingProblem(Array(buffer.prefix(512)))
            ?? "not UTF-8 text")
      }
      return parse(utf8: buffer, file: path)
    }
  }

  /// Parses a hash list held in memory (`file` names it in problems), in any format.
  public static func parse(bytes: [UInt8], file: String) -> BankFile {
    bytes.withUnsafeBufferPointer { buffer in
      guard ByteText.isValidUTF8(buffer) else {
        let reason =
          ConsentImportParser.encodingProblem(Array(buffer.prefix(512))) ?? "not UTF-8 text"
        return BankFile(
          entries: [], problems: [LineProblem(file: file, line: 1, reason: reason)],
          delimiter: ",", hasHeader: false, format: HashListFormat.detect(buffer))
      }
      return parse(utf8: buffer, file: file)
    }
  }

  /// Parses bytes already checked to be UTF-8, in the format they are detected as.
  static func parse(utf8 buffer: UnsafeBufferPointer<UInt8>, file: String) -> BankFile {
    switch HashListFormat.detect(buffer) {
    case .text: parse(bytes: buffer, file: file)
    case .hmaJSON, .stopNCIIJSON: HashListJSONFile.parse(buffer, file: file)
    case .ncmecXML: NCMECFile.parse(buffer, file: file)
    }
  }
}

// MARK: - Collecting entries from structured formats

/// Validates and gathers the hashes a JSON or XML list names: types by csar's names or an
/// alias, hex checked, duplicates kept once (counted), types csar has no bank for counted.
struct EntryCollector {
  let file: String
  var result: BankFile
  var repeats = RepeatFinder()
  /// csar's type for each type name met so far (nil: no such type in csar).
  var types: [String: BankHashType?] = [:]
  /// The type name met last and its type (lists name one type again and again).
  var lastType: (name: String, type: BankHashType?)?

  init(file: String, format: HashListFormat) {
    self.file = file
    result = BankFile(entries: [], problems: [], delimiter: ",", hasHeader: false, format: format)
  }

  mutating func problem(line: Int, field: String, _ reason: String) {
    let place = field.isEmpty ? "" : DisplayText.clean(field) + ": "
    result.problems.append(LineProblem(file: file, line: line, reason: place + reason))
  }

  /// Adds one hash; `typeName` as the list names it; `field` names it in a problem (made only
  /// then). Returns the entry when it is valid (also when it was a duplicate).
  @discardableResult
  mutating func add(
    typeName: String, value: String, line: Int, field: @autoclosure () -> String,
    label: String? = nil, sourceId: String? = nil, metadata: [(String, String)] = [],
    withdrawn: Bool = false
  ) -> BankHashEntry? {
    let known: BankHashType?
    if let last = lastType, last.name == typeName {
      known = last.type
    } else {
      known =
        types[typeName]
        ?? {
          let type = BankHashType(rawValue: typeName) ?? BankFile.hashType(named: typeName)
          types[typeName] = type
          return type
        }()
      lastType = (typeName, known)
    }
    guard let type = known else {
      result.unsupported[typeName, default: 0] += 1
      return nil
    }
    guard let hash = ByteText.hexDigits(value, length: type.hexLength) ?? checkedHex(
      value, type: type, line: line, field: field())
    else { return nil }
    if let label, ImportText.hasControl(label) {
      problem(line: line, field: field(), "label contains a control character")
      return nil
    }
    if let sourceId, ImportText.hasControl(sourceId) {
      problem(line: line, field: field(), "source id contains a control character")
      return nil
    }
    if metadata.contains(where: { ImportText.hasControl($0.0) || ImportText.hasControl($0.1) }) {
      problem(line: line, field: field(), "metadata contains a control character")
      return nil
    }
    let entry = BankHashEntry(
      type: type, hash: hash, label: label.flatMap { $0.isEmpty ? nil : $0 },
      sourceId: sourceId.flatMap { $0.isEmpty ? nil : $0 },
      metadata: BankFile.metadataJSON(metadata))
    if withdrawn {
      result.withdrawn.append(entry)
    } else if repeats.isNew(entry, among: result.entries) {
      result.entries.append(entry)
    } else {
      result.duplicates += 1
    }
    return entry
  }

  /// `value` trimmed and lowercased when it is then a hash of `type`; else nil, with the
  /// problem (a non-hex character, or the wrong number of digits) recorded.
  mutating func checkedHex(_ value: String, type: BankHashType, line: Int, field: String)
    -> String?
  {
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
    return hash
  }
}

/// Finds the hashes a list names more than once: an open-addressing table of indices into the
/// entries kept so far, so a million hashes need no Set of strings (no copies, no rehashing of
/// text as it grows, about half the memory).
struct RepeatFinder {
  /// Per slot: 0 when empty, else the top 32 bits of the entry's hash (which also place it) and
  /// its index + 1.
  private var slots = [UInt64](repeating: 0, count: 1024)
  private var count = 0

  /// Whether no entry of `entries` has `entry`'s type and hash; if none has, `entry` is counted
  /// as the next one (`entries.count`), which the caller appends.
  mutating func isNew(_ entry: BankHashEntry, among entries: [BankHashEntry]) -> Bool {
    var hasher = Hasher()
    hasher.combine(entry.type)
    hasher.combine(entry.hash)
    let tag = UInt64(UInt(bitPattern: hasher.finalize()) >> (UInt.bitWidth - 32))
    let mask = slots.count - 1
    var i = Int(tag) & mask
    while slots[i] != 0 {
      if slots[i] >> 32 == tag {
        let other = entries[Int(slots[i] & 0xFFFF_FFFF) - 1]
        if other.type == entry.type && other.hash == entry.hash { return false }
      }
      i = (i + 1) & mask
    }
    slots[i] = tag << 32 | UInt64(entries.count + 1)
    count += 1
    if count * 2 > slots.count { grow() }
    return true
  }

  /// Twice the slots, every entry placed again by its stored bits.
  private mutating func grow() {
    var bigger = [UInt64](repeating: 0, count: slots.count * 2)
    let mask = bigger.count - 1
    for slot in slots where slot != 0 {
      var i = Int(slot >> 32) & mask
      while bigger[i] != 0 { i = (i + 1) & mask }
      bigger[i] = slot
    }
    slots = bigger
  }
}

extension BankFile {
  /// Metadata pairs as csar stores them: a JSON object of text values (keys sorted), or nil
  /// when there are none. A repeated name keeps its first value.
  static func metadataJSON(_ pairs: [(String, String)]) -> String? {
    guard !pairs.isEmpty else { return nil }
    // Each name's first pair, in name order (a handful of pairs: no hashing), written as
    // bytes: one String at the end rather than one per key and value (a third of a StopNCII
    // or NCMEC file's parse went into building these).
    var order: [Int] = []
    order.reserveCapacity(pairs.count)
    for i in pairs.indices where !order.contains(where: { pairs[$0].0 == pairs[i].0 }) {
      order.append(i)
    }
    order.sort { pairs[$0].0 < pairs[$1].0 }
    var out: [UInt8] = []
    out.reserveCapacity(
      order.reduce(2) { $0 + pairs[$1].0.utf8.count + pairs[$1].1.utf8.count + 6 })
    out.append(UInt8(ascii: "{"))
    for (n, i) in order.enumerated() {
      if n > 0 { out.append(UInt8(ascii: ",")) }
      JSONValue.string(pairs[i].0).write(to: &out)
      out.append(UInt8(ascii: ":"))
      JSONValue.string(pairs[i].1).write(to: &out)
    }
    out.append(UInt8(ascii: "}"))
    return String(decoding: out, as: UTF8.self)
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
    if (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0 {
      // A regular file is read straight into one buffer of its size (no chunk copies).
      let size = Int(info.st_size)
      var failure: Int32 = 0
      bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
        while count < size {
          let n = Glibc.read(handle.fileDescriptor, buffer.baseAddress! + count, size - count)
          if n > 0 {
            count += n
          } else if n == 0 || errno != EINTR {
            failure = n == 0 ? 0 : errno
            break
          }
        }
      }
      if failure != 0 {
        throw ModerationError.unreadable(file: path, reason: String(cString: strerror(failure)))
      }
    }
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
