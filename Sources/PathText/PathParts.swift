// MARK: - The folder of a path, on String alone

/// Splitting file paths into folder and name with plain String code, for every module that
/// needs it (Store's private files, Imaging's media roots). Foundation's NSString
/// `deletingLastPathComponent` traps (Swift 6.3.1, Linux Foundation) on a one-part string
/// that an earlier NSString path call returned, which crashed `csar demo --db d/demo.sqlite`;
/// nothing here calls Foundation.
public enum PathParts {
  /// The folder part of `path`: `""` for a bare name, `/` for an entry of the root; trailing
  /// slashes are ignored, and so are repeated slashes before the name.
  public static func parent(of path: String) -> String {
    var rest = Substring(path)
    while rest.count > 1, rest.hasSuffix("/") { rest = rest.dropLast() }
    guard let slash = rest.lastIndex(of: "/") else { return "" }
    var head = rest[..<slash]
    while head.hasSuffix("/") { head = head.dropLast() }
    return head.isEmpty ? "/" : String(head)
  }

  /// The last part of `path` (its file or folder name); trailing slashes are ignored.
  public static func name(of path: String) -> String {
    var rest = Substring(path)
    while rest.count > 1, rest.hasSuffix("/") { rest = rest.dropLast() }
    guard let slash = rest.lastIndex(of: "/") else { return String(rest) }
    return String(rest[rest.index(after: slash)...])
  }

  /// The folder holding `path`: as ``parent(of:)``, but `.` for a bare name.
  public static func folder(of path: String) -> String {
    let folder = parent(of: path)
    return folder.isEmpty ? "." : folder
  }
}
