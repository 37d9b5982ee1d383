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
///
/// The folder must be a real folder (not a symlink) that belongs to the caller (or is a team
/// folder of the caller's group) and that others cannot write to; it is created 0700 when
/// missing. Temporary files are created exclusively and never through a symlink, files are
/// 0600 (0660 in a team folder), and a symlink or anything but a regular file at a final name
/// is refused, never followed or replaced (see ``PrivateFiles``).
public struct Outbox: Sendable {
  /// The folder (created when missing).
  public let directory: String

  /// An outbox at `directory`, creating it when needed; refuses a folder that is unsafe to
  /// write reports into.
  public init(directory: String) throws(ReportError) {
    self.directory = directory
    do throws(PrivateFileError) {
      if try !PrivateFiles.checkFolder(directory, what: "outbox", mayBeSymlink: false) {
        try PrivateFiles.makeFolder(directory)
        try PrivateFiles.checkFolder(directory, what: "outbox", mayBeSymlink: false)
        return
      }
    } catch {
      throw .unsafeFile(error)
    }
    removeAbandonedTemporaries()
  }

  /// Removes temporary files (`.NAME.RANDOM.PID.tmp`) left by a writer that was killed: those
  /// whose process is gone. A running writer's files are left alone.
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
    for (name, _) in files where name.isEmpty || name.hasPrefix(".") || name.contains("/") {
      throw .cannotWrite(path: path(name), reason: "not a plain file name")
    }
    var temporaries: [PrivateFiles.Temporary] = []
    defer { for temporary in temporaries { temporary.discard() } }
    do throws(PrivateFileError) {
      for (name, text) in files {
        let temporary = try PrivateFiles.Temporary(for: path(name))
        temporaries.append(temporary)
        try temporary.write(Array(text.utf8))
      }
      #if os(Linux)
        if let first = temporaries.first, linuxSyncfs(first.descriptor) != 0 {
          for temporary in temporaries { try temporary.sync() }
        }
      #else
        for temporary in temporaries { try temporary.sync() }
      #endif
      for temporary in temporaries { try temporary.commit() }
      if !temporaries.isEmpty { try PrivateFiles.syncFolder(directory) }
    } catch {
      throw .unsafeFile(error)
    }
    return temporaries.map(\.finalPath)
  }

  /// Flushes the folder itself, so that the renames before survive a crash.
  public func syncFolder() throws(ReportError) {
    do {
      try PrivateFiles.syncFolder(directory)
    } catch {
      throw .unsafeFile(error)
    }
  }

  /// Removes `name` from the outbox if it is there.
  public func remove(_ name: String) {
    unlink(path(name))
  }
}
