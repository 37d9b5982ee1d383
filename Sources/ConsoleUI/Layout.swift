import Terminal

// MARK: - Rectangles

/// An area of the screen, in cells.
public struct Rect: Hashable, Sendable {
  public var x: Int
  public var y: Int
  public var width: Int
  public var height: Int

  public init(x: Int, y: Int, width: Int, height: Int) {
    self.x = x
    self.y = y
    self.width = max(0, width)
    self.height = max(0, height)
  }

  public var maxX: Int { x + width }
  public var maxY: Int { y + height }
  public var isEmpty: Bool { width <= 0 || height <= 0 }

  /// The area shrunk by `dx` columns on each side and `dy` rows on top and bottom.
  public func inset(dx: Int, dy: Int) -> Rect {
    Rect(x: x + dx, y: y + dy, width: width - 2 * dx, height: height - 2 * dy)
  }

  /// Splits into a top part of `rows` rows and the rest.
  public func splitTop(_ rows: Int) -> (top: Rect, rest: Rect) {
    let top = min(max(0, rows), height)
    return (
      Rect(x: x, y: y, width: width, height: top),
      Rect(x: x, y: y + top, width: width, height: height - top)
    )
  }

  /// Splits into a left part of `columns` columns and the rest.
  public func splitLeft(_ columns: Int) -> (left: Rect, rest: Rect) {
    let left = min(max(0, columns), width)
    return (
      Rect(x: x, y: y, width: left, height: height),
      Rect(x: x + left, y: y, width: width - left, height: height)
    )
  }
}

// MARK: - Drawing helpers

extension Screen {
  /// Fills an area with spaces in a style.
  mutating func fill(_ rect: Rect, style: CellStyle) {
    guard !rect.isEmpty else { return }
    fill(x: rect.x, y: rect.y, width: rect.width, height: rect.height, style: style)
  }

  /// Writes text clipped to the area's width on one of its rows.
  @discardableResult
  mutating func put(_ text: String, in rect: Rect, row: Int, column: Int = 0, style: CellStyle)
    -> Int
  {
    guard row >= 0, row < rect.height, column < rect.width else { return 0 }
    return put(
      text, x: rect.x + column, y: rect.y + row, style: style, maxWidth: rect.width - column)
  }

  /// Draws a box with a title on its top edge; returns the inner area.
  @discardableResult
  mutating func box(_ rect: Rect, title: String, theme: Theme, focused: Bool = false) -> Rect {
    guard rect.width >= 2, rect.height >= 2 else {
      return Rect(x: rect.x, y: rect.y, width: 0, height: 0)
    }
    let border = focused ? theme[.accent] : theme[.border]
    let horizontal = String(repeating: "─", count: rect.width - 2)
    put("┌" + horizontal + "┐", x: rect.x, y: rect.y, style: border)
    for row in 1..<(rect.height - 1) {
      put("│", x: rect.x, y: rect.y + row, style: border)
      put("│", x: rect.maxX - 1, y: rect.y + row, style: border)
    }
    put("└" + horizontal + "┘", x: rect.x, y: rect.maxY - 1, style: border)
    if !title.isEmpty, rect.width > 6 {
      let style = focused ? theme[.title] : theme[.header]
      put(" \(title) ", x: rect.x + 2, y: rect.y, style: style, maxWidth: rect.width - 4)
    }
    return rect.inset(dx: 1, dy: 1)
  }
}
