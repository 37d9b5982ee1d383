// Keys, the backend protocol, and the in-memory backend tests use.

// MARK: - Keys

/// A key press or terminal event, decoded.
public enum Key: Hashable, Sendable {
  /// A printable character (any script: "a", "é", "日").
  case character(Character)
  /// Ctrl plus a letter, lower case: ctrl-a -> `.control("a")`. Ctrl-H, ctrl-I, ctrl-J and
  /// ctrl-M arrive as `.backspace`, `.tab`, `.enter` and `.enter` (terminals send the same
  /// bytes). Ctrl-@, ctrl-\, ctrl-], ctrl-^ and ctrl-_ give those punctuation characters.
  case control(Character)
  case enter, escape, tab, backTab, backspace, delete, insert
  case up, down, left, right, home, end, pageUp, pageDown
  /// F1 is `.function(1)`.
  case function(Int)
  /// The terminal changed size: read `size` again and redraw.
  case resize
}

// MARK: - Backend

/// What the console needs from a terminal. `NCursesTerminal` is the real one; ConsoleUI tests
/// use `ScriptedTerminal`.
public protocol TerminalBackend: AnyObject {
  /// Current size in columns and rows.
  var size: (width: Int, height: Int) { get }
  /// The colour depth `draw` renders with.
  var colorDepth: ColorDepth { get }
  /// Shows the screen. A screen of another size is drawn clipped / padded with blanks.
  func draw(_ screen: Screen)
  /// Waits up to timeoutMilliseconds (negative = forever) and returns nil on timeout.
  func readKey(timeoutMilliseconds: Int) -> Key?
  /// Gives the terminal back to the shell. Idempotent.
  func shutdown()
  /// Makes the next `draw` repaint every cell (for ctrl-L). Default: nothing.
  func requestFullRepaint()
  /// The graphics protocol the terminal answered to (default: none, text cells only).
  var graphics: GraphicsSupport { get }
}

extension TerminalBackend {
  public func requestFullRepaint() {}
  public var graphics: GraphicsSupport { .none }
}

// MARK: - Scripted backend

/// In-memory backend for tests: feeds scripted keys, keeps the last drawn Screen.
///
/// `readKey` returns the scripted keys in order, `.resize` once after `resize(width:height:)`,
/// and nil (whatever the timeout) when the script is exhausted, so a console loop under test
/// must stop on its own (e.g. the script ends with the quit key). A loop that keeps reading
/// an exhausted script would hang the test run, so after `exhaustedReadLimit` such reads the
/// terminal stops the process with a message saying so.
public final class ScriptedTerminal: TerminalBackend {
  public private(set) var size: (width: Int, height: Int)
  public let colorDepth: ColorDepth
  /// The most recent screen passed to `draw`.
  public private(set) var lastScreen: Screen?
  /// How many times `draw` was called.
  public var frameCount: Int = 0
  /// Keys not yet read.
  public private(set) var pendingKeys: [Key]
  /// True once `shutdown` has been called.
  public private(set) var isShutDown = false
  /// How many full repaints were requested.
  public private(set) var fullRepaintRequests = 0
  /// How many reads of an exhausted script are tolerated before failing loudly.
  public var exhaustedReadLimit = 10_000
  private var exhaustedReads = 0
  private var resizePending = false

  public init(width: Int, height: Int, keys: [Key], colorDepth: ColorDepth = .color256) {
    self.size = (max(0, width), max(0, height))
    self.pendingKeys = keys
    self.colorDepth = colorDepth
  }

  public func draw(_ screen: Screen) {
    lastScreen = screen
    frameCount += 1
  }

  public func readKey(timeoutMilliseconds: Int) -> Key? {
    if resizePending {
      resizePending = false
      return .resize
    }
    guard pendingKeys.isEmpty else { return pendingKeys.removeFirst() }
    exhaustedReads += 1
    precondition(
      exhaustedReads <= exhaustedReadLimit,
      "ScriptedTerminal: the key script ran out and the loop kept reading; end it with quit")
    return nil
  }

  public func shutdown() { isShutDown = true }

  public func requestFullRepaint() { fullRepaintRequests += 1 }

  /// Changes the size; the next `readKey` returns `.resize`.
  public func resize(width: Int, height: Int) {
    size = (max(0, width), max(0, height))
    resizePending = true
  }

  /// Appends keys to the script.
  public func enqueue(_ keys: [Key]) {
    pendingKeys.append(contentsOf: keys)
    exhaustedReads = 0
  }

  /// Appends the characters of `text` as `.character` keys.
  public func type(_ text: String) { enqueue(text.map(Key.character)) }
}
