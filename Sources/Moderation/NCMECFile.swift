// NCMEC-style XML fingerprint lists, read with a small XML reader that refuses DTDs.

import Store

/// Reads an NCMEC hash-sharing XML reply (`<queryResult>` with `<images>`/`<videos>` of
/// `<image>`/`<video>` entries) into a ``BankFile``. Each entry's `<fingerprints>` gives its
/// hashes: `md5`, `sha1` and `pdq` are imported; other algorithms (`pdna`, `tmk-pdqf`,
/// `videntifier`, ...) are counted in ``BankFile/unsupported``, not errors. The entry's `<id>`
/// becomes the source id, its `<classification>` the label; `member`, `member_id`,
/// `timestamp` and `media` (image or video) are metadata. `<deletedImage>`/`<deletedVideo>`
/// ids are listed in ``BankFile/withdrawnSourceIds``; `<feedback>` is ignored.
enum NCMECFile {
  /// One `<image>` or `<video>` being read.
  struct Entry {
    var media: String
    var line: Int
    var member: String?
    var memberId: String?
    var timestamp: String?
    var id: String?
    var classification: String?
    var fingerprints: [(algorithm: String, value: String, line: Int)] = []

    /// Keeps the text of the entry's field `name` (false when csar keeps no such field).
    mutating func set(_ name: String, _ value: String) -> Bool {
      switch name {
      case "member": member = value
      case "timestamp": timestamp = value
      case "id": id = value
      case "classification": classification = value
      default: return false
      }
      return true
    }
  }

  static func parse(_ bytes: UnsafeBufferPointer<UInt8>, file: String) -> BankFile {
    var collector = EntryCollector(file: file, format: .ncmecXML)
    var stack: [String] = []
    var entry: Entry?
    var deleted: String?
    var deletedId: String?
    var text: [UInt8] = []
    var sawEntries = false
    /// Whether the fingerprint element being read gives its value by reference (`href`).
    var byReference = false
    var reader = ListXMLReader(bytes)
    do throws(ListXMLError) {
      while let event = try reader.next() {
        switch event {
        case .start(let name, let line):
          text.removeAll(keepingCapacity: true)
          if entry == nil, deleted == nil, name == "image" || name == "video",
            stack.last == name + "s"
          {
            entry = Entry(media: name, line: line)
            sawEntries = true
          } else if entry == nil, name == "deletedImage" || name == "deletedVideo" {
            deleted = name
            sawEntries = true
          } else if entry != nil, stack.last == "fingerprints", reader.attribute("href") != nil {
            // A fingerprint given by reference only (large ones such as TMK).
            entry!.fingerprints.append((name, "", line))
            byReference = true
          } else if let media = entry?.media, name == "member", stack.last == media,
            let id = reader.attribute("id")
          {
            entry!.memberId = id
          }
          stack.append(name)
        case .end(let name, let line):
          stack.removeLast()
          let value = text.withUnsafeBufferPointer { ByteText.trimmedText($0) }
          text.removeAll(keepingCapacity: true)
          if let media = entry?.media {
            if name == media && stack.last == media + "s" {
              finish(entry!, into: &collector)
              entry = nil
            } else if stack.last == "fingerprints" {
              // A by-reference fingerprint (`<tmk-pdqf href="..."/>`) was taken at its start.
              if !byReference { entry!.fingerprints.append((name, value, line)) }
              byReference = false
            } else if stack.last == media {
              _ = entry!.set(name, value)
            }
          } else if deleted != nil {
            if name == "id", stack.last == deleted { deletedId = value }
            if name == deleted {
              if let deletedId, !deletedId.isEmpty {
                collector.result.withdrawnSourceIds.append(deletedId)
              }
              deleted = nil
              deletedId = nil
            }
          }
        case .text(let chunk):
          text.append(contentsOf: chunk)
        case .decodedText(let chunk):
          text.append(contentsOf: chunk)
        }
      }
    } catch {
      collector = EntryCollector(file: file, format: .ncmecXML)
      collector.problem(line: error.line, field: "", "not readable XML: \(error.reason)")
      return collector.result
    }
    if !sawEntries, let root = reader.root, root != "queryResult" {
      collector.problem(
        line: 1, field: "",
        "not an NCMEC fingerprint list: the root element is <\(DisplayText.clean(root))>, "
          + "not <queryResult>")
    }
    return collector.result
  }

  /// Adds an entry's fingerprints.
  static func finish(_ entry: Entry, into collector: inout EntryCollector) {
    var metadata: [(String, String)] = [("media", entry.media)]
    for (key, value) in [
      ("member", entry.member), ("member_id", entry.memberId), ("timestamp", entry.timestamp),
    ] {
      if let value, !value.isEmpty { metadata.append((key, value)) }
    }
    // Where a problem is, made only for a problem.
    func place() -> String { entry.media + (entry.id.map { " " + $0 } ?? "") }
    if entry.fingerprints.isEmpty {
      collector.problem(line: entry.line, field: place(), "no fingerprints")
    }
    for (algorithm, value, line) in entry.fingerprints {
      let type =
        switch algorithm {
        case "md5", "sha1", "pdq": algorithm
        default: algorithm.lowercased()
        }
      guard type == "md5" || type == "sha1" || type == "pdq" else {
        collector.result.unsupported[algorithm, default: 0] += 1
        continue
      }
      collector.add(
        typeName: type, value: value, line: line, field: place() + " " + algorithm,
        label: entry.classification, sourceId: entry.id, metadata: metadata)
    }
  }
}

// MARK: - A small XML reader

/// Why XML could not be read: the line and what was wrong.
struct ListXMLError: Error {
  var line: Int
  var reason: String
}

/// A streaming reader for the XML of hash lists: elements (local names, namespace prefixes
/// dropped), attributes, text, CDATA, comments and processing instructions; the five predefined
/// entities and character references. A `<!DOCTYPE` is refused outright, so no entity can be
/// declared and nothing can expand ("billion laughs", external entities); nesting deeper than
/// ``maximumDepth`` is refused.
///
/// Why not Foundation's `XMLParser` (FoundationXML over libxml2)? It does refuse the
/// billion-laughs file (libxml2 reports an entity loop), but its safety then rests on the
/// libxml2 build's amplification limits, it costs a Swift string per callback (millions for a
/// 1M-entry list), and it adds a shared library to every install; fingerprint lists never
/// need a DTD, so refusing one loses nothing.
struct ListXMLReader {
  /// What the reader reports, in document order.
  enum Event {
    /// An element starts (its attributes are in ``attribute(_:)`` until the next event); a
    /// self-closing element is a start then an end.
    case start(name: String, line: Int)
    /// An element ends.
    case end(name: String, line: Int)
    /// Text (or CDATA) as it is in the file.
    case text(Slice<UnsafeBufferPointer<UInt8>>)
    /// Text with its entity or character references decoded.
    case decodedText([UInt8])
  }

  /// Deepest element nesting accepted (NCMEC lists need 8).
  static let maximumDepth = 64

  let bytes: UnsafeBufferPointer<UInt8>
  var at = 0
  var line = 1
  /// The root element's local name, once seen.
  var root: String?
  /// The attributes of the element that started last, by local name.
  private(set) var attributes: [(name: String, value: String)] = []
  /// The open elements: qualified name (a range of `bytes`) and local name.
  private var open: [(name: Range<Int>, local: String)] = []
  private var closedRoot = false
  /// The end of a self-closing element, reported after its start.
  private var pendingEnd: (name: String, line: Int)?

  init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { at = 3 }
  }

  /// The value of the last started element's attribute `name` (a local name; the last one
  /// when repeated).
  func attribute(_ name: String) -> String? {
    attributes.last { $0.name == name }?.value
  }

  /// The next event, or nil at the end of a well-formed document.
  mutating func next() throws(ListXMLError) -> Event? {
    if let end = pendingEnd {
      pendingEnd = nil
      if open.isEmpty { closedRoot = true }
      return .end(name: end.name, line: end.line)
    }
    while at < bytes.count {
      if bytes[at] != UInt8(ascii: "<") {
        let from = at
        while at < bytes.count, bytes[at] != UInt8(ascii: "<") {
          if bytes[at] == 0x0A { line += 1 }
          at += 1
        }
        let chunk = bytes[from..<at]
        if open.isEmpty {
          guard chunk.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else {
            throw ListXMLError(line: line, reason: "text outside the root element")
          }
          continue
        }
        return try decoded(chunk).map(Event.decodedText) ?? .text(chunk)
      }
      switch at + 1 < bytes.count ? bytes[at + 1] : 0 {
      case UInt8(ascii: "?"):
        try skip(past: "?>")
      case UInt8(ascii: "!") where starts("<!--"):
        try skip(past: "-->")
      case UInt8(ascii: "!") where starts("<![CDATA["):
        at += 9
        let from = at
        try skip(past: "]]>")
        guard !open.isEmpty else { throw ListXMLError(line: line, reason: "CDATA outside") }
        return .text(bytes[from..<(at - 3)])
      case UInt8(ascii: "!"):
        throw ListXMLError(
          line: line,
          reason: "a DOCTYPE or other declaration is refused (declared entities could expand "
            + "without bound; fingerprint lists need none)")
      case UInt8(ascii: "/"):
        return try endTag()
      default:
        return try startTag()
      }
    }
    if let last = open.last {
      throw ListXMLError(line: line, reason: "<\(text(last.name))> is not closed")
    }
    if root == nil { throw ListXMLError(line: line, reason: "no element") }
    return nil
  }

  /// An end tag (at its `</`), which must close the element open last.
  private mutating func endTag() throws(ListXMLError) -> Event {
    at += 2
    let name = try self.name()
    skipSpace()
    guard peek(UInt8(ascii: ">")) else {
      throw ListXMLError(line: line, reason: "expected '>' after </\(text(name))")
    }
    guard let last = open.last, ByteText.equal(bytes, last.name, name) else {
      let expected = open.last.map { text($0.name) } ?? "nothing"
      throw ListXMLError(line: line, reason: "</\(text(name))> does not close <\(expected)>")
    }
    open.removeLast()
    if open.isEmpty { closedRoot = true }
    return .end(name: last.local, line: line)
  }

  /// A start tag (at its `<`): name, attributes, and whether it closes itself.
  private mutating func startTag() throws(ListXMLError) -> Event {
    at += 1
    let start = line
    let name = try self.name()
    guard !closedRoot else {
      throw ListXMLError(line: line, reason: "a second root element <\(text(name))>")
    }
    attributes.removeAll(keepingCapacity: true)
    while true {
      skipSpace()
      if peek(UInt8(ascii: ">")) { break }
      if starts("/>") { break }
      let key = try self.name()
      skipSpace()
      guard peek(UInt8(ascii: "=")) else {
        throw ListXMLError(line: line, reason: "attribute \(text(key)) has no value")
      }
      skipSpace()
      guard at < bytes.count, bytes[at] == 0x22 || bytes[at] == 0x27 else {
        throw ListXMLError(line: line, reason: "attribute \(text(key)) is not quoted")
      }
      let quote = bytes[at]
      at += 1
      let from = at
      while at < bytes.count, bytes[at] != quote {
        if bytes[at] == UInt8(ascii: "<") {
          throw ListXMLError(line: line, reason: "'<' inside attribute \(text(key))")
        }
        if bytes[at] == 0x0A { line += 1 }
        at += 1
      }
      guard at < bytes.count else {
        throw ListXMLError(line: line, reason: "unterminated attribute \(text(key))")
      }
      let raw = bytes[from..<at]
      let value = try decoded(raw).map { String(decoding: $0, as: UTF8.self) }
        ?? String(decoding: raw, as: UTF8.self)
      attributes.append((local(key), value))
      at += 1
    }
    let selfClosing = starts("/>")
    if selfClosing { at += 2 }
    guard open.count < Self.maximumDepth else {
      throw ListXMLError(
        line: line, reason: "nested deeper than \(Self.maximumDepth) elements: refused")
    }
    let localName = local(name)
    if root == nil { root = localName }
    if selfClosing {
      pendingEnd = (localName, line)
    } else {
      open.append((name, localName))
    }
    return .start(name: localName, line: start)
  }

  // MARK: - Pieces

  /// Text with entity and character references decoded, or nil when it has none (it is then
  /// used as it is); unknown entities are errors.
  func decoded(_ chunk: Slice<UnsafeBufferPointer<UInt8>>) throws(ListXMLError) -> [UInt8]? {
    guard chunk.contains(UInt8(ascii: "&")) else { return nil }
    var out: [UInt8] = []
    var i = chunk.startIndex
    while i < chunk.endIndex {
      guard chunk[i] == UInt8(ascii: "&") else {
        out.append(chunk[i])
        i += 1
        continue
      }
      guard let semicolon = chunk[i...].firstIndex(of: UInt8(ascii: ";")), semicolon - i <= 10
      else { throw ListXMLError(line: line, reason: "'&' that starts no reference") }
      let name = String(decoding: chunk[(i + 1)..<semicolon], as: UTF8.self)
      let predefined = ["lt": "<", "gt": ">", "amp": "&", "quot": "\"", "apos": "'"]
      if let text = predefined[name] {
        out.append(contentsOf: text.utf8)
      } else if name.hasPrefix("#"), let code = name.hasPrefix("#x")
        ? UInt32(name.dropFirst(2), radix: 16) : UInt32(name.dropFirst()),
        let scalar = Unicode.Scalar(code)
      {
        out.append(contentsOf: String(Character(scalar)).utf8)
      } else {
        throw ListXMLError(
          line: line, reason: "undefined entity &\(DisplayText.clean(name)); (only the five "
            + "predefined ones and character references are accepted)")
      }
      i = semicolon + 1
    }
    return out
  }

  /// The name at `at`, as a range of `bytes`.
  mutating func name() throws(ListXMLError) -> Range<Int> {
    let from = at
    while at < bytes.count {
      let b = bytes[at]
      let ok = (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
        || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ":")
        || b == UInt8(ascii: ".") || b >= 0x80
      guard ok else { break }
      at += 1
    }
    guard at > from else { throw ListXMLError(line: line, reason: "expected a name") }
    return from..<at
  }

  /// The text of a name.
  func text(_ name: Range<Int>) -> String { String(decoding: bytes[name], as: UTF8.self) }

  /// The local part of a name (`prefix:name` -> `name`).
  func local(_ name: Range<Int>) -> String {
    let colon = bytes[name].lastIndex(of: UInt8(ascii: ":"))
    return String(decoding: bytes[(colon.map { $0 + 1 } ?? name.lowerBound)..<name.upperBound],
      as: UTF8.self)
  }

  func starts(_ text: StaticString) -> Bool { ByteText.starts(bytes, at: at, with: text) }

  mutating func skip(past end: StaticString) throws(ListXMLError) {
    let startLine = line
    while at < bytes.count {
      if starts(end) {
        at += end.utf8CodeUnitCount
        return
      }
      if bytes[at] == 0x0A { line += 1 }
      at += 1
    }
    throw ListXMLError(line: startLine, reason: "unterminated \(end)")
  }

  mutating func skipSpace() {
    while at < bytes.count,
      bytes[at] == 0x20 || bytes[at] == 0x09 || bytes[at] == 0x0A || bytes[at] == 0x0D
    {
      if bytes[at] == 0x0A { line += 1 }
      at += 1
    }
  }

  mutating func peek(_ byte: UInt8) -> Bool {
    guard at < bytes.count, bytes[at] == byte else { return false }
    at += 1
    return true
  }
}
