import Foundation
import PathText

#if canImport(Glibc)
  import Glibc
#endif

// MARK: - Who may share a file

/// Who may read and write csar's files: the owner alone (folders 0700, files 0600), or the
/// owner and a team group (folders 2770 owned by the group, files 0660). A folder says which
/// by itself: a setgid folder whose group has full access and others none is a team folder
/// (`csar init --group NAME` makes one), and everything created in it is shared with that
/// group; any other folder is private.
public enum FileSharing: Hashable, Sendable, CustomStringConvertible {
  /// Only the owning account.
  case owner
  /// The owning account and the members of group `gid`.
  case group(gid_t)

  /// The mode of a folder created for this sharing: 0700, or 2770 (setgid, so files created
  /// in it belong to the group).
  public var folderMode: mode_t {
    switch self {
    case .owner: 0o700
    case .group: 0o2770
    }
  }

  /// The mode of a data file created for this sharing: 0600, or 0660.
  public var fileMode: mode_t {
    switch self {
    case .owner: 0o600
    case .group: 0o660
    }
  }

  /// The sharing of the folder at `path` (following symlinks): `.group` for a team folder
  /// (setgid, group rwx, no access for others), else `.owner` (also when it does not exist).
  public static func of(folder path: String) -> FileSharing {
    var info = stat()
    guard stat(path, &info) == 0 else { return .owner }
    return of(folderInfo: info)
  }

  static func of(folderInfo info: stat) -> FileSharing {
    let mode = info.st_mode
    guard mode & S_IFMT == S_IFDIR, mode & S_ISGID != 0, mode & 0o070 == 0o070,
      mode & 0o007 == 0
    else { return .owner }
    return .group(info.st_gid)
  }

  /// The team group named `name` (`csar init --group NAME`); the caller must belong to it
  /// (or be root).
  public static func team(named name: String) throws(PrivateFileError) -> FileSharing {
    guard let entry = getgrnam(name) else { throw .unknownGroup(name: name) }
    let gid = entry.pointee.gr_gid
    guard geteuid() == 0 || PrivateFiles.callerBelongs(to: gid) else {
      throw .notInGroup(name: name)
    }
    return .group(gid)
  }

  public var description: String {
    switch self {
    case .owner: "private (owner only)"
    case .group(let gid): "shared with group \(PrivateFiles.groupName(gid))"
    }
  }
}

// MARK: - Creating private folders and files

/// The one place where csar creates, checks and atomically replaces its files: the database
/// and its -wal/-shm, the provider key, the audit anchor, media and the outbox. Modes are set
/// explicitly, so the umask never widens them; files are opened with `O_NOFOLLOW` and
/// created with `O_EXCL`, so a symlink planted by someone else is never followed; a file or
/// folder that others can read or write is refused with a message naming the `chmod` (or
/// `chown`) that fixes it, as ssh does.
public enum PrivateFiles {
  /// Creates the folder at `path` (and missing parents) with `sharing`'s mode (0700, or 2770
  /// owned by the group so the team can reach it), whatever the umask. Without `sharing`, a
  /// new folder shares as its parent does: inside a team folder it is the team's, elsewhere
  /// private. An existing folder is left as it is. Returns the folder's sharing (an existing
  /// team folder's group). `what` names the folder when something else is at `path`.
  @discardableResult
  public static func makeFolder(
    _ path: String, sharing: FileSharing? = nil, what: String = "folder"
  ) throws(PrivateFileError) -> FileSharing {
    var info = stat()
    if stat(path, &info) == 0 {
      guard info.st_mode & S_IFMT == S_IFDIR else {
        throw .notAFolder(path: path, what: what)
      }
      return FileSharing.of(folderInfo: info)
    }
    let parent = parentFolder(of: path)
    if !parent.isEmpty, parent != path, stat(parent, &info) != 0 {
      try makeFolder(parent, sharing: sharing)
    }
    let sharing = sharing ?? FileSharing.of(folder: parent.isEmpty ? "." : parent)
    if mkdir(path, 0o700) != 0, errno != EEXIST {
      throw .io(path: path, action: "create the folder", reason: lastError())
    }
    try share(folder: path, sharing)
    return sharing
  }

  /// Gives an existing folder of the caller `sharing`'s group and mode (2770 owned by the
  /// group, or 0700), so files created in it afterwards follow.
  public static func share(folder path: String, _ sharing: FileSharing) throws(PrivateFileError) {
    if case .group(let gid) = sharing, chown(path, uid_t.max, gid) != 0 {
      throw .io(path: path, action: "give the folder to its group", reason: lastError())
    }
    if chmod(path, sharing.folderMode) != 0 {
      throw .io(path: path, action: "set the folder's mode", reason: lastError())
    }
  }

  /// Creates a new file at `path` for writing (`O_CREAT|O_EXCL|O_NOFOLLOW`, so neither an
  /// existing file nor a symlink is ever opened) with mode 0600, or 0660 in a team folder,
  /// whatever the umask. Returns the open descriptor; the caller closes it. Throws
  /// ``PrivateFileError/exists(path:)`` when something is already there.
  public static func createFile(
    _ path: String, sharing: FileSharing? = nil
  ) throws(PrivateFileError) -> Int32 {
    let sharing = sharing ?? FileSharing.of(folder: folder(of: path))
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, sharing.fileMode)
    guard fd >= 0 else {
      if errno == EEXIST { throw .exists(path: path) }
      throw .io(path: path, action: "create the file", reason: lastError())
    }
    var ok = true
    if case .group(let gid) = sharing { ok = fchown(fd, uid_t.max, gid) == 0 }
    if ok { ok = fchmod(fd, sharing.fileMode) == 0 }
    guard ok else {
      let reason = lastError()
      close(fd)
      unlink(path)
      throw .io(path: path, action: "set the file's mode", reason: reason)
    }
    return fd
  }

  /// Creates an empty private file at `path` unless something is there already. Returns
  /// whether it created one.
  @discardableResult
  public static func createEmptyFile(
    _ path: String, sharing: FileSharing? = nil
  ) throws(PrivateFileError) -> Bool {
    do {
      close(try createFile(path, sharing: sharing))
      return true
    } catch .exists {
      return false
    }
  }

  // MARK: - Checking

  /// Writes `bytes` as a new file at `path` (created as ``createFile(_:sharing:)`` does; not
  /// flushed). Fails when something is already there.
  public static func writeNewFile(
    _ bytes: [UInt8], to path: String, sharing: FileSharing? = nil
  ) throws(PrivateFileError) {
    let fd = try createFile(path, sharing: sharing)
    defer { close(fd) }
    try writeAll(fd, bytes, path: path)
  }

  /// Writes all of `bytes` to `fd` (retrying short writes).
  static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(PrivateFileError) {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw .io(path: path, action: "write", reason: lastError())
      }
      offset += n
    }
  }

  /// Checks an existing file before csar uses it: a regular file (not a symlink), owned by
  /// the caller or root (or, in a team folder, by a member: its group is the folder's), and
  /// with no access for others; the group may read (and write, if `groupMayWrite`) only when
  /// the file belongs to its team folder's group. Returns false when nothing is at `path`.
  /// `what` names the file in the message ("database", "provider key").
  @discardableResult
  public static func checkFile(
    _ path: String, what: String, groupMayWrite: Bool = true
  ) throws(PrivateFileError) -> Bool {
    var info = stat()
    guard lstat(path, &info) == 0 else {
      if errno == ENOENT { return false }
      throw .io(path: path, action: "inspect the \(what)", reason: lastError())
    }
    try check(info, path: path, what: what, groupMayWrite: groupMayWrite)
    return true
  }

  /// ``checkFile(_:what:groupMayWrite:)`` on a file already open (no race with a rename).
  public static func checkOpenFile(
    _ fd: Int32, path: String, what: String, groupMayWrite: Bool = true
  ) throws(PrivateFileError) {
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      throw .io(path: path, action: "inspect the \(what)", reason: lastError())
    }
    try check(info, path: path, what: what, groupMayWrite: groupMayWrite)
  }

  private static func check(
    _ info: stat, path: String, what: String, groupMayWrite: Bool
  ) throws(PrivateFileError) {
    let type = info.st_mode & S_IFMT
    if type == S_IFLNK { throw .symlink(path: path, what: what) }
    guard type == S_IFREG else { throw .notARegularFile(path: path, what: what) }
    let mode = info.st_mode & 0o7777
    let team = teamGroup(of: path, fileGroup: info.st_gid)
    let owner = info.st_uid
    if owner != geteuid(), owner != 0, team == nil {
      throw .wrongOwner(path: path, what: what, owner: owner)
    }
    let allowed: mode_t = team == nil ? 0o600 : (groupMayWrite ? 0o660 : 0o640)
    if mode & ~allowed & 0o777 != 0 || mode & 0o7000 != 0 {
      throw .tooOpen(path: path, what: what, mode: mode, fix: allowed)
    }
  }

  /// The team group of the file at `path` with group `gid`: the group of its folder when
  /// the folder is a team folder and the file belongs to that group, else nil.
  private static func teamGroup(of path: String, fileGroup gid: gid_t) -> gid_t? {
    guard case .group(let team) = FileSharing.of(folder: folder(of: path)), team == gid else {
      return nil
    }
    return team
  }

  /// Checks a folder csar keeps files in: a folder (not a symlink when `mayBeSymlink` is
  /// false), owned by the caller or root (or a team folder whose group the caller belongs
  /// to), that others cannot write to, nor the group unless it is a team folder: else
  /// someone else could plant or replace files in it. Returns false when it does not exist.
  @discardableResult
  public static func checkFolder(
    _ path: String, what: String, mayBeSymlink: Bool = true
  ) throws(PrivateFileError) -> Bool {
    var info = stat()
    let found = mayBeSymlink ? stat(path, &info) : lstat(path, &info)
    guard found == 0 else {
      if errno == ENOENT { return false }
      throw .io(path: path, action: "inspect the \(what)", reason: lastError())
    }
    let type = info.st_mode & S_IFMT
    if type == S_IFLNK { throw .symlink(path: path, what: what) }
    guard type == S_IFDIR else { throw .notAFolder(path: path, what: what) }
    let mode = info.st_mode & 0o7777
    let sharing = FileSharing.of(folderInfo: info)
    let owner = info.st_uid
    let memberOfTeam: Bool
    if case .group(let gid) = sharing { memberOfTeam = callerBelongs(to: gid) } else {
      memberOfTeam = false
    }
    if owner != geteuid(), owner != 0, !memberOfTeam {
      throw .wrongOwner(path: path, what: what, owner: owner)
    }
    let groupWrite = mode & 0o020 != 0 && sharing == .owner
    if mode & 0o002 != 0 || groupWrite {
      throw .folderWritable(path: path, what: what, mode: mode, byGroup: mode & 0o002 == 0)
    }
    return true
  }

  // MARK: - Atomic replacement

  /// Writes `bytes` to `path` atomically and durably: a new temporary file in the same
  /// folder (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600 or 0660 in a team folder), written,
  /// fsynced, renamed over `path`, and the folder fsynced. Readers see the old file or the
  /// new one, never a mix; a crash leaves one of the two. A symlink or anything but a regular
  /// file at `path` is refused (never followed, never replaced). For small files (anchors,
  /// keys); the folder must exist.
  public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(PrivateFileError) {
    let temporary = try Temporary(for: path)
    defer { temporary.discard() }
    try temporary.write(bytes)
    try temporary.sync()
    try temporary.commit()
    try syncFolder(folder(of: path))
  }

  /// ``writeAtomically(_:to:)`` for text (UTF-8).
  public static func writeAtomically(_ text: String, to path: String) throws(PrivateFileError) {
    try writeAtomically(Array(text.utf8), to: path)
  }

  /// A new private temporary file beside a final path, to be renamed over it.
  public final class Temporary {
    /// The file it will replace.
    public let finalPath: String
    /// The hidden temporary name: `.NAME.RANDOM.PID.tmp` in the same folder.
    public let path: String
    private var fd: Int32

    /// Creates the temporary file (exclusively, never through a symlink). Errors name the
    /// final file and its folder, which the operator knows and must fix, not the temporary.
    public init(for finalPath: String, sharing: FileSharing? = nil) throws(PrivateFileError) {
      self.finalPath = finalPath
      let name = (finalPath as NSString).lastPathComponent
      let random = String(UInt32.random(in: 0...UInt32.max), radix: 36)
      let folder = PrivateFiles.folder(of: finalPath)
      path = folder + "/.\(name).\(random).\(getpid()).tmp"
      do {
        fd = try PrivateFiles.createFile(path, sharing: sharing)
      } catch .io(_, _, let reason) {
        throw .io(path: finalPath, action: "create a file in its folder \(folder)", reason: reason)
      }
    }

    /// The open descriptor (until commit or discard).
    public var descriptor: Int32 { fd }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) throws(PrivateFileError) {
      do {
        try PrivateFiles.writeAll(fd, bytes, path: path)
      } catch .io(_, _, let reason) {
        throw .io(path: finalPath, action: "write its new copy \(path)", reason: reason)
      }
    }

    /// Flushes the data to disk.
    public func sync() throws(PrivateFileError) {
      guard fsync(fd) == 0 else {
        throw .io(
          path: finalPath, action: "flush its new copy \(path)", reason: PrivateFiles.lastError())
      }
    }

    /// Closes the file and renames it over the final path (rename never follows a symlink).
    /// Refuses when the final path holds a symlink or anything but a regular file.
    public func commit() throws(PrivateFileError) {
      close(fd)
      fd = -1
      var info = stat()
      if lstat(finalPath, &info) == 0 {
        let type = info.st_mode & S_IFMT
        if type == S_IFLNK { throw .symlink(path: finalPath, what: "file to replace") }
        guard type == S_IFREG else {
          throw .notARegularFile(path: finalPath, what: "file to replace")
        }
      }
      guard rename(path, finalPath) == 0 else {
        throw .io(path: finalPath, action: "rename into place", reason: PrivateFiles.lastError())
      }
      committed = true
    }

    private var committed = false

    /// Closes and removes the temporary file unless it was committed (safe to call twice).
    public func discard() {
      if fd >= 0 {
        close(fd)
        fd = -1
      }
      if !committed {
        unlink(path)
        committed = true
      }
    }

    deinit { discard() }
  }

  /// Flushes a folder, so that renames and creations in it survive a crash.
  public static func syncFolder(_ path: String) throws(PrivateFileError) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw .io(path: path, action: "open the folder", reason: lastError()) }
    defer { close(fd) }
    guard fsync(fd) == 0 else {
      throw .io(path: path, action: "flush the folder", reason: lastError())
    }
  }

  // MARK: - Reading

  /// Reads a small private file (at most `limit` bytes) after checking it as
  /// ``checkFile(_:what:groupMayWrite:)`` does, on the open descriptor (`O_NOFOLLOW`, so the
  /// file checked is the file read). Returns nil when nothing is at `path`.
  public static func readPrivate(
    _ path: String, what: String, groupMayWrite: Bool = false, limit: Int = 1 << 16
  ) throws(PrivateFileError) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else {
      if errno == ENOENT { return nil }
      if errno == ELOOP { throw .symlink(path: path, what: what) }
      throw .io(path: path, action: "open the \(what)", reason: lastError())
    }
    defer { close(fd) }
    try checkOpenFile(fd, path: path, what: what, groupMayWrite: groupMayWrite)
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw .io(path: path, action: "read the \(what)", reason: lastError())
      }
      if n == 0 { return bytes }
      bytes += buffer[0..<n]
      if bytes.count > limit { throw .tooLarge(path: path, what: what, limit: limit) }
    }
  }

  // MARK: - Locks

  /// Runs `body` holding an exclusive lock on the lock file at `path` (`flock`; created empty
  /// and private when missing, never through a symlink). Another process (or another open of
  /// the file in this one) waits until the lock is released; the kernel releases it when the
  /// holder dies, so a killed process never leaves it stuck.
  public static func withLock<T>(
    _ path: String, _ body: () throws -> T
  ) throws -> T {
    try createEmptyFile(path)
    let fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else {
      if errno == ELOOP { throw PrivateFileError.symlink(path: path, what: "lock file") }
      throw PrivateFileError.io(path: path, action: "open the lock file", reason: lastError())
    }
    defer { close(fd) }
    try checkOpenFile(fd, path: path, what: "lock file")
    while flock(fd, LOCK_EX) != 0 {
      guard errno == EINTR else {
        throw PrivateFileError.io(path: path, action: "lock", reason: lastError())
      }
    }
    defer { flock(fd, LOCK_UN) }
    return try body()
  }

  // MARK: - Helpers

  /// The folder holding `path` (`.` for a bare name); see ``PathParts/folder(of:)``.
  public static func folder(of path: String) -> String { PathParts.folder(of: path) }

  /// The folder part of `path` (`""` for a bare name); see ``PathParts/parent(of:)``.
  static func parentFolder(of path: String) -> String { PathParts.parent(of: path) }

  /// Whether the calling process has `gid` as its effective or a supplementary group.
  public static func callerBelongs(to gid: gid_t) -> Bool {
    if getegid() == gid { return true }
    let count = getgroups(0, nil)
    guard count > 0 else { return false }
    var groups = [gid_t](repeating: 0, count: Int(count))
    let found = getgroups(count, &groups)
    return found > 0 && groups[0..<Int(found)].contains(gid)
  }

  /// The name of group `gid`, or the number.
  public static func groupName(_ gid: gid_t) -> String {
    guard let entry = getgrgid(gid) else { return String(gid) }
    return String(cString: entry.pointee.gr_name)
  }

  /// The login name of `uid`, or the number.
  public static func userName(_ uid: uid_t) -> String {
    guard let entry = getpwuid(uid) else { return String(uid) }
    return String(cString: entry.pointee.pw_name)
  }

  static func lastError() -> String { String(cString: strerror(errno)) }

  /// `path` as a shell word: unchanged when it only holds safe characters, else in single
  /// quotes.
  static func shellWord(_ path: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,:@%")
    if !path.isEmpty, path.allSatisfy({ safe.contains($0) }) { return path }
    return "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
}

// MARK: - Errors

/// A file or folder csar refuses to use or could not create; the message names the path and,
/// for a refusal, the command that fixes it.
public enum PrivateFileError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Others (or a group that is not the team's) may read or write the file.
  case tooOpen(path: String, what: String, mode: mode_t, fix: mode_t)
  /// Several files of one kind (a database and its -wal, -shm) are too open.
  case filesTooOpen(paths: [String], fix: mode_t)
  /// The file or folder belongs to another account.
  case wrongOwner(path: String, what: String, owner: uid_t)
  /// Others (or the group, outside a team folder) may create or replace files in the folder.
  case folderWritable(path: String, what: String, mode: mode_t, byGroup: Bool)
  /// A symlink where a real file or folder is required.
  case symlink(path: String, what: String)
  /// Something other than a regular file.
  case notARegularFile(path: String, what: String)
  /// Something other than a folder.
  case notAFolder(path: String, what: String)
  /// A file to be created exclusively exists already.
  case exists(path: String)
  /// A file is larger than csar reads.
  case tooLarge(path: String, what: String, limit: Int)
  /// No group of that name.
  case unknownGroup(name: String)
  /// The caller is not a member of the team group.
  case notInGroup(name: String)
  /// A system call failed.
  case io(path: String, action: String, reason: String)

  public var description: String {
    switch self {
    case .tooOpen(let path, let what, let mode, let fix):
      let who = mode & 0o007 != 0 ? "others" : "the group"
      return "\(path): permissions \(Self.octal(mode)) for the \(what) are too open: \(who) "
        + "can access it. Refusing to use it; restrict it with "
        + "`chmod \(String(fix, radix: 8)) \(PrivateFiles.shellWord(path))`"
    case .filesTooOpen(let paths, let fix):
      let words = paths.map(PrivateFiles.shellWord).joined(separator: " ")
      return "\(paths.joined(separator: ", ")): others can access the database. Refusing to "
        + "use it; restrict it with `chmod \(String(fix, radix: 8)) \(words)`"
    case .wrongOwner(let path, let what, let owner):
      let me = PrivateFiles.userName(geteuid())
      return "\(path): the \(what) belongs to \(PrivateFiles.userName(owner)), not to \(me); "
        + "refusing to use it. If it is yours, take it with "
        + "`chown \(me) \(PrivateFiles.shellWord(path))`"
    case .folderWritable(let path, let what, let mode, let byGroup):
      let fix = byGroup ? "g-w" : "go-w"
      return "\(path): the \(what) has permissions \(Self.octal(mode)): "
        + "\(byGroup ? "the group" : "others") can create or replace files in it. Refusing "
        + "to use it; restrict it with `chmod \(fix) \(PrivateFiles.shellWord(path))` or use "
        + "another folder"
    case .symlink(let path, let what):
      return "\(path): the \(what) is a symbolic link; refusing to follow it"
    case .notARegularFile(let path, let what):
      return "\(path): the \(what) is not a regular file"
    case .notAFolder(let path, let what):
      return "\(path): the \(what) is not a folder"
    case .exists(let path):
      return "\(path): already exists"
    case .tooLarge(let path, let what, let limit):
      return "\(path): the \(what) is larger than \(limit) bytes"
    case .unknownGroup(let name):
      return "no group named \"\(name)\" (create it with `groupadd \(name)`)"
    case .notInGroup(let name):
      return "you are not a member of group \"\(name)\" (`usermod -aG \(name) "
        + "\(PrivateFiles.userName(geteuid()))`, then log in again)"
    case .io(let path, let action, let reason):
      return "\(path): cannot \(action): \(reason)"
    }
  }

  /// The path the error is about (the first one for several).
  public var path: String {
    switch self {
    case .tooOpen(let path, _, _, _), .wrongOwner(let path, _, _),
      .folderWritable(let path, _, _, _), .symlink(let path, _), .notARegularFile(let path, _),
      .notAFolder(let path, _), .exists(let path), .tooLarge(let path, _, _),
      .io(let path, _, _):
      return path
    case .filesTooOpen(let paths, _): return paths.first ?? ""
    case .unknownGroup(let name), .notInGroup(let name): return name
    }
  }

  static func octal(_ mode: mode_t) -> String {
    let digits = String(mode, radix: 8)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
  }
}
