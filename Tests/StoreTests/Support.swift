import Compliance
import Foundation
import GRDB
import TestSupport

@testable import Store

/// A scratch folder (see ``ScratchSpace``), removed by `cleanUp()` or at the end of the run.
struct TempFolder {
  let path: String

  init() throws {
    path = try ScratchSpace.folder("store")
  }

  func file(_ name: String) -> String { path + "/" + name }

  /// The audit key of the databases in this folder: one fixed provider key, as if kept in
  /// `csar.key` here, so anchors go to `anchors/` here.
  var auditKey: AuditKey { testAuditKey(besideDatabase: file("csar.sqlite")) }

  func cleanUp() { try? FileManager.default.removeItem(atPath: path) }
}

let fixedNow: Int64 = 1_750_000_000  // 2025-06-15 15:06:40 UTC
let fixedToday = CalendarDate(unixSeconds: fixedNow)

/// The audit key of test databases in the folder of `path`: one fixed provider key, as if
/// kept in `csar.key` there, so anchors go to `anchors/` there.
func testAuditKey(besideDatabase path: String) -> AuditKey {
  AuditKey(
    providerKey: ProviderKey(
      bytes: Array(repeating: 7, count: 32),
      path: PrivateFiles.folder(of: path) + "/csar.key"))
}

/// Synthetic OS accounts (uids) of the seeded operators: two people, two accounts.
let aliceUid: UInt32 = 1001
let baharUid: UInt32 = 1002

/// An in-memory database (or one in the file at `path`) with operators (alice, reviewer;
/// bahar, lead; each bound to an OS account of their own) and two services.
func seededDatabase(
  path: String? = nil, clock: @escaping @Sendable () -> Int64 = { fixedNow }
) throws -> AppDatabase {
  let db =
    try path.map {
      try AppDatabase.open(path: $0, clock: clock, auditKey: testAuditKey(besideDatabase: $0))
    }
    ?? AppDatabase.inMemory(clock: clock)
  try db.ensureOperator(name: "alice", role: .reviewer, uid: aliceUid)
  try db.ensureOperator(name: "bahar", role: .lead, uid: baharUid)
  try db.createService(code: "chat-eu", name: "Café Chat", kind: .messaging, by: "bahar")
  try db.createService(code: "foto-de", name: "Fotobörse", kind: .hosting, by: "bahar")
  try db.writer.write { db in
    try db.execute(
      sql: """
        INSERT INTO account (id, external_id, pseudonym, created_at) VALUES
          (1, 'A100000001', 'u-aaaa00000001', 0), (2, 'A100000002', 'u-bbbb00000002', 0)
        """)
  }
  return db
}

/// One demo database shared by the read-only tests (generation takes a moment).
let sharedDemo: AppDatabase = {
  let db = try! AppDatabase.inMemory(clock: { fixedNow })
  try! DemoGenerator(seed: 7).generate(
    into: db, items: 4_000, accounts: 1_500, today: fixedToday, now: fixedNow)
  return db
}()

func count(_ db: AppDatabase, _ sql: String, _ arguments: StatementArguments = []) throws -> Int {
  try db.writer.read { try Int.fetchOne($0, sql: sql, arguments: arguments) ?? 0 }
}
