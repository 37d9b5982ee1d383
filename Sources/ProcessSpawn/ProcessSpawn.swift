// The one `posix_spawn` routine of csar's benchmarks and end-to-end tests: a program with
// standard input from /dev/null and its output in files, optionally in a process group of its
// own.

import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Starts programs with `posix_spawnp` and reads their exit status; used by `Benchmarks` and by
/// the end-to-end tests, which start the real binaries.
public enum ProcessSpawn {
  /// Starts `arguments[0]` (a path, or a name looked up in PATH) with the rest as arguments,
  /// standard input from /dev/null, standard output and error into the files `out` and `err`
  /// (created 0600, truncated; files rather than pipes, so that a program that forks a daemon
  /// cannot keep a reader waiting), and `environment` (nil: this process's). With `ownGroup`
  /// the program leads a new process group, so `kill(-pid, …)` reaches its children too.
  /// Returns the pid without waiting.
  public static func spawn(
    _ arguments: [String], out outPath: String, err errPath: String,
    environment: [String: String]? = nil, ownGroup: Bool = false
  ) throws(SpawnError) -> pid_t {
    guard let program = arguments.first else { throw SpawnError(program: "", code: EINVAL) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    if ownGroup {
      posix_spawnattr_setpgroup(&attributes, 0)
      posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let envp = (environment ?? ProcessInfo.processInfo.environment)
      .map { strdup("\($0)=\($1)") } + [nil]
    defer { envp.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
    guard spawned == 0 else { throw SpawnError(program: program, code: spawned) }
    return pid
  }

  /// This process's environment with `overrides` added or replacing variables.
  public static func environment(_ overrides: [String: String]) -> [String: String] {
    ProcessInfo.processInfo.environment.merging(overrides) { $1 }
  }

  /// Waits for `pid` (retrying when a signal interrupts); its exit status as ``exitCode(_:)``.
  public static func wait(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return exitCode(status)
  }

  /// A `waitpid` status as a shell shows it: the exit code, or 128 + the signal that ended
  /// the process (`WIFEXITED` / `WEXITSTATUS` spelled out: the C macros are not imported).
  public static func exitCode(_ status: Int32) -> Int32 {
    status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
  }
}

/// A program `posix_spawnp` could not start, with the system's reason.
public struct SpawnError: Error, CustomStringConvertible {
  /// The program as given (a path or a name looked up in PATH).
  public let program: String
  /// The error number `posix_spawnp` returned.
  public let code: Int32

  public var description: String {
    "could not start \(program): \(String(cString: strerror(code)))"
  }
}
