// Untrusted text in, harmless text out (the cell-grid rendering of TextSafety's one sanitiser).

import TextSafety

/// Makes untrusted text (names, notes, file names) harmless before it reaches the screen.
///
/// The rules are `SafeText.forScreen` (module TextSafety, the one sanitiser of csar): TAB becomes
/// one space; LF, CR, U+2028 and U+2029 "⏎"; other C0 controls their control picture (ESC shows
/// as "␛"), DEL "␡", C1 controls "�"; bidi controls and invisible format characters (ZWSP,
/// U+FEFF, soft hyphen, tag characters, …) show as `<U+200B>`, so that two ids that differ only
/// by an invisible character never look alike. `clean` is idempotent, and `Screen.put` always
/// applies it, so nothing can bypass it.
public enum TextSanitizer {
  /// Returns `text` with every control and invisible format character made harmless.
  public static func clean(_ text: String) -> String { SafeText.forScreen(text) }

  /// True when `clean` would change `text`.
  public static func needsCleaning(_ text: String) -> Bool { !SafeText.isPlain(text) }
}
