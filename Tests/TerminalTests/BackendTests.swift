import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@testable import Terminal

// MARK: - Scripted backend

@Test func scriptedTerminalFeedsKeysAndKeepsFrames() {
  let terminal = ScriptedTerminal(width: 20, height: 5, keys: [.character("j"), .enter])
  #expect(terminal.size.width == 20 && terminal.size.height == 5)
  #expect(terminal.colorDepth == .color256)
  #expect(terminal.readKey(timeoutMilliseconds: -1) == .character("j"))
  var screen = Screen(width: 20, height: 5)
  screen.put("hi", x: 0, y: 0)
  terminal.draw(screen)
  #expect(terminal.frameCount == 1)
  #expect(terminal.lastScreen?.rowText(0) == "hi")
  #expect(terminal.readKey(timeoutMilliseconds: 10) == .enter)
  #expect(terminal.readKey(timeoutMilliseconds: -1) == nil)
  terminal.type("ab")
  #expect(terminal.readKey(timeoutMilliseconds: 0) == .character("a"))
  terminal.shutdown()
  terminal.shutdown()
  #expect(terminal.isShutDown)
}

@Test func scriptedResizeIsReportedOnce() {
  let terminal = ScriptedTerminal(width: 80, height: 24, keys: [.escape], colorDepth: .monochrome)
  terminal.resize(width: 100, height: 30)
  #expect(terminal.size.width == 100 && terminal.size.height == 30)
  #expect(terminal.readKey(timeoutMilliseconds: 0) == .resize)
  #expect(terminal.readKey(timeoutMilliseconds: 0) == .escape)
  let backend: any TerminalBackend = terminal
  backend.requestFullRepaint()
  #expect(terminal.fullRepaintRequests == 1)
}

// MARK: - ncurses key decoding

@Test func charactersDecode() {
  #expect(NCursesTerminal.key(forCharacter: 0x61) == .character("a"))
  #expect(NCursesTerminal.key(forCharacter: 0xE9) == .character("é"))
  #expect(NCursesTerminal.key(forCharacter: 0x65E5) == .character("日"))
  #expect(NCursesTerminal.key(forCharacter: 1) == .control("a"))
  #expect(NCursesTerminal.key(forCharacter: 26) == .control("z"))
  #expect(NCursesTerminal.key(forCharacter: 12) == .control("l"))
  #expect(NCursesTerminal.key(forCharacter: 9) == .tab)
  #expect(NCursesTerminal.key(forCharacter: 10) == .enter)
  #expect(NCursesTerminal.key(forCharacter: 13) == .enter)
  #expect(NCursesTerminal.key(forCharacter: 127) == .backspace)
  #expect(NCursesTerminal.key(forCharacter: 8) == .backspace)
  #expect(NCursesTerminal.key(forCharacter: 27) == .escape)
  #expect(NCursesTerminal.key(forCharacter: 0x9B) == nil)
}

@Test func functionKeysDecode() {
  #expect(NCursesTerminal.key(forKeyCode: 0o632) == .resize)  // KEY_RESIZE
  #expect(NCursesTerminal.key(forKeyCode: 0o541) == .backTab)  // KEY_BTAB
  #expect(NCursesTerminal.key(forKeyCode: 0o403) == .up)
  #expect(NCursesTerminal.key(forKeyCode: 0o402) == .down)
  #expect(NCursesTerminal.key(forKeyCode: 0o522) == .pageDown)  // KEY_NPAGE
  #expect(NCursesTerminal.key(forKeyCode: 0o523) == .pageUp)  // KEY_PPAGE
  #expect(NCursesTerminal.key(forKeyCode: 0o512) == .delete)  // KEY_DC
  #expect(NCursesTerminal.key(forKeyCode: 0o407) == .backspace)
  #expect(NCursesTerminal.key(forKeyCode: 0o527) == .enter)  // KEY_ENTER
  #expect(NCursesTerminal.key(forKeyCode: 0o410 + 1) == .function(1))
  #expect(NCursesTerminal.key(forKeyCode: 0o410 + 12) == .function(12))
  #expect(NCursesTerminal.key(forKeyCode: 0o631) == nil)  // KEY_MOUSE
}

@Test func directColourPacking() {
  #expect(NCursesTerminal.packed(255, 0, 0) == 0xFF0000)
  #expect(NCursesTerminal.packed(0, 0, 0) == 8)
}

@Test func constructionOutsideATerminalThrows() throws {
  // `swift test` runs with stdout captured, so this must fail cleanly instead of exiting.
  guard !(isatty(0) == 1 && isatty(1) == 1) else { return }
  #expect(throws: TerminalError.self) { _ = try NCursesTerminal() }
  do {
    _ = try NCursesTerminal()
  } catch {
    #expect(error.reason == .notATerminal)
    #expect(!error.description.isEmpty)
  }
}

@Test func outrunningTheScriptFailsInsteadOfHanging() async {
  await #expect(processExitsWith: .failure) {
    let terminal = ScriptedTerminal(width: 10, height: 2, keys: [])
    terminal.exhaustedReadLimit = 3
    while true { _ = terminal.readKey(timeoutMilliseconds: 1000) }
  }
}
