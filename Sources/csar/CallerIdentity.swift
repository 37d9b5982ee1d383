// Who runs a command: the one way every command and the console resolve the acting operator.

import ArgumentParser
import ConsoleUI
import Foundation
import Store

/// Resolves the operator a command or the console acts as, through the store's one resolver
/// (``AppDatabase/actingOperator(requested:uid:)``): the caller's OS account (effective uid),
/// or the operator bound to it that `--operator`, config `operator` or `CSAR_OPERATOR` picks.
enum CallerIdentity {
  /// Help of every `--operator` option.
  static let optionHelp = ArgumentHelp(
    "Act as this operator, which must be bound to your OS account "
      + "(default: config operator, CSAR_OPERATOR, then your login name).")

  /// The acting operator; a caller who may not act is refused with the store's message
  /// (naming the admin command that fixes it), prefixed with the database path.
  static func resolve(
    _ database: AppDatabase, flag: String?, configuration: Configuration,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws -> ActingOperator {
    let requested = flag ?? configuration.operatorName ?? environment["CSAR_OPERATOR"]
    do {
      return try database.actingOperator(requested: requested)
    } catch let error as IdentityError {
      throw RiskCommandError("\(database.path): \(error.description)")
    }
  }

  /// The same, with the configuration read from its default place.
  static func resolve(_ database: AppDatabase, flag: String?) throws -> ActingOperator {
    let environment = ProcessInfo.processInfo.environment
    let configuration = try Configuration.load(
      path: Configuration.defaultPath(environment: environment))
    return try resolve(
      database, flag: flag, configuration: configuration, environment: environment)
  }
}
