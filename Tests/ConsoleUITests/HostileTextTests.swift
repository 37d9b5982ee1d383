import Compliance
import Foundation
import GRDB
import Store
import Terminal
import Testing

@testable import ConsoleUI

/// Names, labels and notes that try to take over the terminal: escape sequences, bidi
/// overrides, bells, carriage returns, zero-width characters and very long text, in every
/// text column the console shows, drawn at every size down to 20x6.
@Suite("Hostile text")
struct HostileTextTests {
  static let hostile = [
    "\u{1B}[2J\u{1B}]0;owned\u{07}clear", "\u{202E}txt.exe\u{202C}", "a\rb\nc\td",
    "zero\u{200B}width\u{FEFF}", "e\u{301}\u{301}\u{301}\u{301}",
    String(repeating: "Long名前", count: 2000),
  ]

  /// Puts the hostile strings into services, accounts, items, operators and notes.
  static func poison(_ fixture: ReviewFixture) throws {
    let database = try fixture.open()
    try database.ensureOperator(name: hostile[0], role: .reviewer)
    try database.writer.write { db in
      for (index, text) in hostile.enumerated() {
        try db.execute(
          sql: "UPDATE service SET name = ? WHERE id = ?", arguments: [text, index + 1])
        try db.execute(
          sql: "UPDATE account SET pseudonym = ? WHERE id = ?",
          arguments: [text + "#\(index)", index + 1])
        try db.execute(
          sql: """
            UPDATE flagged_item SET label = ?, model = ?, url = ?, bank = ?
            WHERE id IN (SELECT id FROM flagged_item ORDER BY priority, created_at, id
              LIMIT 1 OFFSET ?)
            """, arguments: [text, text, "https://x/" + text, text, index])
      }
      try db.execute(sql: "UPDATE flagged_item SET account_id = 1 + id % 6")
    }
  }

  @Test func nothingReachesTheTerminalButPrintableText() throws {
    let fixture = try ReviewFixture()
    try Self.poison(fixture)
    let console = try fixture.console(Self.hostile[0])
    let keys: [[Key]] = [
      [.character("1")], [.character("2")], [.character("2"), .enter],
      [.character("3")], [.character("3"), .enter, .character("m")],
      [.character("4")], [.character("5")], [.character("5"), .enter], [.character("?")],
    ]
    for sequence in keys {
      for key in sequence { console.handle(key) }
      if case .character("m") = sequence.last {
        console.type(Self.hostile[0] + Self.hostile[1])
        console.handle(.enter)
      }
      for (width, height) in [(20, 6), (50, 12), (80, 24), (200, 60)] {
        let screen = console.render(width: width, height: height)
        for y in 0..<screen.height {
          for x in 0..<screen.width {
            let scalars = screen[x, y].character.unicodeScalars
            #expect(!scalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
            #expect(!scalars.contains { $0.properties.generalCategory == .format })
          }
        }
      }
      console.handle(.escape)
    }
    // The text is still there, made visible: escapes as ␛, long names cut to fit.
    console.handle(.character("2"))
    let services = console.render(width: 200, height: 60).text
    #expect(services.contains("␛[2J"))
    #expect(services.contains("Long名前"))
    #expect(services.contains("txt.exe"))
    console.handle(.character("5"))
    #expect(console.render(width: 200, height: 60).text.contains("␛]0;owned"))
  }
}
