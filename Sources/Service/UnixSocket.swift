// `csar serve --socket PATH`: the socket file is csar's like its other files: in a folder
// others cannot write to, 0600 (0660 in a team folder), and never made by replacing
// something that is not a socket.

import Foundation
import Store

#if canImport(Glibc)
  import Glibc
#endif

/// Getting a Unix domain socket path ready before the service binds it, and giving the
/// socket its mode once bound.
enum UnixSocket {
  /// Checks the folder (not writable by others) and what is at `path`: nothing is fine; a
  /// socket nobody listens on (left by a stopped service) is removed; a socket in use, or
  /// anything else (a file, a folder, a symlink), is refused and left alone.
  static func prepare(_ path: String) throws(ServiceSettingsError) {
    func refuse(_ reason: String) -> ServiceSettingsError {
      ServiceSettingsError(field: "--socket", reason: reason)
    }
    do {
      try PrivateFiles.checkFolder(PrivateFiles.folder(of: path), what: "socket's folder")
    } catch {
      throw refuse(error.description)
    }
    var info = stat()
    guard lstat(path, &info) == 0 else {
      if errno == ENOENT { return }
      throw refuse("\(path): \(String(cString: strerror(errno)))")
    }
    guard info.st_mode & S_IFMT == S_IFSOCK else {
      throw refuse("\(path) exists and is not a socket; refusing to replace it")
    }
    guard !listening(path) else {
      throw refuse("\(path): another process is listening on this socket")
    }
    guard unlink(path) == 0 else {
      throw refuse("\(path): cannot remove the old socket: \(String(cString: strerror(errno)))")
    }
  }

  /// Whether a process accepts connections on the socket at `path`.
  static func listening(_ path: String) -> Bool {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
      }
    }
  }

  /// Gives the bound socket mode 0600, or 0660 and the team's group in a team folder (only
  /// the accounts that may read the database may talk to the service).
  static func secure(_ path: String) throws(ServiceSettingsError) {
    let sharing = FileSharing.of(folder: PrivateFiles.folder(of: path))
    var ok = true
    if case .group(let gid) = sharing { ok = chown(path, uid_t.max, gid) == 0 }
    if ok { ok = chmod(path, sharing.fileMode) == 0 }
    guard ok else {
      throw ServiceSettingsError(
        field: "--socket",
        reason: "\(path): cannot set the socket's mode: \(String(cString: strerror(errno)))")
    }
  }

  /// Removes the socket at `path` when the service stops (only a socket).
  static func remove(_ path: String) {
    var info = stat()
    if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
  }
}
