import Compliance
import Store
import Terminal
import Testing

@testable import ConsoleUI

/// An account id with a zero-width space or a right-to-left override used to look exactly
/// like another id on the Consent screen; such characters now show as `<U+200B>`.
@Suite("Invisible characters on screen")
struct InvisibleCharacterTests {
  @Test func lookalikeIdsLookDifferent() throws {
    let console = try makeConsole()
    let csv = """
      event_id,account,service,state,occurred_at,source,terms_version,reason
      z1,A\u{200B}100000001,chat-eu,granted,2026-11-20T10:00:00Z,app,tos-1,
      z2,A\u{202E}100000002,chat-eu,granted,2026-11-20T10:00:00Z,app,tos-1,
      """
    let report = try console.context.database.importConsent(
      bytes: Array(csv.utf8), fileName: "c.csv")
    #expect(report.committed && report.accountsCreated == 2, "\(report.rejected)")
    console.press(.character("4"), .character("/"))
    console.type("A\u{200B}1")
    var text = console.render(width: 120, height: 40).text
    #expect(text.contains("A<U+200B>100000001"))
    for _ in 0..<3 { console.press(.backspace) }
    console.type("A\u{202E}1")
    text = console.render(width: 120, height: 40).text
    #expect(text.contains("A<U+202E>100000002"))
    #expect(!text.unicodeScalars.contains { $0.properties.generalCategory == .format })
  }
}
