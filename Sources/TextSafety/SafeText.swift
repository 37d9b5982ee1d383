// MARK: - The one sanitiser for text that reaches a terminal

/// Makes untrusted text (names, reasons, ids, file names, error messages quoting a value)
/// harmless before it reaches a terminal, on screen or in plain command output.
///
/// One classification of Unicode scalars (``kind(of:)``) and three renderings of it:
/// - ``forOutput(_:)``: a whole stream of plain command output (stdout and stderr). Newline and
///   tab keep their meaning; every other control, bidi control and invisible format character
///   becomes a JSON-style `\uXXXX` escape, so JSON text stays valid and exact.
/// - ``escaped(_:)``: one value quoted inside a line: newlines and tabs are escaped too.
/// - ``forScreen(_:)``: one cell-grid text: control pictures (`␛`), `⏎` for line breaks and
///   `<U+202E>` for bidi controls and invisible format characters, so that `A\u{200B}1`
///   never looks like `A1`.
public enum SafeText {
  /// What a scalar is, as far as a terminal is concerned.
  public enum Kind: Equatable, Sendable {
    /// Printable text, shown as it is.
    case text
    /// TAB.
    case tab
    /// LF.
    case newline
    /// C0 controls (ESC, BEL, CR, …), DEL and C1 controls (U+0080–U+009F).
    case control
    /// U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR.
    case lineSeparator
    /// U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069: they reorder what is shown.
    case bidi
    /// Other invisible format characters (category Cf: U+200B–U+200D, U+2060, U+FEFF, U+00AD,
    /// tag characters, …): they make different texts look the same.
    case invisible
  }

  /// The kind of `scalar`.
  public static func kind(of scalar: Unicode.Scalar) -> Kind {
    let value = scalar.value
    switch value {
    case 0x20..<0x7F: return .text
    case 0x09: return .tab
    case 0x0A: return .newline
    case 0x00..<0x20, 0x7F...0x9F: return .control
    case 0xA0..<0x0600: return value == 0xAD ? .invisible : .text
    case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return .bidi
    case 0x2028, 0x2029: return .lineSeparator
    default:
      return scalar.properties.generalCategory == .format ? .invisible : .text
    }
  }

  /// True when every scalar of `text` is ``Kind/text``.
  public static func isPlain(_ text: some StringProtocol) -> Bool {
    for byte in text.utf8 where byte < 0x20 || byte >= 0x7F {
      return !text.unicodeScalars.contains { kind(of: $0) != .text }
    }
    return true
  }

  // MARK: - Renderings

  /// A stream of plain output: newlines and tabs kept, everything else that is not
  /// ``Kind/text`` as `\uXXXX` (UTF-16 escapes, as JSON writes them). Applied to JSON text
  /// it changes only how a string is spelt, never what it holds.
  public static func forOutput(_ text: String) -> String {
    render(text) { scalar, kind in
      kind == .newline || kind == .tab ? nil : jsonEscape(scalar)
    }
  }

  /// One value inside a line of output: like ``forOutput(_:)``, but newlines and tabs are
  /// escaped too, so the value cannot break a line or a column.
  public static func escaped(_ text: String) -> String {
    render(text) { scalar, _ in jsonEscape(scalar) }
  }

  /// ``escaped(_:)``, cut to `limit` characters with "…" (for quoting a value in a message).
  public static func quoted(_ text: String, limit: Int = 80) -> String {
    let out = escaped(text)
    return out.count > limit ? String(out.prefix(limit)) + "…" : out
  }

  /// Text for one cell-grid line: TAB becomes a space; LF, CR, U+2028 and U+2029 become "⏎";
  /// other C0 controls their control picture (ESC shows as "␛"), DEL "␡", C1 controls "�";
  /// bidi controls and invisible format characters `<U+XXXX>`. Idempotent.
  public static func forScreen(_ text: String) -> String {
    render(text) { scalar, kind in
      let value = scalar.value
      switch kind {
      case .text: return nil
      case .tab: return " "
      case .newline, .lineSeparator: return "⏎"
      case .control:
        if value == 0x0D { return "⏎" }
        if value < 0x20 { return String(Unicode.Scalar(0x2400 + value)!) }
        return value == 0x7F ? "␡" : "\u{FFFD}"
      case .bidi, .invisible: return "<U+" + hex(value, digits: 4, uppercase: true) + ">"
      }
    }
  }

  // MARK: - Internals

  /// `text` with each scalar that `replacement` maps to a string replaced by it.
  static func render(
    _ text: String, _ replacement: (Unicode.Scalar, Kind) -> String?
  ) -> String {
    if isPlain(text) { return text }
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      let kind = kind(of: scalar)
      if kind != .text, let replaced = replacement(scalar, kind) {
        out.append(contentsOf: replaced.unicodeScalars)
      } else {
        out.append(scalar)
      }
    }
    return String(out)
  }

  /// `\uXXXX`, or a surrogate pair of them above U+FFFF.
  static func jsonEscape(_ scalar: Unicode.Scalar) -> String {
    String(scalar).utf16.map { "\\u" + hex(UInt32($0), digits: 4) }.joined()
  }

  static func hex(_ value: UInt32, digits: Int, uppercase: Bool = false) -> String {
    let text = String(value, radix: 16, uppercase: uppercase)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
  }
}
