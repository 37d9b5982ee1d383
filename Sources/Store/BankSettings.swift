import Foundation
import GRDB

// MARK: - Per-bank settings

extension AppDatabase {
  /// Sets what a match against bank `name` does (`review` or `report`); returns the bank. No
  /// event when nothing changes. Audited (`bank.on_match`). Leads and admins only: `report`
  /// files reports without a reviewer looking.
  @discardableResult
  public func setBankOnMatch(name: String, action: BankMatchAction, by operatorName: String)
    throws -> BankRow
  {
    try audited(by: operatorName) { db, audit in
      try Self.requireLead(db, operatorName, "change what a bank's matches do")
      let bank = try Self.bankRow(db, name: name)
      if bank.onMatch != action {
        try db.execute(
          sql: "UPDATE bank SET on_match = ? WHERE id = ?", arguments: [action.rawValue, bank.id])
        try audit.record(
          action: "bank.on_match", entity: "bank", entityId: String(bank.id),
          before: ["on_match": .string(bank.onMatch.rawValue)],
          after: ["on_match": .string(action.rawValue)])
      }
      return try Self.bankRow(db, name: name)
    }
  }
}
