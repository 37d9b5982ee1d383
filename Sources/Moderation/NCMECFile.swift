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
    var fields: [String: String] = [:]
    var fingerprints: [(algorithm: String, value: String, line: Int)] = []
  }

  static func parse(_ bytes: UnsafeBufferPointer<UInt8>, file: String) -> BankFile {
    var collector = EntryCollector(file: file, format: .ncmecXML)
    var stack: [String] = []
    var entry: Entry?
    var deleted: String?
    var deletedId: String?
    var text: [UInt8] = []
    var sawEntries = false
    var reader = ListXMLReader(bytes)
    do {
      try reader.read { event in
        switch event {
        case .start(let name, let attributes, let line):
          text.removeAll(keepingCapacity: true)
          if entry == nil, deleted == nil, name == "image" || name == "video",
            stack.last == name + "s"
          {
            entry = Entry(media: name, line: line)
            sawEntries = true
          } else if entry == nil, name == "deletedImage" || name == "deletedVideo" {
            deleted = name
            sawEntries = true
          } else if entry != nil, stack.last == "fingerprints", attributes["href"] != nil {
            // A fingerprint given by reference only (large ones such as TMK).
            entry?.fingerprints.append((name, "", line))
          } else if entry != nil, name == "member", stack.count >= 1,
            stack.last == entry?.media, let id = attributes["id"]
          {
            entry?.fields["member_id"] = id
          }
          stack.append(name)
        case .end(let name, let line):
          stack.removeLast()
          let value = String(decoding: text, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
          text.removeAll(keepingCapacity: true)
          if var current = entry {
            if name == current.media && stack.last == current.media + "s" {
              finish(current, into: &collector)
              entry = nil
            } else if stack.last == "fingerprints" {
              if let index = current.fingerprints.lastIndex(where: { $0.algorithm == name }),
                current.fingerprints[index].value.isEmpty, current.fingerprints[index].line == line
              {
                break
              }
              current.fingerprints.append((name, value, line))
              entry = current
            } else if stack.last == current.media,
              ["member", "timestamp", "id", "classification"].contains(name)
            {
              current.fields[name] = value
              entry = current
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
        }
      }
    } catch {
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
    for key in ["member", "member_id", "timestamp"] {
      if let value = entry.fields[key], !value.isEmpty { metadata.append((key, value)) }
    }
    let id = entry.fields["id"]
    let place = "\(entry.media)" + (id.map { " \($0)" } ?? "")
    if entry.fingerprints.isEmpty {
      collector.problem(line: entry.line, field: place, "no fingerprints")
    }
    for (algorithm, value, line) in entry.fingerprints {
      let type = algorithm.lowercased()
      guard ["md5", "sha1", "pdq"].contains(type) else {
        collector.result.unsupported[algorithm, default: 0] += 1
        continue
      }
      collector.add(
        typeName: type, value: value, line: line, field: place + " " + algorithm,
        label: entry.fields["classification"], sourceId: id, metadata: metadata)
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
  /// What the reader reports.
  enum Event {
    case start(name: String, attributes: [String: String], line: Int)
    case end(name: String, line: Int)
    case text(ArraySlice<UInt8>)
  }

  /// Deepest element nesting accepted (NCMEC lists need 8).
  static let maximumDepth = 64

  let bytes: UnsafeBufferPointer<UInt8>
  var at = 0
  var line = 1
  /// The root element's local name, once seen.
  var root: String?

  init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { at = 3 }
  }

  mutating func read(_ handle: (Event) throws(ListXMLError) -> Void) throws(ListXMLError) {
    var open: [String] = []
    var closedRoot = false
    while at < bytes.count {
      if bytes[at] != UInt8(ascii: "<") {
        let from = at
        while at < bytes.count, bytes[at] != UInt8(ascii: "<") {
          if bytes[at] == 0x0A { line += 1 }
          at += 1
        }
        let chunk = bytes[from..<at]
        if open.isEmpty {
          guard chunk.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) else {
            throw ListXMLError(line: line, reason: "text outside the root element")
          }
          continue
        }
        try handle(.text(try decode(chunk)))
        continue
      }
      if starts("<?") {
        try skip(past: "?>")
      } else if starts("<!--") {
        try skip(past: "-->")
      } else if starts("<![CDATA[") {
        at += 9
        let from = at
        try skip(past: "]]>")
        guard !open.isEmpty else { throw ListXMLError(line: line, reason: "CDATA outside") }
        try handle(.text(ArraySlice(bytes[from..<(at - 3)])))
      } else if starts("<!") {
        throw ListXMLError(
          line: line,
          reason: "a DOCTYPE or other declaration is refused (declared entities could expand "
            + "without bound; fingerprint lists need none)")
      } else if starts("</") {
        at += 2
        let name = try self.name()
        skipSpace()
        guard peek(UInt8(ascii: ">")) else {
          throw ListXMLError(line: line, reason: "expected '>' after </\(name)")
        }
        guard open.last == name else {
          throw ListXMLError(
            line: line, reason: "</\(name)> does not close <\(open.last ?? "nothing")>")
        }
        open.removeLast()
        try handle(.end(name: Self.local(name), line: line))
        if open.isEmpty { closedRoot = true }
      } else {
        at += 1
        let start = line
        let name = try self.name()
        guard !closedRoot else {
          throw ListXMLError(line: line, reason: "a second root element <\(name)>")
        }
        var attributes: [String: String] = [:]
        while true {
          skipSpace()
          if peek(UInt8(ascii: ">")) { break }
          if starts("/>") { break }
          let key = try self.name()
          skipSpace()
          guard peek(UInt8(ascii: "=")) else {
            throw ListXMLError(line: line, reason: "attribute \(key) has no value")
          }
          skipSpace()
          guard at < bytes.count, bytes[at] == 0x22 || bytes[at] == 0x27 else {
            throw ListXMLError(line: line, reason: "attribute \(key) is not quoted")
          }
          let quote = bytes[at]
          at += 1
          let from = at
          while at < bytes.count, bytes[at] != quote {
            if bytes[at] == UInt8(ascii: "<") {
              throw ListXMLError(line: line, reason: "'<' inside attribute \(key)")
            }
            if bytes[at] == 0x0A { line += 1 }
            at += 1
          }
          guard at < bytes.count else {
            throw ListXMLError(line: line, reason: "unterminated attribute \(key)")
          }
          attributes[Self.local(key)] = String(
            decoding: try decode(bytes[from..<at]), as: UTF8.self)
          at += 1
        }
        let selfClosing = starts("/>")
        if selfClosing { at += 2 }
        guard open.count < Self.maximumDepth else {
          throw ListXMLError(
            line: line, reason: "nested deeper than \(Self.maximumDepth) elements: refused")
        }
        if root == nil { root = Self.local(name) }
        try handle(.start(name: Self.local(name), attributes: attributes, line: start))
        if selfClosing {
          try handle(.end(name: Self.local(name), line: line))
          if open.isEmpty { closedRoot = true }
        } else {
          open.append(name)
        }
      }
    }
    if let last = open.last { throw ListXMLError(line: line, reason: "<\(last)> is not closed") }
    if root == nil { throw ListXMLError(line: line, reason: "no element") }
  }

  // MARK: - Pieces

  /// Text with entity and character references decoded; unknown entities are errors.
  func decode(_ chunk: Slice<UnsafeBufferPointer<UInt8>>) throws(ListXMLError) -> ArraySlice<UInt8>
  {
    guard chunk.contains(UInt8(ascii: "&")) else { return ArraySlice(chunk) }
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
    return out[...]
  }

  mutating func name() throws(ListXMLError) -> String {
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
    return String(decoding: bytes[from..<at], as: UTF8.self)
  }

  /// `prefix:name` -> `name`.
  static func local(_ name: String) -> String {
    name.lastIndex(of: ":").map { String(name[name.index(after: $0)...]) } ?? name
  }

  func starts(_ text: StaticString) -> Bool {
    let count = text.utf8CodeUnitCount
    guard at + count <= bytes.count else { return false }
    return text.withUTF8Buffer { bytes[at..<(at + count)].elementsEqual($0) }
  }

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
    while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[at]) {
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
