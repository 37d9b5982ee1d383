import Testing

@testable import Terminal

// MARK: - put

@Test func putWritesTextAndReturnsColumns() {
  var screen = Screen(width: 10, height: 2)
  let written = screen.put("hello", x: 1, y: 0)
  #expect(written == 5)
  #expect(screen.rowText(0) == " hello")
  #expect(screen.text == " hello\n")
}

@Test func putClipsAtTheRightEdgeAndMaxWidth() {
  var screen = Screen(width: 6, height: 1)
  #expect(screen.put("abcdefgh", x: 2, y: 0) == 4)
  #expect(screen.rowText(0) == "  abcd")
  screen.clear()
  #expect(screen.put("abcdefgh", x: 0, y: 0, maxWidth: 3) == 3)
  #expect(screen.rowText(0) == "abc")
  #expect(screen.put("zz", x: 0, y: 0, maxWidth: 0) == 0)
  #expect(screen.put("zz", x: 0, y: 0, maxWidth: -4) == 0)
  #expect(screen.rowText(0) == "abc")
}

@Test func putAppliesStyle() {
  var screen = Screen(width: 4, height: 1)
  let style = CellStyle(foreground: .indexed(1), attributes: [.bold])
  screen.put("ab", x: 0, y: 0, style: style)
  #expect(screen[0, 0].style == style)
  #expect(screen[1, 0].style == style)
  #expect(screen[2, 0].style == .plain)
}

@Test func wideCharactersTakeTwoCells() {
  var screen = Screen(width: 8, height: 1)
  #expect(screen.put("日本語", x: 0, y: 0) == 6)
  #expect(screen[0, 0].character == "日")
  #expect(screen[1, 0].isContinuation)
  #expect(screen[2, 0].character == "本")
  #expect(!screen[2, 0].isContinuation)
  #expect(screen.rowText(0) == "日本語")
}

@Test func wideCharacterStraddlingTheEdgeBecomesASpace() {
  var screen = Screen(width: 5, height: 1)
  #expect(screen.put("日本語", x: 0, y: 0) == 5)
  #expect(screen.rowText(0) == "日本")
  #expect(screen[4, 0].character == " ")
  #expect(!screen[4, 0].isContinuation)

  var clipped = Screen(width: 10, height: 1)
  #expect(clipped.put("a日本", x: 0, y: 0, maxWidth: 4) == 4)
  #expect(clipped.rowText(0) == "a日")
  #expect(clipped[3, 0].character == " ")
}

@Test func wideCharacterCutByTheLeftEdgeBecomesASpace() {
  var screen = Screen(width: 6, height: 1)
  screen.fill(x: 0, y: 0, width: 6, height: 1, character: ".")
  #expect(screen.put("日本", x: -1, y: 0) == 4)
  #expect(screen[0, 0].character == " ")
  #expect(!screen[0, 0].isContinuation)
  #expect(screen[1, 0].character == "本")
  #expect(screen.rowText(0) == " 本...")
}

@Test func negativeAndOutOfBoundsCoordinatesAreIgnored() {
  var screen = Screen(width: 4, height: 2)
  #expect(screen.put("abc", x: 0, y: -1) == 0)
  #expect(screen.put("abc", x: 0, y: 2) == 0)
  #expect(screen.put("abc", x: 4, y: 0) == 0)
  #expect(screen.put("abcdef", x: -2, y: 0) == 6)
  #expect(screen.rowText(0) == "cdef")
  #expect(screen.put("x", x: Int.max, y: Int.max) == 0)
  #expect(screen.put("x", x: Int.min, y: Int.min) == 0)
  #expect(screen.put("xy", x: Int.min, y: 1) == 2)
  #expect(screen.put("xy", x: 1, y: 1, maxWidth: Int.max) == 2)
  screen.fill(x: Int.min, y: Int.min, width: Int.max, height: Int.max, character: "!")
  #expect(screen.rowText(0) == "cdef")
  screen.fill(x: -10, y: -10, width: Int.max, height: Int.max, character: "#")
  screen.fill(x: -3, y: -3, width: 2, height: 2, character: "!")
  screen[-1, 0] = Cell(character: "z")
  screen[0, 99] = Cell(character: "z")
  #expect(screen[-1, -1] == .blank)
  #expect(screen.rowText(-1) == "")
  #expect(screen.text == "####\n####")
}

@Test func zeroSizedScreensAreSafe() {
  var screen = Screen(width: 0, height: -3)
  #expect(screen.width == 0 && screen.height == 0)
  #expect(screen.put("abc", x: 0, y: 0) == 0)
  screen.fill(x: 0, y: 0, width: 3, height: 3)
  #expect(screen.text == "")
}

@Test func putSanitisesEverything() {
  var screen = Screen(width: 20, height: 1)
  screen.put("a\u{1B}[31mb\u{202E}c", x: 0, y: 0)
  #expect(screen.rowText(0) == "a␛[31mb<U+202E>c")
}

@Test func overwritingHalfAWideCharacterBlanksTheOtherHalf() {
  var screen = Screen(width: 6, height: 1)
  screen.put("日本語", x: 0, y: 0)
  screen.put("x", x: 1, y: 0)
  #expect(screen.rowText(0) == " x本語")
  screen.put("y", x: 2, y: 0)
  #expect(screen.rowText(0) == " xy 語")
  #expect(!screen[3, 0].isContinuation)
}

@Test func combiningMarksStayInTheirCell() {
  var screen = Screen(width: 4, height: 1)
  #expect(screen.put("e\u{301}x", x: 0, y: 0) == 2)
  #expect(screen[0, 0].character == "e\u{301}")
  #expect(screen[1, 0].character == "x")
}

// MARK: - fill, clear, rows

@Test func fillClipsAndUsesTheStyle() {
  var screen = Screen(width: 5, height: 3)
  let style = CellStyle(background: .indexed(4))
  screen.fill(x: 3, y: 1, width: 10, height: 10, character: "#", style: style)
  #expect(screen.text == "\n   ##\n   ##")
  #expect(screen[4, 2].style == style)
  screen.clear()
  #expect(screen.text == "\n\n")
}

@Test func fillWithAWideCharacterPairsCells() {
  var screen = Screen(width: 5, height: 1)
  screen.fill(x: 0, y: 0, width: 5, height: 1, character: "日")
  #expect(screen.rowText(0) == "日日")
  #expect(screen[1, 0].isContinuation)
  #expect(screen[4, 0].character == " ")
  screen.fill(x: 0, y: 0, width: 2, height: 1, character: "\u{1B}")
  #expect(screen.rowText(0) == "␛␛日")
}

@Test func rowTextSkipsContinuationsAndTrimsTrailingSpaces() {
  var screen = Screen(width: 10, height: 1)
  screen.put("語 a  ", x: 0, y: 0)
  #expect(screen.rowText(0) == "語 a")
  #expect(screen.row(0).count == 10)
  #expect(screen.row(5).isEmpty)
}

@Test func cursorIsCarriedWithTheScreen() {
  var screen = Screen(width: 3, height: 1)
  #expect(screen.cursor == nil)
  screen.cursor = (x: 1, y: 0)
  #expect(screen.cursor?.x == 1)
}
