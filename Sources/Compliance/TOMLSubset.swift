// MARK: - A small TOML reader that remembers lines

/// A value read from a TOML (or JSON) text, with the line it starts on.
///
/// TOML libraries do not report where a value came from, but a methodology reviewer needs
/// `csar-2024.toml:57: sections.architecture.questions.e2ee.answers.yes.points: expected a
/// number`. This reader covers the subset the questionnaire and answers files use: tables,
/// arrays of tables, dotted and quoted keys, inline tables, basic, literal and multi-line
/// strings, integers (with `_`), floats, booleans and arrays. It also reads JSON objects
/// (`"key": value`), so answer files may be written in either format.
public struct TOMLValue: Sendable {
  /// What the value is.
  public enum Kind: Sendable {
    case string(String)
    case integer(Int)
    case float(Double)
    case bool(Bool)
    case array([TOMLValue])
    case table(TOMLTable)
    case null
  }

  public let kind: Kind
  /// 1-based line on which the value starts.
  public let line: Int

  /// A short name of the value's type for messages (`a string`, `a table`).
  public var typeName: String {
    switch kind {
    case .string: "a string"
    case .integer: "an integer"
    case .float: "a number"
    case .bool: "a boolean"
    case .array: "an array"
    case .table: "a table"
    case .null: "null"
    }
  }

  /// The value as a number (integers and floats).
  public var number: Double? {
    switch kind {
    case .integer(let i): Double(i)
    case .float(let d): d
    default: nil
    }
  }

  public var string: String? {
    if case .string(let s) = kind { return s }
    return nil
  }

  public var table: TOMLTable? {
    if case .table(let t) = kind { return t }
    return nil
  }

  public var array: [TOMLValue]? {
    if case .array(let a) = kind { return a }
    return nil
  }

  public var bool: Bool? {
    if case .bool(let b) = kind { return b }
    return nil
  }

  /// The value as a whole number (integers only).
  public var int: Int? {
    if case .integer(let i) = kind { return i }
    return nil
  }
}

/// A TOML table: keys in the order they appear, each with its value and line.
public struct TOMLTable: Sendable {
  /// Keys in file order.
  public var keys: [String] = []
  public var values: [String: TOMLValue] = [:]
  /// Line of the header (or first key) that made the table.
  public var line: Int

  public init(line: Int) { self.line = line }

  public subscript(key: String) -> TOMLValue? { values[key] }

  /// Entries in file order.
  public var entries: [(key: String, value: TOMLValue)] {
    keys.compactMap { key in values[key].map { (key, $0) } }
  }
}

/// A syntax error in a TOML or JSON text, with its line.
public struct TOMLSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
  public let line: Int
  public let message: String

  public var description: String { "line \(line): \(message)" }
}

// MARK: - Parsing

/// Reads TOML (or a JSON object) into a ``TOMLTable``.
public enum TOMLReader {
  /// The deepest nesting of tables and arrays (dotted key parts, headers, inline tables and
  /// arrays together) a text may have: deeper texts are refused with a syntax error rather
  /// than read by ever deeper recursion (a stack overflow).
  public static let maxDepth = 64

  /// Parses a whole document. Syntax errors do not stop the reader: it skips to the next line
  /// and goes on, so every broken line is reported at once.
  public static func parse(_ text: String) -> (table: TOMLTable, errors: [TOMLSyntaxError]) {
    var parser = Parser(text)
    return parser.document()
  }

  /// Parses a JSON object text (as used by answer files) into a table.
  public static func parseJSON(_ text: String) -> (table: TOMLTable, errors: [TOMLSyntaxError]) {
    var parser = Parser(text)
    parser.json = true
    parser.skipBlank(newlines: true)
    do throws(TOMLSyntaxError) {
      let value = try parser.value()
      parser.skipBlank(newlines: true)
      if !parser.atEnd { throw parser.fail("unexpected text after the JSON object") }
      guard case .table(let table) = value.kind else {
        let error = TOMLSyntaxError(line: value.line, message: "expected an object")
        return (TOMLTable(line: 1), [error])
      }
      return (table, [])
    } catch {
      return (TOMLTable(line: 1), [error])
    }
  }
}

// MARK: - The parser

/// Builds tables with reference semantics while parsing, converted to values at the end.
private final class Node {
  var keys: [String] = []
  var children: [String: Entry] = [:]
  let line: Int
  /// Defined by a `[header]` or by key-value pairs (as opposed to implied by a dotted path).
  var explicit = false
  /// An inline table is closed: nothing may be added to it later.
  var sealed = false

  init(line: Int) { self.line = line }

  enum Entry {
    case value(TOMLValue)
    case table(Node)
    case tableArray([Node], line: Int)
  }

  func set(_ key: String, _ entry: Entry) {
    if children[key] == nil { keys.append(key) }
    children[key] = entry
  }

  func freeze() -> TOMLTable {
    var table = TOMLTable(line: line)
    for key in keys {
      guard let entry = children[key] else { continue }
      table.keys.append(key)
      switch entry {
      case .value(let v): table.values[key] = v
      case .table(let node): table.values[key] = TOMLValue(kind: .table(node.freeze()), line: node.line)
      case .tableArray(let nodes, let line):
        let items = nodes.map { TOMLValue(kind: .table($0.freeze()), line: $0.line) }
        table.values[key] = TOMLValue(kind: .array(items), line: line)
      }
    }
    return table
  }
}

private struct Parser {
  let chars: [Character]
  var index = 0
  var line = 1
  var json = false
  /// How deep the value being read is nested (tables of the key path, arrays, inline tables).
  var depth = 0

  init(_ text: String) {
    chars = Array(text)
  }

  var atEnd: Bool { index >= chars.count }
  var current: Character? { index < chars.count ? chars[index] : nil }

  func peek(_ offset: Int) -> Character? {
    index + offset < chars.count ? chars[index + offset] : nil
  }

  func fail(_ message: String) -> TOMLSyntaxError { TOMLSyntaxError(line: line, message: message) }

  func tooDeep() -> TOMLSyntaxError {
    fail("nested deeper than \(TOMLReader.maxDepth) levels (tables, arrays and key parts)")
  }

  mutating func advance() {
    if current == "\n" || current == "\r\n" { line += 1 }
    index += 1
  }

  /// Skips spaces, tabs and comments; with `newlines`, line breaks too.
  mutating func skipBlank(newlines: Bool) {
    while let c = current {
      if c == " " || c == "\t" || c == "\r" || (newlines && (c == "\n" || c == "\r\n")) {
        advance()
      } else if c == "#" && !json {
        while let d = current, d != "\n", d != "\r\n" { advance() }
      } else {
        break
      }
    }
  }

  mutating func skipLine() {
    while let c = current, c != "\n", c != "\r\n" { advance() }
  }

  mutating func document() -> (table: TOMLTable, errors: [TOMLSyntaxError]) {
    let root = Node(line: 1)
    root.explicit = true
    var table = root
    var tableDepth = 0
    var errors: [TOMLSyntaxError] = []
    while true {
      skipBlank(newlines: true)
      guard let c = current else { break }
      do throws(TOMLSyntaxError) {
        if c == "[" {
          (table, tableDepth) = try header(root)
        } else {
          depth = tableDepth
          try keyValue(into: table)
        }
        skipBlank(newlines: false)
        if let c = current, c != "\n", c != "\r\n" {
          throw fail("expected the end of the line after the value, found \"\(c)\"")
        }
      } catch {
        errors.append(error)
        skipLine()
      }
    }
    return (root.freeze(), errors)
  }

  /// `[a.b]` or `[[a.b]]`: returns the table that following keys go into, and its depth.
  mutating func header(_ root: Node) throws(TOMLSyntaxError) -> (Node, Int) {
    let headerLine = line
    advance()
    let isArray = current == "["
    if isArray { advance() }
    skipBlank(newlines: false)
    let path = try keyPath()
    skipBlank(newlines: false)
    guard current == "]" else { throw fail("expected \"]\" to close the table header") }
    advance()
    if isArray {
      guard current == "]" else { throw fail("expected \"]]\" to close the array of tables") }
      advance()
    }
    let name = path.joined(separator: ".")
    var node = root
    for key in path.dropLast() {
      node = try descend(node, key, name: name, line: headerLine)
    }
    let last = path[path.count - 1]
    if isArray {
      let fresh = Node(line: headerLine)
      fresh.explicit = true
      switch node.children[last] {
      case nil:
        node.set(last, .tableArray([fresh], line: headerLine))
      case .tableArray(let nodes, let line)?:
        node.set(last, .tableArray(nodes + [fresh], line: line))
      default:
        throw fail("\(name) is already defined as something other than an array of tables")
      }
      return (fresh, path.count)
    }
    switch node.children[last] {
    case nil:
      let fresh = Node(line: headerLine)
      fresh.explicit = true
      node.set(last, .table(fresh))
      return (fresh, path.count)
    case .table(let existing)?:
      if existing.explicit || existing.sealed { throw fail("table [\(name)] is defined twice") }
      existing.explicit = true
      return (existing, path.count)
    default:
      throw fail("\(name) is already defined as a value")
    }
  }

  /// Goes into (creating when missing) the table at `key`; into the last table of an array.
  mutating func descend(_ node: Node, _ key: String, name: String, line: Int)
    throws(TOMLSyntaxError) -> Node
  {
    switch node.children[key] {
    case nil:
      let fresh = Node(line: line)
      node.set(key, .table(fresh))
      return fresh
    case .table(let existing)?:
      if existing.sealed { throw fail("\(name): \(key) is an inline table and cannot be extended") }
      return existing
    case .tableArray(let nodes, _)?:
      return nodes[nodes.count - 1]
    case .value?:
      throw fail("\(name): \(key) is already a value, not a table")
    }
  }

  /// `a.b.c = value` into `table`.
  mutating func keyValue(into table: Node) throws(TOMLSyntaxError) {
    let keyLine = line
    let path = try keyPath()
    // The parts before the last name tables; the last names the value.
    depth += path.count - 1
    defer { depth -= path.count - 1 }
    if depth > TOMLReader.maxDepth { throw tooDeep() }
    skipBlank(newlines: false)
    if json {
      guard current == ":" else { throw fail("expected \":\" after the key") }
    } else {
      guard current == "=" else {
        throw fail("expected \"=\" after the key \(path.joined(separator: "."))")
      }
    }
    advance()
    skipBlank(newlines: false)
    let parsed = try value()
    var node = table
    let name = path.joined(separator: ".")
    for key in path.dropLast() {
      node = try descend(node, key, name: name, line: keyLine)
    }
    let last = path[path.count - 1]
    if node.children[last] != nil {
      throw TOMLSyntaxError(line: keyLine, message: "duplicate key \(name)")
    }
    if case .table(let inline) = parsed.kind {
      let sealed = Node(line: parsed.line)
      sealed.explicit = true
      sealed.sealed = true
      for (k, v) in inline.entries { sealed.set(k, .value(v)) }
      node.set(last, .table(sealed))
    } else {
      node.set(last, .value(parsed))
    }
  }

  mutating func keyPath() throws(TOMLSyntaxError) -> [String] {
    var path: [String] = []
    while true {
      skipBlank(newlines: false)
      if path.count >= TOMLReader.maxDepth { throw tooDeep() }
      path.append(try key())
      skipBlank(newlines: false)
      if current == ".", !json {
        advance()
        continue
      }
      return path
    }
  }

  mutating func key() throws(TOMLSyntaxError) -> String {
    if current == "\"" { return try basicString() }
    if current == "'" { return try literalString() }
    var key = ""
    while let c = current, c.isASCII, c.isLetter || c.isNumber || c == "_" || c == "-" {
      key.append(c)
      advance()
    }
    if key.isEmpty {
      throw fail(current.map { "expected a key, found \"\($0)\"" } ?? "expected a key")
    }
    return key
  }

  mutating func value() throws(TOMLSyntaxError) -> TOMLValue {
    let start = line
    guard let c = current else { throw fail("expected a value") }
    switch c {
    case "\"":
      if peek(1) == "\"", peek(2) == "\"" {
        return TOMLValue(kind: .string(try multilineString()), line: start)
      }
      return TOMLValue(kind: .string(try basicString()), line: start)
    case "'":
      return TOMLValue(kind: .string(try literalString()), line: start)
    case "[", "{":
      depth += 1
      defer { depth -= 1 }
      if depth > TOMLReader.maxDepth { throw tooDeep() }
      return c == "[" ? try arrayValue() : try inlineTable()
    default:
      var word = ""
      // A set of characters: in a string literal "\r\n" would be one grapheme, not two.
      let ends: Set<Character> = [" ", "\t", "\r", "\n", "\r\n", ",", "]", "}", "#"]
      while let d = current, !ends.contains(d) {
        word.append(d)
        advance()
      }
      if word == "true" { return TOMLValue(kind: .bool(true), line: start) }
      if word == "false" { return TOMLValue(kind: .bool(false), line: start) }
      if word == "null", json { return TOMLValue(kind: .null, line: start) }
      let digits = word.replacingUnderscores
      if let i = Int(digits) { return TOMLValue(kind: .integer(i), line: start) }
      if let d = Double(digits), d.isFinite, digits.first != ".", digits.last != "." {
        return TOMLValue(kind: .float(d), line: start)
      }
      if word.isEmpty { throw fail("expected a value, found \"\(c)\"") }
      throw fail("\"\(word)\" is not a value (strings need quotes)")
    }
  }

  mutating func arrayValue() throws(TOMLSyntaxError) -> TOMLValue {
    let start = line
    advance()
    var items: [TOMLValue] = []
    while true {
      skipBlank(newlines: true)
      if current == "]" {
        advance()
        return TOMLValue(kind: .array(items), line: start)
      }
      items.append(try value())
      skipBlank(newlines: true)
      if current == "," {
        advance()
      } else if current != "]" {
        throw fail("expected \",\" or \"]\" in the array")
      }
    }
  }

  mutating func inlineTable() throws(TOMLSyntaxError) -> TOMLValue {
    let start = line
    advance()
    let node = Node(line: start)
    while true {
      skipBlank(newlines: json)
      if current == "}" {
        advance()
        return TOMLValue(kind: .table(node.freeze()), line: start)
      }
      try keyValue(into: node)
      skipBlank(newlines: json)
      if current == "," {
        advance()
      } else if current != "}" {
        throw fail("expected \",\" or \"}\" in the inline table")
      }
    }
  }

  mutating func basicString() throws(TOMLSyntaxError) -> String {
    advance()
    var out = ""
    while true {
      guard let c = current, c != "\n", c != "\r\n" else {
        throw fail("unterminated string")
      }
      advance()
      if c == "\"" { return out }
      if c == "\\" { out.append(try escape()) } else { out.append(c) }
    }
  }

  mutating func multilineString() throws(TOMLSyntaxError) -> String {
    advance()
    advance()
    advance()
    if current == "\n" || current == "\r\n" { advance() }
    var out = ""
    while true {
      guard let c = current else { throw fail("unterminated multi-line string") }
      if c == "\"", peek(1) == "\"", peek(2) == "\"" {
        advance()
        advance()
        advance()
        return out
      }
      advance()
      if c == "\\" {
        // A backslash at the end of a line joins it with the next non-blank text.
        if current == "\n" || current == "\r\n" || current == " " {
          while let d = current, d == " " || d == "\t" || d == "\n" || d == "\r\n" { advance() }
        } else {
          out.append(try escape())
        }
      } else {
        out.append(c == "\r\n" ? "\n" : c)
      }
    }
  }

  mutating func escape() throws(TOMLSyntaxError) -> Character {
    guard let e = current else { throw fail("unterminated escape") }
    advance()
    switch e {
    case "n": return "\n"
    case "t": return "\t"
    case "r": return "\r"
    case "\"": return "\""
    case "\\": return "\\"
    case "/": return "/"
    case "u", "U":
      let count = e == "u" ? 4 : 8
      var hex = ""
      for _ in 0..<count {
        guard let h = current, h.isHexDigit else { throw fail("bad \\\(e) escape") }
        hex.append(h)
        advance()
      }
      guard let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
        throw fail("bad \\\(e) escape")
      }
      return Character(scalar)
    default:
      throw fail("unknown escape \\\(e)")
    }
  }

  mutating func literalString() throws(TOMLSyntaxError) -> String {
    advance()
    var out = ""
    while true {
      guard let c = current, c != "\n", c != "\r\n" else {
        throw fail("unterminated string")
      }
      advance()
      if c == "'" { return out }
      out.append(c)
    }
  }
}

extension String {
  fileprivate var replacingUnderscores: String { String(filter { $0 != "_" }) }
}
