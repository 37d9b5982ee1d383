import Foundation
import Testing

@testable import Store

/// A thread's own reader of index hits' bank entries: the store's answer, kept for one bank
/// generation and read again for the next.
@Suite struct BankEntryReaderTests {
  @Test func entriesAreTheStoresAndKeptForOneGenerationOnly() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let db = try seededDatabase(path: folder.file("csar.sqlite"))
    let entries = BankImportBatchTests.entries(3)
    try db.importBank(name: "known", entries: entries, by: "bahar")
    let ids = try db.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM bank_hash") }
    let reader = try BankEntryReader(database: db)

    let first = try reader.bankHashes(ids: ids.reversed(), generation: 1)
    #expect(first == (try db.bankHashes(ids: ids)))
    #expect(first.map(\.hashId) == ids.sorted())
    #expect(Set(first.compactMap(\.sourceId)) == ["S-0", "S-1", "S-2"])

    // Retracted in the store: the generation that found the hits answers as it did (it is
    // no staler than the index that found them); the next generation reads again.
    let retracted = try #require(first.first { $0.sourceId == "S-1" })
    try db.retractHashes(entries: [entries[1]], source: nil, by: "bahar")
    #expect(try db.bankHashes(ids: ids).count == 2)
    #expect(try reader.bankHashes(ids: ids, generation: 1) == first)
    let next = try reader.bankHashes(ids: ids, generation: 2)
    #expect(next.map(\.hashId) == ids.sorted().filter { $0 != retracted.hashId })
    // An id the store does not show is remembered as such, and mixed with known ones.
    #expect(try reader.bankHashes(ids: [retracted.hashId, 999_999], generation: 2).isEmpty)
    let mixed = try reader.bankHashes(ids: [999_999, next[0].hashId], generation: 2)
    #expect(mixed == [next[0]])
  }

  @Test func aDatabaseInMemoryHasNoReader() throws {
    let db = try AppDatabase.inMemory()
    #expect(!db.hasFile)
    #expect(throws: StoreError.self) { try BankEntryReader(database: db) }
  }
}
