import Foundation
import GRDB
import Synchronization
import Testing

@testable import Store

/// Large bank imports write in short batches: the write lock is free between them, readers
/// never see half an import, and a stopped import leaves a bank a re-run completes.
@Suite struct BankImportBatchTests {
  /// `n` distinct PDQ entries (seeded by `offset`).
  static func entries(_ n: Int, offset: Int = 0) -> [BankHashEntry] {
    (0..<n).map { i in
      let value = UInt64(i + offset) &* 0x9E37_79B9_7F4A_7C15
      let hex = String(value, radix: 16).leftPadded(16)
      return BankHashEntry(
        type: .pdq, hash: String(repeating: hex, count: 4), label: "l", sourceId: "S-\(i)")
    }
  }

  /// A test observer: records commits, asks to stop after `stopAfter` of them.
  final class Observer: LongRunObserver {
    let commits = Mutex<[Int]>([])
    let stopAfter: Int

    init(stopAfter: Int) { self.stopAfter = stopAfter }

    func committed(_ done: Int, of total: Int?) { commits.withLock { $0.append(done) } }
    var stopRequested: Bool { commits.withLock { $0.count >= stopAfter } }
  }

  @Test func anotherConnectionWritesBetweenBatchesAndSeesNoHalfImport() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("csar.sqlite")
    let db = try seededDatabase(path: path)
    try db.importBank(name: "known", entries: Self.entries(3, offset: 900_000), by: "bahar")
    let before = try db.hashBank(name: "known")
    let stamp = try db.bankStamp()
    let other = try AppDatabase.open(path: path, auditKey: folder.auditKey)
    // A plain connection that gives up after 200 ms: it gets the lock only if the import
    // is not holding it.
    var quick = Configuration()
    quick.busyMode = .timeout(0.2)
    let plain = try DatabaseQueue(path: path, configuration: quick)
    let listed = Self.entries(1_000)
    let seen = Mutex<[String]>([])
    var options = BankImportOptions(batchSize: 100)
    options.betweenBatches = { batch in
      try plain.inTransaction(.immediate) { db in
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS side (n INTEGER)")
        try db.execute(sql: "INSERT INTO side VALUES (?)", arguments: [batch])
        return .commit
      }
      // An audited write of the console's kind through another AppDatabase.
      try other.setBankThreshold(name: "known", threshold: 20 + batch % 2, by: "bahar")
      let bank = try other.hashBank(name: "known")
      let staged = try other.exactBankHits(type: .pdq, hash: listed[0].hash)
      let stampNow = try other.bankStamp()
      seen.withLock {
        $0.append("\(bank.total) \(bank.version?.version ?? 0) \(staged.count)")
      }
      #expect(bank.pendingImport?.staged == batch * 100)
      #expect(stampNow != stamp)  // the threshold changed it; the batches do not
    }
    let summary = try db.importBank(
      name: "known", entries: listed, threshold: nil, skipped: 0, source: nil,
      withdrawals: BankWithdrawals(), by: "bahar", options: options)
    #expect(summary.added == 1_000 && summary.batches == 10 && summary.alreadyPresent == 0)
    // Nine pauses between ten batches; each time the bank was as before the import.
    #expect(seen.withLock { $0 } == Array(repeating: "3 \(before.version!.version) 0", count: 9))
    #expect(try count(db, "SELECT count(*) FROM side") == 9)
    let after = try other.hashBank(name: "known")
    #expect(after.total == 1_003 && after.pendingImport == nil)
    #expect(after.version?.version == before.version!.version + 1)
    #expect(after.version?.added == 1_000 && after.version?.total == 1_003)
    #expect(try other.exactBankHits(type: .pdq, hash: listed[999].hash).count == 1)
    #expect(
      try count(db, "SELECT count(*) FROM audit_event WHERE action = 'bank.import_batch'") == 9)
    #expect(try db.verifyAudit().isOK)
  }

  @Test func aStoppedImportLeavesTheBankAsItWasAndARerunFinishesIt() throws {
    let db = try seededDatabase()
    try db.importBank(name: "ncmec", entries: Self.entries(5, offset: 500_000), by: "bahar")
    let before = try db.hashBank(name: "ncmec")
    let listed = Self.entries(1_000)
    var options = BankImportOptions(batchSize: 100)
    options.stopAfterBatches = 4
    let stopped = #expect(throws: LongRunStopped.self) {
      try db.importBank(
        name: "ncmec", entries: listed, threshold: nil, skipped: 0, source: nil,
        withdrawals: BankWithdrawals(), by: "bahar", options: options)
    }
    #expect(stopped?.committed == 400 && stopped?.total == 1_000)
    #expect(stopped?.description.contains("hashes already in the bank are skipped") == true)
    // Consistent: the bank reads as before; the staged rows wait, invisible.
    let middle = try db.hashBank(name: "ncmec")
    #expect(middle.total == 5 && middle.version == before.version)
    #expect(middle.pendingImport?.staged == 400 && middle.pendingImport?.batches == 4)
    #expect(try db.exactBankHits(type: .pdq, hash: listed[0].hash).isEmpty)
    #expect(try db.enabledBankCounts().pdq == 5)
    var exported = 0
    try db.forEachBankHash(name: "ncmec") { _ in exported += 1 }
    #expect(exported == 5)
    #expect(try db.verifyAudit().isOK)

    // The same import again: the staged hashes are taken over, the rest written.
    let rerun = try db.importBank(
      name: "ncmec", entries: listed, threshold: nil, skipped: 0, source: nil,
      withdrawals: BankWithdrawals(), by: "bahar", options: BankImportOptions(batchSize: 100))
    #expect(rerun.added == 1_000 && rerun.resumed == 400 && rerun.alreadyPresent == 0)
    let done = try db.hashBank(name: "ncmec")
    #expect(done.total == 1_005 && done.pendingImport == nil)
    #expect(done.version?.version == before.version!.version + 1)
    #expect(done.version?.added == 1_000)
    #expect(try db.exactBankHits(type: .pdq, hash: listed[0].hash).count == 1)
    #expect(try count(db, "SELECT count(*) FROM bank_import WHERE finished_at IS NULL") == 0)
    #expect(try count(db, "SELECT runs FROM bank_import ORDER BY id DESC LIMIT 1") == 2)

    // And once more: nothing left to add, no new version.
    let third = try db.importBank(name: "ncmec", entries: listed, by: "bahar")
    #expect(third.added == 0 && third.alreadyPresent == 1_000 && third.version == nil)
    #expect(try db.hashBank(name: "ncmec").version == done.version)
    #expect(try db.verifyAudit().isOK)
  }

  @Test func theObserverSeesEachBatchAndStopsTheRunBetweenThem() throws {
    let db = try seededDatabase()
    let observer = Observer(stopAfter: 2)
    let stopped = #expect(throws: LongRunStopped.self) {
      try db.importBank(
        name: "new", entries: Self.entries(500), threshold: nil, skipped: 0, source: nil,
        withdrawals: BankWithdrawals(), by: "bahar",
        options: BankImportOptions(batchSize: 100, observer: observer))
    }
    #expect(observer.commits.withLock { $0 } == [100, 200])
    #expect(stopped?.committed == 200 && stopped?.unit == "hashes")
    // A bank the stopped import created: empty and without a version until a re-run.
    let bank = try db.hashBank(name: "new")
    #expect(bank.total == 0 && bank.version == nil && bank.pendingImport?.staged == 200)
    let rerun = try db.importBank(name: "new", entries: Self.entries(500), by: "bahar")
    #expect(rerun.created && rerun.added == 500 && rerun.resumed == 200)
    #expect(try db.hashBank(name: "new").version?.version == 1)
  }

  @Test func retractionsAndRemovalsLeaveStagedRowsAlone() throws {
    let db = try seededDatabase()
    let listed = Self.entries(300)
    var options = BankImportOptions(batchSize: 100)
    options.stopAfterBatches = 1
    _ = try? db.importBank(
      name: "b", entries: listed, threshold: nil, skipped: 0, source: nil,
      withdrawals: BankWithdrawals(), by: "bahar", options: options)
    let staged = Array(listed.prefix(3))
    let retraction = try db.retractHashes(entries: staged, source: nil, by: "bahar")
    #expect(retraction.removed == 0 && retraction.notPresent == 3)
    let removal = try db.removeBankHashes(name: "b", entries: staged, source: nil, by: "bahar")
    #expect(removal.removed == 0)
    #expect(try db.importBank(name: "b", entries: listed, by: "bahar").added == 300)
  }

  /// A drop-folder file imports in batches too; when another sync takes the same file while
  /// this one writes, this one's last transaction is rolled back and the file counts once.
  @Test func aSyncImportsInBatchesAndAFileTakenMeanwhileCountsOnce() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("csar.sqlite")
    let db = try seededDatabase(path: path)
    let other = try AppDatabase.open(path: path, auditKey: folder.auditKey)
    let file = BankSyncFile(
      folder: folder.path, name: "feed-1.csv", size: 300, sha256: String(repeating: "e", count: 64))
    let listed = Self.entries(300)
    var options = BankImportOptions(batchSize: 100)
    options.betweenBatches = { batch in
      if batch == 2 {
        _ = try other.takeSyncFile(
          file, target: .bank("feed"), entries: listed, format: "csv", by: "bahar")
      }
    }
    let result = try db.takeSyncFile(
      file, target: .bank("feed"), entries: listed, withdrawals: BankWithdrawals(),
      format: "csv", by: "bahar", options: options)
    guard case .alreadyTaken = result else {
      Issue.record("expected the file to be taken by the other sync, got \(result)")
      return
    }
    #expect(try count(db, "SELECT count(*) FROM bank_sync_file") == 1)
    let bank = try db.hashBank(name: "feed")
    #expect(bank.total == 300 && bank.pendingImport == nil)
    #expect(try db.bankVersions(name: "feed").map(\.added) == [300])
    #expect(
      try count(db, "SELECT count(*) FROM audit_event WHERE action = 'bank.import_batch'") == 2)
    #expect(try db.verifyAudit().isOK)
    // And a file nobody else takes: batches, then one version and the checkpoint.
    let second = BankSyncFile(
      folder: folder.path, name: "feed-2.csv", size: 300, sha256: String(repeating: "f", count: 64))
    let more = Self.entries(250, offset: 10_000)
    guard
      case .imported(let summary) = try db.takeSyncFile(
        second, target: .bank("feed"), entries: more, withdrawals: BankWithdrawals(),
        format: "csv", by: "bahar", options: BankImportOptions(batchSize: 100))
    else {
      Issue.record("expected an import")
      return
    }
    #expect(summary.added == 250 && summary.batches == 3 && summary.version?.version == 2)
    #expect(try count(db, "SELECT count(*) FROM bank_sync_file") == 2)
  }

  @Test func deletingTheBankStopsARunningImport() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("csar.sqlite")
    let db = try seededDatabase(path: path)
    let other = try AppDatabase.open(path: path, auditKey: folder.auditKey)
    var options = BankImportOptions(batchSize: 100)
    options.betweenBatches = { batch in
      if batch == 2 { try other.deleteBank(name: "gone", by: "bahar") }
    }
    #expect(throws: BankCurationError.deletedDuringImport(bank: "gone")) {
      try db.importBank(
        name: "gone", entries: Self.entries(500), threshold: nil, skipped: 0, source: nil,
        withdrawals: BankWithdrawals(), by: "bahar", options: options)
    }
    #expect(try count(db, "SELECT count(*) FROM bank_hash") == 0)
    #expect(try count(db, "SELECT count(*) FROM bank WHERE name = 'gone'") == 0)
  }

  @Test func aFailedOrStoppedLargeImportGivesTheWritingConnectionItsSettingsBack() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("csar.sqlite")
    let db = try seededDatabase(path: path)
    let other = try AppDatabase.open(path: path, auditKey: folder.auditKey)
    let settings: @Sendable () throws -> ImportTuning = {
      try db.writer.writeWithoutTransaction { try ImportTuning.current($0) }
    }
    let before = try settings()
    #expect(before != ImportTuning.forBanks)
    let during = Locked<ImportTuning>()
    // 12,000 hashes: a large import, in three batches; the bank goes after the first.
    var options = BankImportOptions(batchSize: 5_000)
    options.pause = 0
    options.betweenBatches = { batch in
      during.set(try settings())
      if batch == 1 { try other.deleteBank(name: "gone", by: "bahar") }
    }
    #expect(throws: BankCurationError.deletedDuringImport(bank: "gone")) {
      try db.importBank(
        name: "gone", entries: Self.entries(12_000), threshold: nil, skipped: 0, source: nil,
        withdrawals: BankWithdrawals(), by: "bahar", options: options)
    }
    #expect(during.get() == ImportTuning.forBanks)
    // The usual checkpoint interval: another connection's write between two batches never
    // waits behind the copy of 64 MB of log (bench bank: up to 0.9 s, against 0.1 s).
    #expect(during.get()?.walAutocheckpoint == before.walAutocheckpoint)
    #expect(try settings() == before)

    // Stopped between batches (Ctrl-C).
    options.betweenBatches = { _ in during.set(try settings()) }
    options.stopAfterBatches = 1
    #expect(throws: LongRunStopped.self) {
      try db.importBank(
        name: "stopped", entries: Self.entries(12_000), threshold: nil, skipped: 0,
        source: nil, withdrawals: BankWithdrawals(), by: "bahar", options: options)
    }
    #expect(during.get() == ImportTuning.forBanks)
    #expect(try settings() == before)

    // A small import runs with the connection as it is.
    options.stopAfterBatches = nil
    options.batchSize = 100
    _ = try db.importBank(
      name: "small", entries: Self.entries(300), threshold: nil, skipped: 0, source: nil,
      withdrawals: BankWithdrawals(), by: "bahar", options: options)
    #expect(during.get() == before)
  }

  @Test func eachTypeCountsWhatItAddedWhenTypesShareABatch() throws {
    let db = try seededDatabase()
    func hex(_ n: Int, _ digits: Int) -> String {
      let word = String(UInt64(n) &* 0x9E37_79B9_7F4A_7C15, radix: 16).leftPadded(16)
      return String(String(repeating: word, count: 4).prefix(digits))
    }
    // Already in the bank: 300 of the PDQ hashes and 2 of the MD5s.
    let pdq = (0..<700).map { BankHashEntry(type: .pdq, hash: hex($0, 64)) }
    let md5 = (0..<5).map { BankHashEntry(type: .md5, hash: hex(10_000 + $0, 32)) }
    let sha1 = (0..<3).map { BankHashEntry(type: .sha1, hash: hex(20_000 + $0, 40)) }
    let sha256 = (0..<4).map { BankHashEntry(type: .sha256, hash: hex(30_000 + $0, 64)) }
    try db.importBank(
      name: "mixed", entries: Array(pdq[100..<400]) + md5.prefix(2), by: "bahar")
    // Batches of 600: the first holds every MD5 (their type sorts first) and 594 PDQ
    // hashes (in three statements), the second the rest and both SHA types.
    var options = BankImportOptions(batchSize: 600)
    options.pause = 0
    let listed = (sha256 + pdq + sha1 + md5 + [pdq[5], md5[4]]).shuffled()
    let summary = try db.importBank(
      name: "mixed", entries: listed, threshold: nil, skipped: 0, source: nil,
      withdrawals: BankWithdrawals(), by: "bahar", options: options)
    #expect(summary.added == 400 + 3 + 3 + 4 && summary.batches == 2)
    #expect(summary.alreadyPresent == listed.count - summary.added)
    let staged = try db.writer.read {
      try Row.fetchOne(
        $0,
        sql: """
          SELECT staged_pdq, staged_md5, staged_sha1, staged_sha256 FROM bank_import
          ORDER BY id DESC LIMIT 1
          """)
    }
    #expect(staged.map { [$0[0], $0[1], $0[2], $0[3]] as [Int] } == [400, 3, 3, 4])
    let bank = try db.hashBank(name: "mixed")
    #expect(bank.total == 712 && bank.version?.added == 410)
    #expect(
      try count(db, "SELECT count(*) FROM bank_hash WHERE type = 'md5'") == 5
        && count(db, "SELECT count(*) FROM bank_hash WHERE type = 'pdq'") == 700)
  }
}

extension String {
  fileprivate func leftPadded(_ width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }
}
