import Compliance
import GRDB

// MARK: - Consent: lookups for commands and support changes

extension AppDatabase {
  /// The account with this provider id or pseudonym (exact), or nil.
  public func account(externalIdOrPseudonym key: String) throws -> AccountSummary? {
    try read { db in
      try Row.fetchOne(
        db,
        sql: """
          SELECT * FROM account WHERE external_id = ?1
          UNION ALL SELECT * FROM account WHERE pseudonym = lower(?1) LIMIT 1
          """, arguments: [Identifier.normalized(key)]
      ).map(AccountSummary.init(row:))
    }
  }

  /// Consent figures per service (from the trigger-kept tallies): what the Dashboard shows.
  public func consentStatistics(today: CalendarDate) throws -> [ServiceConsentStats] {
    try read { db in
      let accounts =
        try Int.fetchOne(db, sql: "SELECT n FROM tally WHERE name = 'account'") ?? 0
      return try Self.consentStats(db, today: today, accounts: accounts)
    }
  }

  /// The terms-of-service version of the most recent consent event on a service (of any
  /// account), or of any service when the service has none; nil on an empty database. Four
  /// index seeks, whatever the number of events.
  public func latestTermsVersion(serviceId: Int64) throws -> String? {
    try read { db in
      var best: (at: Int64, terms: String)?
      let statement = try db.cachedStatement(
        sql: """
          SELECT occurred_at, terms_version FROM consent_event
          WHERE service_id = ? AND state = ? ORDER BY occurred_at DESC LIMIT 1
          """)
      for state in ConsentState.allCases {
        if let row = try Row.fetchOne(statement, arguments: [serviceId, state.rawValue]) {
          let at: Int64 = row[0]
          if best == nil || at > best!.at { best = (at, row[1]) }
        }
      }
      if let best { return best.terms }
      return try String.fetchOne(
        db,
        sql: "SELECT terms_version FROM consent_event ORDER BY rowid DESC LIMIT 1")
    }
  }
}
