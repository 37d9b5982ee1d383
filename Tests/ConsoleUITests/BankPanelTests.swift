import Compliance
import Store
import Terminal
import Testing

@testable import ConsoleUI

/// The bank view (Dashboard, `b`): banks with type, hashes, enabled, threshold, on-match,
/// current version and source; the selected bank's version history below.
@Suite("Bank view")
struct BankPanelTests {
  @Test(arguments: [(80, 24), (120, 40)])
  func snapshotOfTheBankView(width: Int, height: Int) throws {
    let console = try makeConsole()
    console.press(.character("1"), .character("b"))
    assertSnapshot(
      console.render(width: width, height: height), named: "banks-\(width)x\(height)")
  }

  @Test func listsEveryBankAndTheSelectedOnesVersions() throws {
    let console = try makeConsole()
    let database = console.context.database
    // A second version of NCMEC: 2 hashes from a file, by a lead.
    try database.importBank(
      name: "NCMEC",
      entries: [
        BankHashEntry(type: .md5, hash: String(repeating: "a", count: 32)),
        BankHashEntry(type: .sha256, hash: String(repeating: "b", count: 64)),
      ], source: BankSource(file: "ncmec-2026-12.xml", format: "ncmec-xml"), by: "bahar")
    try database.setBankEnabled(name: "IWF", enabled: false, by: "bahar")
    console.press(.character("1"), .character("b"))
    var text = console.render(width: 120, height: 40).text
    let banks = try database.hashBanks()
    #expect(text.contains("Hash banks · \(banks.count)"))
    for bank in banks { #expect(text.contains(bank.name), "\(bank.name) is not listed") }
    #expect(text.contains("pdq md5 sha256") && text.contains("v2 import"))
    #expect(text.contains("ncmec-2026-12.xml (ncmec-xml)"))
    #expect(text.rows.contains { $0.contains("IWF") && $0.contains(" off ") })
    // Select NCMEC: its two versions, newest first.
    let index = try #require(banks.firstIndex { $0.name == "NCMEC" })
    console.press(.character("g"))
    for _ in 0..<index { console.press(.character("j")) }
    text = console.render(width: 120, height: 40).text
    #expect(text.contains("Versions of NCMEC · 2, newest first"))
    let v2 = try #require(text.rows.firstIndex { $0.contains("v2") && $0.contains("+2") })
    let v1 = try #require(
      text.rows.firstIndex { $0.contains("v1") && $0.contains("ncmec-hashes.csv") })
    #expect(v2 < v1)
    #expect(text.rows[v2].contains("bahar"))
    // Esc closes it; the Dashboard is back.
    console.press(.escape)
    #expect(console.render(width: 120, height: 40).text.contains("Re-categorisation deadlines"))
    console.press(.character("b"), .character("b"))
    #expect(!console.render(width: 120, height: 40).text.contains("Hash banks ·"))
  }

  /// Before: the bank view's status bar offered the Dashboard's "Enter Open the service in
  /// Services", a key that does nothing there, and none of the view's own keys.
  @Test func theStatusBarAndHelpShowTheBankViewsOwnKeys() throws {
    let console = try makeConsole()
    console.press(.character("1"), .character("b"))
    let bar = try #require(console.render(width: 80, height: 24).text.rows.last)
    #expect(!bar.contains("Open the service"), "\(bar)")
    #expect(!BankPanel.keys.hints.isEmpty)
    for (keys, help) in BankPanel.keys.hints {
      #expect(bar.contains("\(keys) \(help)"), "\(bar)")
    }
    #expect(bar.contains("? This help") && bar.contains("q Quit"), "\(bar)")
    // Help lists the same table.
    console.press(.character("?"))
    let help = console.render(width: 120, height: 40).text
    #expect(help.contains("Hash banks"))
    for binding in BankPanel.keys.bindings {
      #expect(help.contains(binding.keyLabel) && help.contains(binding.help), "\(binding.help)")
    }
    #expect(!help.contains("Open the service in Services"))
    console.press(.escape)
    // And dispatch: each key the table binds to closing closes the view.
    let close = try #require(BankPanel.keys.bindings.first { $0.action == .close })
    for key in close.keys {
      #expect(console.shows("Hash banks ·"))
      console.press(key)
      #expect(console.shows("Re-categorisation deadlines"), "\(KeyName.label(key))")
      console.press(.character("b"))
    }
  }
}

extension String {
  /// The lines of a rendered screen.
  fileprivate var rows: [String] { split(separator: "\n").map(String.init) }
}
