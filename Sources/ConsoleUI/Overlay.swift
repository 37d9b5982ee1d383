import Terminal

// MARK: - Overlays

/// A dialog asking the operator to confirm an action, optionally with a typed reason.
///
/// Nothing happens until the operator presses Enter on the confirm button with a reason (when
/// one is required); Esc always cancels. This is what makes destructive or audited actions
/// impossible to trigger by a stray key.
public final class Confirmation {
  public let title: String
  public let lines: [String]
  public let reasonRequired: Bool
  var reason = TextField(limit: 300)
  var error: String?
  let perform: (String) throws -> StatusMessage
  /// A second answer on its own key (the quit dialog's `s` saves, then quits); only in
  /// dialogs without a typed reason. It throws to keep the dialog open with the error.
  let alternative: (key: Character, label: String, perform: () throws -> StatusMessage)?

  public init(
    title: String, lines: [String], reasonRequired: Bool,
    alternative: (key: Character, label: String, perform: () throws -> StatusMessage)? = nil,
    perform: @escaping (String) throws -> StatusMessage
  ) {
    self.title = title
    self.lines = lines
    self.reasonRequired = reasonRequired
    self.alternative = reasonRequired ? nil : alternative
    self.perform = perform
  }
}

/// A one-line question (search text, note): the answer goes to `submit`.
public final class Prompt {
  public let label: String
  var field: TextField
  let submit: (String) -> StatusMessage?
  /// Called on every edit, for live filtering (optional).
  let onEdit: ((String) -> Void)?
  /// Tab: the text completed (nil: nothing to complete), optional.
  let complete: ((String) -> String?)?
  /// Why the last submitted text was refused: the prompt stays open with the text, so
  /// correcting it never sends the retyped keys to the screen behind.
  var error: String?

  /// `selectInitial`: the initial text starts selected, so typing replaces it.
  public init(
    label: String, initial: String = "", selectInitial: Bool = false,
    onEdit: ((String) -> Void)? = nil, complete: ((String) -> String?)? = nil,
    submit: @escaping (String) -> StatusMessage?
  ) {
    self.label = label
    self.field = TextField(text: initial, selected: selectInitial)
    self.onEdit = onEdit
    self.complete = complete
    self.submit = submit
  }
}

/// What floats above the active screen.
public enum Overlay {
  /// The key help, built from the active key tables.
  case help
  /// The `:` command line.
  case commandLine
  case confirm(Confirmation)
  case prompt(Prompt)
}

// MARK: - Drawing overlays

enum OverlayRenderer {
  /// A centred box of at most `width` x `height` cells inside `area`.
  static func centred(width: Int, height: Int, in area: Rect) -> Rect {
    let w = min(width, area.width)
    let h = min(height, area.height)
    return Rect(
      x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h)
  }

  static func drawHelp(
    sections: [HelpSection], scroll: Int, in area: Rect, on screen: inout Screen, theme: Theme
  ) {
    var lines: [(String, String, Bool)] = []
    for section in sections {
      if !lines.isEmpty { lines.append(("", "", false)) }
      lines.append((section.title, "", true))
      for entry in section.entries { lines.append((entry.keys, entry.help, false)) }
    }
    let entries = lines.filter { !$0.2 }
    let keyWidth = min(32, (entries.map { DisplayWidth.of($0.0) }.max() ?? 4) + 1)
    let helpWidth = entries.map { DisplayWidth.of($0.1) }.max() ?? 20
    let box = centred(width: keyWidth + helpWidth + 5, height: lines.count + 2, in: area)
    screen.fill(box, style: theme[.modal])
    let inner = screen.box(box, title: "Keys — Esc closes", theme: theme, focused: true)
    let first = min(max(0, scroll), max(0, lines.count - inner.height))
    for row in 0..<inner.height where first + row < lines.count {
      let (keys, help, isTitle) = lines[first + row]
      if isTitle {
        screen.put(keys, in: inner, row: row, style: theme[.title])
      } else {
        var keyStyle = theme[.modal]
        keyStyle.attributes.insert(.bold)
        screen.put(keys, in: inner, row: row, column: 1, style: keyStyle)
        screen.put(help, in: inner, row: row, column: keyWidth + 1, style: theme[.modal])
      }
    }
  }

  static func drawConfirmation(
    _ dialog: Confirmation, in area: Rect, on screen: inout Screen, theme: Theme
  ) {
    // Long lines wrap to the dialog's width instead of being cut.
    let width = min(64, area.width)
    let lines = dialog.lines.flatMap { line in
      DisplayWidth.of(line) <= width - 4 ? [line] : TextWrap.lines(line, width: max(1, width - 4))
    }
    let height = lines.count + (dialog.reasonRequired ? 3 : 0) + 5
    let box = centred(width: width, height: height, in: area)
    screen.fill(box, style: theme[.modal])
    let inner = screen.box(box, title: dialog.title, theme: theme, focused: true)
    var row = 0
    for line in lines {
      screen.put(line, in: inner, row: row, column: 1, style: theme[.modal])
      row += 1
    }
    if dialog.reasonRequired {
      row += 1
      screen.put("Reason (required):", in: inner, row: row, column: 1, style: theme[.modal])
      row += 1
      if row < inner.height {
        dialog.reason.draw(
          at: inner.x + 1, y: inner.y + row, width: inner.width - 2, on: &screen,
          style: theme[.input])
      }
    }
    let choices = dialog.alternative.map { "   \($0.key) \($0.label)" } ?? ""
    let footer = dialog.error ?? "Enter confirm\(choices)   Esc cancel"
    screen.put(
      footer, in: inner, row: inner.height - 1, column: 1,
      style: dialog.error == nil ? theme[.muted] : theme[.danger])
  }

  static func drawPrompt(
    _ prompt: Prompt, y: Int, width: Int, on screen: inout Screen, theme: Theme
  ) {
    if let error = prompt.error, y > 0 {
      screen.fill(Rect(x: 0, y: y - 1, width: width, height: 1), style: theme[.statusBar])
      var style = theme[.danger]
      style.background = theme[.statusBar].background
      screen.put(" " + error, x: 0, y: y - 1, style: style, maxWidth: width)
    }
    let label = prompt.label
    let used = screen.put(label, x: 0, y: y, style: theme[.statusKey], maxWidth: width)
    prompt.field.draw(at: used, y: y, width: width - used, on: &screen, style: theme[.input])
  }
}
