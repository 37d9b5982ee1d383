import Compliance
import Foundation
import GRDB

@testable import Store

/// A clock that tests move by hand (shared by the database it is handed to).
final class TestClock: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Int64

  init(_ start: Int64 = fixedNow) { value = start }

  var now: Int64 { lock.withLock { value } }

  func advance(_ seconds: Int64) { lock.withLock { value += seconds } }

  var function: @Sendable () -> Int64 { { [self] in now } }
}

/// Queues one pending flagged item on service 1 and returns its id.
@discardableResult
func queueItem(
  _ db: AppDatabase, kind: FlagKind, account: Int64?, priority: Int = 3,
  createdAt: Int64 = fixedNow - 3_600, media: String? = "media/1.png"
) throws -> Int64 {
  try db.writer.write { db in
    try db.execute(
      sql: """
        INSERT INTO flagged_item (kind, state, priority, service_id, account_id, media_path,
          sha256, bank, label, distance, model, score, created_at)
        VALUES (?, 'pending', ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
      arguments: [
        kind.rawValue, priority, account, media,
        String(repeating: "ab", count: 32), kind == .knownMatch ? "IWF" : nil,
        kind == .knownMatch ? "A1" : nil, kind == .knownMatch ? 4 : nil,
        kind == .newMaterial ? "classifier-x" : nil, kind == .newMaterial ? 0.97 : nil,
        createdAt,
      ])
    return db.lastInsertedRowID
  }
}

/// Claims the item for `by` and decides it.
@discardableResult
func claimAndDecide(
  _ db: AppDatabase, _ item: Int64, _ decision: ReviewDecisionKind, by: String = "alice",
  windowDays: Int = 30
) throws -> DecisionOutcome {
  try db.claimItem(id: item, by: by)
  return try db.decide(
    itemId: item, decision: decision, note: nil, by: by, secondHitWindowDays: windowDays)
}

func itemState(_ db: AppDatabase, _ item: Int64) throws -> String {
  try db.writer.read {
    try String.fetchOne($0, sql: "SELECT state FROM flagged_item WHERE id = ?", arguments: [item])
      ?? "?"
  }
}

/// The item ids each report covers, by case reference.
func reportItems(_ db: AppDatabase) throws -> [String: [Int64]] {
  Dictionary(uniqueKeysWithValues: try db.reportListings().map { ($0.caseRef, $0.itemIds) })
}
