import Terminal
import Compliance

// MARK: - Roles and themes

/// The visual roles the console draws with; a theme gives each a style.
public enum ThemeRole: String, CaseIterable, Sendable {
  case text, muted, title, header, selection
  case statusBar = "status-bar"
  case statusKey = "status-key"
  case tabActive = "tab-active"
  case tabInactive = "tab-inactive"
  case danger, warning, success, accent, border, modal, input
}

/// A named set of styles, one per ``ThemeRole``, loaded from a `themes/*.toml` file.
public struct Theme: Sendable {
  public let name: String
  private let styles: [ThemeRole: CellStyle]

  public init(name: String, styles: [ThemeRole: CellStyle]) {
    self.name = name
    self.styles = styles
  }

  /// The style of a role (plain text when the theme leaves it out).
  public subscript(role: ThemeRole) -> CellStyle { styles[role] ?? styles[.text] ?? .plain }

  /// The built-in themes' names, in the order `--theme` help lists them.
  public static let builtinNames = BuiltinThemes.sources.map(\.name)

  /// Loads a built-in theme by name or a theme file by path.
  public static func load(nameOrPath: String) throws(ThemeError) -> Theme {
    if let source = BuiltinThemes.sources.first(where: { $0.name == nameOrPath }) {
      return try ThemeParser.parse(source.toml, file: "themes/\(source.name).toml")
    }
    guard nameOrPath.contains("/") || nameOrPath.hasSuffix(".toml") else {
      throw ThemeError(
        file: nameOrPath, key: nil,
        message: "no such theme; built-in themes are \(builtinNames.joined(separator: ", ")), "
          + "or give a path to a .toml file")
    }
    let text: String
    do {
      text = try String(contentsOfFile: nameOrPath, encoding: .utf8)
    } catch {
      throw ThemeError(file: nameOrPath, key: nil, message: "cannot read the file")
    }
    return try ThemeParser.parse(text, file: nameOrPath)
  }

  /// The built-in theme for a terminal whose background is light or not, as it answered at
  /// start (`light` or `default`; `default` when it did not say).
  public static func nameFor(backgroundIsLight: Bool?) -> String {
    backgroundIsLight == true ? "light" : "default"
  }

  /// The monochrome theme, used whenever the terminal shows no colour.
  public static var monochrome: Theme {
    // The built-in source is checked by tests, so this cannot fail.
    (try? load(nameOrPath: "mono")) ?? Theme(name: "mono", styles: [:])
  }
}

/// A theme file that cannot be used: names the file, the key and what is wrong.
public struct ThemeError: Error, Equatable, Sendable, CustomStringConvertible {
  public let file: String
  /// 1-based line of the problem, when known (syntax errors).
  public var line: Int? = nil
  public let key: String?
  public let message: String

  public var description: String {
    let place = line.map { "\(file):\($0)" } ?? file
    if let key { return "\(place): \(key): \(message)" }
    return "\(place): \(message)"
  }
}

// MARK: - Parsing

/// Reads the TOML theme format (see `themes/default.toml` for the format's documentation).
public enum ThemeParser {
  private static let namedColors: [String: UInt8] = [
    "black": 0, "red": 1, "green": 2, "yellow": 3, "blue": 4, "magenta": 5, "cyan": 6,
    "white": 7, "bright-black": 8, "bright-red": 9, "bright-green": 10, "bright-yellow": 11,
    "bright-blue": 12, "bright-magenta": 13, "bright-cyan": 14, "bright-white": 15,
  ]
  private static let attributeNames: [String: TextAttributes] = [
    "bold": .bold, "dim": .dim, "underline": .underline, "reverse": .reverse, "italic": .italic,
  ]

  /// Parses a theme; every problem names the file and the dotted key.
  public static func parse(_ text: String, file: String) throws(ThemeError) -> Theme {
    // The project's own line-aware reader (TOMLKit's parser aborts on some malformed keys).
    let (root, errors) = TOMLReader.parse(text)
    if let error = errors.first {
      throw ThemeError(file: file, line: error.line, key: nil, message: error.message)
    }
    for key in root.keys where key != "name" && key != "styles" {
      throw ThemeError(file: file, key: key, message: "unknown key; expected name or styles")
    }
    guard let name = root["name"]?.string else {
      throw ThemeError(file: file, key: "name", message: "missing; give the theme a name")
    }
    guard let table = root["styles"]?.table else {
      throw ThemeError(file: file, key: "styles", message: "missing [styles] table")
    }
    var styles: [ThemeRole: CellStyle] = [:]
    for key in table.keys {
      guard let role = ThemeRole(rawValue: key) else {
        let roles = ThemeRole.allCases.map(\.rawValue).joined(separator: ", ")
        throw ThemeError(
          file: file, key: "styles.\(key)", message: "unknown role; expected one of \(roles)")
      }
      guard let entry = table[key]?.table else {
        throw ThemeError(
          file: file, key: "styles.\(key)", message: "expected a table like { fg = \"red\" }")
      }
      styles[role] = try style(entry, file: file, key: "styles.\(key)")
    }
    return Theme(name: name, styles: styles)
  }

  private static func style(_ entry: TOMLTable, file: String, key: String) throws(ThemeError)
    -> CellStyle
  {
    var style = CellStyle.plain
    for field in entry.keys {
      let path = "\(key).\(field)"
      switch field {
      case "fg", "bg":
        let color = try color(entry[field], file: file, key: path)
        if field == "fg" { style.foreground = color } else { style.background = color }
      case "attrs":
        guard let list = entry[field]?.array else {
          throw ThemeError(file: file, key: path, message: "expected a list like [\"bold\"]")
        }
        for item in list {
          guard let word = item.string, let attribute = attributeNames[word] else {
            let names = attributeNames.keys.sorted().joined(separator: ", ")
            throw ThemeError(
              file: file, key: path,
              message: "unknown attribute \(item.string.map { "\"\($0)\"" } ?? item.typeName); "
                + "expected \(names)")
          }
          style.attributes.insert(attribute)
        }
      default:
        throw ThemeError(file: file, key: path, message: "unknown key; expected fg, bg or attrs")
      }
    }
    return style
  }

  private static func color(_ value: TOMLValue?, file: String, key: String)
    throws(ThemeError) -> TerminalColor
  {
    if let index = value?.int {
      guard (0...255).contains(index) else {
        throw ThemeError(file: file, key: key, message: "colour index \(index) is not 0-255")
      }
      return .indexed(UInt8(index))
    }
    guard let text = value?.string else {
      throw ThemeError(file: file, key: key, message: "expected a colour name, index or #rrggbb")
    }
    if text == "default" { return .default }
    if let index = namedColors[text] { return .indexed(index) }
    if text.hasPrefix("#"), text.count == 7, let rgb = UInt32(text.dropFirst(), radix: 16) {
      return .rgb(UInt8(rgb >> 16 & 0xFF), UInt8(rgb >> 8 & 0xFF), UInt8(rgb & 0xFF))
    }
    throw ThemeError(
      file: file, key: key,
      message: "\"\(text)\" is not a colour; use default, a name like bright-red, "
        + "an index 0-255 or #rrggbb")
  }
}
