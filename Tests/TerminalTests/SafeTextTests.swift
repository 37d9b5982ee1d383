import Foundation
import Testing
import TextSafety

/// The one sanitiser's plain-output renderings (the screen rendering is in TextTests).
@Suite("Safe text for plain output")
struct SafeTextTests {
  /// Every scalar that must never reach a terminal raw.
  static let hostile: [Unicode.Scalar] =
    (0..<0x20).filter { $0 != 0x0A && $0 != 0x09 }.map { Unicode.Scalar($0)! }
    + [0x7F, 0x85, 0x9B, 0x9D, 0x061C, 0x200B, 0x200E, 0x200F, 0x202A, 0x202E, 0x2066,
      0x2069, 0x2028, 0xFEFF, 0x00AD, 0xE0041].map { Unicode.Scalar($0)! }

  @Test func outputEscapesEveryControlButNewlineAndTab() {
    for scalar in Self.hostile {
      let text = "a" + String(scalar) + "b\tc\n"
      let out = SafeText.forOutput(text)
      #expect(!out.unicodeScalars.contains(scalar), "U+\(String(scalar.value, radix: 16))")
      #expect(out.hasPrefix("a\\u") && out.hasSuffix("b\tc\n"))
    }
    #expect(SafeText.forOutput("\u{1B}]0;owned\u{07}") == "\\u001b]0;owned\\u0007")
    #expect(SafeText.forOutput("x\u{E0041}") == "x\\udb40\\udc41")
    let plain = "Zoë's café — 日本語 👍 e\u{301}"
    #expect(SafeText.forOutput(plain) == plain)
  }

  @Test func escapedValuesCannotBreakALine() {
    #expect(SafeText.escaped("a\nb\tc") == "a\\u000ab\\u0009c")
    #expect(SafeText.quoted(String(repeating: "x", count: 100)).count == 81)
  }

  /// JSON text through the writer still decodes to exactly the same strings.
  @Test func jsonStaysExact() throws {
    let values = Self.hostile.map { "id" + String($0) + "\u{202E}end" }
    let data = try JSONSerialization.data(withJSONObject: values)
    let text = String(decoding: data, as: UTF8.self)
    let safe = SafeText.forOutput(text)
    #expect(!safe.unicodeScalars.contains { Self.hostile.contains($0) })
    let back = try JSONSerialization.jsonObject(with: Data(safe.utf8)) as? [String]
    #expect(back == values)
  }
}

/// Code points of texts a terminal draws alike.
@Suite("Differing code points")
struct DifferingCodePointsTests {
  @Test func showsOnlyWhereTheSpellingsDiffer() {
    #expect(
      SafeText.differingCodePoints(["Zoe\u{308}-4", "Zo\u{EB}-4"])
        == ["U+0065 U+0308", "U+00EB"])
    #expect(SafeText.differingCodePoints(["e\u{301}", "\u{E9}"]) == ["U+0065 U+0301", "U+00E9"])
    // From the first difference to the last, across three spellings.
    #expect(
      SafeText.differingCodePoints(["a\u{E9}b\u{E9}", "ae\u{301}b\u{E9}", "a\u{E9}be\u{301}"])
        == [
          "U+00E9 U+0062 U+00E9", "U+0065 U+0301 U+0062 U+00E9",
          "U+00E9 U+0062 U+0065 U+0301",
        ])
    #expect(SafeText.differingCodePoints(["ab", "abc"]) == ["(none)", "U+0063"])
    #expect(SafeText.differingCodePoints(["x", "x"]) == ["(same)", "(same)"])
    #expect(SafeText.codePoints("A\u{200B}".unicodeScalars) == "U+0041 U+200B")
  }

  @Test func longDifferencesAreCut() {
    let long = String(repeating: "e\u{301}", count: 6)
    let composed = String(repeating: "\u{E9}", count: 6)
    let shown = SafeText.differingCodePoints([long, composed], limit: 4)
    #expect(shown[0] == "U+0065 U+0301 U+0065 U+0301 …")
    #expect(shown[1] == "U+00E9 U+00E9 U+00E9 U+00E9 …")
  }
}
