import Foundation
import Testing

/// `csar report export` killed with SIGKILL while it writes: nothing half-written survives.
@Suite("Report export killed mid-way", .serialized)
struct ExportFaultEndToEndTests {
  @Test func aKilledExportLeavesWholeFilesAndAReRunFinishesIt() throws {
    let directory = try CsarBinary.temporaryDirectory()
    let database = directory + "/demo.sqlite"
    let outbox = directory + "/outbox"
    let demo = try CsarBinary.run(["demo", "--db", database, "--items", "30000"])
    try #require(demo.status == 0, "\(demo.err)")
    func sql(_ query: String) throws -> String {
      try Subprocess.run(["sqlite3", database, query]).out
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let ready = Int(try sql("SELECT count(*) FROM report WHERE state = 'ready'")) ?? 0
    try #require(ready > 50)
    // The demo has reports sent before (without files here): count only this export's.
    let sentEarlier = Int(try sql("SELECT count(*) FROM report WHERE state = 'sent'")) ?? -1

    let binary = try CsarBinary.path
    let pid = try Spawned.start([
      binary, "report", "export", "--outbox", outbox, "--db", database, "--operator", "alice",
    ])
    // Kill as soon as the first files appear (or after a while, if it is slow to start).
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: outbox)) ?? []
      if !names.isEmpty { break }
      Thread.sleep(forTimeInterval: 0.002)
    }
    kill(pid, SIGKILL)
    _ = Spawned.wait(pid)

    // Every visible file is a whole report; the database and the audit chain are intact.
    let visible = try FileManager.default.contentsOfDirectory(atPath: outbox)
      .filter { !$0.hasPrefix(".") }
    for name in visible {
      let data = try #require(FileManager.default.contents(atPath: outbox + "/" + name))
      let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
      #expect(object != nil, "\(name) is not a whole JSON document")
    }
    #expect(try sql("PRAGMA integrity_check") == "ok")
    let verify = try CsarBinary.run(["audit", "verify", "--db", database])
    #expect(verify.status == 0, "\(verify.out)\(verify.err)")
    let sentBefore = Int(try sql("SELECT count(*) FROM report WHERE state = 'sent'")) ?? -1
    #expect(
      sentBefore - sentEarlier <= visible.count, "a report is marked sent without its file")

    // A re-run finishes the job: every ready report sent once, no temporary file left.
    let rerun = try CsarBinary.run([
      "report", "export", "--outbox", outbox, "--db", database, "--operator", "alice",
    ])
    #expect(rerun.status == 0, "\(rerun.err)")
    let after = try FileManager.default.contentsOfDirectory(atPath: outbox)
    let hidden = after.filter { $0.hasPrefix(".") }
    #expect(hidden.isEmpty, "left behind: \(hidden)")
    #expect(try sql("SELECT count(*) FROM report WHERE state = 'ready'") == "0")
    let sent = Int(try sql("SELECT count(*) FROM report WHERE state = 'sent'")) ?? -1
    #expect(sent - sentEarlier == after.count)
    #expect(after.count == ready)
  }
}
