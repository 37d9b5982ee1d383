import Foundation
import Testing

/// Commands that behave (#11): a mistyped --db creates nothing, mistyped subcommands get a
/// suggestion, global options may come first, repeated steps say "already recorded", bad
/// lines are capped, a missing provider name is warned about, and `demo` never leaves a
/// half-built database.
@Suite("Commands that behave end to end", .serialized)
struct CommandsBehaveEndToEndTests {
  typealias Demo = ReportCommandsEndToEndTests.Fixture

  @Test func aMissingDatabaseGivenWithDbIsRefusedNotCreated() throws {
    let directory = try CsarBinary.temporaryDirectory()
    let typo = directory + "/csar.sqlit"
    let result = try CsarBinary.run(["--db", typo])
    #expect(result.status != 0)
    #expect(result.err.contains("no database there"), "\(result.err)")
    #expect(result.err.contains("csar demo --db"), "\(result.err)")
    #expect(!FileManager.default.fileExists(atPath: typo))
    let console = try CsarBinary.run(["console", "--db", typo])
    #expect(console.status != 0 && !FileManager.default.fileExists(atPath: typo))
  }

  @Test func mistypedSubcommandsGetTheClosestNames() throws {
    let top = try CsarBinary.run(["reprot", "list"])
    #expect(top.status == 64)
    #expect(top.err.contains("unknown command \"reprot\"; did you mean `csar report`?"), "\(top.err)")
    let nested = try CsarBinary.run(["report", "lsit"])
    #expect(nested.status == 64)
    #expect(nested.err.contains("did you mean `csar report list`?"), "\(nested.err)")
    // A group whose commands are named after their types (`url import`) is walked too.
    let derived = try CsarBinary.run(["url", "imprt", "sb", "x.txt"])
    #expect(derived.err.contains("did you mean `csar url import`?"), "\(derived.err)")
    let far = try CsarBinary.run(["zzzzzz"])
    #expect(far.status == 64 && far.err.contains("commands: "), "\(far.err)")
  }

  @Test func globalOptionsMayComeBeforeTheSubcommand() throws {
    let demo = try Demo()
    let after = try CsarBinary.run(["report", "list", "--db", demo.database])
    let before = try CsarBinary.run(["--db", demo.database, "report", "list"])
    #expect(before.status == 0, "\(before.err)")
    #expect(before.out == after.out && !before.out.isEmpty)
    let both = try CsarBinary.run(
      ["--db=\(demo.database)", "--operator", "alice", "report", "list", "--json"])
    #expect(both.status == 0 && both.out.contains("\"case_ref\""), "\(both.err)")
  }

  @Test func aRepeatedStepSaysAlreadyRecorded() throws {
    let demo = try Demo()
    let ref = try demo.foundedCase()
    let first = try demo.csar(["report", "request-reveal", ref])
    #expect(first.status == 0 && first.out.contains("reveal requested"), "\(first.err)")
    let again = try demo.csar(["report", "request-reveal", ref])
    #expect(again.status == 0 && again.out.contains("already recorded"), "\(again.out)")
  }

  @Test func atMostTwentyBadLinesArePrintedThenACount() throws {
    let demo = try Demo()
    let service = try demo.sql("SELECT code FROM service ORDER BY code LIMIT 1")
    var lines = ["event_id,account,service,state,occurred_at,source,terms_version,reason"]
    for n in 1...35 {
      lines.append("b\(n),BAD-\(n),\(service),granted,not-a-date,app,tos-2025-01,")
    }
    let file = try demo.write("bad.csv", lines.joined(separator: "\n") + "\n")
    let result = try CsarBinary.run(["consent", "import", file, "--db", demo.database])
    #expect(result.status == 1)
    let shown = result.err.split(separator: "\n").filter { $0.contains("bad.csv:") }
    #expect(shown.count == 20, "\(result.err)")
    #expect(result.err.contains("… and 15 more bad lines (not shown; 35 bad lines in all)"))
  }

  @Test func anUnnamedProviderIsWarnedAbout() throws {
    let demo = try Demo()
    let export = try demo.csar(["report", "export", "--outbox", demo.directory + "/outbox"])
    #expect(export.status == 0, "\(export.err)")
    #expect(export.err.contains("no provider name configured"), "\(export.err)")
  }

  /// `demo` builds into a hidden temporary file and renames it: killed on the way, it leaves
  /// nothing at the path.
  @Test func aKilledDemoLeavesNoDatabase() throws {
    let directory = try CsarBinary.temporaryDirectory()
    let path = directory + "/demo.sqlite"
    let pid = try Spawned.start(
      [try CsarBinary.path, "demo", "--db", path, "--items", "300000"])
    let deadline = Date().addingTimeInterval(60)
    var building = false
    while Date() < deadline, !building {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      building = names.contains { $0.hasPrefix(".demo.sqlite.building-") }
      if !building { Thread.sleep(forTimeInterval: 0.01) }
    }
    kill(pid, SIGKILL)
    _ = Spawned.wait(pid)
    #expect(building, "the demo was not built under a temporary name")
    #expect(!FileManager.default.fileExists(atPath: path))
    // A finished one is in place, and its temporary is gone.
    let small = try CsarBinary.run(["demo", "--db", path, "--items", "20"])
    #expect(small.status == 0, "\(small.err)")
    let names = try FileManager.default.contentsOfDirectory(atPath: directory)
    #expect(names.contains("demo.sqlite"))
    #expect(!names.contains { $0.contains(".building-") && !$0.contains("\(pid)") }, "\(names)")
  }
}
