import Terminal

// MARK: - Key bindings

/// One key of a screen: what it does and how the help overlay describes it.
///
/// Each screen owns one ``KeyTable``; dispatch looks keys up in it and the help overlay lists
/// it, so help can never drift from behaviour (the lazygit model).
public struct KeyBinding<Action: Sendable>: Sendable {
  /// Keys that trigger the action (e.g. `j` and the down arrow).
  public let keys: [Key]
  /// The action dispatched.
  public let action: Action
  /// One-line description for the help overlay.
  public let help: String
  /// Whether the status bar shows this key as a hint.
  public let hint: Bool

  public init(_ keys: [Key], _ action: Action, _ help: String, hint: Bool = false) {
    self.keys = keys
    self.action = action
    self.help = help
    self.hint = hint
  }

  /// How the keys are written in help and hints (`j/↓`).
  public var keyLabel: String { keys.map(KeyName.label).joined(separator: "/") }
}

/// A screen's key bindings, in the order the help overlay shows them.
public struct KeyTable<Action: Sendable>: Sendable {
  public let title: String
  public let bindings: [KeyBinding<Action>]

  public init(_ title: String, _ bindings: [KeyBinding<Action>]) {
    self.title = title
    self.bindings = bindings
  }

  /// The action bound to a key, if any.
  public func action(for key: Key) -> Action? {
    bindings.first { $0.keys.contains(key) }?.action
  }

  /// The table as help lines (keys, description), for the help overlay.
  public var helpSection: HelpSection {
    HelpSection(title: title, entries: bindings.map { ($0.keyLabel, $0.help) })
  }

  /// Short hints for the status bar.
  public var hints: [(String, String)] {
    bindings.filter(\.hint).map { ($0.keyLabel, $0.help) }
  }
}

/// A titled group of key descriptions in the help overlay.
public struct HelpSection: Sendable {
  public let title: String
  public let entries: [(keys: String, help: String)]
}

// MARK: - Key names

/// Writes keys the way terminal users read them, and parses the same names from config.
public enum KeyName {
  /// `j`, `Enter`, `Esc`, `Ctrl-r`, `↑`, `PgDn`, `F1`…
  public static func label(_ key: Key) -> String {
    switch key {
    case .character(" "): "Space"
    case .character(let c): String(c)
    case .control(let c): "Ctrl-\(c)"
    case .enter: "Enter"
    case .escape: "Esc"
    case .tab: "Tab"
    case .backTab: "Shift-Tab"
    case .backspace: "Backspace"
    case .delete: "Del"
    case .insert: "Ins"
    case .up: "↑"
    case .down: "↓"
    case .left: "←"
    case .right: "→"
    case .home: "Home"
    case .end: "End"
    case .pageUp: "PgUp"
    case .pageDown: "PgDn"
    case .function(let n): "F\(n)"
    case .resize: "resize"
    }
  }

  /// Parses a key name as written in `config.toml` (`x`, `Enter`, `Ctrl-r`, `F2`, `Space`).
  public static func parse(_ text: String) -> Key? {
    let named: [String: Key] = [
      "Enter": .enter, "Esc": .escape, "Tab": .tab, "Shift-Tab": .backTab,
      "Backspace": .backspace, "Del": .delete, "Up": .up, "Down": .down, "Left": .left,
      "Right": .right, "Home": .home, "End": .end, "PgUp": .pageUp, "PgDn": .pageDown,
      "Space": .character(" "),
    ]
    if let key = named[text] { return key }
    if text.count == 1, let c = text.first { return .character(c) }
    if text.hasPrefix("Ctrl-"), text.count == 6, let c = text.last, c.isLetter {
      return .control(Character(c.lowercased()))
    }
    if text.hasPrefix("F"), let n = Int(text.dropFirst()), (1...24).contains(n) {
      return .function(n)
    }
    return nil
  }
}
