import Foundation
import GRDB

// MARK: - An admin anchors a log anew

/// What `csar audit reanchor` replaced: the anchor file and what it recorded (or why it could
/// not be used), and the head anchored now.
public struct Reanchoring: Equatable, Sendable {
  /// The anchor file written.
  public let path: String
  /// What the anchor there recorded, or why it could not be used ("none" when missing).
  public let replaced: String
  /// The head anchored now: the `audit.reanchor` event.
  public let events: Int64
}

extension AppDatabase {
  /// `csar audit reanchor`: the admin `admin` accepts this database file's log as it is, when
  /// its anchor is kept because the log no longer reaches it (a database restored from an
  /// older backup on purpose), the anchor cannot be used (damaged), or it vouches only for
  /// the log's end (written anew after it was deleted). The chain must be intact. An
  /// `audit.reanchor` event names the admin, what the old anchor recorded (the events the log
  /// lost) and the file anchored now; then the anchor is written anew. Returns nil when the
  /// log reaches an anchor that vouches for all of it (nothing to do). Throws
  /// ``IdentityError/notAnAdmin(name:)`` for anyone else, ``AuditError/notKeyed(path:reason:)``
  /// for a broken chain, ``AuditError/cannotWriteAnchor(path:reason:)`` when the file cannot
  /// be written (a FIFO or symlink at its path: remove it first).
  public func reanchorAuditLog(by admin: String) throws -> Reanchoring? {
    guard let auditKey, let folder = auditKey.anchorFolder else {
      throw AuditError.noAuditKey(path: path)
    }
    let file = DatabaseFile.of(path: path)
    let databaseId = try read { try AuditChain.identity($0).databaseId }
    let place = AuditAnchor.locate(
      folder: folder, databaseId: databaseId, key: auditKey, file: file)
    let replaced: String
    switch place.anchor {
    case .success(let anchored):
      // Something to accept: a log that no longer reaches its anchor, or the database's own
      // anchor written anew after the log had events (it vouches only from then on).
      let partial = place.original == nil && (anchored.since ?? 1) > 1
      guard try partial || read({ try Self.unreached(anchored, in: $0) }) != nil else {
        return nil
      }
      replaced = "\(anchored.count) events, head \(anchored.head)"
        + (anchored.file.map { ", file \($0.path)" } ?? "")
        + (anchored.since.map { ", since event \($0)" } ?? "")
    case .failure(.missing): replaced = "none"
    case .failure(.refused(let error)):
      throw AuditError.cannotWriteAnchor(path: place.path, reason: error.description)
    case .failure(let problem): replaced = "\(problem)"
    }
    let head = try writeImmediate { db -> (id: Int64, link: AuditLink) in
      try Self.requireAdmin(db, name: admin)
      let walk = try AuditChain.walk(db, key: auditKey, databaseId: databaseId)
      guard case .ok = walk.verification else {
        throw AuditError.notKeyed(path: path, reason: walk.verification.description)
      }
      let details: JSONValue = [
        "before": ["anchor": .string(place.path), "recorded": .string(replaced)],
        "after": [
          "file": file.map { .string($0.path) } ?? .null, "by_uid": .int(Int64(geteuid())),
        ],
      ]
      let prev = try AuditChain.head(db, key: auditKey, path: path)
      return try AuditChain.append(
        db, key: auditKey, prev: prev, at: clock(), operatorName: admin,
        action: "audit.reanchor", entity: "audit_chain", entityId: databaseId,
        detailsJSON: details.description)
    }
    // A copy's anchor vouches for its log from the reanchoring on.
    let since = place.original == nil ? nil : head.id
    do throws(PrivateFileError) {
      try AuditAnchor(
        databaseId: databaseId, count: head.id, head: head.link.mac, file: file, since: since
      ).write(to: place.path, key: auditKey)
    } catch {
      throw AuditError.cannotWriteAnchor(path: place.path, reason: error.description)
    }
    anchorWrites.succeeded()
    return Reanchoring(path: place.path, replaced: replaced, events: head.id)
  }
}
