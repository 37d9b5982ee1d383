// Key presses apart from the terminal's own replies.

// MARK: - Terminal replies are not keys

/// Sits between curses' input and the console's keys: passes key presses through and
/// swallows what the terminal says by itself, which arrives on the same input.
///
/// The console asks the terminal about graphics (``GraphicsDetection``) and waits 500 ms for
/// the answer; an answer arriving later (a slow ssh link, a busy terminal), or one the
/// terminal sends unasked (a kitty graphics acknowledgement, a colour report), used to be
/// read as keys: `ESC [ ? 62 ; 4 c` became Escape (back), `?` (help), `6`, `2` ... This type
/// recognises, after an ESC that curses did not decode as a key:
/// - control sequences `ESC [ params intermediates final` (device attributes `ESC [ ? ... c`,
///   the cell size `ESC [ 6 ; h ; w t`, cursor reports, unknown function keys);
/// - string sequences ended by `ESC \` (or BEL for OSC): APC `ESC _ ...` (kitty graphics
///   `ESC _ G ... ESC \`), DCS `ESC P ...`, OSC `ESC ] ...`, PM `ESC ^`, SOS `ESC X`;
/// - SS3 `ESC O x` (an unknown function key);
/// - the same introduced by the 8-bit C1 bytes (0x9B, 0x9F, 0x90, 0x9D, 0x9E, 0x98, 0x8F).
///
/// A lone ESC (nothing follows within ``patience``) is the Escape key; ESC followed by any
/// other character is Escape and that character (Alt+key), as before. A sequence that stops
/// arriving, or grows past ``longest`` inputs, is dropped and decoding starts afresh.
public struct KeyDecoder: Sendable {
  /// One thing curses read: a character (`wget_wch` OK), a decoded function key
  /// (`KEY_CODE_YES`), or nothing within the wait.
  public enum Input: Equatable, Sendable {
    case character(UInt32)
    case keyCode(Int32)
    case timeout
  }

  enum State: Equatable, Sendable {
    case ground
    /// ESC read: a key, or the start of a sequence.
    case escape
    /// Inside a control sequence (after `ESC [`).
    case controlSequence
    /// After `ESC O`: one more character.
    case singleShift
    /// Inside a string sequence; `escaped`: an ESC was just read (`ESC \` ends it).
    case string(escaped: Bool)
  }

  private(set) var state: State = .ground
  private var length = 0
  /// Terminal replies (and unknown key sequences) swallowed so far.
  public private(set) var swallowed = 0

  /// Inputs after which a sequence is given up (a runaway string).
  public static let longest = 65_536

  public init() {}

  /// True while a sequence is being read: the caller should read on with ``patience``
  /// rather than its own timeout, and feed ``Input/timeout`` when nothing comes.
  public var isInsideSequence: Bool { state != .ground }

  /// Milliseconds to wait for the next input of a sequence: 10 after a lone ESC (curses
  /// already waited its escape delay), 100 inside a sequence (a reply written at once
  /// arrives at once; a long one may come in a few reads).
  public var patience: Int32 { state == .escape ? 10 : 100 }

  /// Feeds one input; returns the inputs that are keys, in order (none while a sequence is
  /// read, two for an ESC followed by another character).
  public mutating func feed(_ input: Input) -> [Input] {
    switch state {
    case .ground:
      return ground(input)
    case .escape:
      state = .ground
      guard case .character(let c) = input else {
        return input == .timeout ? [.character(27)] : [.character(27), input]
      }
      switch c {
      case 0x5B: start(.controlSequence)  // [
      case 0x4F: start(.singleShift)  // O
      case 0x5F, 0x50, 0x5D, 0x5E, 0x58: start(.string(escaped: false))  // _ P ] ^ X
      case 27:
        state = .escape
        return [.character(27)]
      default:
        return [.character(27), input]
      }
      return []
    case .controlSequence:
      guard case .character(let c) = input else { return drop(input) }
      length += 1
      switch c {
      case 0x40...0x7E: return finish()
      case 0x20...0x3F where length < 256: return []
      default: return drop(input)
      }
    case .singleShift:
      guard case .character = input else { return drop(input) }
      return finish()
    case .string(let escaped):
      guard case .character(let c) = input else { return drop(input) }
      length += 1
      if c == 7 || c == 0x9C || (escaped && c == 0x5C) { return finish() }
      if length >= Self.longest { return drop(.timeout) }
      state = .string(escaped: c == 27)
      return []
    }
  }

  private mutating func ground(_ input: Input) -> [Input] {
    guard case .character(let c) = input else { return input == .timeout ? [] : [input] }
    switch c {
    case 27: state = .escape
    case 0x9B: start(.controlSequence)
    case 0x8F: start(.singleShift)
    case 0x9F, 0x90, 0x9D, 0x9E, 0x98: start(.string(escaped: false))
    default: return [input]
    }
    return []
  }

  private mutating func start(_ next: State) {
    state = next
    length = 0
  }

  /// A whole sequence was read: it is not a key.
  private mutating func finish() -> [Input] {
    state = .ground
    swallowed += 1
    return []
  }

  /// The sequence broke off: what was read of it is dropped; `input`, when it is a key
  /// (a function key curses decoded, or a character that cannot be part of a sequence),
  /// is passed on.
  private mutating func drop(_ input: Input) -> [Input] {
    state = .ground
    switch input {
    case .timeout: return []
    case .keyCode: return [input]
    case .character: return ground(input)
    }
  }
}
