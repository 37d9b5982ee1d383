import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

/// `csar bank list` lists what the queue shows: the demo's items name banks and URL lists
/// that exist, with the hashes and entries the items matched.
@Suite("Demo banks agree with the queue")
struct DemoBanksTests {
  /// The bank names items of `kind` carry.
  static func named(_ kind: String) throws -> Set<String> {
    try sharedDemo.writer.read { db in
      try String.fetchSet(
        db, sql: "SELECT DISTINCT bank FROM flagged_item WHERE kind = ?", arguments: [kind])
    }
  }

  @Test func everyBankTheQueueNamesIsListedWithItsVersionAndSource() throws {
    let db = sharedDemo
    let named = try Self.named("known_match")
    let banks = try db.hashBanks()
    #expect(!named.isEmpty)
    #expect(Set(banks.map(\.name)) == named)
    for bank in banks {
      let items = try count(
        db,
        "SELECT count(*) FROM flagged_item WHERE kind = 'known_match' AND bank = ?",
        [bank.name])
      // One hash per item that matched it (random PDQs do not collide).
      #expect(bank.pdqCount == items && bank.total == items, "\(bank.name)")
      #expect(bank.enabled && bank.version?.version == 1 && bank.version?.total == items)
      #expect(bank.lastSource?.file?.hasSuffix("-hashes.csv") == true)
    }
    // Items record the version they matched.
    #expect(
      try count(
        db,
        """
        SELECT count(*) FROM flagged_item f JOIN bank_version v ON v.id = f.bank_version_id
        WHERE f.kind = 'known_match' AND v.bank_name = f.bank
        """)
        == count(db, "SELECT count(*) FROM flagged_item WHERE kind = 'known_match'"))
  }

  @Test func everyURLListTheQueueNamesExistsWithTheItemsEntries() throws {
    let db = sharedDemo
    let named = try Self.named("url_match")
    let lists = try db.urlLists()
    #expect(Set(lists.map(\.name)) == named)
    // Each URL item's host and path is an expression of its list.
    let unmatched = try count(
      db,
      """
      SELECT count(*) FROM flagged_item f WHERE f.kind = 'url_match' AND NOT EXISTS (
        SELECT 1 FROM url_entry e JOIN url_list l ON l.id = e.list_id
        WHERE l.name = f.bank AND 'https://' || e.expression = substr(f.url, 1,
          CASE WHEN instr(f.url, '?') > 0 THEN instr(f.url, '?') - 1 ELSE length(f.url) END))
      """)
    #expect(unmatched == 0)
  }

  /// A known match's distance is true: its bank holds the item's PDQ with that many bits
  /// flipped.
  @Test func bankHashesAreAtTheItemsDistance() throws {
    #expect(DemoGenerator.flipping(0, bitsOf: "ff") == "ff")
    #expect(DemoGenerator.flipping(1, bitsOf: "ff") == "7f")
    #expect(DemoGenerator.flipping(6, bitsOf: "f0f0") == "0cf0")
    let rows = try sharedDemo.writer.read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT f.id, f.pdq, f.distance, h.hash FROM flagged_item f
          JOIN bank b ON b.name = f.bank JOIN bank_hash h ON h.bank_id = b.id AND h.label = f.label
          WHERE f.kind = 'known_match'
          """)
    }
    func bits(_ a: String, _ b: String) -> Int {
      zip(a, b).reduce(0) { $0 + (Int(String($1.0), radix: 16)! ^ Int(String($1.1), radix: 16)!)
        .nonzeroBitCount }
    }
    var found: [Int64: Bool] = [:]
    for row in rows {
      let id: Int64 = row[0]
      found[id] = (found[id] ?? false) || bits(row[1], row[3]) == row[2] as Int
    }
    let items = try count(
      sharedDemo, "SELECT count(*) FROM flagged_item WHERE kind = 'known_match'")
    #expect(found.count == items && found.values.allSatisfy { $0 })
  }
}
