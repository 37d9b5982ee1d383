// Untrusted text in, harmless text out.

/// Makes untrusted text (names, notes, file names) harmless before it reaches the terminal.
///
/// Rules, applied to each Unicode scalar:
/// - TAB becomes one space; LF, CR, U+2028 and U+2029 become "⏎".
/// - Every other C0 control becomes its control picture (U+2400 + code, so ESC shows as "␛"),
///   DEL becomes "␡", and C1 controls (U+0080–U+009F) become "�".
/// - Bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and every other
///   invisible format character (Unicode category Cf: U+200B–U+200D, U+2060, U+FEFF, U+00AD,
///   tag characters, …) are removed.
///
/// So a name containing "\u{1B}[31m" shows as "␛[31m". `clean` is idempotent, and
/// `Screen.put` always applies it, so nothing can bypass it.
public enum TextSanitizer {
  /// Returns `text` with every control and invisible format character made harmless.
  public static func clean(_ text: String) -> String {
    if !needsCleaning(text) { return text }
    var result = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      switch action(for: scalar) {
      case .keep: result.append(scalar)
      case .drop: continue
      case .replace(let replacement): result.append(replacement)
      }
    }
    return String(result)
  }

  /// True when `clean` would change `text`.
  public static func needsCleaning(_ text: String) -> Bool {
    for scalar in text.unicodeScalars {
      let value = scalar.value
      if value >= 0x20 && value < 0x7F { continue }
      if case .keep = action(for: scalar) { continue }
      return true
    }
    return false
  }

  // MARK: - Rules

  enum Action {
    case keep
    case drop
    case replace(Unicode.Scalar)
  }

  static func action(for scalar: Unicode.Scalar) -> Action {
    let value = scalar.value
    switch value {
    case 0x20..<0x7F: return .keep
    case 0x09: return .replace(" ")
    case 0x0A, 0x0D, 0x2028, 0x2029: return .replace("⏎")
    case 0x00..<0x20: return .replace(Unicode.Scalar(0x2400 + value)!)
    case 0x7F: return .replace("␡")
    case 0x80...0x9F: return .replace("\u{FFFD}")
    case 0xA0..<0x0600: return value == 0xAD ? .drop : .keep
    default:
      return scalar.properties.generalCategory == .format ? .drop : .keep
    }
  }
}
