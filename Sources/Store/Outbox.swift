import Foundation

#if os(Linux)
  /// `syncfs(2)`: flushes the file system holding `fd` (Glibc does not export it to Swift).
  @_silgen_name("syncfs") private func linuxSyncfs(_ fd: Int32) -> Int32
#endif

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
      removeAbandonedTemporaries()
      return
    }
    do {
      try FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw .cannotWrite(path: directory, reason: "cannot create the folder")
    }
  }

  /// Removes temporary files (`.NAME.PID.tmp`) left by a writer that was killed: those whose
  /// process is gone. A running writer's files are left alone.
  func removeAbandonedTemporaries() {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
      return
    }
    for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
      let parts = name.dropLast(4).split(separator: ".")
      guard let pid = parts.last.flatMap({ Int32($0) }), pid > 0 else { continue }
      if kill(pid, 0) == 0 || errno == EPERM { continue }
      unlink(path(name))
    }
  }

  /// The path of `name` in the outbox.
  public func path(_ name: String) -> String { directory + "/" + name }

  /// Writes `text` as `name` atomically (temporary file, fsync, rename, fsync of the folder).
  /// Returns the final path.
  @discardableResult
  public func write(_ text: String, as name: String) throws(ReportError) -> String {
    try write([(name, text)])[0]
  }

  /// Writes several files, each atomically, with few flushes: every file goes to a hidden
  /// temporary name, then the data is flushed to disk (one `syncfs` on Linux, else one
  /// `fsync` per file), then each is renamed to its name and the folder is flushed. On an
  /// error the temporary files are removed and files renamed already stay (whole). Returns
  /// the final paths in order.
  @discardableResult
  public func write(_ files: [(name: String, text: String)]) throws(ReportError) -> [String] {
    var temporaries: [(fd: Int32, temporary: String, final: String)] = []
    defer {
      for file in temporaries {
        if file.fd >= 0 { close(file.fd) }
        unlink(file.temporary)
      }
    }
    for (name, text) in files {
      let final = path(name)
      guard !name.isEmpty, !name.hasPrefix("."), !name.contains("/") else {
        throw .cannotWrite(path: final, reason: "not a plain file name")
      }
      let temporary = path(".\(name).\(getpid()).tmp")
      let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
      guard fd >= 0 else { throw .cannotWrite(path: final, reason: Self.lastError()) }
      temporaries.append((fd, temporary, final))
      try Self.writeAll(fd, Array(text.utf8), path: final)
    }
    #if os(Linux)
      if let first = temporaries.first, linuxSyncfs(first.fd) != 0 {
        throw .cannotWrite(path: first.final, reason: Self.lastError())
      }
    #else
      for file in temporaries where fsync(file.fd) != 0 {
        throw .cannotWrite(path: file.final, reason: Self.lastError())
      }
    #endif
    var paths: [String] = []
    for index in temporaries.indices {
      close(temporaries[index].fd)
      temporaries[index].fd = -1
      guard rename(temporaries[index].temporary, temporaries[index].final) == 0 else {
        throw .cannotWrite(path: temporaries[index].final, reason: Self.lastError())
      }
      paths.append(temporaries[index].final)
    }
    temporaries.removeAll()
    if !paths.isEmpty { try syncFolder() }
    return paths
  }

  private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(ReportError) {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw .cannotWrite(path: path, reason: lastError())
      }
      offset += n
    }
  }

  /// Flushes the folder itself, so that the renames before survive a crash.
  public func syncFolder() throws(ReportError) {
    let folder = open(directory, O_RDONLY)
    guard folder >= 0 else { throw .cannotWrite(path: directory, reason: Self.lastError()) }
    defer { close(folder) }
    guard fsync(folder) == 0 else {
      throw .cannotWrite(path: directory, reason: Self.lastError())
    }
  }

  /// Removes `name` from the outbox if it is there.
  public func remove(_ name: String) {
    unlink(path(name))
  }

  private static func lastError() -> String { String(cString: strerror(errno)) }
}
