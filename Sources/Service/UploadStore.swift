// Where uploads that matched a bank are kept, so reviewers can see them.

import Detection
import Foundation
import Store

/// A private folder of matched uploads, one file per content, named by its SHA-256, written
/// through ``PrivateFiles`` (0700 / 0600, or the team folder's modes; written whole: a
/// temporary file, flushed, renamed), so a file is never half there.
struct UploadStore: Sendable {
  let folder: String

  /// Keeps `bytes`; returns the file's path (an upload kept before is not written again).
  func keep(_ bytes: [UInt8]) throws -> String {
    let path = folder + "/" + FileDigests(of: bytes).sha256
    if FileManager.default.fileExists(atPath: path) { return path }
    try PrivateFiles.makeFolder(folder)
    try PrivateFiles.writeAtomically(bytes, to: path)
    return path
  }
}
