// Withdrawn entries of StopNCII and NCMEC lists are removed from the bank on import, in the
// import's own last transaction, and counted in its version.

import Foundation
import Testing

@testable import Moderation
@testable import Store

@Suite("Withdrawals on import")
struct WithdrawalTests {
  static let pdqA = String(repeating: "0f", count: 32)
  static let pdqB = String(repeating: "3c", count: 32)
  static let pdqC = String(repeating: "5a", count: 32)
  static let md5 = String(repeating: "ab", count: 16)
  static let md5B = String(repeating: "cd", count: 16)

  static func record(_ type: String, _ hash: String, _ status: String) -> String {
    #"{"lastModtimestamp": 1700000000, "signalType": "\#(type)", "hashValue": "\#(hash)", "#
      + #""hashStatus": "\#(status)", "caseNumbers": {"1": "\#(status)"}}"#
  }

  static func stopNCII(_ records: [String]) -> String {
    #"{"count": \#(records.count), "hasMoreRecords": false, "hashRecords": ["#
      + records.joined(separator: ",\n") + "]}\n"
  }

  static func ncmec(images: [(id: String, md5: String, pdq: String?)], deleted: [String])
    -> String
  {
    var xml = """
      <?xml version="1.0" encoding="UTF-8"?>
      <queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
      <images count="\(images.count)">

      """
    for image in images {
      xml += "<image><member id=\"42\">Example Member</member><id>\(image.id)</id>"
        + "<classification>A1</classification><fingerprints><md5>\(image.md5)</md5>"
        + (image.pdq.map { "<pdq>\($0)</pdq>" } ?? "") + "</fingerprints></image>\n"
    }
    for id in deleted {
      xml += "<deletedImage><member id=\"42\">Example Member</member><id>\(id)</id>"
        + "</deletedImage>\n"
    }
    return xml + "</images>\n</queryResult>\n"
  }

  func importFile(_ db: AppDatabase, _ scratch: Scratch, _ name: String, _ text: String)
    throws -> BankImportSummary
  {
    let path = try scratch.write(name, text)
    return try Imports.bank(
      name: "shared", path: path, skipInvalid: false, threshold: nil, database: db, by: "mod"
    ).summary
  }

  @Test func stopNCIIWithdrawnRecordsAreRemovedAndCounted() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    _ = try importFile(
      db, scratch, "day1.json",
      Self.stopNCII([
        Self.record("ImagePDQ", Self.pdqA, "Active"), Self.record("VideoMD5", Self.md5, "Active"),
      ]))
    let summary = try importFile(
      db, scratch, "day2.json",
      Self.stopNCII([
        Self.record("ImagePDQ", Self.pdqA, "Withdrawn"),
        Self.record("VideoMD5", Self.md5B, "Deleted"),  // never held: nothing to remove
        Self.record("ImagePDQ", Self.pdqC, "Active"),
        // Listed active and withdrawn in one file: withdrawn wins.
        Self.record("ImagePDQ", Self.pdqB, "Active"),
        Self.record("ImagePDQ", Self.pdqB, "Withdrawn"),
      ]))
    #expect(summary.added == 1 && summary.withdrawn == 1)
    let version = try #require(summary.version)
    #expect((version.version, version.added, version.removed, version.total) == (2, 1, 1, 2))
    #expect(version.source.format == "stopncii-json" && version.source.file == "day2.json")
    #expect(try db.exactBankHits(type: .pdq, hash: Self.pdqA).isEmpty)
    #expect(try db.exactBankHits(type: .pdq, hash: Self.pdqB).isEmpty)
    #expect(try db.exactBankHits(type: .pdq, hash: Self.pdqC).count == 1)
    #expect(try db.exactBankHits(type: .md5, hash: Self.md5).count == 1)
    let details: [String] = try column(
      db, "SELECT details_json FROM audit_event WHERE action = 'bank.import' ORDER BY id")
    #expect(details.last?.contains(#""withdrawn":1"#) == true)

    // A file of withdrawals alone is an import too: it removes, and makes a version.
    let only = try importFile(
      db, scratch, "day3.json", Self.stopNCII([Self.record("VideoMD5", Self.md5, "Withdrawn")]))
    #expect(only.added == 0 && only.withdrawn == 1 && only.version?.removed == 1)
    #expect(try db.hashBank(name: "shared").total == 1)
  }

  @Test func ncmecDeletedEntriesRemoveEveryHashOfThatId() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    _ = try importFile(
      db, scratch, "first.xml",
      Self.ncmec(
        images: [("image1", Self.md5, Self.pdqA), ("image2", Self.md5B, nil)], deleted: []))
    #expect(try db.hashBank(name: "shared").total == 3)
    let summary = try importFile(
      db, scratch, "second.xml",
      Self.ncmec(
        images: [("image3", String(repeating: "ef", count: 16), Self.pdqC)],
        deleted: ["image1", "image9"]))
    #expect(summary.added == 2 && summary.withdrawn == 2)
    #expect(summary.version?.added == 2 && summary.version?.removed == 2)
    #expect(summary.version?.total == 3)
    #expect(try db.exactBankHits(type: .md5, hash: Self.md5).isEmpty)
    #expect(try db.exactBankHits(type: .pdq, hash: Self.pdqA).isEmpty)
    #expect(try db.exactBankHits(type: .md5, hash: Self.md5B).first?.sourceId == "image2")
    #expect(try db.bankVersions(name: "shared").map(\.removed) == [0, 2])
  }

  @Test func aBadLineWithdrawsNothing() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    _ = try importFile(
      db, scratch, "day1.json", Self.stopNCII([Self.record("ImagePDQ", Self.pdqA, "Active")]))
    #expect(throws: ModerationError.self) {
      try importFile(
        db, scratch, "day2.json",
        Self.stopNCII([
          Self.record("ImagePDQ", Self.pdqA, "Withdrawn"),
          Self.record("ImagePDQ", "xyz", "Active"),
        ]))
    }
    #expect(try db.exactBankHits(type: .pdq, hash: Self.pdqA).count == 1)
  }
}
