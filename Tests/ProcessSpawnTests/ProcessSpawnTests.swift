import Foundation
import ProcessSpawn
import Testing
import TestSupport

/// The one `posix_spawn` routine, with real programs: output into files, standard input from
/// /dev/null, the environment given, a process group of its own when asked, and the exit code
/// as a shell shows it.
@Suite("ProcessSpawn")
struct ProcessSpawnTests {
  let folder: String

  init() throws {
    folder = try ScratchSpace.folder("spawn")
  }

  func read(_ name: String) -> String {
    (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? ""
  }

  /// Runs `script` in sh and waits; its exit code.
  func run(_ script: String, environment: [String: String]? = nil, ownGroup: Bool = false)
    throws -> Int32
  {
    let pid = try ProcessSpawn.spawn(
      ["sh", "-c", script], out: folder + "/out", err: folder + "/err",
      environment: environment, ownGroup: ownGroup)
    return ProcessSpawn.wait(pid)
  }

  @Test func outputGoesToFilesOnlyTheOwnerReadsAndInputIsEmpty() throws {
    let status = try run("echo to-out; echo to-err >&2; cat; exit 3")
    #expect(status == 3)
    #expect(read("out") == "to-out\n")
    #expect(read("err") == "to-err\n")
    let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/out")
    #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 } == 0)
  }

  @Test func aSecondRunReplacesTheOutputRatherThanAppending() throws {
    _ = try run("echo a-longer-first-line")
    _ = try run("echo b")
    #expect(read("out") == "b\n")
  }

  @Test func theEnvironmentIsTheOneGivenOrThisProcesssWithOverrides() throws {
    _ = try run("echo \"[$CSAR_SPAWN_TEST][$HOME]\"", environment: ["CSAR_SPAWN_TEST": "x"])
    #expect(read("out") == "[x][]\n")
    let merged = ProcessSpawn.environment(["CSAR_SPAWN_TEST": "y"])
    _ = try run("echo \"[$CSAR_SPAWN_TEST][$PATH]\"", environment: merged)
    #expect(read("out") == "[y][\(ProcessInfo.processInfo.environment["PATH"] ?? "")]\n")
  }

  @Test func ownGroupMakesTheProgramLeadANewProcessGroup() throws {
    // The fifth field of /proc/PID/stat is the process group ("(sh)" has no space).
    let script = "echo \"$$ $(cut -d' ' -f5 /proc/$$/stat)\""
    _ = try run(script, ownGroup: true)
    let own = read("out").split(whereSeparator: \.isWhitespace)
    #expect(own.count == 2 && own[0] == own[1], "pid and group: \(own)")
    _ = try run(script)
    let shared = read("out").split(whereSeparator: \.isWhitespace)
    #expect(shared.count == 2 && shared[1] == "\(getpgrp())", "pid and group: \(shared)")
  }

  @Test func aSignalReadsAs128PlusItsNumber() throws {
    #expect(try run("kill -KILL $$") == 128 + SIGKILL)
  }

  @Test func aMissingProgramIsRefusedByName() throws {
    let error = #expect(throws: SpawnError.self) {
      try ProcessSpawn.spawn(
        ["csar-no-such-program"], out: folder + "/out", err: folder + "/err")
    }
    #expect(error?.description.hasPrefix("could not start csar-no-such-program: ") == true)
  }
}
