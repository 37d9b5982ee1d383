import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where tests put their temporary files: one folder per test process, removed when it exits.
///
/// Tests used to create their folders straight in the system's temporary directory and left
/// most of them there (demo databases, media, exports): a machine that ran the suite a few
/// hundred times had its disk filled by them, and the next run failed with "No space left on
/// device". Now every folder a test asks for lives inside `csar-tests-PID-XXXXXX` there. That
/// folder is removed when the test process exits normally, and the first test of a later run
/// removes those whose process is gone (killed, crashed or timed out).
public enum ScratchSpace {
  // MARK: - Folders and paths for tests

  /// The folder of this test process, made on first use (mode 0755, so that a test running a
  /// command as another OS account can reach the folders it makes for it).
  public static var root: String {
    get throws { try made.get() }
  }

  /// A new empty folder for one test, named `N-purpose` (N counts the names given out) to
  /// help whoever reads a failure's paths.
  public static func folder(_ purpose: String) throws -> String {
    let path = try path(purpose)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    return path
  }

  /// A fresh path `N-purpose` for one test, not created (`purpose` may end in an extension,
  /// "huge.jpg"). Names stay short: tests read paths back from an 80-column screen.
  public static func path(_ purpose: String) throws -> String {
    let root = try root
    return root + "/" + String(names.next()) + "-" + purpose
  }

  // MARK: - The process's folder

  private static let prefix = "csar-tests-"
  private static let names = NameCounter()

  private static let made: Result<String, ScratchSpaceError> = {
    removeFoldersOfEndedRuns()
    var template = Array((NSTemporaryDirectory() + prefix + "\(getpid())-XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    guard let made else { return .failure(ScratchSpaceError(errno: errno)) }
    let path = String(cString: made)
    chmod(path, 0o755)
    atexit { ScratchSpace.removeOwnFolder() }
    return .success(path)
  }()

  private static func removeOwnFolder() {
    if case .success(let path) = made { try? FileManager.default.removeItem(atPath: path) }
  }

  /// Removes `csar-tests-PID-*` folders of this OS account whose process no longer runs.
  static func removeFoldersOfEndedRuns() {
    let temporary = NSTemporaryDirectory()
    let names = (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
    for name in names where name.hasPrefix(prefix) {
      let pidText = name.dropFirst(prefix.count).prefix { $0 != "-" }
      guard let pid = pid_t(pidText), pid > 0 else { continue }
      var status = stat()
      let path = temporary + name
      guard lstat(path, &status) == 0, status.st_uid == getuid(),
        status.st_mode & S_IFMT == S_IFDIR
      else { continue }
      if kill(pid, 0) == -1 && errno == ESRCH {
        try? FileManager.default.removeItem(atPath: path)
      }
    }
  }
}

/// Numbers the names given out, from any thread.
private final class NameCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var last = 0

  func next() -> Int {
    lock.lock()
    defer { lock.unlock() }
    last += 1
    return last
  }
}

/// The test process's scratch folder could not be made in the system's temporary directory.
public struct ScratchSpaceError: Error, CustomStringConvertible {
  /// The `errno` of `mkdtemp`.
  public let errno: Int32

  public var description: String {
    let reason = String(cString: strerror(errno))
    return "cannot make a scratch folder in \(NSTemporaryDirectory()): \(reason)"
  }
}
