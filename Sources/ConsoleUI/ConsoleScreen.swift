import Compliance
import Imaging
import Store
import Terminal
import Video

// MARK: - What every screen shares

/// What screens share: the database, who is working, the theme, the day and the terminal.
public final class ConsoleContext {
  public let database: AppDatabase
  public let operatorName: String
  public var theme: Theme
  /// The day deadlines are computed for (today, unless overridden for a demo or a test).
  public var today: CalendarDate
  public var dueSoonDays: Int
  /// What the terminal can show; previews are drawn for it.
  public var colorDepth: ColorDepth
  /// The graphics protocol the terminal answered to (nil: previews in text cells only).
  public var graphics: GraphicsProtocol?
  /// The pixel size of one cell, when the terminal tells it: previews keep their aspect on
  /// cells of any shape (nil: cells twice as tall as wide, as most fonts draw them).
  public var cellPixels: (width: Int, height: Int)?
  /// Reviewer-wellness settings of the review queue.
  public var review: ReviewSettings
  /// Items seen with less than full blur (or in colour) this session.
  public var exposures = 0
  /// The questionnaire the assessment wizard asks (nil: the shipped one), with its text.
  public var questionnaire: (questionnaire: Questionnaire, source: String)?
  /// The folders previews may read media from (nil: the `media` folder beside the database).
  public var mediaRoots: MediaRoots?
  /// Caps on decoding a video item's frames (config `video_max_*`, at most 20 s of decoding).
  public var videoLimits: VideoLimits = ContactSheet.videoLimits
  /// Caps on decoding an animation's frames (config `animation_max_*`, as the scan).
  public var frameLimits = FrameLimits.default
  /// What exporting and revealing reports needs (provider name, key, outbox); nil: the
  /// Reports screen lists and follows up reports but cannot write them.
  public var reporting: ReportingSettings?
  /// The database is a demo (synthetic data): every screen says so.
  public var isDemo = false
  /// Where work that takes seconds runs (its own thread; tests may hold it back).
  public var backgroundRunner = BackgroundRunner.thread

  public init(
    database: AppDatabase, operatorName: String, theme: Theme, today: CalendarDate,
    dueSoonDays: Int, colorDepth: ColorDepth = .color256, review: ReviewSettings = .init(),
    questionnaire: (questionnaire: Questionnaire, source: String)? = nil
  ) {
    self.database = database
    self.operatorName = operatorName
    self.theme = theme
    self.today = today
    self.dueSoonDays = dueSoonDays
    self.colorDepth = colorDepth
    self.review = review
    self.questionnaire = questionnaire
  }

  /// The questionnaire for new assessments: the one given, else the shipped one (read once).
  public func methodology() throws -> (questionnaire: Questionnaire, source: String) {
    if let questionnaire { return questionnaire }
    let shipped = (
      questionnaire: try BuiltinQuestionnaire.load(), source: BuiltinQuestionnaire.text + "\n")
    questionnaire = shipped
    return shipped
  }
}

/// What the Reports screen needs to write reports: the same provider name and key as
/// `csar report export`, and the folder it offers to export to.
public struct ReportingSettings: Sendable {
  /// Provider name written into reports.
  public var provider: String
  /// The pseudonymisation key (the audit key derives from it too).
  public var key: ProviderKey
  /// The outbox folder the export and reveal prompts start with.
  public var outbox: String

  public init(provider: String, key: ProviderKey, outbox: String) {
    self.provider = provider
    self.key = key
    self.outbox = outbox
  }
}

/// How the review queue protects reviewers: re-blur after idling, break reminders, leases.
public struct ReviewSettings: Equatable, Sendable {
  /// Seconds without a key after which an unblurred preview blurs again.
  public var reblurAfterSeconds = 30
  /// Exposures after which (and after each further multiple of which) a break is suggested.
  public var breakReminderAfter = 25
  /// Seconds an opened item stays claimed without activity (renewed while keys come).
  public var leaseSeconds = 600
  /// Seconds without a key after which the open item is given back (its claim ends).
  public var claimIdleSeconds = 300
  /// The blur level `b` jumps to (0 clear … 4 fully blurred).
  public var preferredBlur = 2
  /// Days within which a second confirmed new-material hit on one account makes a report.
  public var secondHitWindowDays = 30
  /// Seconds during which `u` can undo the operator's last decision.
  public var undoSeconds = 30
  /// Hours within which an item of each kind should be decided (its SLA).
  public var slaHoursKnownMatch = 24
  public var slaHoursNewMaterial = 48
  public var slaHoursURLMatch = 24

  public init() {}

  /// The SLA of an item kind, in seconds.
  public func slaSeconds(for kind: FlagKind) -> Int64 {
    let hours =
      switch kind {
      case .knownMatch: slaHoursKnownMatch
      case .newMaterial: slaHoursNewMaterial
      case .urlMatch: slaHoursURLMatch
      }
    return Int64(hours) * 3600
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
  /// Run work that takes seconds off the key loop, its progress and result on the status bar.
  case background(BackgroundJob)
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
  /// Work that quitting now would lose (e.g. unsaved answers), so `q` asks first; nil if none.
  var unsavedWork: String? { get }
  /// Saves that work (the quit dialog's `s`); throws when it could not be saved.
  func saveWork(_ context: ConsoleContext) throws -> StatusMessage
  /// Reads fresh data from the store.
  func reload(_ context: ConsoleContext) throws
  /// Reads what other consoles and commands changed, keeping the cursor and anything open as
  /// they are (called about once a second when the database changed). Default: `reload`.
  /// Returns a message when something the operator had open went away.
  func liveRefresh(_ context: ConsoleContext) throws -> StatusMessage?
  /// Draws into its area.
  func draw(in area: Rect, on screen: inout Screen, context: ConsoleContext)
  /// Handles a key.
  func handle(_ key: Key, context: ConsoleContext) -> ScreenResponse
  /// Handles a `:` command the console does not know (e.g. `filter kind=known`); nil if unknown.
  func command(_ words: [String], context: ConsoleContext) -> ScreenResponse?
  /// Called about once a second while no key arrives, with the seconds since the last key;
  /// returns a response when something changed (e.g. a preview blurred again).
  func idle(secondsSinceKey: Int, context: ConsoleContext) -> ScreenResponse?
  /// Called once when the console quits: give back anything held (e.g. a claim).
  func finish(_ context: ConsoleContext)
}

extension ConsoleScreen {
  public var capturesText: Bool { false }
  public var unsavedWork: String? { nil }
  public func saveWork(_ context: ConsoleContext) throws -> StatusMessage {
    .info("Nothing to save")
  }
  public var hints: [(String, String)] { [] }
  public func command(_ words: [String], context: ConsoleContext) -> ScreenResponse? { nil }
  public func idle(secondsSinceKey: Int, context: ConsoleContext) -> ScreenResponse? { nil }
  public func finish(_ context: ConsoleContext) {}
  public func liveRefresh(_ context: ConsoleContext) throws -> StatusMessage? {
    try reload(context)
    return nil
  }
}
