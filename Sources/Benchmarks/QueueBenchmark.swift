// `csar bench queue`: the review queue's filters, keypress to frame and the queries alone.

import ArgumentParser
import Compliance
import ConsoleUI
import Store
import Terminal

/// `csar bench queue`: how fast the review queue answers a change of filter on a database,
/// from the key to the drawn frame (count + first page + draw), and the store queries alone.
public struct QueueBenchmark: ParsableArguments {
  public init() {}

  @OptionGroup var options: ConsoleBenchOptions
  var runs: Int { options.runs }

  /// Measures and prints the figures on the database `open` opens.
  public func run(open: DatabaseOpener) throws {
    let (width, height) = try options.screen(minimumRuns: 1)
    let database = try open(options.db)
    let context = ConsoleContext(
      database: database, operatorName: "bench", theme: try Theme.load(nameOrPath: "default"),
      today: CalendarDate(unixSeconds: AppDatabase.systemClock()), dueSoonDays: 60)
    let console = Console(context: context)
    console.handle(.character("3"))
    _ = console.render(width: width, height: height)

    // `f` cycles the kind filter: all → known → new → url → all.
    var keys: [Double] = []
    for _ in 0..<(runs * 4) {
      let started = monotonicSeconds()
      console.handle(.character("f"))
      _ = console.render(width: width, height: height)
      keys.append(monotonicSeconds() - started)
    }
    print("queue filter (f: kind all/known/new/url)\tkeypress-to-frame median "
      + "\(BenchFigures.ms(BenchFigures.median(keys))), p95 "
      + BenchFigures.ms(keys.sorted()[keys.count * 95 / 100]))

    // The same queries without the console: per service, per kind, all states.
    var filters: [QueueFilter] = FlagKind.allCases.map { QueueFilter(kind: $0) }
    filters += try database.services(today: context.today).map { QueueFilter(serviceId: $0.id) }
    filters.append(QueueFilter(states: Set(FlagState.allCases)))
    var queries: [Double] = []
    for _ in 0..<runs {
      for filter in filters {
        let started = monotonicSeconds()
        _ = try database.queueCount(filter: filter)
        _ = try database.queuePage(filter: filter, after: nil, limit: 100)
        queries.append(monotonicSeconds() - started)
      }
    }
    print("queue filter query (count + first 100 rows)\tmedian "
      + "\(BenchFigures.ms(BenchFigures.median(queries))), max "
      + "\(BenchFigures.ms(queries.max() ?? 0)) over \(filters.count) filters")
  }
}
