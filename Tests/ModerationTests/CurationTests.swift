import Detection
import Foundation
import Imaging
import Testing

@testable import Moderation
@testable import Store

/// Removal and retraction lists from files, and what scans record and do per bank.
@Suite("Bank curation from files")
struct CurationTests {
  static let pdqA = String(repeating: "0f", count: 32)
  static let pdqB = String(repeating: "3c", count: 32)
  static let md5 = String(repeating: "ab", count: 16)

  @Test func aBadLineAnywhereChangesNothingAndIsNamed() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    try db.importBank(
      name: "known", entries: [
        BankHashEntry(type: .pdq, hash: Self.pdqA), BankHashEntry(type: .md5, hash: Self.md5),
      ], by: "mod")
    let events = try count(db, "SELECT count(*) FROM audit_event")
    let path = try scratch.write("rm.csv", "pdq,\(Self.pdqA)\nmd5,\(Self.md5)\nmd5,12345\n")
    for apply in [
      { try Curation.remove(name: "known", path: path, database: db, by: "mod") as Any },
      { try Curation.retract(path: path, database: db, by: "mod") as Any },
    ] {
      #expect {
        try apply()
      } throws: { error in
        guard case .invalidRemovalLines(let file, let problems) = error as? ModerationError
        else { return false }
        return file == path && problems.map(\.line) == [3]
          && problems[0].description.hasPrefix(path + ":3: ")
          && "\(error)".contains("nothing changed")
      }
    }
    #expect(try db.hashBank(name: "known").total == 2)
    #expect(try count(db, "SELECT count(*) FROM audit_event") == events)
  }

  @Test func retractionListsReadEveryImportFormat() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    try db.importBank(
      name: "a", entries: [
        BankHashEntry(type: .pdq, hash: Self.pdqA), BankHashEntry(type: .pdq, hash: Self.pdqB),
      ], by: "mod")
    try db.importBank(name: "b", entries: [BankHashEntry(type: .pdq, hash: Self.pdqA)], by: "mod")
    // threatexchange's `TYPE VALUE` lines.
    let path = try scratch.write("retract.txt", "pdq \(Self.pdqA)\n")
    let summary = try Curation.retract(path: path, database: db, by: "mod")
    #expect(summary.removed == 2)
    #expect(summary.versions.map(\.source) == [
      BankSource(file: "retract.txt", format: "te-lines"),
      BankSource(file: "retract.txt", format: "te-lines"),
    ])
    #expect(try db.hashBank(name: "a").total == 1)
    #expect(try db.hashBank(name: "b").total == 0)
  }

  @Test func scansRecordTheVersionThatMatchedAndReportWhenTheBankSaysSo() throws {
    let setup = try ScanTests.Setup(alsoSHA256: true)
    defer { setup.scratch.remove() }
    let db = setup.db
    let first = try setup.scan([setup.original])[0]
    guard case .flagged(_, let itemId) = first.decision else {
      Issue.record("not flagged: \(first.decision)")
      return
    }
    #expect(try db.flaggedItem(id: itemId)?.bankVersion == 1)
    #expect(first.jsonLine.contains("\"bank_version\":1"))
    try db.importBank(name: "known", entries: [BankHashEntry(type: .md5, hash: Self.md5)], by: "mod")
    try db.setBankOnMatch(name: "known", action: .report, by: "mod")
    let second = try setup.scan([setup.original])[0]
    guard case .flagged(_, let reportedId) = second.decision else {
      Issue.record("not flagged: \(second.decision)")
      return
    }
    let item = try #require(try db.flaggedItem(id: reportedId))
    #expect(item.state == .confirmed && item.bankVersion == 2)
    let reports = try db.reports(limit: 5)
    #expect(reports.count == 1 && reports[0].payloadJSON.contains("\"bank_version\":2"))
  }

  @Test func aLongRunningMatcherDropsRetractedHashesAtOnceAndRebuilds() throws {
    let setup = try ScanTests.Setup()
    defer { setup.scratch.remove() }
    let live = try LiveBankMatcher(database: setup.db)
    let query = [try HashQuery(type: "pdq", value: setup.pdq.hash.hex, field: "q")]
    #expect(try live.current.lookup(query)[0].matches.count == 1)
    let path = try setup.scratch.write("r.csv", "pdq,\(setup.pdq.hash.hex)\n")
    _ = try Curation.retract(path: path, database: setup.db, by: "mod")
    // The index in hand still holds the hash, but the entry is gone: no match.
    #expect(try live.current.lookup(query)[0].matches.isEmpty)
    #expect(try live.refresh())
    #expect(live.current.index.count == 0)
  }
}
