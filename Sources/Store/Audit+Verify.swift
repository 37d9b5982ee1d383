import GRDB

// MARK: - The outcome

/// The outcome of checking the audit log.
public enum AuditVerification: Hashable, Sendable, CustomStringConvertible {
  /// Every event's hash and MAC match its contents and link to the one before.
  case ok(count: Int)
  /// What does not verify: the first bad event when one is to blame (nil for problems of the
  /// log as a whole, such as a wrong key), and why.
  case broken(eventId: Int64?, reason: String)

  public var isOK: Bool {
    if case .ok = self { return true }
    return false
  }

  public var description: String {
    switch self {
    case .ok(let count): "audit log ok: \(count) events, chain intact"
    case .broken(let id?, let reason): "audit log broken at event \(id): \(reason)"
    case .broken(nil, let reason): "audit log broken: \(reason)"
    }
  }
}

// MARK: - Walking the chain

extension AuditChain {
  /// The result of one walk over the log, with the newest event's id and link.
  struct Walk {
    var verification: AuditVerification
    var head: (id: Int64, link: AuditLink)?
  }

  /// Walks the log in id order (streaming, never loading it whole) and checks each event's id
  /// (no gaps), its link to the event before, its hash and, with a key, its MAC. Reports the
  /// first event that fails: an edited row (its hash or MAC no longer matches), a deleted row
  /// (a gap in the ids, or the next event's link is broken), a rewritten chain (hashes
  /// recomputed, MACs cannot be) or deleted events at the end (fewer rows than the ids handed
  /// out; see the anchor for a cut that also fixed `sqlite_sequence`).
  ///
  /// An `observer` hears how many events were checked every few thousand, and may stop the
  /// walk there (it then throws ``LongRunStopped``): a console verifies in the background.
  static func walk(
    _ db: Database, key: AuditKey?, databaseId: String, observer: (any LongRunObserver)? = nil
  ) throws -> Walk {
    let issued =
      try Int64.fetchOne(
        db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'audit_event'") ?? 0
    let progress = VerifyProgress(observer: observer, total: Int(issued))
    try progress.check(0)
    let rows = try Row.fetchCursor(
      db,
      sql: """
        SELECT id, at, operator, action, entity, entity_id, details_json, prev_hash, hash, mac
        FROM audit_event ORDER BY id
        """)
    var expected = AuditLink(hash: genesis, mac: key?.genesis(databaseId: databaseId) ?? "")
    var expectedId: Int64 = 1
    var count = 0
    func broken(_ id: Int64, _ reason: String) -> Walk {
      Walk(verification: .broken(eventId: id, reason: reason), head: nil)
    }
    while let row = try rows.next() {
      let id: Int64 = row[0]
      let prev: String = row[7]
      let stored: String = row[8]
      if id != expectedId {
        let missing = expectedId == id - 1 ? "\(expectedId)" : "\(expectedId)–\(id - 1)"
        return broken(id, "event(s) \(missing) before it were deleted")
      }
      if prev != expected.hash {
        return broken(
          id,
          "its link does not match the previous event's hash "
            + "(the previous event was edited or replaced)")
      }
      let at: Int64 = row[1]
      let operatorName: String = row[2]
      let action: String = row[3]
      let entity: String = row[4]
      let entityId: String = row[5]
      let details: String = row[6]
      let actual = hash(
        prev: prev, at: at, operatorName: operatorName, action: action, entity: entity,
        entityId: entityId, detailsJSON: details)
      if actual != stored {
        return broken(id, "its contents were edited (hash mismatch)")
      }
      var link = AuditLink(hash: stored, mac: "")
      if let key {
        guard let storedMac = row[9] as String? else {
          return broken(id, "it carries no MAC (it was added without the audit key)")
        }
        let mac = mac(
          key: key, prev: expected.mac, at: at, operatorName: operatorName, action: action,
          entity: entity, entityId: entityId, detailsJSON: details)
        if mac != storedMac {
          return broken(
            id,
            "its MAC does not match: the event, or one before it, was edited, deleted or "
              + "inserted and the chain recomputed without the audit key")
        }
        link.mac = storedMac
      }
      expected = link
      expectedId = id + 1
      count += 1
      if count % VerifyProgress.every == 0 { try progress.check(count) }
    }
    observer?.committed(count, of: Int(issued))
    if issued >= expectedId {
      return broken(
        expectedId, "events \(expectedId)–\(issued) at the end of the log were deleted")
    }
    return Walk(
      verification: .ok(count: count), head: count == 0 ? nil : (expectedId - 1, expected))
  }
}

/// Tells a ``LongRunObserver`` how far a verification got, and stops it when asked.
struct VerifyProgress {
  /// Events checked between two reports (a few milliseconds of work).
  static let every = 4096
  let observer: (any LongRunObserver)?
  let total: Int

  /// Reports `done` events checked; throws ``LongRunStopped`` when a stop was requested.
  func check(_ done: Int) throws {
    observer?.committed(done, of: total)
    try Self.stopIfAsked(observer, checked: done)
  }

  /// Throws ``LongRunStopped`` when the observer asks to stop.
  static func stopIfAsked(_ observer: (any LongRunObserver)?, checked: Int) throws {
    try observer?.checkStop(
      task: "audit verify", committed: checked, total: nil, unit: "events checked",
      resume: "verify again")
  }
}

// MARK: - Verification

extension AppDatabase {
  /// Checks the whole audit log with the audit key (see ``AuditChain/walk(_:key:databaseId:)``)
  /// and names the first event that fails. A log that was never keyed is checked as the
  /// unkeyed chain it is, and reported as not keyed even when intact.
  public func verifyAuditChain(
    observer: (any LongRunObserver)? = nil
  ) throws -> AuditVerification {
    try checkAuditChain(observer: observer).verification
  }

  /// ``verifyAuditChain(observer:)``, and the anchor it checked the log against.
  func checkAuditChain(
    observer: (any LongRunObserver)?
  ) throws -> (verification: AuditVerification, anchor: AnchorPlace?) {
    guard let auditKey else { throw AuditError.noAuditKey(path: path) }
    // The anchor is read before the log: it is written after each commit, so read first it
    // never counts more events than the snapshot the walk reads. Read after, a commit by
    // another connection meanwhile would leave it ahead, like events cut from the end.
    let databaseId = try read { try AuditChain.identity($0).databaseId }
    let anchor = auditKey.anchorFolder.map {
      AuditAnchor.locate(
        folder: $0, databaseId: databaseId, key: auditKey, file: DatabaseFile.of(path: path))
    }
    let verification = try read { db -> AuditVerification in
      let identity = try AuditChain.identity(db)
      guard let keyCheck = identity.keyCheck else {
        let walk = try AuditChain.walk(
          db, key: nil, databaseId: identity.databaseId, observer: observer)
        guard case .ok(let count) = walk.verification, count > 0 else {
          return walk.verification
        }
        let anchors = AuditAnchor.count(folder: auditKey.anchorFolder, key: auditKey)
        guard anchors > 0 else {
          return .broken(
            eventId: nil,
            reason: "the log is not keyed yet (open the database with its provider key)")
        }
        return .broken(
          eventId: nil,
          reason: "the log is not keyed, and this provider key already anchors \(anchors) "
            + "database(s), so it was not keyed automatically (a log rewritten without the "
            + "key looks just like this); if it is genuine, an admin keys it with "
            + "`csar audit rekey`")
      }
      guard keyCheck == auditKey.check else {
        return .broken(eventId: nil, reason: AuditError.wrongKey(path: path).description)
      }
      let walk = try AuditChain.walk(
        db, key: auditKey, databaseId: identity.databaseId, observer: observer)
      guard case .ok(let count) = walk.verification else { return walk.verification }
      guard identity.databaseId == databaseId else {
        return .broken(eventId: nil, reason: "the log's database id changed while it was read")
      }
      return try Self.checkAnchor(db, place: anchor, count: count)
    }
    return (verification, anchor)
  }

  /// The newest audit event (nil for an empty log): the head that exports carry and
  /// `csar audit verify --expect-head` compares with a head recorded elsewhere.
  public func auditHead() throws -> AuditHead? {
    try read { db in try Self.auditHead(db) }
  }

  static func auditHead(_ db: Database) throws -> AuditHead? {
    try Row.fetchOne(
      db.cachedStatement(sql: "SELECT id, mac FROM audit_event ORDER BY id DESC LIMIT 1")
    ).map { AuditHead(events: $0["id"], mac: $0["mac"] ?? "") }
  }
}

// MARK: - The head

/// The audit log's head: how many events it had (the newest event's id: ids run from 1 without
/// gaps in an intact log) and the newest event's MAC. Written as `EVENTS:MAC`; exports carry
/// it, `csar audit verify` prints it, and `--expect-head` checks that a head recorded
/// elsewhere is still in the log.
public struct AuditHead: Hashable, Sendable, CustomStringConvertible {
  public var events: Int64
  public var mac: String

  public init(events: Int64, mac: String) {
    self.events = events
    self.mac = mac
  }

  /// Reads `EVENTS:MAC` or a bare MAC (64 lowercase hex digits; events then 0, unknown).
  public init?(parsing text: String) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    let macText = String(parts.last ?? "").lowercased()
    guard parts.count <= 2, macText.count == 64,
      macText.allSatisfy({ $0.isHexDigit })
    else { return nil }
    var events: Int64 = 0
    if parts.count == 2 {
      guard let n = Int64(parts[0]), n > 0 else { return nil }
      events = n
    }
    self.init(events: events, mac: macText)
  }

  /// `EVENTS:MAC`.
  public var description: String { "\(events):\(mac)" }

  /// `{"events":N,"mac":"..."}`, as exports carry it.
  public var json: JSONValue { ["events": .int(events), "mac": .string(mac)] }
}

// MARK: - Everything verify checks

/// The outcome of `csar audit verify`: the chain (keyed MACs, ids, anchor), the triggers,
/// operators, reports and items that must agree with the log, and optionally a head recorded
/// elsewhere.
public struct AuditCheck: Sendable {
  /// The chain and its anchor.
  public var chain: AuditVerification
  /// The newest event, when the log has one.
  public var head: AuditHead?
  /// Triggers, operators, reports and items that disagree with the log (at most 20 of each
  /// kind of row).
  public var mismatches: [AuditMismatch]
  /// Why the expected head does not verify (nil when none was given, or it is in the log).
  public var expectedHeadProblem: String?
  /// With an expected head that is in the log: how many events came after it.
  public var eventsSinceExpectedHead: Int64?
  /// What an intact log's check does not cover, said plainly (a copy's own anchor vouches
  /// for its log only from the copy's first change on).
  public var notes: [String] = []

  public var isOK: Bool { chain.isOK && mismatches.isEmpty && expectedHeadProblem == nil }

  /// Every problem, one line each (empty when ok).
  public var problems: [String] {
    var out: [String] = []
    if !chain.isOK { out.append(chain.description) }
    out += mismatches.map { "audit log broken: " + $0.description }
    if let expectedHeadProblem { out.append("audit log broken: " + expectedHeadProblem) }
    return out
  }
}

extension AppDatabase {
  /// Everything `csar audit verify` checks: the chain with its anchor
  /// (``verifyAuditChain()``), the triggers (``triggerMismatches()``), operators
  /// (``operatorAuditMismatches()``), reports and items (``stateMismatches(limit:)``) against
  /// the log, and, when given, that `expectedHead` (a head recorded elsewhere: written down,
  /// or carried by an export) is an event of the intact chain with that MAC.
  ///
  /// An `observer` hears the chain's progress (events checked of the ids issued) and may stop
  /// the check between steps: it then throws ``LongRunStopped`` and nothing is concluded.
  public func verifyAudit(
    expectedHead: AuditHead? = nil, observer: (any LongRunObserver)? = nil
  ) throws -> AuditCheck {
    let (chain, anchor) = try checkAuditChain(observer: observer)
    let checked = if case .ok(let count) = chain { count } else { 0 }
    try VerifyProgress.stopIfAsked(observer, checked: checked)
    var check = AuditCheck(
      chain: chain, head: try auditHead(), mismatches: try triggerMismatches(),
      expectedHeadProblem: nil, eventsSinceExpectedHead: nil)
    if chain.isOK, let anchor, let note = Self.anchorSinceNote(anchor) { check.notes = [note] }
    check.mismatches += try operatorAuditMismatches().map {
      AuditMismatch(
        entity: "operator", label: "\"\($0.name)\" (id \($0.id))",
        problem: $0.problem + " (edited outside csar)")
    }
    try VerifyProgress.stopIfAsked(observer, checked: checked)
    check.mismatches += try stateMismatches()
    guard let expectedHead, chain.isOK else { return check }
    let found = try read { db in
      try Int64.fetchOne(
        db, sql: "SELECT id FROM audit_event WHERE mac = ?", arguments: [expectedHead.mac])
    }
    if let found, expectedHead.events == 0 || expectedHead.events == found {
      check.eventsSinceExpectedHead = (check.head?.events ?? found) - found
    } else if let found {
      check.expectedHeadProblem =
        "the expected head's MAC is event \(found)'s, not event \(expectedHead.events)'s"
    } else {
      check.expectedHeadProblem =
        "the expected head \(expectedHead) is not in the log: the log was rewritten or cut "
        + "back to before it (or it belongs to another database)"
    }
    return check
  }
}

// MARK: - What the anchor vouches for

extension AppDatabase {
  /// For an anchor first written after the log had events (``AuditAnchor/since``): from
  /// which event it vouches for the log, and that the events before it are vouched for only
  /// by the keyed chain. A copy's own anchor is written at the copy's first change; the
  /// database's own is written anew where there was none to check (deleted, or not one csar
  /// could trust). Nil for an anchor that has vouched for the log from its start, a copy
  /// still checked against its original's, or a copy whose first change was its log's first
  /// event.
  static func anchorSinceNote(_ place: AnchorPlace) -> String? {
    guard case .success(let anchor) = place.anchor else { return nil }
    guard let original = place.original else {
      guard let since = anchor.since, since > 1 else { return nil }
      return "the anchor (\(place.path)) was written anew at event \(since), when there was "
        + "none to check (deleted, or not one csar could trust): it vouches for the end of "
        + "the log from event \(since) on; \(eventsBefore(since)) vouched for only by the "
        + "keyed chain (events cut from the end before event \(since) would not show; an "
        + "admin who has checked the log accepts it as a whole with `csar audit reanchor`)"
    }
    let of = original.file.map { " of the database file \($0.path)" } ?? ""
    let start: String
    let before: String
    if let since = anchor.since {
      guard since > 1 else { return nil }
      start = "event \(since)"
      before = eventsBefore(since)
    } else {
      start = "that change (the anchor, written by an older csar, does not record which event)"
      before = "the events before it are"
    }
    return "this file is a copy\(of); its own anchor (\(place.path)) was first written at "
      + "its first change, so it vouches for the end of the log from \(start) on; "
      + "\(before) vouched for only by the keyed chain (events cut from the copy's end before "
      + "that change would not show)"
  }

  /// "event 1 is" or "events 1–N are", the events before `since`.
  private static func eventsBefore(_ since: Int64) -> String {
    since == 2 ? "event 1 is" : "events 1–\(since - 1) are"
  }

}
