import Foundation
import ProcessSpawn
import Testing
import TestSupport

// MARK: - Driving the real binary in tmux

/// A tmux session running a shell, driven like a person: send keys, read what the pane shows.
final class TmuxSession {
  let name: String
  private static let socket = "csar-e2e-\(getpid())"

  /// Starts a detached session of the given size running `sh` in `directory`.
  init(width: Int, height: Int, directory: String) throws {
    name = "e2e-\(UUID().uuidString.prefix(8))"
    let arguments = [
      "new-session", "-d", "-s", name, "-x", String(width), "-y", String(height), "-c", directory,
      // The csar processes the commands start share one key (and audit anchors) with them.
      "env -i PATH=/usr/bin:/bin HOME=\(directory) TERM=xterm-256color LANG=C.UTF-8 "
        + "XDG_CONFIG_HOME=\(CsarBinary.configHome) PS1='$ ' sh",
    ]
    // Suites run in parallel: two sessions may race to start this process's tmux server, and
    // the loser's new-session fails. Try again once the server is up.
    for attempt in 1...3 {
      do {
        try Self.tmux(arguments)
        return
      } catch where attempt < 3 {
        Thread.sleep(forTimeInterval: 0.2)
      }
    }
  }

  deinit {
    _ = try? Self.tmux(["kill-session", "-t", name])
  }

  /// Types keys (tmux key names such as `Enter`, `Escape`, `C-c`, or literal text).
  func send(_ keys: String...) throws {
    try Self.tmux(["send-keys", "-t", name] + keys)
  }

  /// Types text literally (no key-name lookup).
  func type(_ text: String) throws {
    try Self.tmux(["send-keys", "-t", name, "-l", text])
  }

  /// What the pane shows now, one string per row.
  func capture() throws -> String {
    try Self.tmux(["capture-pane", "-p", "-t", name])
  }

  /// What the pane shows now with its colours and attributes as SGR escapes.
  func captureWithColours() throws -> String {
    try Self.tmux(["capture-pane", "-p", "-e", "-t", name])
  }

  /// Sets a tmux option of this session's window (`window-style`, say).
  func setWindowOption(_ option: String, _ value: String) throws {
    try Self.tmux(["set-option", "-w", "-t", name, option, value])
  }

  func resize(width: Int, height: Int) throws {
    try Self.tmux(["resize-window", "-t", name, "-x", String(width), "-y", String(height)])
  }

  /// Waits until one capture of the pane shows every one of `texts` (polling), and returns
  /// that pane; fails after a timeout.
  ///
  /// A capture is not a whole frame: tmux takes the console's output in chunks, so a capture
  /// may show the new frame's top rows over the old frame's bottom ones (seen: the bank
  /// view's title above the Dashboard's rows, 3 times in 80). So wait for every text a test
  /// reads, not for one text and then read others from that pane. The pane is looked at
  /// once more after the deadline, so a test process that got no CPU for a while (a loaded
  /// machine) does not fail on a pane it never looked at.
  @discardableResult
  func waitFor(
    _ texts: String..., timeout: Double = 15,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> String {
    let pane = try poll(timeout: timeout) { pane in texts.allSatisfy { pane.contains($0) } }
    let missing = texts.filter { !pane.contains($0) }
    guard missing.isEmpty else {
      let quoted = missing.map { "\"\($0)\"" }.joined(separator: ", ")
      Issue.record(
        "timed out waiting for \(quoted); the pane shows:\n\(pane)",
        sourceLocation: sourceLocation)
      throw TmuxError(message: "timed out waiting for \(missing.joined(separator: ", "))")
    }
    return pane
  }

  /// Waits until the pane no longer shows `text`; fails after a timeout.
  func waitUntilGone(
    _ text: String, timeout: Double = 15, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let pane = try poll(timeout: timeout) { !$0.contains(text) }
    guard pane.contains(text) else { return }
    Issue.record(
      "timed out waiting for \"\(text)\" to go; the pane shows:\n\(pane)",
      sourceLocation: sourceLocation)
    throw TmuxError(message: "timed out waiting for \(text) to go")
  }

  /// Captures the pane until `done` holds for a capture or `timeout` seconds have passed;
  /// the last capture is taken after the deadline.
  private func poll(timeout: Double, until done: (String) -> Bool) throws -> String {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      let pastDeadline = Date() >= deadline
      let pane = try capture()
      if done(pane) || pastDeadline { return pane }
      Thread.sleep(forTimeInterval: 0.05)
    }
  }

  /// Runs tmux on this test process's own server socket and returns what it printed.
  @discardableResult
  static func tmux(_ arguments: [String]) throws -> String {
    let result = try Subprocess.run(["tmux", "-L", socket] + arguments)
    guard result.status == 0 else {
      throw TmuxError(message: "tmux \(arguments.joined(separator: " ")) failed: \(result.err)")
    }
    return result.out
  }
}

// MARK: - Processes

/// Runs a program with posix_spawn and waits for it with waitpid.
///
/// Output goes to temporary files rather than pipes: a program that forks a daemon (tmux
/// starting its server) would hand the pipe to the daemon, and reading it would never end.
enum Subprocess {
  /// With a `timeout` (seconds), a program still running then is killed (SIGKILL): the
  /// status reads 137 and `err` ends with a line saying so. `overrides` replace or add
  /// variables of this process's environment.
  static func run(
    _ argv: [String], timeout: Double? = nil, overrides: [String: String] = [:]
  ) throws -> (status: Int32, out: String, err: String) {
    try execute(argv, timeout: timeout, overrides: overrides)
  }

  /// As ``run(_:timeout:overrides:)``, with the program's peak resident memory, measured by
  /// GNU time (`/usr/bin/time -f %M`). Not `ru_maxrss` from this process's own `wait4`: a child
  /// started by `posix_spawn` (vfork) inherits the spawning process's high-water mark at
  /// `exec`, so a test runner grown to 290 MB made every child look 290 MB. The small `time`
  /// process forks the program, whose mark then starts from `time`'s few megabytes.
  static func measured(
    _ argv: [String], timeout: Double? = nil, overrides: [String: String] = [:]
  ) throws -> (status: Int32, out: String, err: String, peakBytes: Int) {
    let peakPath = try ScratchSpace.path("sub.peak")
    defer { try? FileManager.default.removeItem(atPath: peakPath) }
    let result = try execute(
      ["/usr/bin/time", "-f", "%M", "-o", peakPath] + argv, timeout: timeout,
      overrides: overrides)
    // The last line is the kibibytes; a line before it may say how the program ended.
    let written = (try? String(contentsOfFile: peakPath, encoding: .utf8)) ?? ""
    let kibibytes = written.split(separator: "\n").last.flatMap { Int($0) }
    guard let kibibytes else {
      // A run killed at its timeout takes `time` with it: say so rather than only "no peak".
      throw TmuxError(
        message: "no peak memory from /usr/bin/time for \(argv): \(written)\(result.err)")
    }
    return (result.status, result.out, result.err, kibibytes * 1024)
  }

  /// Starts `argv` in its own process group, waits for it (killing the whole group after
  /// `timeout` seconds) and returns its exit status (128 + signal when killed) and output.
  private static func execute(
    _ argv: [String], timeout: Double?, overrides: [String: String]
  ) throws -> (status: Int32, out: String, err: String) {
    let outPath = try ScratchSpace.path("sub.out")
    let errPath = try ScratchSpace.path("sub.err")
    defer {
      try? FileManager.default.removeItem(atPath: outPath)
      try? FileManager.default.removeItem(atPath: errPath)
    }
    let pid = try spawn(argv, out: outPath, err: errPath, overrides: overrides, ownGroup: true)
    var status: Int32 = 0
    var killed = false
    if let timeout {
      let deadline = Date().addingTimeInterval(timeout)
      while waitpid(pid, &status, WNOHANG) == 0 {
        if Date() >= deadline {
          kill(-pid, SIGKILL)
          killed = true
          while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
          break
        }
        Thread.sleep(forTimeInterval: 0.05)
      }
    } else {
      while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
    let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    var err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    if killed { err += "\n[killed after \(timeout ?? 0) s]" }
    return (ProcessSpawn.exitCode(status), out, err)
  }
}

extension Subprocess {
  /// Starts a program (found on PATH) with stdin from /dev/null, stdout / stderr into files
  /// and `overrides` in its environment, through the one routine, `ProcessSpawn.spawn` (with
  /// `ownGroup`, a group of its own that a timeout kills whole); returns its pid at once.
  static func spawn(
    _ argv: [String], out outPath: String, err errPath: String,
    overrides: [String: String] = [:], ownGroup: Bool = false
  ) throws -> pid_t {
    do {
      return try ProcessSpawn.spawn(
        argv, out: outPath, err: errPath, environment: ProcessSpawn.environment(overrides),
        ownGroup: ownGroup)
    } catch {
      throw TmuxError(message: error.description)
    }
  }
}

/// A tmux call that failed or a wait that timed out.
struct TmuxError: Error, CustomStringConvertible {
  let message: String
  var description: String { message }
}

// MARK: - The binary under test

/// Finds the `csar` executable built beside the test bundle and runs it.
enum CsarBinary {
  static var path: String {
    get throws {
      var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      // Inside an .xctest bundle directory on some platforms; walk up until csar is found.
      for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("csar").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory.deleteLastPathComponent()
      }
      throw TmuxError(message: "csar binary not found beside \(CommandLine.arguments[0])")
    }
  }

  /// Runs csar with arguments; returns exit status, stdout and stderr. Its configuration
  /// folder (and so the provider key) is ``configHome``, not the account's.
  @discardableResult
  static func run(
    _ arguments: [String], timeout: Double? = nil
  ) throws -> (status: Int32, out: String, err: String) {
    try Subprocess.run(
      [try path] + arguments, timeout: timeout, overrides: ["XDG_CONFIG_HOME": configHome])
  }

  /// `XDG_CONFIG_HOME` of the csar processes these tests start: one folder per test run, so
  /// the provider key they create (`csar/provider.key` in it) stays out of the account's home.
  static let configHome: String = {
    if let path = try? ScratchSpace.folder("config") { return path }
    let path = NSTemporaryDirectory() + "csar-e2e-config-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }()

  /// A new temporary directory for one test (gone when the test process ends).
  static func temporaryDirectory() throws -> String { try ScratchSpace.folder("e2e") }
}
