import Terminal

// MARK: - Text input

/// A one-line text input with a cursor: search, the `:` command line, notes and reasons.
public struct TextField: Sendable, Equatable {
  public private(set) var text: String = ""
  /// Cursor position in characters.
  public private(set) var cursor: Int = 0
  /// Longest text accepted, in characters.
  public let limit: Int

  /// The whole text is selected: the first character typed replaces it, Backspace or Del
  /// clears it, a movement keeps it (as in a browser's address bar).
  public private(set) var isSelected = false

  /// `selected`: start with the whole (non-empty) text selected.
  public init(text: String = "", limit: Int = 500, selected: Bool = false) {
    self.limit = limit
    self.text = String(text.prefix(limit))
    self.cursor = self.text.count
    self.isSelected = selected && !self.text.isEmpty
  }

  /// What a key did to the field.
  public enum Outcome: Equatable, Sendable {
    case edited, moved, submitted, cancelled, ignored
  }

  /// Applies a key: printable characters insert, Backspace/Del delete, arrows/Home/End move,
  /// Ctrl-u clears, Ctrl-w deletes a word, Enter submits, Esc cancels.
  public mutating func handle(_ key: Key) -> Outcome {
    if isSelected {
      isSelected = false
      switch key {
      case .character(let c) where !c.isControlLike:
        text = ""
        cursor = 0
      case .backspace, .delete:
        text = ""
        cursor = 0
        return .edited
      default:
        break
      }
    }
    switch key {
    case .character(let c):
      guard text.count < limit, !c.isControlLike else { return .ignored }
      let index = text.index(text.startIndex, offsetBy: cursor)
      text.insert(c, at: index)
      cursor += 1
      return .edited
    case .backspace:
      guard cursor > 0 else { return .ignored }
      let index = text.index(text.startIndex, offsetBy: cursor - 1)
      text.remove(at: index)
      cursor -= 1
      return .edited
    case .delete:
      guard cursor < text.count else { return .ignored }
      text.remove(at: text.index(text.startIndex, offsetBy: cursor))
      return .edited
    case .left:
      cursor = max(0, cursor - 1)
      return .moved
    case .right:
      cursor = min(text.count, cursor + 1)
      return .moved
    case .home, .control("a"):
      cursor = 0
      return .moved
    case .end, .control("e"):
      cursor = text.count
      return .moved
    case .control("u"):
      text = ""
      cursor = 0
      return .edited
    case .control("w"):
      let head = Array(text.prefix(cursor))
      var cut = head.count
      while cut > 0, head[cut - 1] == " " { cut -= 1 }
      while cut > 0, head[cut - 1] != " " { cut -= 1 }
      text = String(head[..<cut]) + String(text.dropFirst(cursor))
      cursor = cut
      return .edited
    case .enter:
      return .submitted
    case .escape:
      return .cancelled
    default:
      return .ignored
    }
  }

  /// Draws the field in an area of one row, scrolled so the cursor is visible.
  public func draw(at x: Int, y: Int, width: Int, on screen: inout Screen, style: CellStyle) {
    guard width > 0 else { return }
    screen.fill(x: x, y: y, width: width, height: 1, style: style)
    let characters = Array(TextSanitizer.clean(text))
    var start = 0
    while DisplayWidth.of(String(characters[start..<min(cursor, characters.count)])) >= width {
      start += 1
    }
    let visible = String(characters[start...])
    screen.put(visible, x: x, y: y, style: style, maxWidth: width)
    if isSelected {
      for column in 0..<min(width, DisplayWidth.of(visible)) {
        var cell = screen[x + column, y]
        cell.style.attributes.insert(.reverse)
        screen[x + column, y] = cell
      }
      return
    }
    let cursorColumn = DisplayWidth.of(String(characters[start..<min(cursor, characters.count)]))
    if cursorColumn < width {
      var cell = screen[x + cursorColumn, y]
      cell.style.attributes.insert(.reverse)
      screen[x + cursorColumn, y] = cell
    }
  }
}

extension Character {
  fileprivate var isControlLike: Bool {
    unicodeScalars.allSatisfy { $0.properties.generalCategory == .control }
  }
}
