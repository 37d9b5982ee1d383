import ArgumentParser
import Foundation
import Service
import Store

#if canImport(Glibc)
  import Glibc
#endif

/// The `csar` command: with no subcommand it opens the console; subcommands serve scripts.
@main
struct CSAR: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "csar",
    abstract: "A keyboard-driven console for CSA Regulation compliance work.",
    subcommands: [
      // Each subcommand lives in its own file in this folder; keep this list sorted.
      AssessCommand.self,
      AuditCommand.self,
      BankCommand.self,
      BenchCommand.self,
      ConsentCommand.self,
      ConsoleCommand.self,
      DeadlinesCommand.self,
      DemoCommand.self,
      FlagsCommand.self,
      HashCommand.self,
      HoldCommand.self,
      InitCommand.self,
      LookupCommand.self,
      OperatorCommand.self,
      OrderCommand.self,
      PurgeCommand.self,
      ReportCommand.self,
      ScanCommand.self,
      ServeCommand.self,
      URLCommand.self,
    ],
    defaultSubcommand: ConsoleCommand.self
  )

  /// Runs the command; its output and ArgumentParser's messages (help, usage errors, thrown
  /// errors) all go through ``Output``, so text from data never reaches the terminal raw.
  /// The arguments pass ``CommandLineFixes`` first (`--db X` before the subcommand, a
  /// mistyped subcommand named with the closest ones).
  /// SQLite's process-wide settings are applied before any database opens. A command whose
  /// audit anchor could not be written exits with
  /// ``DatabaseAccess/anchorNotWrittenStatus`` (`csar serve` does not: see below).
  /// umask 077 first: a belt under the explicit modes Store gives the database, key, media
  /// and outbox files (see `PrivateFiles`), so nothing csar or SQLite creates is readable by
  /// others.
  static func main() async {
    umask(0o077)
    SQLiteTuning.prepareForThreads()
    DatabaseAccess.reportAnchorWritesOfEveryDatabase()
    do {
      let arguments: [String]
      switch CommandLineFixes.fix(Array(CommandLine.arguments.dropFirst()), root: CSAR.self) {
      case .success(let fixed): arguments = fixed
      case .failure(let unknown):
        Output.error(unknown.description)
        Glibc.exit(64)  // EX_USAGE, as ArgumentParser's usage errors
      }
      var command = try parseAsRoot(arguments)
      if var service = command as? any AsyncParsableCommand {
        // `csar serve`: its tasks run on the event loops (before the first task starts).
        CSARServer.runConcurrencyOnEventLoops()
        try await service.run()
        // Stopped as asked (SIGTERM, SIGINT): exit 0 whatever happened to its audit anchor.
        // The service logged each failed anchor write at error level and counted it on
        // /metrics when it happened; a status at stop time would come days late, and under
        // systemd would mark the stop itself as the unit's failure.
      } else {
        try command.run()
        // The command's changes are saved; an audit anchor that was not written (said on
        // stderr when it happened) still makes the exit status non-zero.
        if let status = DatabaseAccess.exitStatusAfterAnchorFailures { Glibc.exit(status) }
      }
    } catch {
      Output.exit(for: error, of: self)
    }
  }
}
