import Foundation
import GRDB

// MARK: - Whether the anchor on disk reaches the log

/// Whether the audit anchor on disk records the log's newest event, read from the files as
/// they are now, whoever wrote them (this process, a console, an import): what `csar serve`
/// reports on `/metrics`. The anchor is behind after a failed or kept anchor write until a
/// later write succeeds, and whenever it is missing (with events), cannot be used (forged,
/// damaged, refused) or records another event than the newest (events cut, the file
/// replaced, or a commit whose anchor is being written at that instant).
public struct AnchorState: Equatable, Sendable {
  /// The newest event of the log (0: the log is empty).
  public var events: Int64
  /// The event the anchor records (nil: there is no anchor it can use).
  public var anchoredEvents: Int64?
  /// When the anchor file was last written (nil: there is no anchor it can use).
  public var writtenAt: Date?

  /// Whether the anchor does not record the log's newest event.
  public var isBehind: Bool

  /// The state of a database that anchors nothing (no key, or a key without an anchor
  /// folder): nothing is expected, so nothing is behind.
  static let unanchored = AnchorState(
    events: 0, anchoredEvents: nil, writtenAt: nil, isBehind: false)
}

extension AppDatabase {
  /// The anchor this database file answers to (its own, or for a copy its own copy anchor,
  /// else its original's) compared with the log's newest event. The anchor is read before
  /// the log (as ``verifyAuditChain(observer:)`` does), so a commit by another process
  /// meanwhile shows as behind only until its anchor is written: one small file read and one
  /// indexed query, cheap enough for every scrape.
  public func anchorState() throws -> AnchorState {
    guard let auditKey, let folder = auditKey.anchorFolder else { return .unanchored }
    let databaseId = try read { try AuditChain.identity($0).databaseId }
    let place = AuditAnchor.locate(
      folder: folder, databaseId: databaseId, key: auditKey,
      file: DatabaseFile.of(path: path))
    var anchor: AuditAnchor?
    var anchorFile = place.path
    switch place.anchor {
    case .success(let own): anchor = own
    case .failure(.missing):
      if let original = place.original {
        anchor = original
        anchorFile = AuditAnchor.path(folder: folder, databaseId: databaseId)
      }
    case .failure: break
    }
    let head = try auditHead()
    let events = head?.events ?? 0
    guard let anchor else {
      return AnchorState(
        events: events, anchoredEvents: nil, writtenAt: nil, isBehind: events > 0)
    }
    var info = stat()
    let writtenAt =
      lstat(anchorFile, &info) == 0
      ? Date(
        timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec)
          + TimeInterval(info.st_mtim.tv_nsec) / 1e9) : nil
    let reaches =
      anchor.count == events && (events == 0 || anchor.head == head?.mac)
    return AnchorState(
      events: events, anchoredEvents: anchor.count, writtenAt: writtenAt, isBehind: !reaches)
  }
}
