import Foundation
import Testing

/// Several reviewer processes on one database, and one killed in the middle of its work.
@Suite("Contention end to end", .serialized)
struct ContentionEndToEndTests {
  let database: String

  init() throws {
    database = try CsarBinary.temporaryDirectory() + "/demo.sqlite"
    let result = try CsarBinary.run(["demo", "--db", database, "--items", "600"])
    #expect(result.status == 0, "csar demo failed: \(result.err)")
  }

  func contention(workers: Int, seconds: Double) throws -> (status: Int32, out: String) {
    let result = try CsarBinary.run([
      "bench", "contention", "--db", database, "--workers", String(workers), "--seconds",
      String(seconds),
    ])
    return (result.status, result.out + result.err)
  }

  @Test(arguments: [2, 4])
  func workersNeverDecideAnItemTwice(workers: Int) throws {
    let run = try contention(workers: workers, seconds: 2)
    #expect(run.status == 0, "\(run.out)")
    #expect(run.out.contains("items decided twice: 0"), "\(run.out)")
    #expect(run.out.contains("decisions stored as the workers saw them: yes"))
    #expect(run.out.contains("0 'database is locked' errors"))
    #expect(run.out.contains("consent events imported alongside"))
    #expect(!run.out.contains(" 0 consent events imported"), "\(run.out)")
    #expect(run.out.contains("integrity check: ok"))
    #expect(run.out.contains("chain intact"))
    let decided = run.out.split(separator: " ").firstIndex(of: "decisions").flatMap {
      Int(run.out.split(separator: " ")[$0 - 1])
    }
    #expect((decided ?? 0) > 0, "\(run.out)")
  }

  @Test func aReviewerKilledMidDecisionLeavesNothingHalfWritten() throws {
    let binary = try CsarBinary.path
    _ = try CsarBinary.run(["bench", "contention", "--db", database, "--workers", "1",
                            "--seconds", "0.1"])
    let pid = try Spawned.start([
      binary, "bench", "contention", "--db", database, "--seconds", "30", "--worker", "1",
    ])
    Thread.sleep(forTimeInterval: 1.5)
    kill(pid, SIGKILL)
    #expect(Spawned.wait(pid) == 128 + SIGKILL)
    // A fresh run checks the file: integrity, audit chain, no item decided twice.
    let run = try contention(workers: 2, seconds: 0.5)
    #expect(run.status == 0, "\(run.out)")
    #expect(run.out.contains("integrity check: ok"), "\(run.out)")
    #expect(run.out.contains("chain intact"), "\(run.out)")
    #expect(run.out.contains("items decided twice: 0"), "\(run.out)")
  }
}
