import Foundation
import Compliance
import Store
import Terminal

// MARK: - The console

/// The whole console: five screens, global keys, overlays, the status bar and the event loop.
///
/// `Console` draws into an in-memory ``Screen`` and takes decoded ``Key``s, so tests drive it
/// exactly as a person would, without a terminal; ``run(on:)`` connects it to a real one.
public final class Console {
  /// The smallest terminal the console draws its screens in.
  public static let minimumSize = (width: 50, height: 12)

  public let context: ConsoleContext
  let screens: [ConsoleScreen]
  private(set) var activeIndex = 0
  private var overlay: Overlay?
  private var helpScroll = 0
  private var commandLine = TextField(limit: 200)
  private var status: StatusMessage? {
    didSet { statusAge = 0 }
  }
  /// Seconds the status message has been shown without a key (it expires).
  private var statusAge = 0
  /// Seconds a status message stays: information briefly, errors a little longer.
  static let statusSeconds = (info: 6, error: 15)
  /// The database's data version at the last look (live refresh).
  private var dataVersion: Int?
  private var stale: Set<Int> = []
  private var quitRequested = false {
    didSet { if quitRequested { job?.cancel() } }
  }
  /// Work running off the key loop (verifying the audit log), one at a time.
  private(set) var job: BackgroundJob?
  /// The last frame was the "terminal too small" message: the operator cannot see what a key
  /// would do, so only quitting (and Esc on a dialog) works until the terminal grows.
  private var tooSmall = false

  /// Global keys: the same in every screen.
  enum GlobalAction: Sendable {
    case screen(Int), help, commandLine, quit, reload
  }

  static let globalKeys = KeyTable<GlobalAction>(
    "Global",
    [
      KeyBinding([.character("1")], .screen(0), "Dashboard"),
      KeyBinding([.character("2")], .screen(1), "Services & risk assessments"),
      KeyBinding([.character("3")], .screen(2), "Review queue"),
      KeyBinding([.character("4")], .screen(3), "Consent"),
      KeyBinding([.character("5")], .screen(4), "Reports & audit log"),
      KeyBinding([.character("?")], .help, "This help", hint: true),
      KeyBinding([.character(":")], .commandLine, "Command line (:help lists commands)"),
      KeyBinding([.control("r")], .reload, "Reload data from the database"),
      KeyBinding([.character("q")], .quit, "Quit", hint: true),
    ])

  /// Commands of the `:` command line, for `:help` and the help overlay.
  static let commands: [(String, String)] = [
    (":q / :quit", "Quit (asks when answers are unsaved; :q! does not)"),
    (":1 … :5, :dashboard …", "Go to a screen"),
    (":theme NAME", "Switch theme (\(Theme.builtinNames.joined(separator: ", ")))"),
    (":reload", "Reload data"),
    (":filter …", "Filter the current screen (see its keys)"),
  ]

  public init(context: ConsoleContext) {
    self.context = context
    self.screens = [
      DashboardScreen(), ServicesScreen(), QueueScreen(), ConsentScreen(), ReportsScreen(),
    ]
    stale = Set(screens.indices)
    if !context.isDemo { context.isDemo = (try? context.database.isDemo()) ?? false }
    loadIfStale(activeIndex)
  }

  /// Whether the console has been asked to quit.
  public var isFinished: Bool { quitRequested }

  // MARK: Keys

  /// Handles one key press; then shows a failed audit anchor write the key's change caused.
  public func handle(_ key: Key) {
    dispatch(key)
    noticeAnchorFailures()
  }

  private func dispatch(_ key: Key) {
    if key == .resize { return }
    if tooSmall {
      if overlay != nil {
        if key == .escape { overlay = nil }
      } else if case .quit? = Console.globalKeys.action(for: key) {
        perform(.quit)
      }
      return
    }
    if let overlay {
      handleOverlay(key, overlay)
      return
    }
    let screen = screens[activeIndex]
    if !screen.capturesText, let action = Console.globalKeys.action(for: key) {
      perform(action)
      return
    }
    let response = screen.handle(key, context: context)
    // A screen that types text passes on keys it does not type (`q`, `?`, `:`).
    if case .unhandled = response, screen.capturesText,
      let action = Console.globalKeys.action(for: key)
    {
      perform(action)
      return
    }
    if case .unhandled = response, key == .character("/") {
      status = .info(
        "No search on \(screen.title): / searches in Review, Consent and Reports & audit")
      return
    }
    apply(response)
    openRequestedService()
  }

  /// Follows the Dashboard's Enter on a deadline: the Services screen with that service open.
  private func openRequestedService() {
    guard let dashboard = screens[activeIndex] as? DashboardScreen,
      let id = dashboard.serviceToOpen
    else { return }
    dashboard.serviceToOpen = nil
    perform(.screen(1))
    (screens[1] as? ServicesScreen)?.show(serviceId: id, context: context)
  }

  private func apply(_ response: ScreenResponse) {
    switch response {
    case .handled, .unhandled:
      break
    case .status(let message):
      status = message
    case .overlay(let next):
      overlay = next
    case .background(let next):
      if let job, job.isRunning {
        status = .info("Still \(job.progressText) The result shows here when it is done.")
        return
      }
      job = next
      next.start(context.backgroundRunner)
    }
  }

  /// Shows the result of background work that finished since the last look; returns whether
  /// anything changed on screen (the event loop calls it between keys).
  @discardableResult
  public func pollBackground() -> Bool {
    guard let job else { return false }
    guard !job.isRunning else { return true }
    self.job = nil
    if let result = job.takeResult() { status = result }
    noticeAnchorFailures()
    return true
  }

  /// Anchor write failures already on the status bar.
  private var anchorFailuresShown = 0

  /// Shows a failed audit anchor write once, as an error on the status bar (the change
  /// itself is saved); while the anchor is behind the log the bar says so on every screen.
  private func noticeAnchorFailures() {
    let writes = context.database.anchorWrites
    let failures = writes.failures
    guard failures > anchorFailuresShown else { return }
    anchorFailuresShown = failures
    if let failure = writes.lastFailure { status = .error(failure.summary) }
  }

  private func perform(_ action: GlobalAction) {
    status = nil
    switch action {
    case .screen(let index):
      activeIndex = index
      stale.insert(index)
      loadIfStale(index)
    case .help:
      helpScroll = 0
      overlay = .help
    case .commandLine:
      commandLine = TextField(limit: 200)
      overlay = .commandLine
    case .quit:
      quitOrAsk()
    case .reload:
      stale = Set(screens.indices)
      loadIfStale(activeIndex)
      if status == nil { status = .info("Reloaded") }
    }
  }

  private func handleOverlay(_ key: Key, _ current: Overlay) {
    switch current {
    case .help:
      switch key {
      case .escape, .character("?"), .character("q"), .enter: overlay = nil
      case .character("j"), .down: helpScroll += 1
      case .character("k"), .up: helpScroll = max(0, helpScroll - 1)
      default: break
      }
    case .commandLine:
      switch commandLine.handle(key) {
      case .cancelled:
        overlay = nil
      case .submitted:
        overlay = nil
        runCommand(commandLine.text)
      default:
        break
      }
    case .confirm(let dialog):
      switch key {
      case .escape:
        overlay = nil
        status = .info("Cancelled; nothing changed")
      case .character(let c) where c == dialog.alternative?.key:
        do {
          status = try dialog.alternative?.perform()
          overlay = nil
        } catch {
          dialog.error = "\(error)"
        }
      case .enter:
        let reason = dialog.reason.text.trimmingCharacters(in: .whitespaces)
        if dialog.reasonRequired && reason.isEmpty {
          dialog.error = "A reason is required"
          return
        }
        do {
          status = try dialog.perform(reason)
          overlay = nil
          stale = Set(screens.indices)
          loadIfStale(activeIndex)
        } catch {
          dialog.error = "Not saved: \(error)"
        }
      default:
        if dialog.reasonRequired { _ = dialog.reason.handle(key) }
      }
    case .prompt(let prompt):
      if key == .tab, let complete = prompt.complete {
        if let completed = complete(prompt.field.text) {
          prompt.field = TextField(text: completed)
          prompt.onEdit?(completed)
        }
        return
      }
      let outcome = prompt.field.handle(key)
      switch outcome {
      case .cancelled:
        overlay = nil
      case .submitted:
        let message = prompt.submit(prompt.field.text)
        if let message, message.role == .danger {
          prompt.error = message.text
          return
        }
        overlay = nil
        if let message { status = message }
      case .edited:
        prompt.error = nil
        prompt.onEdit?(prompt.field.text)
      default:
        break
      }
    }
  }

  // MARK: Commands

  private func runCommand(_ line: String) {
    let words = line.split(separator: " ").map(String.init)
    guard let name = words.first else { return }
    let names = ["dashboard", "services", "review", "consent", "reports"]
    switch name {
    case "q", "quit":
      quitOrAsk()
    case "q!":
      quitRequested = true
    case "1", "2", "3", "4", "5":
      perform(.screen(Int(name)! - 1))
    case _ where names.contains(name):
      perform(.screen(names.firstIndex(of: name)!))
    case "help", "h":
      perform(.help)
    case "reload":
      perform(.reload)
    case "theme":
      guard words.count == 2 else {
        status = .error("usage: :theme NAME (\(Theme.builtinNames.joined(separator: ", ")))")
        return
      }
      do {
        context.theme = try Theme.load(nameOrPath: words[1])
        status = .info("Theme \(context.theme.name)")
      } catch {
        status = .error(error.description)
      }
    default:
      if let response = screens[activeIndex].command(words, context: context) {
        apply(response)
      } else {
        status = .error("Unknown command :\(name) — :help lists the commands")
      }
    }
  }

  /// Quits, or asks first when a screen holds work that quitting would lose.
  private func quitOrAsk() {
    guard let holder = screens.first(where: { $0.unsavedWork != nil }),
      let work = holder.unsavedWork
    else {
      quitRequested = true
      return
    }
    let context = self.context
    overlay = .confirm(
      Confirmation(
        title: "Quit?",
        lines: [
          work, "Enter quits without saving; s saves, then quits; Esc stays (:q! never asks).",
        ],
        reasonRequired: false,
        alternative: (
          "s", "save and quit",
          { [weak self] in
            let saved = try holder.saveWork(context)
            self?.quitRequested = true
            return saved
          }
        )
      ) { [weak self] _ in
        self?.quitRequested = true
        return .info("Quitting")
      })
  }

  private func loadIfStale(_ index: Int) {
    guard stale.contains(index) else { return }
    do {
      try screens[index].reload(context)
      stale.remove(index)
    } catch {
      status = .error("Could not load \(screens[index].title): \(error)")
    }
  }

  // MARK: Drawing

  /// Draws the whole console at a size.
  public func render(width: Int, height: Int) -> Screen {
    var screen = Screen(width: width, height: height)
    let theme = context.theme
    screen.clear(style: theme[.text])
    tooSmall = width < Console.minimumSize.width || height < Console.minimumSize.height
    guard !tooSmall else {
      drawTooSmall(on: &screen, theme: theme)
      return screen
    }
    drawTabs(on: &screen, theme: theme)
    let body = Rect(x: 0, y: 1, width: width, height: height - 2)
    screens[activeIndex].draw(in: body, on: &screen, context: context)
    // A picture drawn by the terminal would cover a dialog or prompt: the cells show then.
    if overlay != nil { screen.graphics.removeAll() }
    switch overlay {
    case .help:
      var sections = [screens[activeIndex].helpSection, Console.globalKeys.helpSection]
      sections.append(HelpSection(title: "Commands", entries: Console.commands))
      OverlayRenderer.drawHelp(
        sections: sections, scroll: helpScroll, in: body, on: &screen, theme: theme)
    case .confirm(let dialog):
      OverlayRenderer.drawConfirmation(dialog, in: body, on: &screen, theme: theme)
    case .prompt(let prompt):
      OverlayRenderer.drawPrompt(prompt, y: height - 1, width: width, on: &screen, theme: theme)
      return screen
    case .commandLine:
      screen.fill(Rect(x: 0, y: height - 1, width: width, height: 1), style: theme[.input])
      screen.put(":", x: 0, y: height - 1, style: theme[.statusKey])
      commandLine.draw(at: 1, y: height - 1, width: width - 1, on: &screen, style: theme[.input])
      return screen
    case nil:
      break
    }
    drawStatusBar(on: &screen, theme: theme)
    return screen
  }

  private func drawTooSmall(on screen: inout Screen, theme: Theme) {
    let lines = [
      "Terminal too small",
      "\(screen.width)x\(screen.height); need",
      "\(Console.minimumSize.width)x\(Console.minimumSize.height)",
      "q quits",
    ]
    let top = max(0, (screen.height - lines.count) / 2)
    for (n, line) in lines.enumerated() {
      let x = max(0, (screen.width - DisplayWidth.of(line)) / 2)
      screen.put(line, x: x, y: top + n, style: n == 0 ? theme[.danger] : theme[.text])
    }
  }

  private func drawTabs(on screen: inout Screen, theme: Theme) {
    screen.fill(Rect(x: 0, y: 0, width: screen.width, height: 1), style: theme[.tabInactive])
    var x = screen.put(" csar ", x: 0, y: 0, style: theme[.statusKey])
    if context.isDemo {
      // Synthetic data: said on every screen, before anything a narrow terminal cuts off.
      var style = theme[.danger]
      style.attributes.insert(.reverse)
      x += screen.put(" DEMO ", x: x, y: 0, style: style)
    }
    for (index, page) in screens.enumerated() {
      let active = index == activeIndex
      let label = active ? "[\(index + 1) \(page.title)]" : " \(index + 1) \(page.title) "
      x += screen.put(
        label, x: x, y: 0, style: theme[active ? .tabActive : .tabInactive],
        maxWidth: screen.width - x)
    }
    let who = " \(context.operatorName) · \(context.today) "
    let whoWidth = DisplayWidth.of(who)
    if x + whoWidth < screen.width {
      screen.put(who, x: screen.width - whoWidth, y: 0, style: theme[.tabInactive])
    }
  }

  private func drawStatusBar(on screen: inout Screen, theme: Theme) {
    let y = screen.height - 1
    screen.fill(Rect(x: 0, y: y, width: screen.width, height: 1), style: theme[.statusBar])
    // Items looked at closer than fully blurred this session, always in view once any.
    var right = screen.width
    // Work running in the background, with how far it got, on every screen.
    if let job {
      let text = " \(job.progressText) "
      right -= DisplayWidth.of(text)
      screen.put(text, x: right, y: y, style: theme[.muted])
    }
    if context.database.anchorWrites.isBehind {
      let behind = " anchor not written "
      right -= DisplayWidth.of(behind)
      screen.put(behind, x: right, y: y, style: theme[.danger])
    }
    if context.exposures > 0 {
      let seen = " seen \(context.exposures) "
      right -= DisplayWidth.of(seen)
      if right > screen.width / 2 {
        screen.put(seen, x: right, y: y, style: theme[.statusKey])
      } else {
        right = screen.width
      }
    }
    if let status {
      var style = theme[status.role]
      style.background = theme[.statusBar].background
      screen.put(" " + status.text, x: 0, y: y, style: style, maxWidth: right)
      return
    }
    var x = 1
    let hints = screens[activeIndex].hints + Console.globalKeys.hints
    for (keys, help) in hints {
      let keyWidth = DisplayWidth.of(keys)
      let helpWidth = DisplayWidth.of(help)
      guard x + keyWidth + helpWidth + 3 <= right else { break }
      x += screen.put(keys, x: x, y: y, style: theme[.statusKey])
      x += screen.put(" " + help + "  ", x: x, y: y, style: theme[.statusBar])
    }
  }

  // MARK: Event loop

  /// Tells the active screen that no key came for a while (called by the event loop).
  public func idle(secondsSinceKey: Int) {
    if let status {
      let age = statusAge + 1
      let limit = status.role == .danger ? Self.statusSeconds.error : Self.statusSeconds.info
      if age >= limit { self.status = nil } else { statusAge = age }
    }
    guard overlay == nil,
      let response = screens[activeIndex].idle(secondsSinceKey: secondsSinceKey, context: context)
    else { return }
    apply(response)
    noticeAnchorFailures()
  }

  /// Live screens: when another connection committed since the last look, the active screen
  /// reads its data again in place (cursor, open item and overlays stay) and the others
  /// reload when next shown. Returns whether anything was read. Called about once a second.
  @discardableResult
  public func refreshIfChanged() -> Bool {
    guard !tooSmall, let version = try? context.database.dataVersion() else { return false }
    defer { dataVersion = version }
    guard let last = dataVersion, last != version else { return false }
    stale = Set(screens.indices)
    stale.remove(activeIndex)
    do {
      if let message = try screens[activeIndex].liveRefresh(context) { status = message }
    } catch {
      status = .error("Could not refresh \(screens[activeIndex].title): \(error)")
    }
    return true
  }

  /// Runs until the operator quits: draw, wait for a key, handle it.
  public func run(on terminal: TerminalBackend) {
    defer { terminal.shutdown() }
    var lastKey = context.database.clock()
    let clock = ContinuousClock()
    var lastPoll = clock.now
    var lastIdle = clock.now
    refreshIfChanged()
    while !quitRequested {
      let size = terminal.size
      if let cell = terminal.graphics.cellPixels { context.cellPixels = cell }
      terminal.draw(render(width: size.width, height: size.height))
      // While work runs in the background, a few looks a second show its progress.
      let key = terminal.readKey(timeoutMilliseconds: job == nil ? 1000 : 200)
      pollBackground()
      // About once a second, between keys as well as while none come.
      if lastPoll.duration(to: clock.now) >= .milliseconds(900) {
        lastPoll = clock.now
        refreshIfChanged()
      }
      guard let key else {
        if lastIdle.duration(to: clock.now) >= .milliseconds(950) {
          lastIdle = clock.now
          idle(secondsSinceKey: Int(context.database.clock() - lastKey))
        }
        continue
      }
      lastKey = context.database.clock()
      lastIdle = clock.now
      handle(key)
    }
    finish()
  }

  /// Lets every screen give back what it holds (the review queue's claim) when the operator
  /// quits, so another console can take the item at once instead of after the lease; work
  /// running in the background is stopped at its next check and waited for.
  public func finish() {
    for screen in screens { screen.finish(context) }
    job?.stopNow()
    job?.waitUntilFinished()
  }
}
