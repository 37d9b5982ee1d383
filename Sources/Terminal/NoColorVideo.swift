// MARK: - Attributes a terminal cannot show with colour

/// The terminfo `ncv` (no_color_video) capability: attributes a terminal cannot combine with
/// colour. ncurses silently drops them from coloured cells, so TERM=linux (ncv 18: underline
/// and dim) would show an underlined row (an unfocused list's selection, the Review queue's
/// open item) exactly like its neighbours. ``substitute(_:)`` replaces what would be
/// dropped with an attribute the terminal can show.
public struct NoColorVideo: Equatable, Sendable {
  /// The terminfo bits (standout 1, underline 2, reverse 4, blink 8, dim 16, bold 32, …);
  /// 0 when the terminal has no such limit.
  public let mask: Int32

  public init(mask: Int32) { self.mask = max(0, mask) }

  static let underlineBit: Int32 = 2
  static let reverseBit: Int32 = 4
  static let dimBit: Int32 = 16
  static let boldBit: Int32 = 32

  /// The attributes to draw a coloured cell with: an underline the terminal cannot show
  /// becomes bold (or reverse video when bold cannot be shown either); dim it cannot show is
  /// left for ncurses to drop (plain text is the right fallback for "muted").
  public func substitute(_ attributes: TextAttributes) -> TextAttributes {
    var result = attributes
    if attributes.contains(.underline), mask & Self.underlineBit != 0 {
      result.remove(.underline)
      if mask & Self.boldBit == 0 {
        result.insert(.bold)
      } else if mask & Self.reverseBit == 0 {
        result.insert(.reverse)
      }
    }
    return result
  }
}
