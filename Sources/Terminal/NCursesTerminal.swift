// The ncurses backend: the only code in the project that touches ncurses.
//
// The stateful shim functions (`csar_term_*`) are header-only statics: call them from this
// file only, so every caller shares one copy of their state (see shim.h).
import CNCurses

// MARK: - Errors

/// Why the terminal could not be taken over.
public struct TerminalError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The kind of failure.
  public enum Reason: Equatable, Sendable {
    /// stdin or stdout is not a terminal (piped, redirected, no tty).
    case notATerminal
    /// ncurses could not start (TERM unset or unknown to terminfo).
    case initializationFailed
    /// Another NCursesTerminal is still running; shut it down first.
    case alreadyActive
  }

  public let reason: Reason
  public let description: String

  public init(reason: Reason, description: String) {
    self.reason = reason
    self.description = description
  }
}

// MARK: - Terminal

/// The ncurses implementation of `TerminalBackend`.
///
/// Taking over the terminal sets the locale (falling back to a UTF-8 LC_CTYPE when the
/// environment has none), starts curses on stdin/stdout (cbreak, noecho, nonl, keypad, hidden
/// cursor, 25 ms ESC delay) and starts colour unless the depth is monochrome.
///
/// The terminal is always given back: `shutdown()` (idempotent, also run by deinit), an atexit
/// handler, SIGINT/SIGTERM/SIGHUP/SIGQUIT handlers (restore, then exit with 128 + signo) and
/// SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGABRT/SIGTRAP handlers (restore, then hand the signal to the
/// previous action: the default one, or the Swift runtime's backtracer). The signal handlers
/// only write a precomputed reset sequence and restore the saved tty modes (async-signal-safe).
/// `shutdown()` puts the previous signal actions back.
public final class NCursesTerminal: TerminalBackend {
  public let colorDepth: ColorDepth
  private let window: UnsafeMutablePointer<WINDOW>
  private let usesDefaultColors: Bool
  private var isShutDown = false
  private var needsFullRepaint = false
  private var cursorVisible = false
  /// What the terminal cannot combine with colour (terminfo `ncv`).
  private var noColorVideo = NoColorVideo(mask: 0)
  /// The graphics protocol the terminal answered to when asked at start.
  public private(set) var graphics = GraphicsSupport.none
  /// Whether the terminal's background is light, as it answered at start (nil: it did not
  /// say). The console then picks a theme drawn for it, unless one was chosen.
  public private(set) var backgroundIsLight: Bool?
  /// The pictures on the terminal now (drawn by the graphics protocol).
  var shownGraphics: [ScreenGraphic] = []
  private var lastSize: (width: Int, height: Int)
  /// Tells key presses from the terminal's own replies (late or unasked ones).
  private var decoder = KeyDecoder()
  /// Keys the decoder released and `readKey` has not returned yet.
  private var pendingInputs: [KeyDecoder.Input] = []

  /// Takes over the terminal. `colorDepthOverride` (e.g. from a `--color` flag) wins over
  /// NO_COLOR and COLORTERM, but is capped at what the terminal can show.
  public init(colorDepthOverride: ColorDepth? = nil) throws(TerminalError) {
    _ = csar_setup_locale()
    switch Int(csar_term_start()) {
    case CSAR_TERM_OK: break
    case CSAR_TERM_NOT_A_TTY:
      throw TerminalError(
        reason: .notATerminal,
        description: "csar's console needs a terminal: stdin and stdout must not be redirected")
    case CSAR_TERM_ALREADY_ACTIVE:
      throw TerminalError(
        reason: .alreadyActive, description: "the terminal is already in use by csar's console")
    default:
      let term = getenv("TERM").map { String(cString: $0) } ?? "(unset)"
      throw TerminalError(
        reason: .initializationFailed,
        description: "cannot start the console: ncurses does not know TERM=\(term)")
    }
    guard let window = csar_stdscr() else {
      csar_term_stop()
      throw TerminalError(reason: .initializationFailed, description: "ncurses gave no screen")
    }
    self.window = window

    let hasColors = has_colors()
    let reportedColors = Int(max(0, tigetnum("colors")))
    var environment: [String: String] = [:]
    for name in ["NO_COLOR", "COLORTERM"] {
      if let value = getenv(name) { environment[name] = String(cString: value) }
    }
    let capability = ColorDepth.detect(
      environment: [:], reportedColors: reportedColors, hasColors: hasColors)
    if let colorDepthOverride {
      colorDepth = colorDepthOverride.limited(to: capability)
    } else {
      colorDepth = ColorDepth.detect(
        environment: environment, reportedColors: reportedColors, hasColors: hasColors)
    }
    if colorDepth != .monochrome, start_color() == OK {
      usesDefaultColors = use_default_colors() == OK
      noColorVideo = NoColorVideo(mask: tigetnum("ncv"))
    } else {
      usesDefaultColors = false
    }
    lastSize = (Int(csar_getmaxx(window)), Int(csar_getmaxy(window)))
    (graphics, backgroundIsLight) = Self.askTerminal()
  }

  deinit { shutdown() }

  // MARK: - TerminalBackend

  public var size: (width: Int, height: Int) {
    guard !isShutDown else { return lastSize }
    lastSize = (Int(csar_getmaxx(window)), Int(csar_getmaxy(window)))
    return lastSize
  }

  public func shutdown() {
    guard !isShutDown else { return }
    isShutDown = true
    clearGraphics()
    csar_term_stop()
  }

  public func requestFullRepaint() { needsFullRepaint = true }

  public func draw(_ screen: Screen) {
    guard !isShutDown else { return }
    let rows = Int(csar_getmaxy(window))
    let columns = Int(csar_getmaxx(window))
    if needsFullRepaint {
      clearok(window, true)
      needsFullRepaint = false
      // A cleared screen loses sixel pixels: send the pictures again.
      if graphics.graphicsProtocol == .sixel { shownGraphics = [] }
    }
    var styles: [CellStyle: (attributes: attr_t, pair: Int32)] = [:]
    var cchar = cchar_t()
    var text = [wchar_t](repeating: 0, count: 8)
    for y in 0..<rows {
      var skipContinuation = false
      for x in 0..<columns {
        let cell = screen[x, y]
        if cell.isContinuation, skipContinuation {
          skipContinuation = false
          continue
        }
        skipContinuation = false
        let ink: (attributes: attr_t, pair: Int32)
        if let cached = styles[cell.style] {
          ink = cached
        } else {
          ink = resolve(cell.style)
          styles[cell.style] = ink
        }
        var character = cell.isContinuation ? " " : cell.character
        let wide = character != " " && prepare(
          &character, fitsWide: x + 1 < columns && screen[x + 1, y].isContinuation)
        fillText(&text, with: character)
        if csar_setcchar(&cchar, text, ink.attributes, ink.pair) == ERR {
          text[0] = wchar_t(0x3F)
          text[1] = 0
          _ = csar_setcchar(&cchar, text, ink.attributes, ink.pair)
        }
        // The bottom-right cell reports ERR (the cursor cannot advance) but is stored.
        _ = mvwadd_wch(window, Int32(y), Int32(x), &cchar)
        skipContinuation = wide
      }
    }
    placeCursor(screen.cursor, rows: rows, columns: columns)
    wnoutrefresh(window)
    doupdate()
    if graphics.graphicsProtocol != nil { drawGraphics(screen.graphics) }
  }

  /// The next key, read through ``KeyDecoder``: a terminal reply arriving on the input (a
  /// late answer to the graphics query, a kitty acknowledgement) is swallowed whole, never
  /// turned into keys. While a reply is being read the wait is the decoder's, not the
  /// caller's (at most 100 ms per input).
  public func readKey(timeoutMilliseconds: Int) -> Key? {
    guard !isShutDown else { return nil }
    let clock = ContinuousClock()
    let start = clock.now
    while true {
      while !pendingInputs.isEmpty {
        if let key = Self.key(for: pendingInputs.removeFirst()) {
          if key == .resize {
            needsFullRepaint = true
            // A font size changed with the window changes the cells' pixels too.
            if let cell = Self.windowCellPixels() { graphics.cellPixels = cell }
          }
          return key
        }
      }
      var wait: Int32 = -1
      if timeoutMilliseconds >= 0 {
        let elapsed = start.duration(to: clock.now).components
        let elapsedMilliseconds = Int(elapsed.seconds) * 1000
          + Int(elapsed.attoseconds / 1_000_000_000_000_000)
        wait = Int32(clamping: max(0, timeoutMilliseconds - elapsedMilliseconds))
      }
      let inside = decoder.isInsideSequence
      if inside { wait = decoder.patience }
      wtimeout(window, wait)
      var code: wint_t = 0
      let result = wget_wch(window, &code)
      let input: KeyDecoder.Input
      if result == ERR {
        if !inside {
          // Blocking reads only fail when input is gone: don't let a caller spin.
          if wait < 0 { usleep(10_000) }
          return nil
        }
        input = .timeout
      } else {
        input =
          result == KEY_CODE_YES
          ? .keyCode(Int32(truncatingIfNeeded: code))
          : .character(UInt32(truncatingIfNeeded: code))
      }
      pendingInputs += decoder.feed(input)
      if pendingInputs.isEmpty, !decoder.isInsideSequence, wait == 0, !inside { return nil }
    }
  }

  /// The key of one decoded input (nil: not a key).
  static func key(for input: KeyDecoder.Input) -> Key? {
    switch input {
    case .character(let code): return key(forCharacter: code)
    case .keyCode(let code): return key(forKeyCode: code)
    case .timeout: return nil
    }
  }

  // MARK: - Drawing helpers

  /// Approximates a style to the depth and finds its ncurses attributes and colour pair.
  private func resolve(_ style: CellStyle) -> (attributes: attr_t, pair: Int32) {
    let attributes = csar_attributes(UInt32(style.attributes.rawValue))
    guard colorDepth != .monochrome else { return (attributes, 0) }
    let approximated = ColorApproximation.approximate(style, depth: colorDepth)
    if approximated.foreground == .default, approximated.background == .default {
      return (attributes, 0)
    }
    let pair = alloc_pair(
      colorNumber(approximated.foreground, isForeground: true),
      colorNumber(approximated.background, isForeground: false))
    guard pair > 0 else { return (attributes, 0) }
    // A coloured cell: what the terminal cannot show with colour is replaced, not lost.
    let shown = noColorVideo.substitute(style.attributes)
    return (csar_attributes(UInt32(shown.rawValue)), pair)
  }

  private func colorNumber(_ color: TerminalColor, isForeground: Bool) -> Int32 {
    switch color {
    case .default:
      return usesDefaultColors ? -1 : (isForeground ? 7 : 0)
    case .indexed(let index):
      guard colorDepth == .trueColor, index >= 8 else { return Int32(index) }
      let (r, g, b) = ColorApproximation.components(ofIndexed: index)
      return Self.packed(r, g, b)
    case let .rgb(r, g, b):
      if colorDepth == .trueColor { return Self.packed(r, g, b) }
      if case .indexed(let index) = ColorApproximation.approximate(color, depth: .color256) {
        return Int32(index)
      }
      return -1
    }
  }

  /// Direct-colour terminfo takes 0xRRGGBB, except that values below 8 mean the ANSI colours.
  static func packed(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Int32 {
    max(8, Int32(r) << 16 | Int32(g) << 8 | Int32(b))
  }

  /// Makes a cell's character safe to hand to ncurses and says whether it is drawn wide.
  /// ncurses measures with the C library's wcwidth; where that disagrees with DisplayWidth,
  /// the character is narrowed (its continuation then drawn as a space) or replaced by "?",
  /// so columns never shift.
  private func prepare(_ character: inout Character, fitsWide: Bool) -> Bool {
    if let ascii = character.asciiValue, ascii >= 0x20, ascii < 0x7F { return false }
    let string = String(character)
    if TextSanitizer.needsCleaning(string) {
      character = TextSanitizer.clean(string).first ?? " "
    }
    guard let first = character.unicodeScalars.first else {
      character = " "
      return false
    }
    let ours = DisplayWidth.width(ofClean: character)
    let theirs = Int(csar_wcwidth(Int32(bitPattern: first.value)))
    switch (ours, theirs) {
    case (2, 2) where fitsWide: return true
    case (2, 1) where fitsWide: return false
    case (1, 1): return false
    case (0, _): character = " "
    default: character = "?"
    }
    return false
  }

  /// Fills `text` with the character's scalars: the base and up to four zero-width marks.
  private func fillText(_ text: inout [wchar_t], with character: Character) {
    var count = 0
    for scalar in character.unicodeScalars {
      if count > 0 && csar_wcwidth(Int32(bitPattern: scalar.value)) != 0 { continue }
      text[count] = wchar_t(bitPattern: scalar.value)
      count += 1
      if count == 5 { break }
    }
    text[count] = 0
  }

  private func placeCursor(_ cursor: (x: Int, y: Int)?, rows: Int, columns: Int) {
    if let cursor, cursor.x >= 0, cursor.y >= 0, cursor.x < columns, cursor.y < rows {
      if !cursorVisible {
        curs_set(1)
        leaveok(window, false)
        cursorVisible = true
      }
      wmove(window, Int32(cursor.y), Int32(cursor.x))
    } else if cursorVisible {
      curs_set(0)
      leaveok(window, true)
      cursorVisible = false
    }
  }

  // MARK: - Key decoding

  /// Decodes a character read by wget_wch (result OK).
  static func key(forCharacter code: UInt32) -> Key? {
    switch code {
    case 9: return .tab
    case 10, 13: return .enter
    case 8, 127: return .backspace
    case 27: return .escape
    case 0: return .control("@")
    case 1...26: return .control(Character(Unicode.Scalar(UInt8(0x60 + code))))
    case 28: return .control("\\")
    case 29: return .control("]")
    case 30: return .control("^")
    case 31: return .control("_")
    case 0x80...0x9F: return nil
    default: return Unicode.Scalar(code).map { .character(Character($0)) }
    }
  }

  /// Decodes a function-key code read by wget_wch (result KEY_CODE_YES).
  static func key(forKeyCode code: Int32) -> Key? {
    let f0 = csar_key_f0()
    if code > f0, code <= f0 + 63 { return .function(Int(code - f0)) }
    switch code {
    case KEY_UP, KEY_SR: return .up
    case KEY_DOWN, KEY_SF: return .down
    case KEY_LEFT, KEY_SLEFT: return .left
    case KEY_RIGHT, KEY_SRIGHT: return .right
    case KEY_HOME, KEY_SHOME, KEY_FIND, KEY_A1: return .home
    case KEY_END, KEY_SEND, KEY_SELECT, KEY_C1: return .end
    case KEY_PPAGE, KEY_SPREVIOUS, KEY_A3: return .pageUp
    case KEY_NPAGE, KEY_SNEXT, KEY_C3: return .pageDown
    case KEY_DC, KEY_SDC: return .delete
    case KEY_IC, KEY_SIC: return .insert
    case KEY_BTAB: return .backTab
    case KEY_ENTER: return .enter
    case KEY_BACKSPACE: return .backspace
    case KEY_RESIZE: return .resize
    default: return nil
    }
  }
}
