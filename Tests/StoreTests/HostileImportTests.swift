import Compliance
import Foundation
import Testing

@testable import Store

/// Consent and verdict files built to merge different ids into one, hide their encoding or
/// flood the database: each is refused naming the line, and what is kept is exact.
@Suite("Hostile consent and verdict files")
struct HostileImportTests {
  static let header = "event_id,account,service,state,occurred_at,source,terms_version,reason\n"

  static func csvLine(_ event: String, _ account: [UInt8], reason: String = "") -> [UInt8] {
    Array("\(event),".utf8) + account
      + Array(",chat-eu,granted,2025-01-01T10:00:00Z,app,tos-1,\(reason)\n".utf8)
  }

  /// Two ids that differ only in bytes that are not UTF-8 used to be stored as one
  /// (`A1\u{FFFD}`): now both lines are refused.
  @Test func invalidUTF8IdsAreRefusedNamingTheLine() throws {
    let db = try seededDatabase()
    let bytes = Array(Self.header.utf8) + Self.csvLine("u1", Array("A1".utf8) + [0xFF])
      + Self.csvLine("u2", Array("A1".utf8) + [0xFE])
    let report = try db.importConsent(
      bytes: bytes, fileName: "c.csv", options: ConsentImportOptions(skipInvalid: true))
    #expect(report.rejected.map(\.line) == [2, 3])
    #expect(report.rejected.allSatisfy { $0.reason.contains("not valid UTF-8") })
    #expect(try db.account(externalIdOrPseudonym: "A1\u{FFFD}") == nil)
    let jsonBytes = Array(#"{"event_id":"j1","account":"A1"#.utf8) + [0xFF]
      + Array(#"","service":"chat-eu"}"#.utf8)
    let jsonReport = try db.importConsent(bytes: jsonBytes, fileName: "c.jsonl")
    #expect(jsonReport.rejected.first?.reason.contains("not valid UTF-8") == true)
  }

  @Test func loneSurrogateEscapesAreRefused() throws {
    let db = try seededDatabase()
    let lines = ["\\ud800", "\\udbff"].map {
      #"{"event_id":"s\#($0)","account":"A\#($0)","service":"chat-eu","state":"granted","#
        + #""occurred_at":"2025-01-01T10:00:00Z","source":"app","terms_version":"t"}"#
    }
    let report = try db.importConsent(
      bytes: Array(lines.joined(separator: "\n").utf8), fileName: "c.jsonl")
    #expect(report.rejected.map(\.line) == [1, 2])
    #expect(report.rejected.allSatisfy { $0.reason.contains("lone surrogate") })
  }

  /// A UTF-16 file used to fail with a misleading "missing column(s)".
  @Test func utf16FilesAreNamedAsSuch() throws {
    let db = try seededDatabase()
    let text = Self.header + "e1,A1,chat-eu,granted,2025-01-01T10:00:00Z,app,tos-1,\n"
    let littleEndian: [UInt8] = text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    let bigEndian: [UInt8] = text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    for bytes in [[0xFF, 0xFE] + littleEndian, bigEndian] {
      let report = try db.importConsent(bytes: bytes, fileName: "c.csv")
      #expect(report.rejected.count == 1)
      #expect(report.rejected.first?.reason.contains("not UTF-8 text (UTF-16?)") == true)
      #expect(report.rejected.first?.line == 1)
      let verdicts = VerdictFileParser.parse(bytes, format: .csv)
      #expect(verdicts.issues.first?.reason.contains("not UTF-8 text (UTF-16?)") == true)
    }
  }

  /// A key given twice used to be accepted (the last one won).
  @Test func duplicateJSONKeysAreRefused() throws {
    let db = try seededDatabase()
    let line = #"{"event_id":"d1","account":"A100000001","account":"A100000002","#
      + #""service":"chat-eu","state":"granted","occurred_at":"2025-01-01T10:00:00Z","#
      + #""source":"app","terms_version":"t"}"#
    let report = try db.importConsent(bytes: Array(line.utf8), fileName: "c.jsonl")
    #expect(report.rejected.first?.reason.contains("\"account\" is given twice") == true)
    let verdicts = VerdictFileParser.parse(
      Array(#"{"case_ref":"CSAR-1","verdict":"manifestly_unfounded","verdict":"x"}"#.utf8),
      format: .jsonl)
    #expect(verdicts.lines.isEmpty)
    #expect(verdicts.issues.first?.reason.contains("\"verdict\" is given twice") == true)
  }

  /// Numeric event ids are the text they were written as.
  @Test func numericEventIdsAreExactText() throws {
    let db = try seededDatabase()
    let ids = ["9223372036854775808", "9223372036854775809", "1e300", "-1e19"]
    let lines = ids.enumerated().map { index, id in
      #"{"event_id":\#(id),"account":"A100000001","service":"chat-eu","state":"#
        + (index % 2 == 0 ? #""granted""# : #""withdrawn""#)
        + #","occurred_at":\#(1_735_725_600 + index),"source":"app","terms_version":"t"}"#
    }
    let report = try db.importConsent(
      bytes: Array(lines.joined(separator: "\n").utf8), fileName: "c.jsonl")
    #expect(report.rejected.isEmpty, "\(report.rejected)")
    #expect(report.accepted == 4 && report.duplicates == 0)
    #expect(try db.historyIds("A100000001") == ids)
  }

  /// A 5 MB reason used to be stored; free text is capped with a clear error.
  @Test func longReasonsAreRefused() throws {
    let db = try seededDatabase()
    let long = String(repeating: "x", count: 5_000_000)
    let report = try db.importCSV(
      ["r1,A100000001,chat-eu,granted,2025-01-01T10:00:00Z,app,tos-1,\(long)"])
    #expect(!report.committed)
    #expect(report.rejected.first?.reason == "reason: 5000000 characters; at most 2000")
    #expect(throws: StoreError.self) {
      try db.recordConsentChange(
        accountId: 1, serviceId: 1, to: .granted, source: .support, termsVersion: "t",
        reason: long, by: "alice")
    }
    let fits = String(repeating: "y", count: AppDatabase.maxNoteLength)
    let ok = try db.importCSV(
      ["r2,A100000001,chat-eu,granted,2025-01-01T10:00:00Z,app,tos-1,\(fits)"])
    #expect(ok.committed && ok.accepted == 1)
  }

  /// NFC and NFD spellings of one id merged within a file but not across files.
  @Test func oneIdInNFCAndNFDIsOneAccountAcrossFiles() throws {
    let db = try seededDatabase()
    let nfd = "Ame\u{301}lie-1", nfc = "Am\u{E9}lie-1"
    #expect(Array(nfd.utf8) != Array(nfc.utf8))
    let first = try db.importCSV(["n1,\(nfd),chat-eu,granted,2025-01-01T10:00:00Z,app,t,"])
    #expect(first.accountsCreated == 1)
    let second = try db.importCSV(["n2,\(nfc),chat-eu,withdrawn,2025-02-01T10:00:00Z,app,t,"])
    #expect(second.accountsCreated == 0 && second.accepted == 1)
    let account = try #require(try db.account(externalIdOrPseudonym: nfd))
    #expect(Array(account.externalId.utf8) == Array(nfc.utf8))
    #expect(try db.account(externalIdOrPseudonym: nfc)?.id == account.id)
    #expect(try db.searchAccounts(prefix: "Ame\u{301}", limit: 5).map(\.id) == [account.id])
    #expect(try db.historyIds(nfc) == ["n1", "n2"])
  }
}
