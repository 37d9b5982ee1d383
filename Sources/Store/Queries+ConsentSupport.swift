import Compliance
import GRDB

// MARK: - Consent: lookups for commands and support changes

extension AppDatabase {
  /// The account with this provider id (see ``account(_:externalId:)``) or pseudonym, or nil.
  public func account(externalIdOrPseudonym key: String) throws -> AccountSummary? {
    try read { db in
      if let found = try Self.account(db, externalId: key) { return found }
      return try Row.fetchOne(
        db.cachedStatement(
          sql: """
            SELECT id, external_id, pseudonym, created_at FROM account
            WHERE pseudonym = lower(?)
            """), arguments: [Identifier.normalized(key)]
      ).map(AccountSummary.init(row:))
    }
  }

  // MARK: - Which account an id names

  /// The account a provider id given from outside names (a scan's uploader, `consent show`,
  /// the service's consent document): the account stored in exactly these bytes, else the
  /// one stored in their NFC spelling, else nil.
  ///
  /// The two differ only for twins (one id in two Unicode forms, kept apart by
  /// `v6-nfc-ids`; see ``AccountTwins``). An id sent in NFD byte for byte as a twin holds it
  /// names that twin, not the NFC one: those are the bytes its history was recorded under,
  /// so the answer (and a review item or report of the upload) is about the account the
  /// caller spelt, never silently another. Every other spelling finds the NFC account, as
  /// imports file new events there. Since both twins stand for one id to anyone reading
  /// it, whoever resolves an id also learns its twins (``twins(ofAccount:)``), and the gate
  /// admits an upload only when every twin granted consent (``ScanSubject/isAdmitted``):
  /// which account answers must never make the upload pass where its twin says no.
  static func account(_ db: Database, externalId given: String) throws -> AccountSummary? {
    let statement = try db.cachedStatement(
      sql: "SELECT id, external_id, pseudonym, created_at FROM account WHERE external_id = ?")
    let normalized = Identifier.normalized(given)
    if !normalized.utf8.elementsEqual(given.utf8),
      let exact = try Row.fetchOne(statement, arguments: [given])
    {
      return AccountSummary(row: exact)
    }
    return try Row.fetchOne(statement, arguments: [normalized]).map(AccountSummary.init(row:))
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
