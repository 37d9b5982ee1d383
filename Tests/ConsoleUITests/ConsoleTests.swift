import Compliance
import Store
import Terminal
import Testing

@testable import ConsoleUI

/// A console over a small deterministic demo database, at a fixed day and clock.
func makeConsole(items: Int = 120, theme: String = "default") throws -> Console {
  let today = try CalendarDate(parsing: "2026-11-25")
  let now: Int64 = 1_795_622_400  // 2026-11-25 16:00 UTC
  let database = try AppDatabase.inMemory(clock: { now })
  try DemoGenerator(seed: 7).generate(into: database, items: items, accounts: 300, today: today)
  let context = ConsoleContext(
    database: database, operatorName: "alice", theme: try Theme.load(nameOrPath: theme),
    today: today, dueSoonDays: 60)
  return Console(context: context)
}

extension Console {
  func press(_ keys: Key...) {
    for key in keys { handle(key) }
  }

  func type(_ text: String) {
    for character in text { handle(.character(character)) }
  }

  /// Presses `V` on the Reports screen and waits until the check, run in the background,
  /// has finished and its result is on the status bar.
  func verifyAndWait() {
    handle(.character("V"))
    job?.waitUntilFinished()
    pollBackground()
  }
}

@Suite("Console screens")
struct ConsoleTests {
  @Test(arguments: [(80, 24), (120, 40)])
  func snapshotsOfEveryScreen(width: Int, height: Int) throws {
    let console = try makeConsole()
    let names = ["dashboard", "services", "review", "consent", "reports"]
    for (index, name) in names.enumerated() {
      console.handle(.character(Character(String(index + 1))))
      assertSnapshot(console.render(width: width, height: height), named: "\(name)-\(width)x\(height)")
    }
  }

  @Test func dashboardListsOverdueServicesFirst() throws {
    let console = try makeConsole()
    let text = console.render(width: 120, height: 40).text
    let rows = text.split(separator: "\n").map(String.init)
    let firstDeadline = try #require(rows.firstIndex { $0.contains("!! ") })
    let firstOk = rows.firstIndex { $0.contains("│   ") && $0.contains(" ok ") }
    if let firstOk { #expect(firstDeadline < firstOk) }
    #expect(text.contains("overdue"))
    #expect(text.contains("never assessed"))
    #expect(text.contains("due in"))
  }

  @Test func helpListsEveryKeyOfTheActiveScreen() throws {
    let console = try makeConsole()
    for index in 0..<5 {
      console.handle(.character(Character(String(index + 1))))
      console.handle(.character("?"))
      let text = console.render(width: 120, height: 60).text
      let screen = console.screens[index]
      for entry in screen.helpSection.entries {
        #expect(text.contains(entry.help), "help of \(screen.title) misses \(entry.help)")
        #expect(text.contains(entry.keys), "help of \(screen.title) misses \(entry.keys)")
      }
      for entry in Console.globalKeys.helpSection.entries {
        #expect(text.contains(entry.help))
      }
      console.handle(.escape)
      #expect(!console.render(width: 120, height: 60).text.contains("Keys — Esc closes"))
    }
  }

  @Test func noKeyIsBoundTwiceOnAScreen() throws {
    let console = try makeConsole()
    let global = Set(Console.globalKeys.helpSection.entries.map(\.keys))
    for screen in console.screens {
      let keys = screen.helpSection.entries.flatMap { $0.keys.split(separator: "/") }
      #expect(Set(keys).count == keys.count, "\(screen.title) binds a key twice")
      for key in keys {
        #expect(!global.contains(String(key)), "\(screen.title) shadows global key \(key)")
      }
    }
  }

  @Test func tinyTerminalShowsAMessageAndStillQuits() throws {
    let console = try makeConsole()
    let screen = console.render(width: 20, height: 6)
    #expect(screen.text.contains("Terminal too small"))
    #expect(screen.text.contains("20x6"))
    for width in 0..<60 {
      for height in [0, 1, 2, 5, 11, 12] {
        _ = console.render(width: width, height: height)
      }
    }
    console.handle(.character("q"))
    #expect(console.isFinished)
  }

  @Test func escapeSequencesNeverReachTheGrid() throws {
    let console = try makeConsole()
    for index in 1...5 {
      console.handle(.character(Character(String(index))))
      let screen = console.render(width: 160, height: 50)
      for y in 0..<screen.height {
        for x in 0..<screen.width {
          let scalars = screen[x, y].character.unicodeScalars
          #expect(!scalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
          #expect(!scalars.contains { (0x202A...0x202E).contains($0.value) })
        }
      }
    }
    console.handle(.character("2"))
    #expect(console.render(width: 160, height: 50).text.contains("␛[31m"))
  }

  @Test func queuePagesThroughEveryItemByKeyset() throws {
    let console = try makeConsole(items: 700)
    console.handle(.character("3"))
    // A reviewer's queue: escalated items go to leads.
    let total = try console.context.database.queueCount(filter: QueueFilter(states: [.pending]))
    #expect(total > 300)
    var seen = 0
    for _ in 0..<(total + 5) { console.handle(.character("j")) }
    var text = console.render(width: 120, height: 40).text
    #expect(text.contains("\(Format.count(total)) of \(Format.count(total))"))
    console.handle(.character("g"))
    text = console.render(width: 120, height: 40).text
    #expect(text.contains("· 1 of \(Format.count(total))"))
    console.handle(.character("G"))
    text = console.render(width: 120, height: 40).text
    #expect(text.contains("\(Format.count(total)) of \(Format.count(total))"))
    for _ in 0..<(total - 1) {
      console.handle(.character("k"))
      seen += 1
    }
    text = console.render(width: 120, height: 40).text
    #expect(text.contains("· 1 of \(Format.count(total))"))
  }

  @Test func commandLineSwitchesThemeAndReportsUnknownCommands() throws {
    let console = try makeConsole()
    console.handle(.character(":"))
    console.type("theme mono")
    console.handle(.enter)
    #expect(console.context.theme.name == "mono")
    console.handle(.character(":"))
    console.type("frobnicate")
    console.handle(.enter)
    #expect(console.render(width: 80, height: 24).text.contains("Unknown command :frobnicate"))
    console.handle(.character(":"))
    console.type("q")
    console.handle(.enter)
    #expect(console.isFinished)
  }

  @Test func consentSearchFindsAccountsByPrefix() throws {
    let console = try makeConsole()
    let account = try #require(
      try console.context.database.searchAccounts(prefix: "", limit: 1).first)
    console.handle(.character("4"))
    console.handle(.character("/"))
    console.type(String(account.externalId.prefix(6)))
    console.handle(.enter)
    console.handle(.enter)
    let text = console.render(width: 120, height: 40).text
    #expect(text.contains(account.externalId))
    #expect(text.contains("newest first"))
  }
}

@Suite("Keyset window")
struct KeysetWindowTests {
  @Test func pagingMatchesTheFullList() {
    let all = Array(0..<1_000)
    let page = 37
    func after(_ row: Int) -> [Int] { Array(all.filter { $0 > row }.prefix(page)) }
    func before(_ row: Int) -> [Int] { Array(all.filter { $0 < row }.suffix(page)) }
    var window = KeysetWindow<Int>(pageSize: page, capacity: 100)
    window.reset(firstPage: Array(all.prefix(page)))
    for expected in 0..<all.count {
      #expect(window.selectedRow == expected)
      #expect(window.selectedPosition == expected)
      #expect(window.rows.count <= 100 + page)
      window.move(by: 1, visible: 10, after: after, before: before)
    }
    for expected in stride(from: all.count - 1, through: 0, by: -1) {
      #expect(window.selectedRow == expected)
      window.move(by: -1, visible: 10, after: after, before: before)
    }
    window.move(by: 250, visible: 10, after: after, before: before)
    #expect(window.selectedRow == window.selectedPosition)
  }
}
