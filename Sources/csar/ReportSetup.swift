// Shared setup of the report, purge and audit commands: database, operator, provider key.

import ArgumentParser
import Compliance
import ConsoleUI
import Foundation
import Store

/// Options every report command shares.
struct ReportOptions: ParsableArguments {
  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  @Option(name: .long, help: CallerIdentity.optionHelp)
  var `operator`: String?
}

/// The database, the configuration and, on demand, the provider key.
struct ReportSetup {
  let risk: RiskCommandSetup
  var database: AppDatabase { risk.database }

  init(_ options: ReportOptions) throws {
    try self.init(db: options.db)
  }

  /// The database at `db` (or the configured one), which must exist.
  init(db: String?) throws {
    risk = try RiskCommandSetup(db: db, today: nil, createIfMissing: false)
  }

  /// The provider name for reports (config `provider`).
  /// When none is configured: "unnamed provider", with a warning on stderr naming the config
  /// line to add (the EU Centre cannot tell whose report it is).
  var provider: String {
    if let name = risk.configuration.provider, !name.isEmpty { return name }
    Output.error(
      "csar: warning: no provider name configured; the files say \"unnamed provider\". "
        + "Add provider = \"Your Company Ltd\" to "
        + Configuration.defaultPath(environment: ProcessInfo.processInfo.environment))
    return "unnamed provider"
  }

  /// The pseudonymisation key: config `provider_key`, else the default (an older key beside
  /// the database, with a warning, else `$XDG_CONFIG_HOME/csar/provider.key`); created on
  /// first use; refused when exposed or weak.
  func providerKey() throws -> ProviderKey {
    risk.providerKey
  }

  /// The name of the operator this command acts as (see ``CallerIdentity``).
  func operatorName(_ flag: String?) throws -> String { try risk.operatorName(flag) }
}
