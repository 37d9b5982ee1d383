// Fixtures of the moderation tests: a seeded database, files, and benign synthetic images.

import Compliance
import Foundation
import GRDB
import Imaging
import Testing
import TestSupport

@testable import Moderation
@testable import Store

let fixedNow: Int64 = 1_750_000_000  // 2025-06-15 15:06:40 UTC

/// An in-memory database with an operator, two services and four accounts: `A-granted`
/// (granted on `chat-eu`), `A-refused`, `A-withdrawn` (granted, then withdrawn) and
/// `A-silent` (never asked).
func moderationDatabase() throws -> AppDatabase {
  let db = try AppDatabase.inMemory(clock: { fixedNow })
  try db.ensureOperator(name: "mod", role: .lead)
  try db.createService(code: "chat-eu", name: "Chat", kind: .messaging, by: "mod")
  try db.createService(code: "foto-de", name: "Fotos", kind: .hosting, by: "mod")
  try db.writer.write { db in
    try db.execute(
      sql: """
        INSERT INTO account (id, external_id, pseudonym, created_at) VALUES
          (1, 'A-granted', 'u-000000000001', 0), (2, 'A-refused', 'u-000000000002', 0),
          (3, 'A-withdrawn', 'u-000000000003', 0), (4, 'A-silent', 'u-000000000004', 0)
        """)
  }
  func change(_ account: Int64, _ state: ConsentState) throws {
    try db.recordConsentChange(
      accountId: account, serviceId: 1, to: state, source: .app, termsVersion: "2025-01",
      reason: nil, by: "mod")
  }
  try change(1, .granted)
  try change(2, .refused)
  try change(3, .granted)
  try change(3, .withdrawn)
  return db
}

/// Rows of a one-column query.
func column<T: DatabaseValueConvertible>(
  _ db: AppDatabase, _ sql: String, as _: T.Type = T.self
) throws -> [T] {
  try db.writer.read { try T.fetchAll($0, sql: sql) }
}

/// The number of rows `sql` counts.
func count(_ db: AppDatabase, _ sql: String) throws -> Int {
  try db.writer.read { try Int.fetchOne($0, sql: sql) ?? 0 }
}

/// A scratch folder for one test (see ``ScratchSpace``).
struct Scratch {
  let path: String

  init() throws {
    path = try ScratchSpace.folder("moderation")
  }

  /// Writes `text` to `name`; returns the path.
  @discardableResult
  func write(_ name: String, _ text: String) throws -> String {
    let file = path + "/" + name
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    return file
  }

  /// Writes bytes to `name`; returns the path.
  @discardableResult
  func write(_ name: String, bytes: [UInt8]) throws -> String {
    let file = path + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: file))
    return file
  }

  func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Benign synthetic pictures: gradients with rings and a bar, asymmetric so that rotations
/// and flips hash differently.
enum Picture {
  static func make(width: Int = 360, height: Int = 240, seed: Int = 0) -> RGBImage {
    let s = Double(seed)
    let cx = Double(width) * (0.28 + 0.05 * s.truncatingRemainder(dividingBy: 3))
    let cy = Double(height) * 0.38
    return RGBImage(width: width, height: height) { x, y in
      let fx = Double(x) / Double(width)
      let fy = Double(y) / Double(height)
      var r = 40 + 180 * fx
      var g = 60 + 150 * fy * fy
      var b = 90 + 60 * sin(fx * 3 + s)
      let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy))
        .squareRoot()
      if Int(d / Double(min(width, height)) * 14) % 2 == 0 && d < Double(height) * 0.35 {
        r = 235
        g = 210 - 20 * s
        b = 50
      }
      if fx > 0.7 && fx < 0.85 && fy > 0.15 && fy < 0.95 {
        r = 20
        g = 50
        b = 190
      }
      func byte(_ v: Double) -> UInt8 { UInt8(max(0, min(255, v))) }
      return (byte(r), byte(g), byte(b))
    }
  }
}
