import Compliance
import Store
import Terminal

// MARK: - What every screen shares

/// What screens share: the database, who is working, the theme and the day.
public final class ConsoleContext {
  public let database: AppDatabase
  public let operatorName: String
  public var theme: Theme
  /// The day deadlines are computed for (today, unless overridden for a demo or a test).
  public var today: CalendarDate
  public var dueSoonDays: Int

  public init(
    database: AppDatabase, operatorName: String, theme: Theme, today: CalendarDate,
    dueSoonDays: Int
  ) {
    self.database = database
    self.operatorName = operatorName
    self.theme = theme
    self.today = today
    self.dueSoonDays = dueSoonDays
  }
}

/// What a screen asks the console to do after a key.
public enum ScreenResponse {
  /// The key was used.
  case handled
  /// The key means nothing here; the console may use it (global keys).
  case unhandled
  /// Show a message on the status bar.
  case status(StatusMessage)
  /// Open an overlay (confirmation, prompt).
  case overlay(Overlay)
}

/// A message on the status bar.
public struct StatusMessage: Sendable {
  public let text: String
  public let role: ThemeRole

  public static func info(_ text: String) -> StatusMessage { .init(text: text, role: .success) }
  public static func error(_ text: String) -> StatusMessage { .init(text: text, role: .danger) }
}

/// One of the five screens of the console.
public protocol ConsoleScreen: AnyObject {
  /// Tab title (`Dashboard`).
  var title: String { get }
  /// The screen's key table as help, for the overlay.
  var helpSection: HelpSection { get }
  /// Keys worth a hint on the status bar.
  var hints: [(String, String)] { get }
  /// True while the screen edits text inline, so global keys (`q`, `1`…) type instead.
  var capturesText: Bool { get }
  /// Reads fresh data from the store.
  func reload(_ context: ConsoleContext) throws
  /// Draws into its area.
  func draw(in area: Rect, on screen: inout Screen, context: ConsoleContext)
  /// Handles a key.
  func handle(_ key: Key, context: ConsoleContext) -> ScreenResponse
  /// Handles a `:` command the console does not know (e.g. `filter kind=known`); nil if unknown.
  func command(_ words: [String], context: ConsoleContext) -> ScreenResponse?
}

extension ConsoleScreen {
  public var capturesText: Bool { false }
  public var hints: [(String, String)] { [] }
  public func command(_ words: [String], context: ConsoleContext) -> ScreenResponse? { nil }
}
