import Foundation

// MARK: - Atomic files in an outbox folder

/// A folder that report files are written to for pick-up. Each file appears whole or not at
/// all: it is written to a hidden temporary file, flushed to disk, renamed over the final name
/// and the folder is flushed too, so a crash never leaves half a report behind, and writing the
/// same name again replaces the file instead of adding a second one.
public struct Outbox: Sendable {
  /// The folder (created when missing).
  public let directory: String

  /// An outbox at `directory`, creating it when needed.
  public init(directory: String) throws(ReportError) {
    self.directory = directory
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder) {
      guard isFolder.boolValue else {
        throw .cannotWrite(path: directory, reason: "not a folder")
      }
      return
    }
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw .cannotWrite(path: directory, reason: "cannot create the folder")
    }
  }

  /// The path of `name` in the outbox.
  public func path(_ name: String) -> String { directory + "/" + name }

  /// Writes `text` as `name` atomically (temporary file, fsync, rename, fsync of the folder).
  /// Returns the final path.
  @discardableResult
  public func write(_ text: String, as name: String) throws(ReportError) -> String {
    let final = path(name)
    let temporary = path(".\(name).\(getpid()).tmp")
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw .cannotWrite(path: final, reason: Self.lastError()) }
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        let reason = Self.lastError()
        close(fd)
        unlink(temporary)
        throw .cannotWrite(path: final, reason: reason)
      }
      offset += n
    }
    if fsync(fd) != 0 {
      let reason = Self.lastError()
      close(fd)
      unlink(temporary)
      throw .cannotWrite(path: final, reason: reason)
    }
    close(fd)
    guard rename(temporary, final) == 0 else {
      let reason = Self.lastError()
      unlink(temporary)
      throw .cannotWrite(path: final, reason: reason)
    }
    let folder = open(directory, O_RDONLY)
    if folder >= 0 {
      _ = fsync(folder)
      close(folder)
    }
    return final
  }

  /// Removes `name` from the outbox if it is there.
  public func remove(_ name: String) {
    unlink(path(name))
  }

  private static func lastError() -> String { String(cString: strerror(errno)) }
}
