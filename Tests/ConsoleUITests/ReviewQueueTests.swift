import Compliance
import Detection
import Foundation
import GRDB
import Imaging
import Store
import Terminal
import Testing
import TestSupport

@testable import ConsoleUI

// MARK: - Fixture

/// A demo database in a temporary folder with synthetic pictures beside it: every item's media
/// file exists except `missing`, and `corrupt` is cut short.
struct ReviewFixture {
  static let now: Int64 = 1_795_622_400  // 2026-11-25 16:00 UTC
  let folder: String
  let databasePath: String
  let today: CalendarDate

  init(items: Int = 40) throws {
    folder = try ScratchSpace.folder("review")
    databasePath = folder + "/csar.sqlite"
    today = try CalendarDate(parsing: "2026-11-25")
    // The pictures first: the items record their real SHA-256 (previews check it).
    try FileManager.default.createDirectory(
      atPath: folder + "/media", withIntermediateDirectories: true)
    var digests: [String: String] = [:]
    for number in 0..<64 {
      let name = "media/\(number).png"
      let png = try ImageEncoder.encodePNG(Self.picture(number))
      _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(png))
      digests[name] = FileDigests.sha256(of: png)
    }
    let database = try open()
    var generator = DemoGenerator(seed: 7)
    generator.mediaDigests = digests
    try generator.generate(into: database, items: items, accounts: 60, today: today)
    try database.ensureOperator(name: "bob", role: .reviewer)
  }

  /// A benign synthetic picture: a diagonal gradient with a bright disc.
  static func picture(_ seed: Int) -> RGBImage {
    let (width, height) = (96, 64)
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
      for x in 0..<width {
        let inDisc = (x - 30 - seed % 20) * (x - 30 - seed % 20) + (y - 32) * (y - 32) < 225
        let value = inDisc ? 250 : UInt8((x * 2 + y) % 256)
        let index = (y * width + x) * 3
        pixels[index] = value
        pixels[index + 1] = UInt8((Int(value) + seed * 40) % 256)
        pixels[index + 2] = 255 - value
      }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }

  func open() throws -> AppDatabase {
    try AppDatabase.open(
      path: databasePath, clock: { Self.now },
      auditKey: AuditKey(
        providerKey: ProviderKey(
          bytes: Array(repeating: 7, count: 32), path: folder + "/csar.key")))
  }

  func console(
    _ operatorName: String, depth: ColorDepth = .monochrome,
    configuration: ConsoleUI.Configuration = ConsoleUI.Configuration()
  ) throws -> Console {
    let context = ConsoleContext(
      database: try open(), operatorName: operatorName, theme: try Theme.load(nameOrPath: "mono"),
      today: today, dueSoonDays: 60, colorDepth: depth)
    context.videoLimits = configuration.video.previewLimits
    context.frameLimits = configuration.video.frameLimits
    let console = Console(context: context)
    console.press(.character("3"))
    return console
  }

  func sql<T: DatabaseValueConvertible>(_ query: String, _ type: T.Type = String.self) throws
    -> T?
  {
    try open().writer.read { db in try T.fetchOne(db, sql: query) }
  }

  /// The id of the item in the first row of a reviewer's queue (escalated items go to
  /// leads), or of a lead's with `lead`.
  func firstItemId(lead: Bool = false) throws -> Int64 {
    try itemIds(lead: lead, limit: 1).first ?? -1
  }

  /// The first `limit` items of a reviewer's (or a lead's) queue, in queue order.
  func itemIds(lead: Bool = false, limit: Int) throws -> [Int64] {
    let states = lead ? "'pending', 'escalated'" : "'pending'"
    return try open().writer.read { db in
      try Int64.fetchAll(
        db,
        sql: """
          SELECT id FROM flagged_item WHERE state IN (\(states))
          ORDER BY priority, created_at, id LIMIT \(limit)
          """)
    }
  }
}

extension Console {
  /// Whether any row of the console, drawn at `width` x `height`, contains `text`.
  func shows(_ text: String, width: Int = 120, height: Int = 40) -> Bool {
    render(width: width, height: height).text.contains(text)
  }
}

// MARK: - Tests

@Suite("Review queue")
struct ReviewQueueTests {
  @Test func decisionsNeedAnOpenItemAndOpeningClaimsIt() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    let first = try fixture.firstItemId()
    console.press(.character("y"))
    #expect(console.shows("Open an item with Enter first"))
    #expect(try fixture.sql("SELECT state FROM flagged_item WHERE id = \(first)") == "pending")

    console.press(.enter)
    #expect(
      try fixture.sql(
        "SELECT o.name FROM flagged_item f JOIN operator o ON o.id = f.claimed_by "
          + "WHERE f.id = \(first)") == "alice")
    #expect(console.shows("Item \(first) · claimed until"))

    console.press(.character("d"))
    #expect(try fixture.sql("SELECT state FROM flagged_item WHERE id = \(first)") == "dismissed")
    // The next item is open (claimed) now; the dismissed one left the queue.
    let next = try fixture.firstItemId()
    #expect(next != first)
    #expect(
      try fixture.sql(
        "SELECT claimed_by IS NOT NULL FROM flagged_item WHERE id = \(next)", Bool.self)
        == true)
  }

  @Test func quittingGivesTheOpenItemBack() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    let first = try fixture.firstItemId()
    console.press(.enter)
    #expect(
      try fixture.sql(
        "SELECT claimed_by IS NOT NULL FROM flagged_item WHERE id = \(first)", Bool.self)
        == true)
    console.finish()
    #expect(
      try fixture.sql("SELECT claimed_by IS NULL FROM flagged_item WHERE id = \(first)", Bool.self)
        == true)
  }

  @Test func keysDoNothingUnseenInATooSmallTerminal() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    let first = try fixture.firstItemId()
    _ = console.render(width: 20, height: 6)
    console.press(.enter, .character("y"))
    #expect(
      try fixture.sql("SELECT claimed_by IS NULL FROM flagged_item WHERE id = \(first)", Bool.self)
        == true)
    _ = console.render(width: 120, height: 40)
    console.press(.enter)
    #expect(console.shows("Item \(first) · claimed until"))
    _ = console.render(width: 20, height: 6)
    console.press(.character("q"))
    #expect(console.isFinished)
  }

  @Test func anotherConsoleNeverOffersAClaimedItem() throws {
    let fixture = try ReviewFixture()
    let alice = try fixture.console("alice")
    let bob = try fixture.console("bob")
    let first = try fixture.firstItemId()
    alice.press(.enter)
    bob.press(.control("r"))
    #expect(bob.shows("@alice"))
    bob.press(.enter)
    #expect(bob.shows("being reviewed by alice"))
    // Bob's decision keys do nothing: he holds no item.
    bob.press(.character("y"))
    alice.press(.character("y"))
    #expect(
      try fixture.sql("SELECT count(*) FROM review_decision WHERE item_id = \(first)", Int.self)
        == 1)
    #expect(
      try fixture.sql(
        "SELECT o.name FROM review_decision d JOIN operator o ON o.id = d.operator_id "
          + "WHERE d.item_id = \(first)") == "alice")
  }

  @Test func previewStartsBlurredAndEveryStepClearerIsAudited() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    console.press(.enter)
    var screens: [String] = []
    for level in stride(from: 4, through: 0, by: -1) {
      let screen = console.render(width: 120, height: 40)
      #expect(screen.text.contains("blur \(BlurLevel(level))"))
      assertSnapshot(screen, named: "review-preview-blur\(level)-120x40")
      screens.append(screen.text)
      console.press(.character("-"))
    }
    #expect(Set(screens).count == 5, "each blur level draws a different picture")
    console.press(.escape, .enter)
    assertSnapshot(console.render(width: 80, height: 24), named: "review-preview-blur4-80x24")
    #expect(
      try fixture.sql("SELECT count(*) FROM audit_event WHERE action = 'preview.unblur'", Int.self)
        == 4)
    // Reopened, the item starts fully blurred again. More blur is never audited; colour on
    // is, and counts as a second exposure this session.
    console.press(.character("+"), .character("c"))
    #expect(
      try fixture.sql("SELECT count(*) FROM audit_event WHERE action = 'preview.unblur'", Int.self)
        == 5)
    #expect(console.shows("seen 2"))
  }

  @Test func colourTerminalsGetGreyHalfBlocksUntilColourIsAsked() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice", depth: .trueColor)
    console.press(.enter, .character("-"), .character("-"), .character("-"), .character("-"))
    func previewColours() -> [TerminalColor] {
      let screen = console.render(width: 120, height: 40)
      var colours: [TerminalColor] = []
      for y in 0..<screen.height {
        for x in 0..<screen.width where screen[x, y].character == "▀" {
          colours += [screen[x, y].style.foreground, screen[x, y].style.background]
        }
      }
      return colours
    }
    func isGrey(_ colour: TerminalColor) -> Bool {
      if case .rgb(let r, let g, let b) = colour { return r == g && g == b }
      return false
    }
    let clearGrey = previewColours()
    #expect(clearGrey.count > 1000)
    #expect(clearGrey.allSatisfy(isGrey), "even clear, the preview stays grey")
    console.press(.character("c"))
    let coloured = previewColours()
    #expect(coloured.contains { !isGrey($0) })
  }

  @Test func eightColourTerminalsShadeGreyWithTheirTwoGreysAndUseColourWhenAsked() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice", depth: .color8)
    console.press(.enter, .character("-"), .character("-"))
    func previewCells() -> [Cell] {
      let screen = console.render(width: 120, height: 40)
      var cells: [Cell] = []
      for y in 0..<screen.height {
        for x in 0..<screen.width where screen[x, y].style.isImage { cells.append(screen[x, y]) }
      }
      return cells
    }
    let grey = previewCells()
    #expect(grey.contains { "░▒▓".contains($0.character) }, "shading gives tones between")
    let greys: Set<TerminalColor> = [.indexed(0), .indexed(7)]
    #expect(grey.allSatisfy { greys.contains($0.style.foreground) })
    #expect(grey.allSatisfy { greys.contains($0.style.background) })
    console.press(.character("c"))
    #expect(previewCells().contains { !greys.contains($0.style.foreground) })
  }

  @Test func previewBlursAgainOnTheNextItemAndWhenIdle() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    console.press(.enter, .character("-"), .character("-"))
    #expect(console.shows("blur \(BlurLevel(2))"))
    console.press(.character("j"))
    #expect(console.shows("blur \(BlurLevel.fullyBlurred)"))
    console.press(.character("-"), .character("c"))
    #expect(console.shows("· colour"))
    console.idle(secondsSinceKey: 29)
    #expect(console.shows("· colour"))
    console.idle(secondsSinceKey: 30)
    let screen = console.render(width: 120, height: 40)
    #expect(screen.text.contains("blur \(BlurLevel.fullyBlurred) · grey"))
    #expect(screen.text.contains("blurred again"))
    // Leaving the queue and coming back also blurs it again.
    console.press(.character("-"), .character("1"), .character("3"))
    #expect(console.shows("Item"))
    #expect(console.shows("blur \(BlurLevel.fullyBlurred) · grey"))
  }

  @Test func missingAndCorruptFilesShowAPlaceholder() throws {
    let fixture = try ReviewFixture()
    let first = try fixture.firstItemId()
    let path = try #require(
      try fixture.sql("SELECT media_path FROM flagged_item WHERE id = \(first)"))
    try FileManager.default.removeItem(atPath: fixture.folder + "/" + path)
    let console = try fixture.console("alice")
    console.press(.enter)
    var screen = console.render(width: 120, height: 40)
    #expect(screen.text.contains("No preview"))
    #expect(screen.text.contains(path))
    console.press(.character("-"))
    #expect(console.shows("has no picture"))

    let png = try ImageEncoder.encodePNG(ReviewFixture.picture(3))
    _ = FileManager.default.createFile(
      atPath: fixture.folder + "/" + path, contents: Data(png.prefix(png.count / 3)))
    console.press(.escape, .enter)
    screen = console.render(width: 120, height: 40)
    #expect(screen.text.contains("Item \(first) · claimed until"))
    #expect(screen.text.contains("No preview"))
  }

  @Test func aReplacedFileIsNotShownAndTheMismatchIsAudited() throws {
    let fixture = try ReviewFixture()
    let first = try fixture.firstItemId()
    let path = try #require(
      try fixture.sql("SELECT media_path FROM flagged_item WHERE id = \(first)"))
    // Another valid picture in its place, after the item recorded the original's SHA-256.
    try ImageEncoder.writePNG(ReviewFixture.picture(99), to: fixture.folder + "/" + path)
    let console = try fixture.console("alice")
    console.press(.enter)
    #expect(console.shows("Item \(first) · claimed until"))
    #expect(console.shows("changed since it was scanned"))
    console.press(.character("-"))
    #expect(console.shows("has no picture"))
    let audited = try fixture.sql(
      """
      SELECT count(*) FROM audit_event WHERE action = 'preview.media_mismatch'
        AND entity_id = '\(first)'
      """, Int.self)
    #expect(audited == 1)
  }

  @Test func anItemWithoutADigestRecordsItOnFirstViewThenChecksIt() throws {
    let fixture = try ReviewFixture()
    let first = try fixture.firstItemId()
    let path = try #require(
      try fixture.sql("SELECT media_path FROM flagged_item WHERE id = \(first)"))
    try fixture.open().writer.write {
      try $0.execute(sql: "UPDATE flagged_item SET sha256 = NULL WHERE id = \(first)")
    }
    let console = try fixture.console("alice")
    console.press(.enter)
    #expect(!console.shows("No preview"))
    let png = try ImageEncoder.encodePNG(ReviewFixture.picture(Int(path.filter(\.isNumber))!))
    #expect(
      try fixture.sql("SELECT sha256 FROM flagged_item WHERE id = \(first)")
        == FileDigests.sha256(of: png))
    #expect(
      try fixture.sql(
        "SELECT count(*) FROM audit_event WHERE action = 'preview.media_digest'", Int.self) == 1)
    try ImageEncoder.writePNG(ReviewFixture.picture(99), to: fixture.folder + "/" + path)
    console.press(.escape, .enter)
    #expect(console.shows("changed since it was scanned"))
  }

  @Test func mediaOutsideTheRootsIsNotRead() throws {
    let fixture = try ReviewFixture()
    let first = try fixture.firstItemId()
    // A picture beside the database but outside its media folder, then a system file.
    try ImageEncoder.writePNG(ReviewFixture.picture(1), to: fixture.folder + "/beside.png")
    for path in ["beside.png", "/etc/passwd", "media/../beside.png"] {
      try fixture.open().writer.write {
        try $0.execute(
          sql: "UPDATE flagged_item SET media_path = ?, sha256 = NULL WHERE id = \(first)",
          arguments: [path])
      }
      let console = try fixture.console("alice")
      console.press(.enter)
      #expect(console.shows("is outside the media roots", width: 300), "\(path)")
      #expect(console.shows(path), "\(path)")
      console.press(.escape)
      #expect(try fixture.sql("SELECT sha256 FROM flagged_item WHERE id = \(first)") == nil)
    }
  }

  @Test func aHugePictureGetsAPlaceholderNotADecode() throws {
    // A JPEG whose header claims 6000 x 6000 (36 megapixels; the preview limit is 24).
    var jpeg = try ImageEncoder.encodeJPEG(ReviewFixture.picture(1))
    let sof = try #require(
      jpeg.indices.dropLast().first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
    jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0x17, 0x70, 0x17, 0x70])
    let path = try ScratchSpace.path("huge.jpg")
    _ = FileManager.default.createFile(atPath: path, contents: Data(jpeg))
    let preview = ItemPreview(
      itemId: 1, mediaPath: path, url: nil, databasePath: ":memory:",
      roots: MediaRoots(configured: [try ScratchSpace.root], databasePath: ":memory:"))
    guard case .unreadable(let why)? = preview.placeholder else {
      Issue.record("expected a placeholder, got \(String(describing: preview.placeholder))")
      return
    }
    #expect(why.contains("6000"), "\(why)")
    #expect(!preview.clearer())
  }

  /// WebP, GIF, BMP, TIFF, HEIC and AVIF uploads are shown (before: a placeholder saying the
  /// format is not supported), blurred and grey like any picture.
  @Test func everyUploadFormatIsPreviewed() throws {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../DetectionTests/Fixtures/images").standardized.path
    for name in [
      "picture.webp", "animated.gif", "picture.bmp", "picture.tiff", "photo.heic", "photo.avif",
    ] {
      let preview = ItemPreview(
        itemId: 1, mediaPath: fixtures + "/" + name, url: nil, databasePath: ":memory:",
        roots: MediaRoots(configured: [fixtures], databasePath: ":memory:"))
      #expect(preview.placeholder == nil, "\(name): \(String(describing: preview.placeholder))")
      #expect(preview.originalSize?.width == 192 && preview.originalSize?.height == 144)
      #expect(preview.blur == .fullyBlurred && !preview.colour)
      #expect(preview.clearer(), "\(name): a picture can be unblurred a step")
    }
  }

  @Test func undoReopensTheItem() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    let first = try fixture.firstItemId()
    console.press(.enter, .character("e"))
    #expect(try fixture.sql("SELECT state FROM flagged_item WHERE id = \(first)") == "escalated")
    console.press(.character("u"))
    #expect(try fixture.sql("SELECT state FROM flagged_item WHERE id = \(first)") == "pending")
    let screen = console.render(width: 120, height: 40)
    #expect(screen.text.contains("Item \(first) · claimed until"))
    #expect(screen.text.contains("undone"))
    console.press(.character("u"))
    #expect(console.shows("Not undone"))
  }

  @Test func breakReminderAfterTheConfiguredCount() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    console.context.review.breakReminderAfter = 2
    console.press(.enter, .character("-"), .character("j"), .character("-"))
    #expect(console.shows("Consider a short break"))
    #expect(console.context.exposures == 2)
  }

  @Test func auditScreenShowsDetailsFiltersAndVerifies() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice")
    console.press(.enter, .character("-"), .character("5"))
    console.press(.character("/"))
    console.type("preview.")
    console.press(.enter)
    #expect(console.shows("Audit log (append-only, hash-chained) · preview.…"))
    console.press(.enter)
    #expect(console.shows("\"blur\":3"))
    #expect(console.shows("Previous"))
    console.verifyAndWait()
    #expect(console.shows("chain intact"))
    // An edited row is found (the append-only triggers are dropped to simulate tampering).
    try fixture.open().writer.write { db in
      for name in try String.fetchAll(
        db,
        sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")
      {
        try db.execute(sql: "DROP TRIGGER \(name)")
      }
      try db.execute(sql: "UPDATE audit_event SET operator = 'mallory' WHERE id = 3")
    }
    console.verifyAndWait()
    #expect(console.shows("audit log broken at event 3"))
  }

  @Test func filterTextReadsEveryKey() throws {
    let services = [(code: "forum-fr", name: "Forum Étudiant", id: Int64(3))]
    let filter = try QueueFilterText.parse(
      "kind=new service=forum-fr bank=ncmec state=held,escalated", services: services).get()
    #expect(filter.kind == .newMaterial)
    #expect(filter.serviceId == 3)
    #expect(filter.bank == "ncmec")
    #expect(filter.states == [.awaitingSecondHit, .escalated])
    #expect(try QueueFilterText.parse("", services: services).get() == QueueFilter())
    for bad in ["kind=video", "service=nope", "colour=red", "state=lost", "kind"] {
      #expect(throws: QueueFilterText.Problem.self) {
        try QueueFilterText.parse(bad, services: services).get()
      }
    }
  }

  @Test func slaOverdueItemsAreMarkedWithoutColour() {
    var item = QueueItem(
      id: 1, kind: .knownMatch, state: .pending, priority: 2, serviceId: 1, serviceCode: "x",
      serviceName: "X", createdAt: 0)
    let settings = ReviewSettings()
    #expect(QueueScreen.sla(item, now: 3600, settings: settings) == ("23h", false))
    #expect(QueueScreen.sla(item, now: 30 * 3600, settings: settings) == ("!6h", true))
    item.state = .confirmed
    #expect(QueueScreen.sla(item, now: 30 * 3600, settings: settings) == ("—", false))
  }
}
