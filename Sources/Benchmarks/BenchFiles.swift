// The files and databases the benchmarks work on: the picture they hash and preview, the
// reference scripts in bench/, scratch databases, and how an existing database is opened.

import DemoPictures
import Foundation
import Imaging
import Store

/// The picture and the reference scripts the benchmarks use.
public enum BenchFiles {
  /// The PDQ conformance photo (1600x1004 JPEG), when this machine has it.
  static let bridgeImage = "/work/shared/conformance/pdq/images/bridge-1-original.jpg"

  /// The JPEG to preview and hash: `image`, else the bridge photo when this machine has it,
  /// else a synthetic 1600x1004 picture encoded as JPEG into `dir` (once).
  public static func picture(image: String?, dir: String) throws -> String {
    if let image { return image }
    if FileManager.default.fileExists(atPath: bridgeImage) { return bridgeImage }
    let path = dir + "/synthetic-1600x1004.jpg"
    if !FileManager.default.fileExists(atPath: path) {
      try ImageEncoder.writeJPEG(DemoMedia.picture(DemoMedia.largeIndex), to: path)
    }
    return path
  }

  /// bench/`name` in the current folder or a folder above the binary, if there is one.
  public static func script(_ name: String) -> String? {
    var candidates = ["bench/" + name]
    var folder = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    for _ in 0..<5 {
      folder.deleteLastPathComponent()
      candidates.append(folder.path + "/bench/" + name)
    }
    return candidates.first { FileManager.default.fileExists(atPath: $0) }
      .map { URL(fileURLWithPath: $0).standardizedFileURL.path }
  }
}

/// How a benchmark opens an existing database: the executable hands its own way in (with the
/// provider key and the audit key derived from it), so figures come from the real open path.
public typealias DatabaseOpener = (_ path: String) throws -> AppDatabase

/// Databases that live only for one benchmark run.
enum BenchDatabase {
  /// Opens (creating) a scratch database: a random audit key, anchors in its folder.
  static func scratch(path: String) throws -> AppDatabase {
    try AppDatabase.open(
      path: path, auditKey: .random(anchorFolder: PrivateFiles.folder(of: path) + "/anchors"))
  }

  /// Removes a scratch database file and its log.
  static func remove(_ path: String) {
    for suffix in ["", "-wal", "-shm"] {
      try? FileManager.default.removeItem(atPath: path + suffix)
    }
  }
}
