// MARK: - Code points, for texts that look alike

extension SafeText {
  /// `U+0065 U+0301`: each scalar of `scalars` by its code point, for telling apart texts a
  /// terminal draws alike (an id in NFD and in NFC, say).
  public static func codePoints(_ scalars: some Sequence<Unicode.Scalar>) -> String {
    scalars.map { "U+" + hex($0.value, digits: 4, uppercase: true) }.joined(separator: " ")
  }

  /// Where `texts` differ, as code points: for each text, its scalars from the first one
  /// where any two texts differ to the last, at most `limit` of them (then `…`). A text
  /// with nothing there (`ab` against `abc`) gives `(none)`; equal texts give `(same)`.
  ///
  /// `["Zoe\u{308}-4", "Zo\u{EB}-4"]` gives `["U+0065 U+0308", "U+00EB"]`.
  public static func differingCodePoints(_ texts: [String], limit: Int = 8) -> [String] {
    let scalars = texts.map { Array($0.unicodeScalars) }
    guard let first = scalars.first, scalars.contains(where: { $0 != first }) else {
      return texts.map { _ in "(same)" }
    }
    let shortest = scalars.map(\.count).min() ?? 0
    var prefix = 0
    while prefix < shortest, scalars.allSatisfy({ $0[prefix] == first[prefix] }) {
      prefix += 1
    }
    var suffix = 0
    while suffix < shortest - prefix,
      scalars.allSatisfy({ $0[$0.count - 1 - suffix] == first[first.count - 1 - suffix] })
    {
      suffix += 1
    }
    return scalars.map { text in
      let middle = text[prefix..<(text.count - suffix)]
      if middle.isEmpty { return "(none)" }
      let shown = codePoints(middle.prefix(limit))
      return middle.count > limit ? shown + " …" : shown
    }
  }
}
