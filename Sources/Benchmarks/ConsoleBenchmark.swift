// `csar bench console`: the console's first frame and keypress-to-frame on each screen.

import ArgumentParser
import Compliance
import ConsoleUI
import Foundation
import Store
import Terminal

/// `csar bench console`: startup-to-first-frame and keypress-to-frame times of the console on
/// a database, measured in-process on an in-memory grid (no terminal needed).
public struct ConsoleBenchmark: ParsableArguments {
  public init() {}

  @OptionGroup var options: ConsoleBenchOptions
  var db: String { options.db }
  var runs: Int { options.runs }
  var size: String { options.size }

  /// Measures and prints the figures on the database `open` opens.
  public func run(open: DatabaseOpener) throws {
    let (width, height) = try options.screen(minimumRuns: 2)
    let today = CalendarDate(unixSeconds: AppDatabase.systemClock())
    let theme = try Theme.load(nameOrPath: "default")

    // Startup: open the database, load the dashboard, draw the first frame.
    var startup: [Double] = []
    var console: Console?
    for _ in 0..<runs {
      let started = monotonicSeconds()
      let database = try open(db)
      let context = ConsoleContext(
        database: database, operatorName: "bench", theme: theme, today: today, dueSoonDays: 60)
      let fresh = Console(context: context)
      _ = fresh.render(width: width, height: height)
      startup.append(monotonicSeconds() - started)
      console = fresh
    }
    print(
      "startup to first frame (open + load + draw \(size)): cold "
        + BenchFigures.ms(startup[0]) + ", warm median "
        + BenchFigures.ms(BenchFigures.median(Array(startup.dropFirst()))))

    // Keypress to frame on each screen: switch, then move down and back up.
    guard let console else { return }
    let screens = ["1 Dashboard", "2 Services", "3 Review", "4 Consent", "5 Reports & audit"]
    for (index, name) in screens.enumerated() {
      let switchStart = monotonicSeconds()
      console.handle(.character(Character(String(index + 1))))
      _ = console.render(width: width, height: height)
      let switchTime = monotonicSeconds() - switchStart
      let moves = try time(console, width: width, height: height) {
        $0 % 20 < 15 ? .character("j") : .character("k")
      }
      print("\(name): switch \(BenchFigures.ms(switchTime)), " + summary(moves))
    }
    try benchLiveRefresh(console, width: width, height: height, open: open)
    try benchReviewFlow(console, width: width, height: height)
    print(try AnchorCost.measure(commits: runs * 20).line)

    // Services with a service's detail open, then the assessment wizard (reads only: moving
    // between options and questions stores nothing).
    console.handle(.character("2"))
    console.handle(.enter)
    let detail = try time(console, width: width, height: height) {
      $0 % 20 < 15 ? .character("j") : .character("k")
    }
    print("2 Services, detail open: " + summary(detail))
    console.handle(.character("a"))
    let wizard = try time(console, width: width, height: height) {
      [.tab, .character("j"), .character("k"), .backTab, .tab][$0 % 5]
    }
    print("2 Services, assessment wizard: " + summary(wizard))
    let resident = BenchFigures.residentBytes()
    print("resident memory: \(resident / (1 << 20)) MiB")
  }

  /// The review flow as operator `bench`: step through items (give back, claim, decode the
  /// picture, draw it blurred) and reduce the blur (an audited write). Claims are given back.
  private func benchReviewFlow(_ console: Console, width: Int, height: Int) throws {
    try console.context.database.ensureOperator(name: "bench", role: .reviewer)
    // The break reminder is a dialog that waits for a key: not part of what is timed here.
    console.context.review.breakReminderAfter = Int.max
    console.handle(.character("3"))
    console.handle(.character("g"))
    var opens: [Double] = []
    var unblurs: [Double] = []
    for step in 0..<(runs * 5) {
      var started = monotonicSeconds()
      console.handle(step == 0 ? .enter : .character("j"))
      _ = console.render(width: width, height: height)
      opens.append(monotonicSeconds() - started)
      started = monotonicSeconds()
      console.handle(.character("-"))
      _ = console.render(width: width, height: height)
      unblurs.append(monotonicSeconds() - started)
    }
    console.handle(.escape)
    print(
      "review: next item (give back + claim + decode + draw) median "
        + "\(BenchFigures.ms(BenchFigures.median(opens))), less blur (audited) median "
        + "\(BenchFigures.ms(BenchFigures.median(unblurs)))")
  }

  /// The review queue while a colleague works the same file: before each key another
  /// connection claims or gives back an item, so the live refresh (data_version changed)
  /// reads the queue again as part of the key's frame.
  private func benchLiveRefresh(
    _ console: Console, width: Int, height: Int, open: DatabaseOpener
  ) throws {
    let colleague = try open(db)
    try colleague.ensureOperator(name: "bench-colleague", role: .reviewer)
    console.handle(.character("3"))
    let items = try colleague.queuePage(
      filter: QueueFilter(states: [.pending]), after: nil, limit: 40
    ).filter { $0.claimedBy == nil }.map(\.id).suffix(20)
    guard !items.isEmpty else { return }
    var held: Int64?
    let moves = try time(
      console, width: width, height: height,
      before: { step in
        if let item = held {
          try colleague.releaseClaim(id: item, by: "bench-colleague")
          held = nil
        } else {
          let item = items[items.startIndex + step % items.count]
          try colleague.claimItem(id: item, by: "bench-colleague", leaseSeconds: 60)
          held = item
        }
      }
    ) { $0 % 20 < 15 ? .character("j") : .character("k") }
    if let held { try colleague.releaseClaim(id: held, by: "bench-colleague") }
    print("3 Review, a colleague writing before each key: " + summary(moves))
  }

  /// Times `runs * 10` keys (chosen by step) from keypress to drawn frame, live refresh on:
  /// each key is followed by the check for changes by others (and their reading when any),
  /// as the console does about once a second. `before` runs outside the timing.
  private func time(
    _ console: Console, width: Int, height: Int, before: (Int) throws -> Void = { _ in },
    key: (Int) -> Key
  ) throws -> [Double] {
    var times: [Double] = []
    for step in 0..<(runs * 10) {
      try before(step)
      let started = monotonicSeconds()
      console.refreshIfChanged()
      console.handle(key(step))
      _ = console.render(width: width, height: height)
      times.append(monotonicSeconds() - started)
    }
    return times
  }

  private func summary(_ times: [Double]) -> String {
    "keypress-to-frame median \(BenchFigures.ms(BenchFigures.median(times))), "
      + "p95 \(BenchFigures.ms(times.sorted()[times.count * 95 / 100]))"
  }
}
