// The one way the commands and the console open a database: with the provider key and the
// audit key derived from it, so every audited write is keyed and anchored.

import ConsoleUI
import Foundation
import Store
import Synchronization

/// Opens databases with their keys. Every command that opens a database goes through
/// ``open(path:configuration:)``; the report commands get the provider key itself from
/// ``providerKey(configuration:databasePath:)``, so both always agree on the key file.
enum DatabaseAccess {
  /// The provider key file of the database at `databasePath`: config `provider_key`, else the
  /// default location.
  static func providerKeyPath(configuration: Configuration?, databasePath: String) -> String {
    configuration?.providerKeyPath ?? ProviderKey.defaultPath(databasePath: databasePath)
  }

  /// The provider key: config `provider_key`, else the default (an older key beside the
  /// database, with a warning, else `$XDG_CONFIG_HOME/csar/provider.key`); created on first
  /// use; refused when exposed or weak.
  static func providerKey(configuration: Configuration?, databasePath: String) throws
    -> ProviderKey
  {
    let path = providerKeyPath(configuration: configuration, databasePath: databasePath)
    do {
      let key = try ProviderKey.loadOrCreate(path: path, databasePath: databasePath)
      if key.isBesideDatabase(databasePath) {
        Output.error(
          "csar: warning: the provider key \(path) lies beside the database, where copies "
            + "and backups of the data take it along; move it apart and set provider_key "
            + "in config.toml to its new place")
      }
      return key
    } catch {
      throw RiskCommandError(error.description)
    }
  }

  /// The audit key of the database at `databasePath` (derived from its provider key; anchors
  /// beside the key file).
  static func auditKey(configuration: Configuration?, databasePath: String) throws -> AuditKey {
    AuditKey(
      providerKey: try providerKey(configuration: configuration, databasePath: databasePath))
  }

  /// Opens (creating if needed) the database at `path` with its audit key; the key file is
  /// found through `configuration`, by default the one at its default place.
  static func open(path: String, configuration: Configuration? = nil) throws -> AppDatabase {
    try openWithKey(path: path, configuration: configuration).database
  }

  /// ``open(path:configuration:)``, also handing back the provider key it loaded.
  static func openWithKey(path: String, configuration: Configuration? = nil) throws
    -> (database: AppDatabase, providerKey: ProviderKey)
  {
    let configuration = try configuration ?? defaultConfiguration()
    let key = try providerKey(configuration: configuration, databasePath: path)
    let database = try AppDatabase.open(path: path, auditKey: AuditKey(providerKey: key))
    return (database, key)
  }

  // MARK: - Audit anchors not written

  /// The exit status of a command whose changes were saved but whose audit anchor could not
  /// be written: 74 (EX_IOERR), apart from 1 (the command failed), so a script stops and
  /// someone looks (the anchor is a tamper check, and a planted FIFO or symlink may be an
  /// attack), yet can tell that the change happened and must not be made again.
  static let anchorNotWrittenStatus: Int32 = 74

  /// Anchor writes that failed in this process, and the reason last printed.
  private static let anchorFailures = Mutex((count: 0, printed: ""))

  /// Prints each failed anchor write of every database this process opens (the commands',
  /// the demo's, the benchmarks' scratch ones) to stderr as it happens, and counts it for the
  /// exit status. Set once at start; a database with a handler of its own (the console's,
  /// the service's) reports its failures there instead.
  static func reportAnchorWritesOfEveryDatabase() {
    AnchorWrites.onFailureOfAnyDatabase(anchorFailureHandler(print: true))
  }

  /// Counts each failed anchor write of `database` for the exit status without printing it:
  /// the console shows it on its status bar while the terminal is in use, and
  /// ``printLastAnchorFailure(of:)`` prints it once the console has closed.
  static func countAnchorWrites(of database: AppDatabase) {
    database.anchorWrites.onFailure(anchorFailureHandler(print: false))
  }

  /// Counts a failure and, with `print`, says it on stderr (a failure for the reason just
  /// printed only once: an import or the demo anchors after every batch).
  private static func anchorFailureHandler(print: Bool) -> AnchorWrites.Handler {
    { failure in
      let reason = failure.cause.description
      let fresh = anchorFailures.withLock { state in
        state.count += 1
        defer { if print { state.printed = reason } }
        return print && state.printed != reason
      }
      if fresh { Output.error("csar: \(failure)") }
    }
  }

  /// Prints the newest failed anchor write of `database`, if any.
  static func printLastAnchorFailure(of database: AppDatabase) {
    if let failure = database.anchorWrites.lastFailure { Output.error("csar: \(failure)") }
  }

  /// ``anchorNotWrittenStatus`` when an anchor write failed in this process, else nil.
  static var exitStatusAfterAnchorFailures: Int32? {
    anchorFailures.withLock { $0.count } > 0 ? anchorNotWrittenStatus : nil
  }

  /// The configuration at its default place (for commands that do not load it otherwise).
  static func defaultConfiguration() throws -> Configuration {
    try Configuration.load(
      path: Configuration.defaultPath(environment: ProcessInfo.processInfo.environment))
  }
}
