import Foundation

// MARK: - The database file an anchor was written for

/// A database file as its anchor names it: device and inode (what a copy does not share with
/// its original, and a move within one file system keeps) and the path it had (to look for
/// the file again, and for messages).
struct DatabaseFile: Equatable {
  var device: UInt64
  var inode: UInt64
  /// The absolute path, symbolic links resolved, when the anchor was written.
  var path: String

  /// The file at `path` now; nil when there is none (an in-memory database).
  static func of(path: String) -> DatabaseFile? {
    var info = stat()
    guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
    var resolved = path
    if let real = realpath(path, nil) {
      resolved = String(cString: real)
      free(real)
    }
    // A path is one line of the anchor file.
    resolved = resolved.replacingOccurrences(of: "\n", with: "?")
    return DatabaseFile(
      device: UInt64(info.st_dev), inode: UInt64(info.st_ino), path: resolved)
  }

  /// Whether `other` is this file (the path may differ: a move, another mount of it).
  func isSameFile(as other: DatabaseFile) -> Bool {
    device == other.device && inode == other.inode
  }
}

// MARK: - Which anchor a file answers to

/// The anchor a database file answers to: the database's own (`<id>.anchor`), or, for a
/// copy, the copy's (`<id>.copy-<device>-<inode>.anchor`).
struct AnchorPlace {
  /// The anchor file.
  var path: String
  /// What it holds.
  var anchor: Result<AuditAnchor, AuditAnchor.AnchorProblem>
  /// For a copy: its original's anchor (which names the original's file).
  var original: AuditAnchor?
}
