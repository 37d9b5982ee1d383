// Terminal column widths, independent of the process locale.

/// Terminal display width of text: East Asian Wide/Fullwidth and emoji-presentation characters
/// take 2 columns, combining marks and zero-width characters 0, everything else 1.
///
/// Pure Swift (a range table plus the standard library's Unicode properties), so the answer
/// never depends on the process locale. Text is measured as `TextSanitizer.clean` would make
/// it, so `of(text) == of(TextSanitizer.clean(text))` always holds.
public enum DisplayWidth {
  /// Columns `text` takes once sanitised.
  public static func of(_ text: String) -> Int {
    if isPrintableASCII(text) { return text.utf8.count }
    let clean = TextSanitizer.clean(text)
    var total = 0
    for character in clean { total += width(ofClean: character) }
    return total
  }

  /// Columns one character takes once sanitised (0, 1 or 2; more for characters the
  /// sanitiser expands, such as "\r\n").
  public static func of(_ c: Character) -> Int {
    if let ascii = c.asciiValue { return ascii >= 0x20 && ascii < 0x7F ? 1 : of(String(c)) }
    let string = String(c)
    if TextSanitizer.needsCleaning(string) { return of(string) }
    return width(ofClean: c)
  }

  /// Truncates to at most `width` columns, ending in "…" when cut. Never splits a wide
  /// character (the result may then be one column narrower). The result is sanitised.
  public static func truncate(_ text: String, to width: Int) -> String {
    guard width > 0 else { return "" }
    let clean = TextSanitizer.clean(text)
    if of(clean) <= width { return clean }
    var result = ""
    var used = 0
    for character in clean {
      let w = DisplayWidth.width(ofClean: character)
      if used + w > width - 1 { break }
      result.append(character)
      used += w
    }
    result.append("…")
    return result
  }

  /// Pads with spaces (or truncates with "…") to exactly `width` columns. The result is
  /// sanitised.
  public static func pad(_ text: String, to width: Int) -> String {
    guard width > 0 else { return "" }
    let truncated = truncate(text, to: width)
    let used = of(truncated)
    return used >= width ? truncated : truncated + String(repeating: " ", count: width - used)
  }

  // MARK: - Internals

  static func isPrintableASCII(_ text: String) -> Bool {
    text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
  }

  /// Width of a character that contains no control or format scalars.
  static func width(ofClean c: Character) -> Int {
    let scalars = c.unicodeScalars
    guard let first = scalars.first else { return 0 }
    if first.value >= 0x20 && first.value < 0x7F {
      // A keycap ("1️⃣") or text followed by VS16 is shown as an emoji.
      return scalars.contains("\u{FE0F}") && scalars.count > 1 ? 2 : 1
    }
    let base = width(of: first)
    if base == 1 && scalars.count > 1 && scalars.contains("\u{FE0F}")
      && first.properties.isEmoji
    {
      return 2
    }
    return base
  }

  /// Width of a single scalar (controls count as 0 here: callers sanitise first).
  static func width(of scalar: Unicode.Scalar) -> Int {
    let value = scalar.value
    if value < 0x20 || (value >= 0x7F && value < 0xA0) { return 0 }
    if value < 0x300 { return value == 0xAD ? 0 : 1 }
    switch scalar.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format: return 0
    default: break
    }
    if (0x1160...0x11FF).contains(value) || (0xD7B0...0xD7FF).contains(value) { return 0 }
    if value == 0x200B { return 0 }
    if isWide(value) || scalar.properties.isEmojiPresentation { return 2 }
    return 1
  }

  static func isWide(_ value: UInt32) -> Bool {
    if value < wideRanges[0].lowerBound { return false }
    var low = 0
    var high = wideRanges.count - 1
    while low <= high {
      let mid = (low + high) / 2
      let range = wideRanges[mid]
      if value < range.lowerBound {
        high = mid - 1
      } else if value > range.upperBound {
        low = mid + 1
      } else {
        return true
      }
    }
    return false
  }

  /// East Asian Wide (W) and Fullwidth (F) ranges, emoji excluded (those come from the
  /// Emoji_Presentation property). Sorted, non-overlapping.
  static let wideRanges: [ClosedRange<UInt32>] = [
    0x1100...0x115F, 0x2329...0x232A, 0x2E80...0x2E99, 0x2E9B...0x2EF3, 0x2F00...0x2FD5,
    0x2FF0...0x2FFF, 0x3000...0x303E, 0x3041...0x3096, 0x3099...0x30FF, 0x3105...0x312F,
    0x3131...0x318E, 0x3190...0x31E5, 0x31EF...0x321E, 0x3220...0x3247, 0x3250...0xA48C,
    0xA490...0xA4C6, 0xA960...0xA97C, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19,
    0xFE30...0xFE52, 0xFE54...0xFE66, 0xFE68...0xFE6B, 0xFF01...0xFF60, 0xFFE0...0xFFE6,
    0x16FE0...0x16FE4, 0x16FF0...0x16FF1, 0x17000...0x187F7, 0x18800...0x18CD5,
    0x18D00...0x18D08, 0x1AFF0...0x1AFF3, 0x1AFF5...0x1AFFB, 0x1AFFD...0x1AFFE,
    0x1B000...0x1B122, 0x1B132...0x1B132, 0x1B150...0x1B152, 0x1B155...0x1B155,
    0x1B164...0x1B167, 0x1B170...0x1B2FB, 0x1F200...0x1F202, 0x1F210...0x1F23B,
    0x1F240...0x1F248, 0x1F250...0x1F251, 0x1F260...0x1F265, 0x20000...0x2FFFD,
    0x30000...0x3FFFD,
  ]
}
