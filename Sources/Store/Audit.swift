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
  /// The newest event's id and link once the body recorded one (for the anchor).
  private(set) var head: (id: Int64, link: AuditLink)?
  /// The id of the first event this transaction appended (the anchor needs to know whether
  /// the log had events before the change).
  private(set) var firstId: Int64?
  private let db: Database
  private let key: AuditKey
  private let path: String

  init(db: Database, operatorName: String, at: Int64, key: AuditKey, path: String) {
    self.db = db
    self.operatorName = operatorName
    self.at = at
    self.key = key
    self.path = path
  }

  /// Appends one audit event: what was done (`action`, e.g. `consent.change`), to what
  /// (`entity`, `entityId`), and the values before and after. Returns the event id.
  @discardableResult
  public func record(
    action: String, entity: String, entityId: String,
    before: JSONValue? = nil, after: JSONValue? = nil
  ) throws -> Int64 {
    let details: JSONValue = ["before": before ?? .null, "after": after ?? .null]
    // Always from the table, never cached: a savepoint rolled back (group commit) may have
    // taken the previous event of this transaction away again.
    let prev = try AuditChain.head(db, key: key, path: path)
    let appended = try AuditChain.append(
      db, key: key, prev: prev, at: at, operatorName: operatorName, action: action,
      entity: entity, entityId: entityId, detailsJSON: details.description)
    head = (appended.id, appended.link)
    // A savepoint rolled back may have taken the first one away: its id is given out again.
    firstId = min(firstId ?? appended.id, appended.id)
    count += 1
    return appended.id
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
  /// operator can change nothing more. Needs the audit key (``AuditError/noAuditKey(path:)``).
  public func audited<T>(
    by operatorName: String, _ body: (Database, AuditTrail) throws -> T
  ) throws -> T {
    guard let auditKey else { throw AuditError.noAuditKey(path: path) }
    var head: (id: Int64, link: AuditLink)?
    var changeStart: Int64 = 1
    let result = try writeImmediate { db in
      try Self.refuseDisabled(db, name: operatorName)
      let changesBefore = db.totalChangesCount
      let trail = AuditTrail(
        db: db, operatorName: operatorName, at: clock(), key: auditKey, path: path)
      let result = try body(db, trail)
      if trail.count == 0, db.totalChangesCount != changesBefore {
        throw StoreError.unauditedWrite(operatorName: operatorName)
      }
      if trail.count > 0 {
        // The newest event as committed (a savepoint may have rolled back the trail's last).
        head = try Row.fetchOne(
          db.cachedStatement(
            sql: "SELECT id, hash, mac FROM audit_event ORDER BY id DESC LIMIT 1")
        ).map { ($0["id"], AuditLink(hash: $0["hash"], mac: $0["mac"] ?? "")) }
        changeStart = trail.firstId ?? 1
      }
      return result
    }
    // After the commit: a crash before this line leaves the database ahead of its anchor.
    if let head { anchor(head: head, changeStart: changeStart) }
    return result
  }
}

// MARK: - The chain

/// One event's place in the two chains: the unkeyed SHA-256 `hash` and the keyed `mac`.
struct AuditLink: Equatable {
  var hash: String
  var mac: String
}

/// The audit log's chains. `hash = SHA-256(prev_hash ‖ canonical fields)` in lowercase hex,
/// the first event's `prev_hash` 64 zeros: anyone can recompute it, so it only finds
/// accidental damage. `mac = HMAC-SHA-256(audit key, previous mac ‖ canonical fields)`, the
/// first event's previous mac being the database's genesis value (``AuditKey/genesis``):
/// without the key nobody can make an edited, deleted or moved event verify again.
enum AuditChain {
  static let genesis = String(repeating: "0", count: 64)

  /// Canonical bytes of an event after `prev`: each field as `<utf8 length>:<text>\n`, so no
  /// choice of field values can make two different events hash the same input.
  static func canonical(
    prev: String, at: Int64, operatorName: String, action: String, entity: String,
    entityId: String, detailsJSON: String
  ) -> Data {
    var input = ""
    for field in [prev, String(at), operatorName, action, entity, entityId, detailsJSON] {
      input += String(field.utf8.count)
      input += ":"
      input += field
      input += "\n"
    }
    return Data(input.utf8)
  }

  /// The unkeyed SHA-256 link of an event.
  static func hash(
    prev: String, at: Int64, operatorName: String, action: String, entity: String,
    entityId: String, detailsJSON: String
  ) -> String {
    hex(
      SHA256.hash(
        data: canonical(
          prev: prev, at: at, operatorName: operatorName, action: action, entity: entity,
          entityId: entityId, detailsJSON: detailsJSON)))
  }

  /// The keyed link of an event.
  static func mac(
    key: AuditKey, prev: String, at: Int64, operatorName: String, action: String,
    entity: String, entityId: String, detailsJSON: String
  ) -> String {
    key.mac(
      canonical(
        prev: prev, at: at, operatorName: operatorName, action: action, entity: entity,
        entityId: entityId, detailsJSON: detailsJSON))
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

  /// The database's identity and the check value of the key its chain was keyed with.
  static func identity(_ db: Database) throws -> (databaseId: String, keyCheck: String?) {
    guard
      let row = try Row.fetchOne(
        db.cachedStatement(sql: "SELECT database_id, key_check FROM audit_chain WHERE id = 1"))
    else { return ("", nil) }
    return (row["database_id"], row["key_check"])
  }

  /// The link to append after: the last event's, or the genesis of an empty log. Refuses a
  /// chain keyed with another key, or not keyed at all. Call inside a write transaction.
  static func head(_ db: Database, key: AuditKey, path: String) throws -> AuditLink {
    let identity = try identity(db)
    guard identity.keyCheck == key.check else {
      if identity.keyCheck != nil { throw AuditError.wrongKey(path: path) }
      throw AuditError.notKeyed(
        path: path,
        reason: "it is broken, or it is a log from before keyed chains that an admin keys with "
          + "`csar audit rekey`")
    }
    guard
      let row = try Row.fetchOne(
        db.cachedStatement(
          sql: "SELECT id, hash, mac FROM audit_event ORDER BY id DESC LIMIT 1"))
    else { return AuditLink(hash: genesis, mac: key.genesis(databaseId: identity.databaseId)) }
    guard let mac = row["mac"] as String? else {
      throw AuditError.missingMac(path: path, eventId: row["id"])
    }
    return AuditLink(hash: row["hash"], mac: mac)
  }

  /// Appends an event after `prev` (the caller holds the write lock: an IMMEDIATE
  /// transaction); returns its id and link.
  static func append(
    _ db: Database, key: AuditKey, prev: AuditLink, at: Int64, operatorName: String,
    action: String, entity: String, entityId: String, detailsJSON: String
  ) throws -> (id: Int64, link: AuditLink) {
    let link = AuditLink(
      hash: hash(
        prev: prev.hash, at: at, operatorName: operatorName, action: action, entity: entity,
        entityId: entityId, detailsJSON: detailsJSON),
      mac: mac(
        key: key, prev: prev.mac, at: at, operatorName: operatorName, action: action,
        entity: entity, entityId: entityId, detailsJSON: detailsJSON))
    let statement = try db.cachedStatement(
      sql: """
        INSERT INTO audit_event
          (at, operator, action, entity, entity_id, details_json, prev_hash, hash, mac)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        """)
    statement.setUncheckedArguments([
      at, operatorName, action, entity, entityId, detailsJSON, prev.hash, link.hash, link.mac,
    ])
    try statement.execute()
    return (db.lastInsertedRowID, link)
  }
}
