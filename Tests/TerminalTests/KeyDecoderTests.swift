import Testing

@testable import Terminal

// MARK: - Terminal replies are swallowed, keys pass

/// The keys the console gets from `bytes` arriving on its input (as curses hands them over:
/// one character at a time), with a pause after each chunk.
func keys(_ chunks: String...) -> [Key] {
  var decoder = KeyDecoder()
  var out: [KeyDecoder.Input] = []
  for chunk in chunks {
    for scalar in chunk.unicodeScalars { out += decoder.feed(.character(scalar.value)) }
    // Nothing more arrives within the decoder's patience.
    while decoder.isInsideSequence { out += decoder.feed(.timeout) }
  }
  return out.compactMap { NCursesTerminal.key(for: $0) }
}

@Suite("Key decoder")
struct KeyDecoderTests {
  /// The device-attributes answer to the graphics query arriving after the 500 ms cap used
  /// to be Escape (back), `?` (help), `6`, `2`, `;`, `4`, `c`.
  @Test func aLateDeviceAttributesReplyIsNotKeys() {
    #expect(keys("\u{1B}[?62;4;22c") == [])
    #expect(keys("j\u{1B}[?62;4;22ck") == [.character("j"), .character("k")])
    #expect(keys("\u{1B}[?1;2c", "q") == [.character("q")])
  }

  /// kitty's answer to the query (`ESC _ G i=31;OK ESC \`) and its error answers.
  @Test func kittyGraphicsRepliesAreSwallowed() {
    #expect(keys("\u{1B}_Gi=31;OK\u{1B}\\") == [])
    #expect(keys("\u{1B}_Gi=31;ENOENT:no such image\u{1B}\\j") == [.character("j")])
    #expect(keys("x\u{1B}_Gi=1;OK\u{1B}\\\u{1B}_Gi=2;OK\u{1B}\\y")
      == [.character("x"), .character("y")])
  }

  /// The cell-size answer (`CSI 6 ; h ; w t`), a cursor report and other CSI replies.
  @Test func otherControlSequenceRepliesAreSwallowed() {
    #expect(keys("\u{1B}[6;20;10t") == [])
    #expect(keys("\u{1B}[12;40R", "n") == [.character("n")])
    #expect(keys("\u{1B}[>41;330;0c\u{1B}[?2026;2$y") == [])
    #expect(keys("\u{9B}?62c", "j") == [.character("j")])
  }

  /// Colour reports (OSC ended by BEL or ST) and DCS replies (XTGETTCAP, sixel status).
  @Test func stringRepliesAreSwallowed() {
    #expect(keys("\u{1B}]11;rgb:0000/0000/0000\u{7}k") == [.character("k")])
    #expect(keys("\u{1B}]10;rgb:ffff/ffff/ffff\u{1B}\\") == [])
    #expect(keys("\u{1B}P1+r544e=787465726d\u{1B}\\G") == [.character("G")])
  }

  /// A reply split over several reads is still one reply.
  @Test func aReplyInPiecesIsOneReply() {
    var decoder = KeyDecoder()
    var out: [KeyDecoder.Input] = []
    for scalar in "\u{1B}_Gi=31;".unicodeScalars { out += decoder.feed(.character(scalar.value)) }
    #expect(decoder.isInsideSequence && decoder.patience == 100)
    for scalar in "OK\u{1B}\\j".unicodeScalars { out += decoder.feed(.character(scalar.value)) }
    #expect(out == [.character(UInt32(UInt8(ascii: "j")))])
    #expect(decoder.swallowed == 1)
  }

  /// Escape stays a key: alone, doubled, or before a character (Alt+key); function keys
  /// curses decoded pass as they are.
  @Test func escapeAndOtherKeysStillWork() {
    #expect(keys("\u{1B}") == [.escape])
    #expect(keys("\u{1B}", "\u{1B}") == [.escape, .escape])
    #expect(keys("\u{1B}x") == [.escape, .character("x")])
    #expect(keys("\u{1B}\u{1B}[?62c") == [.escape])
    #expect(keys("jk\tq") == [.character("j"), .character("k"), .tab, .character("q")])
    var decoder = KeyDecoder()
    #expect(decoder.feed(.keyCode(259)) == [.keyCode(259)])
    #expect(decoder.feed(.character(27)) == [])
    #expect(decoder.patience == 10)
    #expect(decoder.feed(.keyCode(258)) == [.character(27), .keyCode(258)])
  }

  /// A sequence that breaks off is dropped, and what follows is read as keys again.
  @Test func aBrokenOffSequenceIsDroppedAndKeysResume() {
    #expect(keys("\u{1B}_Gi=31;O", "j") == [.character("j")])
    #expect(keys("\u{1B}[12;4", "k") == [.character("k")])
    #expect(keys("\u{1B}[1;\u{7F}") == [.backspace])
  }
}
