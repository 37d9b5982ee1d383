// Which folders media may be read from.
//
// A media path comes from an import file or a database row, and the console opens it with the
// reviewer's rights: without a boundary, a line naming `/etc/shadow` or the provider key would
// be read and shown. Every media path is resolved against the database's folder (when
// relative), must not contain "..", and must lie inside a configured root both as written and
// after symbolic links in its folders are resolved (`realpath`), so a planted folder link
// cannot lead out either. The file itself is opened with O_NOFOLLOW by ``MediaFile``.

import Foundation
import PathText

/// Why a media path may not be read.
public struct MediaPathError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The media path as given.
  public var path: String
  /// The roots it was checked against.
  public var roots: [String]
  /// Set when the path could not be resolved (its folder is missing or unreadable).
  public var unresolvable: String?

  /// "media path "P" is outside the media roots (R1, R2)".
  public var description: String {
    let list = roots.isEmpty ? "none configured" : roots.joined(separator: ", ")
    if let unresolvable {
      return "media path \"\(path)\" cannot be resolved (\(unresolvable)); media roots: \(list)"
    }
    return "media path \"\(path)\" is outside the media roots (\(list))"
  }
}

/// The folders media files may be read from: config `media_roots`, else the `media` folder
/// beside the database (where `csar demo` writes its pictures).
public struct MediaRoots: Sendable, Equatable {
  /// Absolute folder paths, without trailing "/".
  public let folders: [String]
  /// The database file that relative media paths are relative to.
  public let databasePath: String

  /// Roots `configured` (absolute paths), or the default: `<database folder>/media`.
  public init(configured: [String]? = nil, databasePath: String) {
    self.databasePath = databasePath
    if let configured {
      folders = configured.map { Self.normalised($0) ?? $0 }
    } else {
      folders = [Self.normalised(Self.databaseFolder(databasePath) + "/media") ?? "/media"]
    }
  }

  /// The folder of the database file (the working folder for `:memory:` or a bare name).
  static func databaseFolder(_ databasePath: String) -> String {
    let folder = PathParts.parent(of: databasePath)
    if databasePath == ":memory:" || folder.isEmpty {
      return FileManager.default.currentDirectoryPath
    }
    if folder.hasPrefix("/") { return folder }
    return FileManager.default.currentDirectoryPath + "/" + folder
  }

  /// The absolute path of `mediaPath` (relative paths are beside the database) when it lies
  /// inside a root; throws otherwise, naming the path and the roots.
  public func resolve(_ mediaPath: String) throws(MediaPathError) -> String {
    let raw =
      mediaPath.hasPrefix("/") ? mediaPath : Self.databaseFolder(databasePath) + "/" + mediaPath
    guard let absolute = Self.normalised(raw) else {
      throw MediaPathError(path: mediaPath, roots: folders)
    }
    guard let root = folders.first(where: { Self.isInside(absolute, $0) }) else {
      throw MediaPathError(path: mediaPath, roots: folders)
    }
    // Links in the folders on the way: the real folder must still be inside the real root.
    let parent = PathParts.parent(of: absolute)
    guard let realParent = Self.realPath(parent) else {
      throw MediaPathError(
        path: mediaPath, roots: folders, unresolvable: "no folder \(parent)")
    }
    let realRoot = Self.realPath(root) ?? root
    guard Self.isInside(realParent + "/x", realRoot) else {
      throw MediaPathError(path: mediaPath, roots: folders)
    }
    return absolute
  }

  // MARK: - Paths

  /// `path` with "." and empty components removed; nil when it has ".." or is relative.
  static func normalised(_ path: String) -> String? {
    guard path.hasPrefix("/") else { return nil }
    var parts: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
      if part == "." { continue }
      if part == ".." { return nil }
      parts.append(part)
    }
    return "/" + parts.joined(separator: "/")
  }

  /// Whether `path` is strictly below `folder` (both normalised).
  static func isInside(_ path: String, _ folder: String) -> Bool {
    folder == "/" ? path.count > 1 : path.hasPrefix(folder + "/")
  }

  static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }
}
