// Shared setup of the report, purge and audit commands: database, operator, provider key.

import ArgumentParser
import Compliance
import Foundation
import Store

/// Options every report command shares.
struct ReportOptions: ParsableArguments {
  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  @Option(name: .long, help: "Operator name for the audit log (default: config, then $USER).")
  var `operator`: String?
}

/// The database, the configuration and, on demand, the provider key.
struct ReportSetup {
  let risk: RiskCommandSetup
  var database: AppDatabase { risk.database }

  init(_ options: ReportOptions) throws {
    risk = try RiskCommandSetup(db: options.db, today: nil, createIfMissing: false)
  }

  /// The provider name for reports (config `provider`).
  var provider: String { risk.configuration.provider ?? "unnamed provider" }

  /// The pseudonymisation key: config `provider_key`, else `<database without extension>.key`;
  /// created with mode 0600 on first use; refused when others can read it.
  func providerKey() throws -> ProviderKey {
    let path =
      risk.configuration.providerKeyPath
      ?? ProviderKey.defaultPath(databasePath: database.path)
    do {
      return try ProviderKey.loadOrCreate(path: path)
    } catch {
      throw RiskCommandError(error.description)
    }
  }

  /// The operator for the audit log (registered as a reviewer when new).
  func operatorName(_ flag: String?) throws -> String { try risk.operatorName(flag) }
}
