import Testing

@testable import Terminal

// MARK: - Sanitiser

@Test func escapeSequencesBecomeVisible() {
  #expect(TextSanitizer.clean("\u{1B}[31mred") == "␛[31mred")
  #expect(TextSanitizer.clean("\u{1B}]0;title\u{07}") == "␛]0;title␇")
}

@Test func controlCharactersAreReplaced() {
  #expect(TextSanitizer.clean("a\u{00}b\u{08}c") == "a␀b␈c")
  #expect(TextSanitizer.clean("tab\there") == "tab here")
  #expect(TextSanitizer.clean("one\ntwo\r\nthree\u{2028}") == "one⏎two⏎⏎three⏎")
  #expect(TextSanitizer.clean("del\u{7F}") == "del␡")
  #expect(TextSanitizer.clean("c1\u{9B}31m\u{85}") == "c1\u{FFFD}31m\u{FFFD}")
}

@Test func bidiAndInvisibleFormatCharactersBecomeVisible() {
  #expect(TextSanitizer.clean("invoice\u{202E}fdp.exe") == "invoice<U+202E>fdp.exe")
  let bidi = "\u{202A}\u{202B}\u{202C}\u{202D}\u{2066}\u{2067}\u{2068}\u{2069}"
    + "\u{200E}\u{200F}\u{61C}"
  #expect(
    TextSanitizer.clean("a\(bidi)b")
      == "a<U+202A><U+202B><U+202C><U+202D><U+2066><U+2067><U+2068><U+2069>"
      + "<U+200E><U+200F><U+061C>b")
  #expect(
    TextSanitizer.clean("pay\u{200B}pal\u{200C}\u{200D}\u{2060}\u{FEFF}\u{AD}")
      == "pay<U+200B>pal<U+200C><U+200D><U+2060><U+FEFF><U+00AD>")
  #expect(TextSanitizer.clean("x\u{E0041}y") == "x<U+E0041>y")
  // An id with a zero-width space never looks like the id without it (finding 11).
  #expect(TextSanitizer.clean("A\u{200B}100000001") != TextSanitizer.clean("A100000001"))
  #expect(DisplayWidth.of("A\u{200B}100000001") > DisplayWidth.of("A100000001"))
}

@Test func ordinaryTextIsUntouched() {
  let text = "Zoë's café — 日本語 👍 e\u{301} ﬁ"
  #expect(TextSanitizer.clean(text) == text)
  #expect(!TextSanitizer.needsCleaning(text))
  #expect(TextSanitizer.clean("") == "")
}

@Test func sanitisingIsIdempotent() {
  let nasty = "\u{1B}[2J\u{9B}\u{202E}\n\t\u{7F}\u{0}"
  let once = TextSanitizer.clean(nasty)
  #expect(TextSanitizer.clean(once) == once)
  #expect(!TextSanitizer.needsCleaning(once))
}

@Test func longHostileStringIsHandled() {
  let unit = "\u{1B}[31m\u{202E}abc\n"
  let long = String(repeating: unit, count: 1_000)
  #expect(long.unicodeScalars.count == 10_000)
  let clean = TextSanitizer.clean(long)
  #expect(!clean.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E || $0 == "\n" })
  #expect(clean.unicodeScalars.count == 17_000)
  #expect(DisplayWidth.of(long) == 17_000)
  #expect(DisplayWidth.truncate(long, to: 20).hasSuffix("…"))
  var screen = Screen(width: 80, height: 1)
  #expect(screen.put(long, x: 0, y: 0) == 80)
  #expect(screen.rowText(0).hasPrefix("␛[31m<U+202E>abc⏎␛[31m<U+202E>abc⏎"))
}

// MARK: - Display width

@Test func asciiWidth() {
  #expect(DisplayWidth.of("hello") == 5)
  #expect(DisplayWidth.of("") == 0)
  #expect(DisplayWidth.of(Character("a")) == 1)
}

@Test func accentedWidth() {
  #expect(DisplayWidth.of("é") == 1)
  #expect(DisplayWidth.of("e\u{301}") == 1)
  #expect(DisplayWidth.of("Zoë Ångström") == 12)
  #expect(DisplayWidth.of(Character("e\u{301}")) == 1)
  #expect(DisplayWidth.of("\u{301}") == 0)
}

@Test func wideWidth() {
  #expect(DisplayWidth.of("日本語") == 6)
  #expect(DisplayWidth.of("한국어") == 6)
  #expect(DisplayWidth.of("ＡＢ") == 4)
  #expect(DisplayWidth.of("カタカナ") == 8)
  #expect(DisplayWidth.of("𠀋") == 2)
}

@Test func emojiWidth() {
  #expect(DisplayWidth.of("👍") == 2)
  #expect(DisplayWidth.of("👍🏽") == 2)
  #expect(DisplayWidth.of("🇪🇺") == 2)
  #expect(DisplayWidth.of("❤️") == 2)
  #expect(DisplayWidth.of("❤") == 1)
}

@Test func controlsAreMeasuredAsSanitised() {
  for text in ["\u{1B}[31m", "a\nb", "\r\n", "x\u{202E}y", "\u{200B}", "\t", "\u{9B}"] {
    #expect(DisplayWidth.of(text) == DisplayWidth.of(TextSanitizer.clean(text)))
  }
  #expect(DisplayWidth.of("\u{1B}[31m") == 5)
  #expect(DisplayWidth.of("x\u{202E}y") == 10)
}

@Test func truncateAddsEllipsisAndNeverOverflows() {
  #expect(DisplayWidth.truncate("hello world", to: 8) == "hello w…")
  #expect(DisplayWidth.truncate("hello", to: 5) == "hello")
  #expect(DisplayWidth.truncate("hello", to: 1) == "…")
  #expect(DisplayWidth.truncate("hello", to: 0) == "")
  #expect(DisplayWidth.truncate("hello", to: -1) == "")
  #expect(DisplayWidth.truncate("日本語", to: 6) == "日本語")
  #expect(DisplayWidth.truncate("日本語", to: 5) == "日本…")
  #expect(DisplayWidth.truncate("日本語", to: 4) == "日…")
  #expect(DisplayWidth.truncate("\u{1B}[31mred", to: 4) == "␛[3…")
  let samples = [
    "日本語テキスト", "a日b本c語", "👍👍👍", "e\u{301}e\u{301}e\u{301}x", "plain text",
  ]
  for sample in samples {
    for width in 0...16 {
      let truncated = DisplayWidth.truncate(sample, to: width)
      #expect(DisplayWidth.of(truncated) <= width)
      #expect(truncated.hasSuffix("…") == (DisplayWidth.of(sample) > width && width > 0))
    }
  }
}

@Test func padGivesExactWidth() {
  #expect(DisplayWidth.pad("ab", to: 4) == "ab  ")
  #expect(DisplayWidth.pad("abcdef", to: 4) == "abc…")
  #expect(DisplayWidth.pad("日本語", to: 5) == "日本…")
  #expect(DisplayWidth.pad("日本語", to: 4) == "日… ")
  #expect(DisplayWidth.pad("x", to: 0) == "")
  for width in 0...10 {
    #expect(DisplayWidth.of(DisplayWidth.pad("日本語テキスト", to: width)) == width)
  }
}
