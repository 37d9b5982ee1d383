// `csar lookup [--json] TYPE:HEX...`: hashes looked up in the enabled banks, as the service's
// `POST /v1/lookup` does.

import ArgumentParser
import Moderation
import Store

/// Lookup by hash alone (nothing is queued or recorded).
struct LookupCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lookup",
    abstract: "Look hashes up in the enabled banks (TYPE:HEX, TYPE pdq, md5, sha256 or sha1).",
    discussion: """
      PDQ hashes match within each bank's threshold, digests exactly. Plain output, one line \
      per match: TYPE:HEX<TAB>BANK<TAB>DISTANCE<TAB>LABEL, or TYPE:HEX<TAB>no match. With \
      --json one object per hash, as each element of /v1/lookup's "results": \
      {"type","value","matches":[{"bank","distance","label","source_id","type"}]}. \
      Exits 1 when no hash matched.
      """)

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  @Argument(help: "Hashes as TYPE:HEX.")
  var hashes: [String]

  func run() throws {
    var queries: [HashQuery] = []
    for (index, text) in hashes.enumerated() {
      do {
        queries.append(try HashQuery(parsing: text, field: "argument \(index + 1)"))
      } catch {
        throw ValidationError(error.description)
      }
    }
    let setup = try RiskCommandSetup(db: db, today: nil, createIfMissing: false)
    let database = setup.database
    let matcher = try BankMatcher(
      database: database, snapshot: BankMatcher.snapshotPath(database: database))
    let results = try matcher.lookup(queries)
    for result in results {
      if json {
        print(result.jsonLine)
        continue
      }
      let hash = result.query.type.rawValue + ":" + result.query.value
      if result.matches.isEmpty { print("\(hash)\tno match") }
      for match in result.matches {
        let label = DisplayText.escapingControls(match.label ?? "-")
        print("\(hash)\t\(DisplayText.escapingControls(match.bank))\t\(match.distance)\t\(label)")
      }
    }
    if results.allSatisfy({ $0.matches.isEmpty }) { throw ExitCode(1) }
  }
}
