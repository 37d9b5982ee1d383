import Store
import Terminal

// MARK: - The bank view (Dashboard, `b`)

/// A read-only view of the hash banks: each with its hash types and count, enabled, PDQ
/// threshold, what a match does, its current version and the file it came from; below, the
/// version history of the selected bank (what changed it, +added -removed =total, source,
/// who, when). Read from the Store's bank queries (`hashBanks`, `bankVersions`), as
/// `csar bank list` and `csar bank versions` print them.
struct BankPanel {
  enum Action: Sendable { case down, up, top, bottom, close }

  /// The view's keys: they drive its dispatch, its help and its status-bar hints.
  static let keys = KeyTable<Action>(
    "Hash banks",
    [
      KeyBinding([.character("j"), .down], .down, "Next bank", hint: true),
      KeyBinding([.character("k"), .up], .up, "Previous bank", hint: true),
      KeyBinding([.character("g"), .home], .top, "First bank"),
      KeyBinding([.character("G"), .end], .bottom, "Last bank"),
      KeyBinding([.character("b"), .escape], .close, "Close the view", hint: true),
    ])

  private(set) var banks: [BankRow] = []
  private var videos: [String: Int] = [:]
  private(set) var versions: [BankVersion] = []
  private var cursor = ListCursor()
  private var visibleRows = 5

  /// The selected bank, if any.
  var selected: BankRow? { cursor.selected < banks.count ? banks[cursor.selected] : nil }

  /// Reads the banks, keeping the selected one selected (by name) when it is still there.
  mutating func load(_ database: AppDatabase) throws {
    let name = selected?.name
    banks = try database.hashBanks()
    videos = try database.bankVideoCounts()
    if let name, let index = banks.firstIndex(where: { $0.name == name }) {
      cursor.move(by: index - cursor.selected, count: banks.count, visible: visibleRows)
    }
    cursor.clamp(count: banks.count, visible: visibleRows)
    try loadVersions(database)
  }

  /// Moves the selection (`delta` rows, or to an end) and reads that bank's versions.
  mutating func move(by delta: Int?, toEnd: Bool = false, _ database: AppDatabase) throws {
    if let delta {
      cursor.move(by: delta, count: banks.count, visible: visibleRows)
    } else {
      cursor.jump(toEnd: toEnd, count: banks.count, visible: visibleRows)
    }
    try loadVersions(database)
  }

  private mutating func loadVersions(_ database: AppDatabase) throws {
    versions = try selected.map { try database.bankVersions(name: $0.name).reversed() } ?? []
  }

  /// "pdq md5 vpdq": the kinds of hashes a bank holds.
  func types(_ bank: BankRow) -> String {
    let kinds = [
      ("pdq", bank.pdqCount), ("md5", bank.md5Count), ("sha256", bank.sha256Count),
      ("sha1", bank.sha1Count), ("vpdq", videos[bank.name] ?? 0),
    ].filter { $0.1 > 0 }.map(\.0)
    return kinds.isEmpty ? "empty" : kinds.joined(separator: " ")
  }

  /// "file.csv (csv)", or "—".
  static func source(_ source: BankSource?) -> String {
    guard let file = source?.file else { return "—" }
    return file + (source?.format.map { " (\($0))" } ?? "")
  }

  // MARK: Drawing

  mutating func draw(in area: Rect, on screen: inout Screen, theme: Theme) {
    let listHeight = min(banks.count + 3, max(5, area.height / 2))
    let (top, bottom) = area.splitTop(listHeight)
    drawBanks(in: top, on: &screen, theme: theme)
    drawVersions(in: bottom, on: &screen, theme: theme)
  }

  private mutating func drawBanks(in rect: Rect, on screen: inout Screen, theme: Theme) {
    let title = "Hash banks · \(banks.count) · b or Esc closes"
    let inner = screen.box(rect, title: title, theme: theme, focused: true)
    guard !banks.isEmpty else {
      screen.put(
        "No banks yet: csar bank import NAME FILE", in: inner, row: 0, column: 1,
        style: theme[.muted])
      return
    }
    let columns = [
      TableColumn("Bank", .flex(min: 8)), TableColumn("Types", .fixed(16)),
      TableColumn("Hashes", .fixed(9), alignRight: true), TableColumn("On", .fixed(3)),
      TableColumn("PDQ≤", .fixed(4), alignRight: true), TableColumn("Match", .fixed(6)),
      TableColumn("Version", .fixed(10)), TableColumn("Source", .flex(min: 12)),
    ]
    let rows = banks.map { bank -> TableRow in
      let videos = self.videos[bank.name] ?? 0
      let version = bank.version.map { "v\($0.version) \($0.change.rawValue)" } ?? "v?"
      return TableRow(
        [
          bank.name, types(bank), Format.count(bank.total + videos), bank.enabled ? "on" : "off",
          String(bank.pdqThreshold), bank.onMatch.rawValue, version,
          Self.source(bank.lastSource),
        ], role: bank.enabled ? .text : .muted)
    }
    visibleRows = max(1, inner.height - 1)
    cursor.clamp(count: rows.count, visible: visibleRows)
    TableView.draw(
      columns: columns, rows: rows, selected: cursor.selected, firstRow: cursor.top,
      in: inner, on: &screen, theme: theme)
  }

  private func drawVersions(in rect: Rect, on screen: inout Screen, theme: Theme) {
    guard rect.height >= 3 else { return }
    let name = selected?.name ?? "—"
    let inner = screen.box(
      rect, title: "Versions of \(name) · \(versions.count), newest first", theme: theme)
    let columns = [
      TableColumn("v", .fixed(4), alignRight: true), TableColumn("Change", .fixed(8)),
      TableColumn("Added", .fixed(9), alignRight: true),
      TableColumn("Removed", .fixed(9), alignRight: true),
      TableColumn("Total", .fixed(9), alignRight: true), TableColumn("Source", .flex(min: 12)),
      TableColumn("By", .fixed(8)), TableColumn("When", .fixed(16)),
    ]
    let rows = versions.map { version in
      TableRow([
        "v\(version.version)", version.change.rawValue, "+" + Format.count(version.added),
        "-" + Format.count(version.removed), Format.count(version.total),
        Self.source(version.source), version.operatorName,
        Format.timestamp(version.createdAt),
      ])
    }
    TableView.draw(
      columns: columns, rows: rows, selected: nil, in: inner, on: &screen, theme: theme)
  }
}
