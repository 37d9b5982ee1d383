// Colours, attributes and cells: the data a Screen is made of.

// MARK: - Colour

/// A colour as data; downgraded to what the terminal can show when drawn
/// (see `ColorApproximation`).
public enum TerminalColor: Hashable, Sendable {
  /// The terminal's own foreground or background colour.
  case `default`
  /// One of the xterm-256 palette entries (0–15 are the ANSI colours).
  case indexed(UInt8)
  /// A 24-bit colour.
  case rgb(UInt8, UInt8, UInt8)
}

// MARK: - Attributes

/// Text attributes. In monochrome these are how emphasis is shown, so they are never dropped.
public struct TextAttributes: OptionSet, Hashable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }

  public static let bold = TextAttributes(rawValue: 1 << 0)
  public static let dim = TextAttributes(rawValue: 1 << 1)
  public static let underline = TextAttributes(rawValue: 1 << 2)
  public static let reverse = TextAttributes(rawValue: 1 << 3)
  public static let italic = TextAttributes(rawValue: 1 << 4)
}

// MARK: - Style

/// Foreground, background and attributes of one cell.
public struct CellStyle: Hashable, Sendable {
  public var foreground: TerminalColor
  public var background: TerminalColor
  public var attributes: TextAttributes
  /// A cell of a picture (half blocks, shading): its colours are pixels, already chosen for
  /// the terminal's depth, and text-contrast rules never touch them.
  public var isImage: Bool

  public init(
    foreground: TerminalColor = .default,
    background: TerminalColor = .default,
    attributes: TextAttributes = [],
    isImage: Bool = false
  ) {
    self.foreground = foreground
    self.background = background
    self.attributes = attributes
    self.isImage = isImage
  }

  /// Default colours, no attributes.
  public static let plain = CellStyle()
}

// MARK: - Cell

/// One terminal cell. A wide (CJK, emoji) character occupies its cell and the next one; the
/// next one is then a continuation cell, which is never drawn on its own.
public struct Cell: Hashable, Sendable {
  public var character: Character
  public var style: CellStyle
  /// True for the right half of a wide character.
  public var isContinuation: Bool

  public init(
    character: Character = " ", style: CellStyle = .plain, isContinuation: Bool = false
  ) {
    self.character = character
    self.style = style
    self.isContinuation = isContinuation
  }

  /// A space in the plain style.
  public static let blank = Cell()
}
