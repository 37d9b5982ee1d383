// The in-memory cell grid.

/// An in-memory grid of cells: what the console draws into, what tests snapshot, what the
/// backend copies to the terminal.
///
/// Every write is clipped: coordinates outside the grid (negative ones included) are ignored,
/// never a crash. Text always goes through `TextSanitizer`, and a wide character is always
/// stored as a lead cell followed by a continuation cell; overwriting either half blanks the
/// other half, so the grid never holds half a wide character.
public struct Screen: Sendable {
  public let width: Int
  public let height: Int
  /// Where the backend shows the text cursor (for input fields); nil hides it.
  public var cursor: (x: Int, y: Int)?
  /// Pictures to show over cells through the terminal's graphics protocol, where it has one
  /// (the cells beneath hold the same picture as text).
  public var graphics: [ScreenGraphic] = []
  private var cells: [Cell]

  public init(width: Int, height: Int) {
    self.width = max(0, width)
    self.height = max(0, height)
    self.cells = Array(repeating: .blank, count: self.width * self.height)
  }

  // MARK: - Cell access

  /// True when (x, y) lies inside the grid.
  public func contains(x: Int, y: Int) -> Bool {
    x >= 0 && y >= 0 && x < width && y < height
  }

  /// The cell at (x, y). Reading outside the grid gives a blank cell; writing outside the grid
  /// is ignored. A raw write: it does not sanitise or repair wide characters (use `put`).
  public subscript(x: Int, y: Int) -> Cell {
    get { contains(x: x, y: y) ? cells[y * width + x] : .blank }
    set {
      guard contains(x: x, y: y) else { return }
      cells[y * width + x] = newValue
    }
  }

  // MARK: - Writing

  /// Writes sanitised text at (x, y), clipped to `maxWidth` columns (default: to the right
  /// edge). Wide (CJK) characters take 2 cells; one that would straddle the clip edge (or the
  /// left edge) becomes a space. Zero-width characters that cannot attach to anything are
  /// dropped. Returns the columns written, counted from x, so `x + result` is where following
  /// text goes. Rows outside the grid write nothing and return 0.
  @discardableResult
  public mutating func put(
    _ text: String, x: Int, y: Int, style: CellStyle = .plain, maxWidth: Int? = nil
  ) -> Int {
    guard y >= 0, y < height, x < width else { return 0 }
    let right: Int
    if let maxWidth {
      guard maxWidth > 0 else { return 0 }
      right = x > width - maxWidth ? width : x + maxWidth
    } else {
      right = width
    }
    var column = x
    for character in TextSanitizer.clean(text) {
      let w = DisplayWidth.width(ofClean: character)
      if w == 0 { continue }
      if column + w > right {
        if column < right, column >= 0 {
          setCell(Cell(character: " ", style: style), x: column, y: y)
          column += 1
        }
        break
      }
      if column >= 0 {
        if w == 2 {
          setCell(Cell(character: character, style: style), x: column, y: y)
          setCell(Cell(character: " ", style: style, isContinuation: true), x: column + 1, y: y)
        } else {
          setCell(Cell(character: character, style: style), x: column, y: y)
        }
      } else if column + w > 0 {
        // A wide character cut by the left edge: its visible half becomes a space.
        setCell(Cell(character: " ", style: style), x: 0, y: y)
      }
      column += w
    }
    return column - x
  }

  /// Fills a rectangle (clipped to the grid) with one character. A wide character is
  /// repeated every two columns (an odd column left over gets a space); a zero-width or
  /// control character fills with its sanitised form or spaces.
  public mutating func fill(
    x: Int, y: Int, width: Int, height: Int, character: Character = " ",
    style: CellStyle = .plain
  ) {
    guard width > 0, height > 0 else { return }
    let left = max(0, x)
    let top = max(0, y)
    let right = x > self.width - width ? self.width : x + width
    let bottom = y > self.height - height ? self.height : y + height
    guard left < right, top < bottom else { return }
    let clean = TextSanitizer.clean(String(character))
    let fillCharacter = clean.count == 1 ? clean.first! : " "
    let w = DisplayWidth.width(ofClean: fillCharacter)
    for row in top..<bottom {
      if w == 2 {
        var column = left
        while column < right {
          if column + 1 < right {
            setCell(Cell(character: fillCharacter, style: style), x: column, y: row)
            let continuation = Cell(character: " ", style: style, isContinuation: true)
            setCell(continuation, x: column + 1, y: row)
            column += 2
          } else {
            setCell(Cell(character: " ", style: style), x: column, y: row)
            column += 1
          }
        }
      } else {
        let cell = Cell(character: w == 1 ? fillCharacter : " ", style: style)
        for column in left..<right { setCell(cell, x: column, y: row) }
      }
    }
  }

  /// Sets every cell to a space in `style`.
  public mutating func clear(style: CellStyle = .plain) {
    let blank = Cell(character: " ", style: style)
    for index in cells.indices { cells[index] = blank }
  }

  /// Writes one cell, first blanking the other half of any wide character it cuts.
  private mutating func setCell(_ cell: Cell, x: Int, y: Int) {
    guard contains(x: x, y: y) else { return }
    let index = y * width + x
    let old = cells[index]
    if old.isContinuation, !cell.isContinuation, x > 0 {
      cells[index - 1] = Cell(character: " ", style: cells[index - 1].style)
    }
    if !old.isContinuation, x + 1 < width, cells[index + 1].isContinuation {
      cells[index + 1] = Cell(character: " ", style: cells[index + 1].style)
    }
    cells[index] = cell
  }

  // MARK: - Reading

  /// One row as text (continuation cells skipped), trailing spaces trimmed. Rows outside the
  /// grid are "".
  public func rowText(_ y: Int) -> String {
    guard y >= 0, y < height else { return "" }
    var text = ""
    for x in 0..<width {
      let cell = cells[y * width + x]
      if !cell.isContinuation { text.append(cell.character) }
    }
    while text.last == " " { text.removeLast() }
    return text
  }

  /// All rows joined with "\n": what snapshot tests compare.
  public var text: String {
    (0..<height).map(rowText).joined(separator: "\n")
  }

  /// The cells of one row (empty outside the grid).
  public func row(_ y: Int) -> ArraySlice<Cell> {
    guard y >= 0, y < height else { return [] }
    return cells[(y * width)..<((y + 1) * width)]
  }
}
