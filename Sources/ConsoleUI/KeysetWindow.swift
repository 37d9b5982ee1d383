// MARK: - Keyset paging

/// A window of rows from a large ordered table, loaded a page at a time around the cursor.
///
/// Only the rows near the cursor are in memory (at most `capacity`); moving past either end
/// of the window loads the next or previous page by keyset (`after`/`before` the edge row),
/// so scrolling a million-row queue costs the same as scrolling a hundred.
struct KeysetWindow<Row> {
  private(set) var rows: [Row] = []
  /// Index of the selected row in `rows`.
  private(set) var selected = 0
  /// Index of the first visible row in `rows`.
  private(set) var top = 0
  /// Position of `rows[0]` in the whole ordered table (0-based), when known.
  private(set) var offset = 0
  private(set) var reachedStart = true
  private(set) var reachedEnd = true
  let pageSize: Int
  let capacity: Int

  init(pageSize: Int = 100, capacity: Int = 400) {
    self.pageSize = pageSize
    self.capacity = capacity
  }

  var selectedRow: Row? { rows.indices.contains(selected) ? rows[selected] : nil }
  var selectedPosition: Int { offset + selected }

  /// Starts over from the first page.
  mutating func reset(firstPage: [Row]) {
    rows = firstPage
    selected = 0
    top = 0
    offset = 0
    reachedStart = true
    reachedEnd = firstPage.count < pageSize
  }

  /// Starts over from the last page (for `G`), given the table's row count.
  mutating func reset(lastPage: [Row], total: Int) {
    rows = lastPage
    selected = max(0, lastPage.count - 1)
    offset = max(0, total - lastPage.count)
    reachedStart = offset == 0
    reachedEnd = true
    top = 0
  }

  /// Replaces the selected row in place (after a decision changed it).
  mutating func replaceSelected(with row: Row) {
    if rows.indices.contains(selected) { rows[selected] = row }
  }

  /// Moves the cursor by `delta`, loading pages across the window's edges as needed.
  mutating func move(
    by delta: Int, visible: Int, after: (Row) throws -> [Row],
    before: (Row) throws -> [Row]
  ) rethrows {
    var target = selected + delta
    if target >= rows.count, !reachedEnd, let last = rows.last {
      let page = try after(last)
      if page.count < pageSize { reachedEnd = true }
      rows.append(contentsOf: page)
      target = min(target - trimFront(), rows.count - 1)
    }
    if target < 0, !reachedStart, let first = rows.first {
      let page = try before(first)
      if page.count < pageSize { reachedStart = true }
      rows.insert(contentsOf: page, at: 0)
      offset -= page.count
      selected += page.count
      top += page.count
      target += page.count
      trimBack()
    }
    selected = min(max(0, target), max(0, rows.count - 1))
    keepVisible(visible)
  }

  /// Selects the first loaded row that matches; false (selection unchanged) when none does.
  @discardableResult
  mutating func select(visible: Int, where matches: (Row) -> Bool) -> Bool {
    guard let index = rows.firstIndex(where: matches) else { return false }
    selected = index
    keepVisible(visible)
    return true
  }

  /// Keeps the selection inside the visible rows.
  mutating func keepVisible(_ visible: Int) {
    let rowsShown = max(1, visible)
    if selected < top { top = selected }
    if selected >= top + rowsShown { top = selected - rowsShown + 1 }
    top = max(0, min(top, max(0, rows.count - 1)))
  }

  /// Drops rows from the front beyond capacity; returns how many were dropped.
  private mutating func trimFront() -> Int {
    let excess = rows.count - capacity
    guard excess > 0, selected - excess >= 0 else { return 0 }
    rows.removeFirst(excess)
    offset += excess
    selected -= excess
    top = max(0, top - excess)
    reachedStart = false
    return excess
  }

  private mutating func trimBack() {
    let excess = rows.count - capacity
    guard excess > 0, selected < rows.count - excess else { return }
    rows.removeLast(excess)
    reachedEnd = false
  }
}
