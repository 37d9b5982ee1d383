// Reports `V` verifies the audit log off the key loop: the console keeps answering keys, says
// what runs and how far it got, starts no second check while one runs, shows the result when
// done, and stops the check when the operator quits.

import Foundation
import Store
import Synchronization
import Terminal
import Testing

@testable import ConsoleUI

/// Runs background work only when the test says so, so what the screen shows while the work
/// waits is certain (no timing involved). The work itself is the real one.
final class HeldRunner: Sendable {
  private let held = Mutex<[@Sendable () -> Void]>([])

  var runner: BackgroundRunner {
    BackgroundRunner { [self] body in held.withLock { $0.append(body) } }
  }

  /// How many jobs were handed over and not run yet.
  var waiting: Int { held.withLock { $0.count } }

  /// Runs every held job to its end, on this thread.
  func release() {
    let bodies = held.withLock { bodies in
      defer { bodies.removeAll() }
      return bodies
    }
    for body in bodies { body() }
  }
}

@Suite("Audit verification in the background")
struct BackgroundVerifyTests {
  /// The status bar (last row) at 80x24.
  static func statusBar(_ console: Console) -> String {
    console.render(width: 80, height: 24).text.split(separator: "\n").last.map(String.init) ?? ""
  }

  /// A console on the Reports screen whose background work waits for the test.
  static func heldConsole() throws -> (Console, HeldRunner) {
    let console = try ReportsFixture().console("alice")
    let held = HeldRunner()
    console.context.backgroundRunner = held.runner
    return (console, held)
  }

  /// Before: `V` verified on the key loop, so nothing else happened until it was done (seconds
  /// on a large log) and the result was there at once.
  @Test func keysKeepWorkingWhileTheLogIsVerified() throws {
    let (console, held) = try Self.heldConsole()

    console.handle(.character("V"))
    var bar = Self.statusBar(console)
    #expect(bar.contains("verifying the audit log…"), "\(bar)")
    #expect(!bar.contains("chain intact"), "\(bar)")
    #expect(held.waiting == 1)

    // Keys are answered meanwhile: the pane switches, another screen opens, and the status
    // bar keeps saying what runs on every screen.
    console.handle(.tab)
    #expect(console.reports.pane == .audit)
    console.handle(.character("1"))
    bar = Self.statusBar(console)
    #expect(console.render(width: 80, height: 24).text.contains("Re-categorisation deadlines"))
    #expect(bar.contains("verifying the audit log…"), "\(bar)")

    // A second `V` while one runs starts no other check.
    console.press(.character("5"), .character("V"))
    bar = Self.statusBar(console)
    #expect(bar.contains("Still verifying the audit log…"), "\(bar)")
    #expect(held.waiting == 1, "one check at a time")

    held.release()
    #expect(console.pollBackground())
    bar = Self.statusBar(console)
    #expect(bar.contains("audit log ok:"), "\(bar)")
    #expect(bar.contains("chain intact"), "\(bar)")
    #expect(!bar.contains("verifying"), "\(bar)")
    #expect(console.job == nil)
    #expect(!console.pollBackground(), "nothing runs any more")
  }

  /// A broken log found in the background says so when done, as `V` did before.
  @Test func aBrokenLogIsReportedWhenTheCheckEnds() throws {
    let fixture = try ReportsFixture()
    try fixture.database.writer.write { db in
      for name in try String.fetchAll(
        db,
        sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")
      {
        try db.execute(sql: "DROP TRIGGER \(name)")
      }
      try db.execute(sql: "UPDATE audit_event SET operator = 'mallory' WHERE id = 3")
    }
    let console = try fixture.console("alice")
    console.verifyAndWait()
    #expect(Self.statusBar(console).contains("audit log broken at event 3"))
  }

  /// Quitting while a check runs asks it to stop at its next look, waits for it, and shows
  /// nothing of it afterwards.
  @Test func quittingStopsTheCheck() throws {
    let (console, held) = try Self.heldConsole()
    console.handle(.character("V"))
    let job = try #require(console.job)
    console.handle(.character("q"))
    #expect(console.isFinished)
    #expect(job.stopRequested, "quitting asks the check to stop")
    held.release()
    console.finish()
    #expect(!job.isRunning)
    #expect(job.takeResult() == nil, "a stopped check concludes nothing")
  }

  /// The progress shown is the share of events checked, or the count while the total is not
  /// known.
  @Test func progressIsTheShareOfEventsChecked() {
    let job = BackgroundJob("verifying the audit log") { _ in nil }
    #expect(job.progressText == "verifying the audit log…")
    job.committed(143_000, of: 319_725)
    #expect(job.progressText == "verifying the audit log… 44%")
    job.committed(5_000, of: nil)
    #expect(job.progressText == "verifying the audit log… 5,000")
    let withLastStep = BackgroundJob("verifying the audit log", lastStep: "now the rows") { _ in
      nil
    }
    withLastStep.committed(319_000, of: 319_725)
    #expect(withLastStep.progressText == "verifying the audit log… 99%")
    withLastStep.committed(319_725, of: 319_725)
    #expect(withLastStep.progressText == "verifying the audit log: now the rows…")
  }
}
