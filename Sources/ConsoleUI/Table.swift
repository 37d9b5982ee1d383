import Terminal

// MARK: - Table

/// A column of a ``TableView``: a header and a width rule.
public struct TableColumn: Sendable {
  /// How wide a column is.
  public enum Width: Sendable {
    /// Exactly this many columns.
    case fixed(Int)
    /// Shares the space left over, never narrower than `min`.
    case flex(min: Int)
  }

  public let title: String
  public let width: Width
  public let alignRight: Bool

  public init(_ title: String, _ width: Width, alignRight: Bool = false) {
    self.title = title
    self.width = width
    self.alignRight = alignRight
  }
}

/// One row of a table: its cells and the role it is drawn in (e.g. `danger` for overdue).
public struct TableRow: Sendable {
  public let cells: [String]
  public let role: ThemeRole

  public init(_ cells: [String], role: ThemeRole = .text) {
    self.cells = cells
    self.role = role
  }
}

/// Draws rows under a header, with one row selected; columns shrink gracefully when narrow.
public enum TableView {
  /// Resolves column widths for a total width (one space between columns).
  static func widths(_ columns: [TableColumn], total: Int) -> [Int] {
    let gaps = max(0, columns.count - 1)
    var widths = columns.map { column -> Int in
      switch column.width {
      case .fixed(let n): n
      case .flex(let minimum): minimum
      }
    }
    var spare = total - gaps - widths.reduce(0, +)
    let flexible = columns.indices.filter {
      if case .flex = columns[$0].width { return true }
      return false
    }
    if spare > 0, !flexible.isEmpty {
      for (n, index) in flexible.enumerated() {
        let share = spare / (flexible.count - n)
        widths[index] += share
        spare -= share
      }
    }
    // Too narrow: take columns away from the right until the rest fits.
    var used = 0
    for index in widths.indices {
      let room = total - used - (index > 0 ? 1 : 0)
      widths[index] = max(0, min(widths[index], room))
      used += widths[index] + (index > 0 ? 1 : 0)
    }
    return widths
  }

  /// Draws the header on the first row and `rows` below it, starting at `firstRow`.
  /// `selected` is an index into `rows`.
  public static func draw(
    columns: [TableColumn], rows: [TableRow], selected: Int?, firstRow: Int = 0,
    in rect: Rect, on screen: inout Screen, theme: Theme, focused: Bool = true
  ) {
    guard rect.height > 0, rect.width > 0 else { return }
    let widths = widths(columns, total: rect.width)
    drawLine(
      columns.map(\.title), columns: columns, widths: widths, y: rect.y, x: rect.x,
      style: theme[.header], screen: &screen)
    let visible = rect.height - 1
    guard visible > 0 else { return }
    for line in 0..<visible {
      let index = firstRow + line
      guard index < rows.count else { break }
      let isSelected = index == selected
      var style = theme[rows[index].role]
      if isSelected {
        let selection = theme[focused ? .selection : .muted]
        style = focused ? selection : style
        if !focused { style.attributes.insert(.underline) }
      }
      if isSelected {
        let band = Rect(x: rect.x, y: rect.y + 1 + line, width: rect.width, height: 1)
        screen.fill(band, style: style)
        // Unfocused, the row is marked in the frame too: an attribute alone is lost where
        // the terminal cannot show it (TERM=linux drops underline from coloured text).
        if !focused, rect.x > 0 {
          screen.put(
            "►", x: rect.x - 1, y: rect.y + 1 + line, style: theme[rows[index].role])
        }
      }
      drawLine(
        rows[index].cells, columns: columns, widths: widths, y: rect.y + 1 + line,
        x: rect.x, style: style, screen: &screen)
    }
  }

  private static func drawLine(
    _ cells: [String], columns: [TableColumn], widths: [Int], y: Int, x: Int, style: CellStyle,
    screen: inout Screen
  ) {
    var column = x
    for (index, width) in widths.enumerated() where width > 0 {
      let text = index < cells.count ? TextSanitizer.clean(cells[index]) : ""
      let fitted = DisplayWidth.truncate(text, to: width)
      let padded: String
      if columns[index].alignRight {
        let used = DisplayWidth.of(fitted)
        padded = String(repeating: " ", count: max(0, width - used)) + fitted
      } else {
        padded = DisplayWidth.pad(fitted, to: width)
      }
      screen.put(padded, x: column, y: y, style: style, maxWidth: width)
      column += width + 1
    }
  }
}

// MARK: - Selection and scrolling

/// The cursor and scroll offset of a list whose rows are all in memory.
public struct ListCursor: Sendable, Equatable {
  public private(set) var selected = 0
  public private(set) var top = 0

  public init() {}

  /// Moves by `delta` rows within `count`, keeping the selection inside `visible` rows.
  public mutating func move(by delta: Int, count: Int, visible: Int) {
    guard count > 0 else {
      selected = 0
      top = 0
      return
    }
    selected = min(max(0, selected + delta), count - 1)
    keepVisible(visible: visible, count: count)
  }

  /// Jumps to the first or last row.
  public mutating func jump(toEnd: Bool, count: Int, visible: Int) {
    selected = toEnd ? max(0, count - 1) : 0
    keepVisible(visible: visible, count: count)
  }

  /// Re-clamps after the rows changed (reload, filter).
  public mutating func clamp(count: Int, visible: Int) {
    selected = min(selected, max(0, count - 1))
    keepVisible(visible: visible, count: count)
  }

  /// Keeps the selection in view and never scrolls further than needed: once every row
  /// fits (or the area grew), the list starts at its top again.
  private mutating func keepVisible(visible: Int, count: Int) {
    let rows = max(1, visible)
    if selected < top { top = selected }
    if selected >= top + rows { top = selected - rows + 1 }
    top = max(0, min(top, count - rows))
  }
}
