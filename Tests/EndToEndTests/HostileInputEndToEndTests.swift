import Foundation
import Testing

/// Input files built to crash a parser (deep nesting, numbers no Int64 holds) are refused
/// with `FILE:LINE` and a non-zero exit, never a signal.
@Suite("Hostile input files end to end", .serialized)
struct HostileInputEndToEndTests {
  static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

  /// A config.toml nested 10,000 deep crashed every command (SIGSEGV); it is an error now.
  @Test func aDeeplyNestedConfigIsAnErrorNotACrash() throws {
    let directory = try CsarBinary.temporaryDirectory()
    try FileManager.default.createDirectory(
      atPath: directory + "/config/csar", withIntermediateDirectories: true)
    let config = "theme = " + String(repeating: "[", count: 10_000) + "\n"
    try config.write(
      toFile: directory + "/config/csar/config.toml", atomically: true, encoding: .utf8)
    let result = try HostileOutputEndToEndTests.run(
      [try CsarBinary.path, "deadlines", "--db", directory + "/none.sqlite"],
      environment: ["XDG_CONFIG_HOME": directory + "/config"])
    #expect(result.status == 1, "\(Self.text(result.err))")
    #expect(Self.text(result.err).contains("config.toml:1: nested deeper than 64 levels"))
  }

  /// `users = 1e308` trapped converting to Int64 (SIGILL); deep answers overflowed the stack.
  @Test func hugeAndDeepAnswersAreErrorsNotCrashes() throws {
    let directory = try CsarBinary.temporaryDirectory()
    let database = directory + "/demo.sqlite"
    let demo = try CsarBinary.run(["demo", "--db", database, "--items", "5"])
    #expect(demo.status == 0, "\(demo.err)")
    let cases = [
      ("huge.toml", "users = 1e308\n", "huge.toml:1: users: 1e+308 is out of range"),
      ("deep.toml", "users = " + String(repeating: "[", count: 10_000) + "\n",
       "deep.toml:1: nested deeper than 64 levels"),
      ("deep.json", "{\"users\": " + String(repeating: "[", count: 10_000) + "}",
       "deep.json:1: nested deeper than 64 levels"),
    ]
    for (name, answers, message) in cases {
      let path = directory + "/" + name
      try answers.write(toFile: path, atomically: true, encoding: .utf8)
      let result = try HostileOutputEndToEndTests.run(
        [try CsarBinary.path, "assess", "--service", "chat-eu", "--answers", path, "--db",
         database])
      #expect(result.status == 1, "\(name): \(Self.text(result.err))")
      #expect(Self.text(result.err).contains(message), "\(Self.text(result.err))")
    }
  }
}
