import Compliance
import Foundation
import Store
import Terminal

// MARK: - 3 Review queue

/// The review queue: open flagged items by priority then age, paged by keyset, and the one item
/// the reviewer has open.
///
/// Opening an item claims it (a lease, renewed while it stays open), so no other console offers
/// it; decisions apply only to the open item, so a stray key in the list decides nothing. The
/// preview starts fully blurred and greyscale on every item; each step clearer is an audit event.
final class QueueScreen: ConsoleScreen {
  enum Action: Sendable {
    case down, up, pageDown, pageUp, top, bottom, open, close, kind, filter
    case confirm, dismiss, escalate, skip, note, undo, clearer, blurrier, colour, zoom
    case preferredBlur, previousFrame, nextFrame
  }

  let title = "Review"
  private let keys = KeyTable<Action>(
    "Review queue",
    [
      KeyBinding([.character("j"), .down], .down, "Next item (opens it while reviewing)"),
      KeyBinding([.character("k"), .up], .up, "Previous item (opens it while reviewing)"),
      KeyBinding([.control("d"), .pageDown], .pageDown, "Page down"),
      KeyBinding([.control("u"), .pageUp], .pageUp, "Page up"),
      KeyBinding([.character("g"), .home], .top, "First item"),
      KeyBinding([.character("G"), .end], .bottom, "Last item"),
      KeyBinding([.enter], .open, "Open and claim the item", hint: true),
      KeyBinding([.escape], .close, "Close the item, give it back, stop reviewing"),
      KeyBinding([.character("y")], .confirm, "Confirm (report, or hold for a second hit)"),
      KeyBinding([.character("d")], .dismiss, "Dismiss as a false positive"),
      KeyBinding([.character("e")], .escalate, "Escalate to a lead"),
      KeyBinding([.character("s")], .skip, "Skip: give the item back undecided"),
      KeyBinding([.character("m")], .note, "Add a note (saved with the decision)"),
      KeyBinding([.character("u")], .undo, "Undo your last decision (short window)"),
      KeyBinding([.character("-")], .clearer, "Less blur (audited)"),
      KeyBinding([.character("+"), .character("=")], .blurrier, "More blur"),
      KeyBinding([.character("b")], .preferredBlur, "Your preferred blur level (config)"),
      KeyBinding([.character("c")], .colour, "Colour on/off (audited)"),
      KeyBinding([.character("z")], .zoom, "Zoom the preview to the whole screen, and back"),
      KeyBinding(
        [.right, .character("l")], .nextFrame,
        "Video or animation: next frame, shown large (audited unless fully blurred)"),
      KeyBinding(
        [.left, .character("h")], .previousFrame,
        "Video or animation: previous frame; before the first, the contact sheet"),
      KeyBinding([.character("f")], .kind, "Filter by kind: all → known → new → url"),
      KeyBinding([.character("/")], .filter, "Filter: kind= service= bank= state="),
    ])

  /// The item the reviewer has open and claimed.
  private struct OpenItem {
    var item: QueueItem
    let preview: ItemPreview
    var claimedUntil: Int64
    var note = ""
    /// That the item's account has a twin (see ``TwinNotice``), said before any decision.
    var twin: String?
  }

  private var window = KeysetWindow<QueueItem>(pageSize: 100, capacity: 400)
  private var filter = QueueFilter()
  private var total = 0
  private var visibleRows = 10
  private var open: OpenItem?
  /// The open item's preview fills the screen (`z`); same blur and audit rules.
  private var zoomed = false
  /// The reviewer is stepping through items: moving opens the next one (until Esc), even
  /// when the last one could not be opened because somebody else has it.
  private var reviewing = false
  private var now: Int64 = 0
  private var serviceIds: [String: Int64] = [:]
  private var services: [(code: String, name: String, id: Int64)] = []
  /// Items this operator skipped or escalated this session: the next free item passes them.
  private var passed: Set<Int64> = []
  /// The operator's role as stored: leads (and admins) get escalated items, reviewers never.
  private var role: OperatorRole = .reviewer

  var helpSection: HelpSection {
    let section = keys.helpSection
    return HelpSection(
      title: section.title,
      entries: section.entries + [
        (":filter key=value …", "Filter by kind, service, bank, state; alone clears")
      ])
  }
  var hints: [(String, String)] { keys.hints }
  /// The item under the cursor and the one open (for tests and the status line).
  var selectedItemId: Int64? { window.selectedRow?.id }
  var openItemId: Int64? { open?.item.id }

  // MARK: Data

  func reload(_ context: ConsoleContext) throws {
    try refresh(context)
    // Coming back to the queue (or reloading it) shows the open item at the default again.
    open?.preview.reset()
  }

  /// What colleagues changed: the list again, the open item and its preview as they are. A
  /// claim lost meanwhile (the lease ran out and a colleague took the item) moves on.
  func liveRefresh(_ context: ConsoleContext) throws -> StatusMessage? {
    try refresh(context, services: false)
    guard let open, let fresh = self.open?.item else { return nil }
    let mine = fresh.claimedBy == context.operatorName && fresh.state.isOpen
    guard !mine else { return nil }
    self.open = nil
    zoomed = false
    let lost = "Item \(open.item.id) was taken or decided elsewhere"
    if reviewing, openNextFree(context) == nil, let next = self.open {
      return .error(lost + "; item \(next.item.id) is open now")
    }
    reviewing = false
    return .error(lost + "; it is closed")
  }

  /// Reads the queue again, keeping the cursor on the same item when it is still listed (so
  /// a colleague's decision above it does not move you), else on the same position.
  /// `services: false` (live refresh) keeps the operator's role and the service names read
  /// when the screen was last loaded: only the queue is read again.
  func refresh(_ context: ConsoleContext, services reloadServices: Bool = true) throws {
    now = context.database.clock()
    let database = context.database
    if reloadServices {
      role = try database.operatorRole(name: context.operatorName) ?? .reviewer
      let rows = try database.services(today: context.today)
      services = rows.map { ($0.code, $0.name, $0.id) }
      serviceIds = Dictionary(rows.map { ($0.code, $0.id) }, uniquingKeysWith: { a, _ in a })
    }
    let filter = queueFilter
    total = try database.queueCount(filter: filter)
    let position = window.selectedPosition
    let selectedId = window.selectedRow?.id
    window.reset(firstPage: try database.queuePage(filter: filter, after: nil, limit: 100))
    if position > 0, total > 0 {
      try window.move(
        by: min(position, total - 1), visible: visibleRows,
        after: { try database.queuePage(filter: filter, after: $0.cursor, limit: 100) },
        before: { try database.queuePage(filter: filter, before: $0.cursor, limit: 100) })
    }
    if let selectedId { window.select(visible: visibleRows) { $0.id == selectedId } }
    if let open, let fresh = try database.flaggedItem(id: open.item.id) {
      self.open?.item = fresh
    }
  }

  /// The filter as asked, without escalated items for a reviewer (they go to leads) unless
  /// the reviewer asked for escalated items alone.
  var queueFilter: QueueFilter {
    guard !AppDatabase.handlesEscalations(role) else { return filter }
    var shown = filter
    let states = filter.states.subtracting([.escalated])
    if !states.isEmpty { shown.states = states }
    return shown
  }

  // MARK: Keys

  func handle(_ key: Key, context: ConsoleContext) -> ScreenResponse {
    guard let action = keys.action(for: key) else { return .unhandled }
    now = context.database.clock()
    if let lost = renewClaimIfDue(context) { return .status(lost) }
    do {
      switch action {
      case .down, .up, .pageDown, .pageUp, .top, .bottom:
        try move(action, context: context)
        guard reviewing else { return .handled }
        if action == .down || action == .up {
          // Stepping while reviewing passes over rows a colleague holds.
          var steps = 0
          while steps < 50, let row = window.selectedRow, isHeldByOther(row, context: context) {
            let before = window.selectedPosition
            try move(action, context: context)
            if window.selectedPosition == before { break }
            steps += 1
          }
        }
        return openSelected(context)
      case .open:
        return openSelected(context)
      case .zoom:
        guard open != nil else { return Self.openFirst }
        zoomed.toggle()
        return .handled
      case .close:
        if zoomed, open != nil {
          zoomed = false
          return .handled
        }
        guard let open else {
          guard reviewing else { return .unhandled }
          reviewing = false
          return .handled
        }
        reviewing = false
        try context.database.releaseClaim(id: open.item.id, by: context.operatorName)
        self.open = nil
        try reload(context)
        return .status(.info("Item \(open.item.id) closed and given back"))
      case .kind:
        let order: [FlagKind?] = [nil, .knownMatch, .newMaterial, .urlMatch]
        let index = order.firstIndex(of: filter.kind) ?? 0
        var next = filter
        next.kind = order[(index + 1) % order.count]
        return apply(next, context: context)
      case .filter:
        return .overlay(.prompt(filterPrompt(context)))
      case .confirm: return decide(.confirm, context: context)
      case .dismiss: return decide(.dismiss, context: context)
      case .escalate: return decide(.escalate, context: context)
      case .skip: return decide(.skip, context: context)
      case .undo: return undo(context)
      case .note:
        guard let open else { return Self.openFirst }
        return .overlay(.prompt(notePrompt(for: open.item.id, initial: open.note)))
      case .clearer, .blurrier, .colour, .preferredBlur:
        return changePreview(action, context: context)
      case .previousFrame, .nextFrame:
        return stepFrame(by: action == .nextFrame ? 1 : -1, context: context)
      }
    } catch {
      return .status(.error("Could not update the queue: \(error)"))
    }
  }

  func command(_ words: [String], context: ConsoleContext) -> ScreenResponse? {
    guard words.first == "filter" else { return nil }
    return applyFilterText(words.dropFirst().joined(separator: " "), context: context)
  }

  /// Re-blurs an idle preview and keeps the claim alive while the item stays open.
  func idle(secondsSinceKey: Int, context: ConsoleContext) -> ScreenResponse? {
    guard let open else { return nil }
    now = context.database.clock()
    if secondsSinceKey >= context.review.claimIdleSeconds {
      try? context.database.releaseClaim(id: open.item.id, by: context.operatorName)
      self.open = nil
      reviewing = false
      zoomed = false
      try? refresh(context)
      return .status(
        .info(
          "Item \(open.item.id) given back after \(secondsSinceKey / 60) min without a key;"
            + " Enter opens it again"))
    }
    if let lost = renewClaimIfDue(context) { return .status(lost) }
    if open.preview.isRevealed, secondsSinceKey >= context.review.reblurAfterSeconds {
      open.preview.reset()
      return .status(.info("Preview blurred again after \(secondsSinceKey) s without a key"))
    }
    return nil
  }

  /// Gives the open item back when the console quits.
  func finish(_ context: ConsoleContext) {
    guard let open else { return }
    try? context.database.releaseClaim(id: open.item.id, by: context.operatorName)
    self.open = nil
    reviewing = false
  }

  private static var openFirst: ScreenResponse {
    .status(
      .error("Open an item with Enter first: decisions and previews apply to the open item"))
  }

  // MARK: Moving and opening

  private func move(_ action: Action, context: ConsoleContext) throws {
    let database = context.database
    let filter = queueFilter
    let after = { (row: QueueItem) in
      try database.queuePage(filter: filter, after: row.cursor, limit: 100)
    }
    let before = { (row: QueueItem) in
      try database.queuePage(filter: filter, before: row.cursor, limit: 100)
    }
    switch action {
    case .down: try window.move(by: 1, visible: visibleRows, after: after, before: before)
    case .up: try window.move(by: -1, visible: visibleRows, after: after, before: before)
    case .pageDown:
      try window.move(by: visibleRows, visible: visibleRows, after: after, before: before)
    case .pageUp:
      try window.move(by: -visibleRows, visible: visibleRows, after: after, before: before)
    case .top:
      window.reset(firstPage: try database.queuePage(filter: filter, after: nil, limit: 100))
    default:
      let end = QueueCursor(priority: .max, createdAt: .max, id: .max)
      let last = try database.queuePage(filter: filter, before: end, limit: 100)
      window.reset(lastPage: last, total: total)
      window.keepVisible(visibleRows)
    }
  }

  /// Claims the selected item and opens it with a fresh, fully blurred preview; gives back the
  /// item that was open before.
  private func openSelected(_ context: ConsoleContext) -> ScreenResponse {
    guard let selected = window.selectedRow else {
      return .status(.info("The queue is empty"))
    }
    reviewing = true
    if let open, open.item.id == selected.id { return .handled }
    // The item open now stays open (and claimed) unless the new one could be claimed.
    let still = open.map { " · still on item \($0.item.id)" } ?? ""
    do {
      let claimed = try context.database.claimItem(
        id: selected.id, by: context.operatorName,
        leaseSeconds: Int64(context.review.leaseSeconds))
      if let open {
        try context.database.releaseClaim(id: open.item.id, by: context.operatorName)
      }
      show(claimed, context: context)
      return .handled
    } catch let error as ClaimError {
      try? refresh(context)
      switch error {
      case .claimedByOther(let name, let until):
        return .status(
          .error(
            "Item \(selected.id) is being reviewed by \(name) until \(Self.clock(until))"
              + still))
      default:
        return .status(.error("Item \(selected.id): \(error)\(still)"))
      }
    } catch {
      return .status(.error("Could not open item \(selected.id): \(error)\(still)"))
    }
  }

  /// A colleague's live claim, as the list last read it.
  private func isHeldByOther(_ item: QueueItem, context: ConsoleContext) -> Bool {
    guard let owner = item.claimedBy, owner != context.operatorName,
      let until = item.claimExpiresAt
    else { return false }
    return until > now
  }

  /// Claims and opens the next free item by priority and age (see
  /// ``AppDatabase/nextFreeItem(filter:for:excluding:scanLimit:)``) and puts the cursor on
  /// it. A colleague who takes it first only means trying the one after. Nil when the queue
  /// has nothing free; the reason otherwise.
  private func openNextFree(_ context: ConsoleContext) -> String? {
    var tried: Set<Int64> = passed
    for _ in 0..<5 {
      do {
        guard
          let next = try context.database.nextFreeItem(
            filter: queueFilter, for: context.operatorName, excluding: tried)
        else {
          reviewing = false
          return "nothing left that you can take"
        }
        let claimed = try context.database.claimItem(
          id: next.id, by: context.operatorName,
          leaseSeconds: Int64(context.review.leaseSeconds))
        show(claimed, context: context)
        if !window.select(visible: visibleRows, where: { $0.id == next.id }) {
          window.reset(
            firstPage: try context.database.queuePage(
              filter: queueFilter, after: nil, limit: 100))
          window.select(visible: visibleRows) { $0.id == next.id }
        }
        return nil
      } catch let error as ClaimError {
        if case .claimedByOther = error, let id = try? context.database.nextFreeItem(
          filter: queueFilter, for: context.operatorName, excluding: tried)?.id
        {
          tried.insert(id)
          continue
        }
        return "the next item could not be opened (\(error))"
      } catch {
        return "the next item could not be opened (\(error))"
      }
    }
    return "the next free items were all taken by colleagues; press Enter on one"
  }

  /// Makes `item` (claimed by this operator) the open one, with a new, fully blurred preview.
  private func show(_ item: QueueItem, context: ConsoleContext) {
    let preview = ItemPreview(
      itemId: item.id, mediaPath: item.mediaPath, url: item.url,
      databasePath: context.database.path, recordedSHA256: item.sha256,
      roots: context.mediaRoots, videoMatch: try? context.database.videoMatch(itemId: item.id),
      videoLimits: context.videoLimits, frameLimits: context.frameLimits)
    auditMediaCheck(preview, item: item, context: context)
    open = OpenItem(
      item: item, preview: preview,
      claimedUntil: item.claimExpiresAt ?? now + Int64(context.review.leaseSeconds),
      twin: Self.twinNotice(item, database: context.database))
  }

  /// What ``TwinNotice`` says about the item's account, with each twin's consent on the
  /// item's service (what the upload gate weighs), nil when it has no twin. A failed read
  /// says so too: it must not pass for "no twin".
  static func twinNotice(_ item: QueueItem, database: AppDatabase) -> String? {
    guard let accountId = item.accountId else { return nil }
    do {
      let twins = try database.twins(ofAccount: accountId)
      let pairs = twins.map { AccountService(accountId: $0.id, serviceId: item.serviceId) }
      let consent = try database.consentStates(pairs)
      return TwinNotice.brief(
        twins: zip(twins, pairs).map {
          TwinConsent(account: $0, consent: consent[$1] ?? .notAsked)
        })
    } catch {
      return "could not be checked (\(error))"
    }
  }

  /// A replaced media file is audited; an item without a recorded digest gets the one just
  /// read (so a later replacement is caught).
  private func auditMediaCheck(_ preview: ItemPreview, item: QueueItem, context: ConsoleContext) {
    if case .mismatch(let path, let recorded, let found)? = preview.placeholder {
      try? context.database.recordMediaMismatch(
        itemId: item.id, path: path, recorded: recorded, found: found, by: context.operatorName)
    } else if item.sha256 == nil, let found = preview.foundSHA256 {
      try? context.database.recordFirstMediaDigest(
        itemId: item.id, sha256: found, by: context.operatorName)
    }
  }

  /// Renews the open item's lease once half of it has passed; a lost claim closes the item.
  private func renewClaimIfDue(_ context: ConsoleContext) -> StatusMessage? {
    guard let open else { return nil }
    let lease = Int64(context.review.leaseSeconds)
    guard open.claimedUntil - now < lease / 2 else { return nil }
    do {
      try context.database.renewClaim(
        id: open.item.id, by: context.operatorName, leaseSeconds: lease)
      self.open?.claimedUntil = now + lease
      return nil
    } catch {
      self.open = nil
      zoomed = false
      try? refresh(context)
      let lost = "Your claim on item \(open.item.id) was lost (\(error))"
      if reviewing, openNextFree(context) == nil, let next = self.open {
        return .error(lost + "; item \(next.item.id) is open now")
      }
      reviewing = false
      return .error(lost + "; it is closed")
    }
  }

  // MARK: Decisions

  private func decide(_ decision: ReviewDecisionKind, context: ConsoleContext)
    -> ScreenResponse
  {
    guard let open else { return Self.openFirst }
    if decision == .confirm, let refusal = needsALook(open) { return .status(.error(refusal)) }
    let outcome: DecisionOutcome
    do {
      outcome = try context.database.decide(
        itemId: open.item.id, decision: decision, note: open.note, by: context.operatorName,
        secondHitWindowDays: context.review.secondHitWindowDays)
    } catch {
      return .status(.error("Item \(open.item.id) not decided: \(error)"))
    }
    self.open = nil
    // Skipped and escalated items stay in the queue: the next free item passes them.
    if outcome.newState.isOpen { passed.insert(open.item.id) }
    var message = Self.describe(outcome, decision: decision, itemId: open.item.id)
    do {
      try refresh(context)
    } catch {
      return .status(.error(message + "; the queue could not be read again: \(error)"))
    }
    if let problem = openNextFree(context) {
      message += " · " + problem
      try? refresh(context)
    }
    return .status(.info(message + " · u undoes"))
  }

  /// Why `y` must wait: new material (and a hash match that is not exact) is confirmed only
  /// after the operator reduced the blur at least once. Nil when `y` may go ahead.
  private func needsALook(_ open: OpenItem) -> String? {
    let item = open.item
    let exact = item.kind == .knownMatch && (item.distance ?? 0) == 0
    guard item.kind != .urlMatch, !exact, !open.preview.lookedCloser else { return nil }
    let what =
      item.kind == .newMaterial ? "new material" : "a near match (d=\(item.distance ?? 0))"
    if open.preview.placeholder != nil {
      return "Item \(item.id) is \(what) with no picture to look at: escalate (e) or dismiss (d)"
    }
    return "Item \(item.id) is \(what): look closer first (- or b reduces the blur), then y"
  }

  static func describe(_ outcome: DecisionOutcome, decision: ReviewDecisionKind, itemId: Int64)
    -> String
  {
    if let caseRef = outcome.reportCaseRef {
      return "Item \(itemId) confirmed; report \(caseRef) is ready"
    }
    if outcome.heldForSecondHit {
      return "Item \(itemId) confirmed; held until a second hit on this account"
    }
    switch decision {
    case .confirm: return "Item \(itemId) confirmed"
    case .dismiss: return "Item \(itemId) dismissed as a false positive"
    case .escalate: return "Item \(itemId) escalated"
    case .skip: return "Item \(itemId) skipped and given back"
    }
  }

  private func undo(_ context: ConsoleContext) -> ScreenResponse {
    let database = context.database
    do {
      guard let last = try database.lastDecision(by: context.operatorName) else {
        return .status(.error("Nothing to undo"))
      }
      try database.undoDecision(
        last.id, by: context.operatorName, windowSeconds: Int64(context.review.undoSeconds))
      if let open, open.item.id != last.itemId {
        try database.releaseClaim(id: open.item.id, by: context.operatorName)
      }
      open = nil
      try reload(context)
      if let item = try database.flaggedItem(id: last.itemId), item.state.isOpen {
        show(item, context: context)
      }
      return .status(.info("Decision on item \(last.itemId) undone; the item is open again"))
    } catch {
      return .status(.error("Not undone: \(error)"))
    }
  }

  // MARK: Previews

  /// Steps the blur or colour of the open item's preview. Every step that shows more is
  /// audited first: if the audit cannot be written, the preview stays as it was.
  private func changePreview(_ action: Action, context: ConsoleContext) -> ScreenResponse {
    guard let open else { return Self.openFirst }
    let preview = open.preview
    if preview.placeholder != nil {
      return .status(.error("Item \(open.item.id) has no picture to show"))
    }
    let wasExposed = preview.exposed
    let previousBlur = preview.blur
    switch action {
    case .blurrier:
      return preview.blurrier() ? .handled : .status(.info("The preview is fully blurred"))
    case .clearer:
      guard preview.clearer() else { return .status(.info("The preview is already clear")) }
    case .preferredBlur:
      let preferred = BlurLevel(context.review.preferredBlur)
      guard preview.setBlur(preferred) else {
        return .status(.info("The preview is at your preferred blur already"))
      }
      // More blur shows less: nothing to audit.
      if preferred > previousBlur { return .handled }
    default:
      guard preview.toggleColour() else { return .handled }
    }
    do {
      try context.database.recordPreviewExposure(
        itemId: open.item.id, blurLevel: preview.blur.value, colour: preview.colour,
        by: context.operatorName)
    } catch {
      if action == .colour {
        _ = preview.toggleColour()
      } else {
        preview.restoreBlur(previousBlur)
      }
      return .status(.error("Preview unchanged: the audit log could not be written (\(error))"))
    }
    guard !wasExposed else { return .handled }
    context.exposures += 1
    let every = context.review.breakReminderAfter
    if every > 0, context.exposures % every == 0 {
      // A dialog, not a status message: it stays until the operator acknowledges it.
      let seen = context.exposures
      return .overlay(
        .confirm(
          Confirmation(
            title: "Time for a break?",
            lines: [
              "You have looked closer at \(seen) items this session.",
              "Consider a short break. Enter (or Esc) goes on.",
            ], reasonRequired: false
          ) { _ in .info("Break reminder acknowledged after \(seen) items") }))
    }
    return .handled
  }

  /// Steps through a video's or an animation's frames. A frame newly shown with less than
  /// full blur (or in colour) is an exposure like a step clearer: audited first, and if the
  /// audit cannot be written the previous frame stays.
  private func stepFrame(by delta: Int, context: ConsoleContext) -> ScreenResponse {
    guard let open else { return Self.openFirst }
    let preview = open.preview
    guard let sheet = preview.sheet else {
      return .status(
        .info(
          "Item \(open.item.id) is a still picture: ←/→ step through videos and animations"))
    }
    let previous = preview.frameIndex
    guard preview.step(by: delta) else {
      return .status(
        .info(
          delta > 0
            ? "The last frame (\(sheet.frames.count) of \(sheet.frames.count)); ← goes back"
            : "This is the contact sheet; → steps through the frames"))
    }
    guard preview.isRevealed else { return .handled }
    do {
      try context.database.recordPreviewExposure(
        itemId: open.item.id, blurLevel: preview.blur.value, colour: preview.colour,
        frame: preview.shownFrameNumber, sheet: preview.frameIndex == nil,
        by: context.operatorName)
    } catch {
      preview.show(frame: previous)
      return .status(.error("Frame not shown: the audit log could not be written (\(error))"))
    }
    return .handled
  }

  // MARK: Filters and notes

  private func filterPrompt(_ context: ConsoleContext) -> Prompt {
    Prompt(
      label: "Filter (kind= service= bank= state=; Tab completes; empty clears) ",
      initial: filterText, selectInitial: true,
      complete: { [weak self] text in
        guard let self else { return nil }
        return QueueFilterText.complete(text, services: self.services.map { ($0.code, $0.name) })
      }
    ) { [weak self] text in
      guard let self else { return nil }
      if case .status(let message) = self.applyFilterText(text, context: context) {
        return message
      }
      return nil
    }
  }

  private func notePrompt(for itemId: Int64, initial: String) -> Prompt {
    Prompt(label: "Note for item \(itemId)", initial: initial) { [weak self] text in
      guard let self, self.open?.item.id == itemId else { return nil }
      self.open?.note = text
      return .info(text.isEmpty ? "Note removed" : "Note kept: it is saved with your decision")
    }
  }

  /// The current filter as the text `/` and `:filter` take.
  var filterText: String {
    var words: [String] = []
    if let kind = filter.kind { words.append("kind=\(kind.rawValue)") }
    if let id = filter.serviceId, let code = serviceIds.first(where: { $0.value == id })?.key {
      words.append("service=\(code)")
    }
    if let bank = filter.bank { words.append("bank=\(bank)") }
    if filter.states != QueueFilter.openStates {
      words.append("state=" + filter.states.map(\.rawValue).sorted().joined(separator: ","))
    }
    return words.joined(separator: " ")
  }

  private func applyFilterText(_ text: String, context: ConsoleContext) -> ScreenResponse {
    switch QueueFilterText.parse(text, services: services.map { ($0.code, $0.name, $0.id) }) {
    case .success(let next): return apply(next, context: context)
    case .failure(let problem): return .status(.error("filter: \(problem.message)"))
    }
  }

  private func apply(_ next: QueueFilter, context: ConsoleContext) -> ScreenResponse {
    let previous = filter
    filter = next
    window = KeysetWindow<QueueItem>(pageSize: 100, capacity: 400)
    do {
      try reload(context)
    } catch {
      filter = previous
      return .status(.error("Could not filter: \(error)"))
    }
    let what = filterText.isEmpty ? "open items" : filterText
    var message = total == 0
      ? "No match: no item matches \(what); / changes the filter"
      : "\(Format.count(total)) items match (\(what))"
    if let open, !matches(open.item) {
      message += " · item \(open.item.id) stays open (outside this filter)"
    }
    return .status(.info(message))
  }

  /// Whether an item is one the current filter lists.
  private func matches(_ item: QueueItem) -> Bool {
    let filter = queueFilter
    return filter.states.contains(item.state) && (filter.kind.map { $0 == item.kind } ?? true)
      && (filter.serviceId.map { $0 == item.serviceId } ?? true)
      && (filter.bank.map { $0 == item.bank } ?? true)
  }

  // MARK: Drawing

  /// While an item is open the layout favours its preview: the list keeps a few rows (or
  /// two fifths of a wide screen), and `z` gives the preview the whole screen.
  func draw(in area: Rect, on screen: inout Screen, context: ConsoleContext) {
    var listArea = area
    var itemArea: Rect?
    if let open, zoomed {
      drawZoomed(open, in: area, on: &screen, context: context)
      return
    }
    if open != nil {
      if area.width >= 110 {
        let split = area.splitLeft(area.width * 2 / 5)
        listArea = split.left
        itemArea = split.rest
      } else {
        let split = area.splitTop(max(5, area.height / 4))
        listArea = split.top
        itemArea = split.rest
      }
    }
    drawList(in: listArea, on: &screen, context: context)
    if let open, let itemArea {
      drawItem(open, in: itemArea, on: &screen, context: context)
    }
  }

  private func drawList(in area: Rect, on screen: inout Screen, context: ConsoleContext) {
    let theme = context.theme
    let position = total == 0 ? "0" : "\(Format.count(window.selectedPosition + 1))"
    let filterNote = filterText.isEmpty ? "" : " · \(filterText)"
    var title = "Review queue\(filterNote) · \(position) of \(Format.count(total))"
    if let open, !matches(open.item) {
      title = "Review queue · item \(open.item.id) open, not listed\(filterNote) · \(position)"
        + " of \(Format.count(total))"
    }
    let inner = screen.box(area, title: title, theme: theme, focused: open == nil)
    visibleRows = max(1, inner.height - 1)
    window.keepVisible(visibleRows)
    // What matters most comes first: narrow panes drop columns from the right.
    // The open item's pane shows the account, so the list leaves it out then.
    let columns = [
      TableColumn("P", .fixed(1)), TableColumn("Kind", .fixed(5)),
      TableColumn("Age", .fixed(4), alignRight: true),
      TableColumn("SLA", .fixed(5), alignRight: true), TableColumn("State", .fixed(7)),
      TableColumn("Evidence", .flex(min: 14)), TableColumn("Service", .flex(min: 8)),
    ] + (open == nil ? [TableColumn("Account", .fixed(14))] : [])
    let rows = window.rows.map { item in
      let sla = Self.sla(item, now: now, settings: context.review)
      let role: ThemeRole = sla.overdue ? .danger : item.priority == 1 ? .warning : .text
      return TableRow(
        [
          String(item.priority), item.kind.label, Format.age(seconds: now - item.createdAt),
          sla.text, stateLabel(item, context: context), Self.evidence(item), item.serviceName,
        ] + (open == nil ? [item.accountPseudonym ?? "—"] : []), role: role)
    }
    if rows.isEmpty {
      screen.put("No item matches.", in: inner, row: 1, column: 1, style: theme[.muted])
    }
    TableView.draw(
      columns: columns, rows: rows, selected: window.selected, firstRow: window.top, in: inner,
      on: &screen, theme: theme, focused: open == nil)
  }

  /// Time left of an open item's SLA (`5h`), or how long it is overdue (`!3h`, works without
  /// colour); `—` for decided items.
  static func sla(_ item: QueueItem, now: Int64, settings: ReviewSettings)
    -> (text: String, overdue: Bool)
  {
    guard item.state.isOpen else { return ("—", false) }
    let left = item.createdAt + settings.slaSeconds(for: item.kind) - now
    if left < 0 { return ("!" + Format.age(seconds: -left), true) }
    return (Format.age(seconds: left), false)
  }

  /// `mine` for the reviewer's own open item, `@bob` while another operator's claim is live,
  /// otherwise the state.
  private func stateLabel(_ item: QueueItem, context: ConsoleContext) -> String {
    if open?.item.id == item.id { return "mine" }
    if let owner = item.claimedBy, let expiry = item.claimExpiresAt, expiry > now {
      return owner == context.operatorName ? "mine" : "@\(owner)"
    }
    switch item.state {
    case .awaitingSecondHit: return "held"
    case .escalated: return "escal."
    default: return String(item.state.rawValue.prefix(7))
    }
  }

  static func evidence(_ item: QueueItem) -> String {
    switch item.kind {
    case .knownMatch:
      let distance = item.distance.map { " d=\($0)" } ?? ""
      return "\(item.bank ?? "?")\(distance) \(item.label ?? "")"
    case .newMaterial:
      let score = item.score.map { String(format: "%.2f", $0) } ?? "?"
      return "\(item.model ?? "model") \(score)"
    case .urlMatch:
      return item.url ?? ""
    }
  }

  private func drawItem(
    _ open: OpenItem, in rect: Rect, on screen: inout Screen, context: ConsoleContext
  ) {
    let theme = context.theme
    let item = open.item
    let inner = screen.box(
      rect, title: "Item \(item.id) · claimed until \(Self.clock(open.claimedUntil))",
      theme: theme, focused: true)
    let sla = Self.sla(item, now: now, settings: context.review)
    var lines: [(String, String, ThemeRole)] = [
      ("Kind", item.kind.rawValue + " · priority \(item.priority)", .text),
      ("Evidence", Self.evidence(item), .text),
      ("Service", item.serviceName, .text),
      ("Account", item.accountPseudonym ?? "—", .text),
    ]
    if let twin = open.twin { lines.append((TwinNotice.label, twin, .warning)) }
    lines.append(
      ("Flagged", Format.timestamp(item.createdAt) + " · SLA " + sla.text,
        sla.overdue ? .danger : .text))
    if let video = open.preview.sheet {
      lines.append((video.video == nil ? "Animation" : "Video", video.videoLine, .text))
      if let match = open.preview.videoMatchText { lines.append(("Matched", match, .accent)) }
    }
    if !open.note.isEmpty { lines.append(("Note", open.note, .accent)) }
    // A short, wide pane puts the details beside the preview, so the picture gets every row.
    if inner.width >= 60, inner.height < 24 {
      let split = inner.splitLeft(min(32, inner.width / 3))
      let column = split.left
      // The decision keys keep their rows at the bottom whatever the item shows; the
      // preview keys too while every detail still gets a row.
      let keys =
        lines.count <= column.height - Self.keyHelp.count
        ? Self.keyHelp : Array(Self.keyHelp.prefix(Self.decisionKeyRows))
      let details = Self.sideDetails(
        lines, width: column.width, height: max(0, column.height - keys.count))
      for (row, detail) in details.enumerated() {
        if !detail.label.isEmpty {
          screen.put(detail.label, in: column, row: row, style: theme[.muted])
        }
        screen.put(
          detail.text, in: column, row: row, column: detail.column, style: theme[detail.role])
      }
      let keyTop = column.height - keys.count
      for (index, key) in keys.enumerated() where keyTop + index >= 0 {
        screen.put(key, in: column, row: keyTop + index, style: theme[.muted])
      }
      drawPreview(open, in: split.rest, on: &screen, context: context)
      return
    }
    // What matched in a video, and a twin, may take a second row.
    let rows = lines.flatMap { line -> [(String, String, ThemeRole)] in
      guard line.0 == "Matched" || line.0 == TwinNotice.label else { return [line] }
      let wrapped = TextWrap.lines(line.1, width: max(1, inner.width - 12)).prefix(2)
      return wrapped.enumerated().map { ($0.offset == 0 ? line.0 : "", $0.element, line.2) }
    }
    let detailRows = min(rows.count, max(0, inner.height - 4))
    for (row, line) in rows.prefix(detailRows).enumerated() {
      screen.put(line.0, in: inner, row: row, column: 1, style: theme[.muted])
      screen.put(line.1, in: inner, row: row, column: 11, style: theme[line.2])
    }
    let split = inner.splitTop(detailRows)
    guard split.rest.height >= 3 else { return }
    // The decision keys under the preview: one row when it fits, else two.
    let keyRows = [
      Self.keyHelp[..<3].joined(separator: "  "), Self.keyHelp[3...].joined(separator: "  "),
    ]
    let oneRow = keyRows.joined(separator: "  ")
    let keyLines = DisplayWidth.of(oneRow) <= inner.width - 2 ? [oneRow] : keyRows
    let previewArea = Rect(
      x: split.rest.x, y: split.rest.y, width: split.rest.width,
      height: split.rest.height - keyLines.count)
    drawPreview(open, in: previewArea, on: &screen, context: context)
    for (index, line) in keyLines.enumerated() {
      let row = inner.height - keyLines.count + index
      screen.put(line, in: inner, row: row, column: 1, style: theme[.muted])
    }
  }

  /// The decision and preview keys, in short lines for a narrow column.
  static let keyHelp = [
    "y confirm  d dismiss", "e escalate  s skip", "m note  u undo", "-/+ blur  c colour",
    "z zoom  Esc close",
  ]
  /// The first rows of ``keyHelp``: the decisions, never pushed out of view.
  static let decisionKeyRows = 3

  /// One row of the item's details beside the preview: a label, a value (from `column`), or
  /// both.
  struct DetailRow: Equatable {
    var label = ""
    var text = ""
    var role = ThemeRole.text
    var column = 1
  }

  /// The item's details for a column `width` wide, in at most `height` rows: each label on a
  /// row above its value while all fit; else label and value share a row, and values go on
  /// (indented as in the stacked form) onto the rows left over: what matched in a video
  /// first, then the note, the SLA and the evidence; the rest are cut at the column's edge.
  static func sideDetails(_ lines: [(String, String, ThemeRole)], width: Int, height: Int)
    -> [DetailRow]
  {
    // What matched in a video wraps (its range and marked tiles come first) to 3 rows.
    let matchedRows = { (text: String, first: Int) in
      Array(TextWrap.lines(text, width: width - 1, firstWidth: first).prefix(3))
    }
    let stacked = lines.flatMap { line in
      let values = line.0 == "Matched" ? matchedRows(line.1, width - 1) : [line.1]
      return [DetailRow(label: line.0, column: 0)]
        + values.map { DetailRow(text: $0, role: line.2) }
    }
    if stacked.count <= height { return stacked }
    let gutter = (lines.map { DisplayWidth.of($0.0) }.max() ?? 0) + 1
    let valueWidth = max(1, width - gutter)
    let wrapped = lines.map { line in
      line.0 == "Matched"
        ? matchedRows(line.1, valueWidth)
        : TextWrap.lines(line.1, width: width - 1, firstWidth: valueWidth)
    }
    var rows = lines.map { _ in 1 }
    var spare = height - lines.count
    let first = [TwinNotice.label, "Matched", "Note", "Flagged", "Evidence"]
    let order = lines.indices.sorted {
      (first.firstIndex(of: lines[$0].0) ?? first.count, $0)
        < (first.firstIndex(of: lines[$1].0) ?? first.count, $1)
    }
    for index in order where spare > 0 {
      let extra = min(spare, wrapped[index].count - 1)
      rows[index] += extra
      spare -= extra
    }
    let compact = lines.indices.flatMap { index in
      let line = lines[index]
      // One row: the value as it is, cut at the edge; more: wrapped at spaces.
      let values = rows[index] == 1 ? [line.1] : Array(wrapped[index].prefix(rows[index]))
      return values.enumerated().map { n, text in
        DetailRow(
          label: n == 0 ? line.0 : "", text: text, role: line.2, column: n == 0 ? gutter : 1)
      }
    }
    return Array(compact.prefix(height))
  }

  /// The framed preview with its blur gauge, mode and size in the title.
  private func drawPreview(
    _ open: OpenItem, in area: Rect, on screen: inout Screen, context: ConsoleContext,
    prefix: String = ""
  ) {
    let preview = open.preview
    let mode = preview.colour ? "colour" : "grey"
    // A video's frame first: the title is cut at the pane's width (80 columns keep it).
    let size =
      (preview.framePosition.map { " · " + $0 } ?? "")
      + (preview.originalSize.map { " · \($0.width)x\($0.height)" } ?? "")
      + (preview.sheet.map { " · " + $0.summary } ?? "")
    // A blur gauge only where there is a picture to blur.
    let title =
      preview.placeholder == nil
      ? "\(prefix)Preview · blur \(preview.blur) · \(mode)\(size)" : "\(prefix)No picture"
    let inner = screen.box(area, title: title, theme: context.theme, focused: false)
    // A video's frame keys on the frame's lower edge, where every layout keeps them.
    if preview.sheet != nil, area.width > 6, area.height >= 3 {
      screen.put(
        " ←/→ frames ", x: area.x + 2, y: area.maxY - 1, style: context.theme[.muted],
        maxWidth: area.width - 4)
    }
    preview.draw(
      in: inner, on: &screen, depth: context.colorDepth, theme: context.theme,
      graphics: context.graphics, cellPixels: context.cellPixels)
  }

  /// `z`: the preview on the whole screen, the keys on its last row.
  private func drawZoomed(
    _ open: OpenItem, in area: Rect, on screen: inout Screen, context: ConsoleContext
  ) {
    let split = area.splitTop(area.height - 1)
    drawPreview(
      open, in: split.top, on: &screen, context: context, prefix: "Item \(open.item.id) · ")
    let keys =
      "z/Esc back  -/+ blur  b preferred  c colour  y d e s decide  m note"
      + (open.preview.sheet == nil ? "" : "  ←/→ frames")
    screen.put(keys, in: split.rest, row: 0, column: 1, style: context.theme[.muted])
  }

  /// `14:05` (UTC) for claim times.
  static func clock(_ unixSeconds: Int64) -> String {
    String(Format.timestamp(unixSeconds).suffix(5))
  }
}
