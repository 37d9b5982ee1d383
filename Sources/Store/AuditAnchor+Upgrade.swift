import Foundation
import GRDB

// MARK: - Anchors from before they named their file

extension AppDatabase {
  /// At open: names this file in an anchor written before anchors named their database file
  /// (format 1), when the log reaches it (holds its event with its MAC). Such an anchor is
  /// taken as the database's own by whichever file with its database id changes first, so a
  /// copy written to before the original took it over, and the original then looked cut.
  /// Named at the first open, it is the file's that is opened first, which is the original
  /// unless a copy made since the last change (a log identical to the original's) is opened
  /// before it; an older copy, or a file swapped in, does not reach the anchor and leaves it
  /// as it is.
  ///
  /// No event is added and the anchor keeps the head it recorded: it only gains the file.
  /// The anchor is read again just before it is written over (atomically, as every anchor),
  /// so an anchor another process wrote meanwhile is kept. A failure is not told: the old
  /// anchor stays valid, and the next audited change names the file.
  func nameTheFileInAnOldAnchor() {
    guard let auditKey, let folder = auditKey.anchorFolder,
      let file = DatabaseFile.of(path: path),
      let databaseId = try? read({ try AuditChain.identity($0).databaseId })
    else { return }
    let place = AuditAnchor.locate(
      folder: folder, databaseId: databaseId, key: auditKey, file: file)
    guard place.original == nil, case .success(let anchored) = place.anchor,
      anchored.file == nil, (try? read({ try Self.reaches(anchored, in: $0) })) == true
    else { return }
    let again = AuditAnchor.read(
      file: place.path, folder: folder, databaseId: databaseId, key: auditKey)
    guard case .success(anchored) = again else { return }
    var named = anchored
    named.file = file
    try? named.write(to: place.path, key: auditKey)
  }

  /// Whether the log in `db` holds `anchor`'s event with its MAC.
  private static func reaches(_ anchor: AuditAnchor, in db: Database) throws -> Bool {
    try unreached(anchor, in: db) == nil
  }
}
