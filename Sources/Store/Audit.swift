import Crypto
import Foundation
import GRDB

// MARK: - The audited write path

/// Appends audit events inside the transaction of an operator write (see
/// ``AppDatabase/audited(by:_:)``). Only valid inside the body it was handed to.
public final class AuditTrail {
  /// The operator the events are attributed to.
  public let operatorName: String
  /// Time of the write, Unix seconds: the same for every event of one transaction.
  public let at: Int64
  /// How many events the body has recorded so far.
  public private(set) var count = 0
  private let db: Database

  init(db: Database, operatorName: String, at: Int64) {
    self.db = db
    self.operatorName = operatorName
    self.at = at
  }

  /// Appends one audit event: what was done (`action`, e.g. `consent.change`), to what
  /// (`entity`, `entityId`), and the values before and after. Returns the event id.
  @discardableResult
  public func record(
    action: String, entity: String, entityId: String,
    before: JSONValue? = nil, after: JSONValue? = nil
  ) throws -> Int64 {
    let details: JSONValue = ["before": before ?? .null, "after": after ?? .null]
    let id = try AuditChain.append(
      db, at: at, operatorName: operatorName, action: action, entity: entity,
      entityId: entityId, detailsJSON: details.description)
    count += 1
    return id
  }
}

extension AppDatabase {
  /// The one write path for operator actions: runs `body` in an IMMEDIATE transaction with an
  /// ``AuditTrail``. A body that changed any row must have recorded at least one audit event,
  /// otherwise everything rolls back and ``StoreError/unauditedWrite(operatorName:)`` is
  /// thrown; a body that found nothing to change (say, another console already made the
  /// change) commits nothing and needs no event. Any error thrown by the body rolls everything
  /// back, audit events included. A disabled operator writes nothing
  /// (``IdentityError/disabled(name:)``), so a console left open after an admin disabled its
  /// operator can change nothing more.
  public func audited<T>(
    by operatorName: String, _ body: (Database, AuditTrail) throws -> T
  ) throws -> T {
    try writeImmediate { db in
      try Self.refuseDisabled(db, name: operatorName)
      let changesBefore = db.totalChangesCount
      let trail = AuditTrail(db: db, operatorName: operatorName, at: clock())
      let result = try body(db, trail)
      if trail.count == 0, db.totalChangesCount != changesBefore {
        throw StoreError.unauditedWrite(operatorName: operatorName)
      }
      return result
    }
  }
}

// MARK: - The hash chain

/// The audit log's hash chain: `hash = SHA-256(prev_hash ‖ canonical fields)` in lowercase hex;
/// the first event's `prev_hash` is 64 zeros.
enum AuditChain {
  static let genesis = String(repeating: "0", count: 64)

  /// Canonical bytes of an event: each field as `<utf8 length>:<text>\n`, so no choice of
  /// field values can make two different events hash the same input.
  static func hash(
    prev: String, at: Int64, operatorName: String, action: String, entity: String,
    entityId: String, detailsJSON: String
  ) -> String {
    var input = ""
    for field in [prev, String(at), operatorName, action, entity, entityId, detailsJSON] {
      input += String(field.utf8.count)
      input += ":"
      input += field
      input += "\n"
    }
    let digest = SHA256.hash(data: Data(input.utf8))
    return hex(digest)
  }

  static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(64)
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The hash of the last event, or the genesis value. Call inside a write transaction.
  static func lastHash(_ db: Database) throws -> String {
    try String.fetchOne(
      db.cachedStatement(sql: "SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1"))
      ?? genesis
  }

  /// Appends an event after the current last one. Must run inside a write transaction that
  /// holds the write lock (IMMEDIATE), so no other writer can append in between.
  static func append(
    _ db: Database, at: Int64, operatorName: String, action: String, entity: String,
    entityId: String, detailsJSON: String
  ) throws -> Int64 {
    let prev = try lastHash(db)
    return try append(
      db, prev: prev, at: at, operatorName: operatorName, action: action, entity: entity,
      entityId: entityId, detailsJSON: detailsJSON
    ).id
  }

  /// Appends with a known previous hash (bulk writers keep it in hand); returns the new id and
  /// hash.
  static func append(
    _ db: Database, prev: String, at: Int64, operatorName: String, action: String,
    entity: String, entityId: String, detailsJSON: String
  ) throws -> (id: Int64, hash: String) {
    let hash = hash(
      prev: prev, at: at, operatorName: operatorName, action: action, entity: entity,
      entityId: entityId, detailsJSON: detailsJSON)
    let statement = try db.cachedStatement(
      sql: """
        INSERT INTO audit_event
          (at, operator, action, entity, entity_id, details_json, prev_hash, hash)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """)
    statement.setUncheckedArguments([
      at, operatorName, action, entity, entityId, detailsJSON, prev, hash,
    ])
    try statement.execute()
    return (db.lastInsertedRowID, hash)
  }
}

// MARK: - Verification

/// The outcome of checking the audit log's hash chain.
public enum AuditVerification: Hashable, Sendable, CustomStringConvertible {
  /// Every event's hash matches its contents and links to the one before.
  case ok(count: Int)
  /// The first event that does not verify, and why.
  case broken(eventId: Int64, reason: String)

  public var isOK: Bool {
    if case .ok = self { return true }
    return false
  }

  public var description: String {
    switch self {
    case .ok(let count): "audit log ok: \(count) events, chain intact"
    case .broken(let id, let reason): "audit log broken at event \(id): \(reason)"
    }
  }
}

extension AppDatabase {
  /// Walks the audit log in id order (streaming, never loading it whole) and checks each
  /// event's hash and link; reports the first event that fails: an edited row (its hash no
  /// longer matches), a deleted row (a gap in the ids, or the next event's link is broken) or
  /// deleted events at the end (fewer rows than the ids handed out).
  public func verifyAuditChain() throws -> AuditVerification {
    try read { db in
      let rows = try Row.fetchCursor(
        db,
        sql: """
          SELECT id, at, operator, action, entity, entity_id, details_json, prev_hash, hash
          FROM audit_event ORDER BY id
          """)
      var expectedPrev = AuditChain.genesis
      var expectedId: Int64 = 1
      var count = 0
      while let row = try rows.next() {
        let id: Int64 = row[0]
        let prev: String = row[7]
        let stored: String = row[8]
        if id != expectedId {
          let missing = expectedId == id - 1 ? "\(expectedId)" : "\(expectedId)–\(id - 1)"
          return .broken(eventId: id, reason: "event(s) \(missing) before it were deleted")
        }
        if prev != expectedPrev {
          return .broken(
            eventId: id,
            reason: "its link does not match the previous event's hash "
              + "(the previous event was edited or replaced)")
        }
        let actual = AuditChain.hash(
          prev: prev, at: row[1], operatorName: row[2], action: row[3], entity: row[4],
          entityId: row[5], detailsJSON: row[6])
        if actual != stored {
          return .broken(eventId: id, reason: "its contents were edited (hash mismatch)")
        }
        expectedPrev = stored
        expectedId = id + 1
        count += 1
      }
      let issued =
        try Int64.fetchOne(
          db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'audit_event'") ?? 0
      if issued >= expectedId {
        return .broken(
          eventId: expectedId,
          reason: "events \(expectedId)–\(issued) at the end of the log were deleted")
      }
      return .ok(count: count)
    }
  }
}

extension AppDatabase {
  /// The newest audit event's id and hash (nil for an empty log). Recording it elsewhere now
  /// and then (a ticket, a printout) anchors the chain: a log rewritten from some event on,
  /// hashes recomputed, no longer ends in a recorded hash.
  public func auditHead() throws -> (id: Int64, hash: String)? {
    try read { db in
      try Row.fetchOne(db, sql: "SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1")
        .map { ($0["id"], $0["hash"]) }
    }
  }
}
