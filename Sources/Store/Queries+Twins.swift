import GRDB
import TextSafety

// MARK: - Twin accounts: one id in two Unicode forms

/// Accounts whose provider ids are one id in different Unicode forms (`Zoe` + U+0308 in NFD,
/// `Zoë` in NFC). Migration `v6-nfc-ids` found them and kept them apart (it never merges
/// accounts: their histories may not replay as one), and since then a look-up by either
/// spelling finds only the account in NFC. Operators are shown them so that nobody decides
/// on one account believing it is the only one.
public struct AccountTwins: Hashable, Sendable {
  /// The id in NFC: the spelling every look-up and import uses.
  public var normalizedId: String
  /// The accounts: the one holding the NFC spelling first (when one does), then by row id.
  public var accounts: [AccountSummary]
  /// When `v6-nfc-ids` kept them apart (Unix seconds); nil when it ran before csar
  /// recorded when migrations ran.
  public var keptAt: Int64?

  /// Creates a value with every field given.
  public init(normalizedId: String, accounts: [AccountSummary], keptAt: Int64?) {
    self.normalizedId = normalizedId
    self.accounts = accounts
    self.keptAt = keptAt
  }

  /// Where the accounts' ids differ, as code points (`U+0065 U+0308` against `U+00EB`), in
  /// the order of ``accounts``.
  public var differingCodePoints: [String] {
    SafeText.differingCodePoints(accounts.map(\.externalId))
  }

  /// Where the ids of `account` and `twin` differ, as code points (`U+00EB`, `U+0065 U+0308`).
  public static func differingCodePoints(_ account: AccountSummary, _ twin: AccountSummary)
    -> (account: String, twin: String)
  {
    let forms = SafeText.differingCodePoints([account.externalId, twin.externalId])
    return (forms[0], forms[1])
  }

  /// Whether `account`'s id is the NFC spelling (the one look-ups by id find).
  public func isNormalized(_ account: AccountSummary) -> Bool {
    account.externalId.utf8.elementsEqual(normalizedId.utf8)
  }
}

extension AccountTwins {
  /// What `csar audit verify` and the console's `V` say of twins, or nil when there are
  /// none: how many ids are held by how many accounts, that this is not tampering, and where
  /// they are listed. `brief`: the counts and where they are listed, short enough that a
  /// status bar shows the counts at 80 columns and the head after them at 120 (the line
  /// says the log is ok, so twins are plainly no failure).
  public static func verifyNotice(_ sets: [AccountTwins], brief: Bool = false) -> String? {
    guard !sets.isEmpty else { return nil }
    let accounts = sets.reduce(0) { $0 + $1.accounts.count }
    let ids = sets.count == 1 ? "id" : "ids"
    if brief { return "twins: \(sets.count) \(ids), \(accounts) accounts (csar consent twins)" }
    return "twins: \(sets.count) account \(ids) held by \(accounts) "
      + "accounts in different Unicode forms (kept apart, not tampering); "
      + "list them: csar consent twins"
  }
}

extension AppDatabase {
  /// Every set of twin accounts (see ``AccountTwins``), by NFC id.
  public func accountTwins() throws -> [AccountTwins] {
    try read { db in
      let keptAt = try Self.twinsKeptAt(db)
      let rows = try Row.fetchAll(db, sql: Self.accountTwinsSQL)
      var twins: [AccountTwins] = []
      for row in rows {
        let normalized: String = row["normalized"]
        let account = AccountSummary(row: row)
        if let last = twins.last, last.normalizedId.utf8.elementsEqual(normalized.utf8) {
          twins[twins.count - 1].accounts.append(account)
        } else {
          twins.append(AccountTwins(normalizedId: normalized, accounts: [account], keptAt: keptAt))
        }
      }
      // A kept account whose twin has gone since is no longer one of a set.
      return twins.filter { $0.accounts.count > 1 }
    }
  }

  /// Each kept account and its NFC twin, by NFC id. The kept rows are read from their own
  /// index: the planner would otherwise walk every respelt account id (all the `kind =
  /// 'account'` rows of `id_respelling`, a tenth of a million-account database, say) to
  /// find the few kept ones.
  static let accountTwinsSQL = """
    SELECT r.normalized AS normalized, 0 AS nfc, a.id, a.external_id, a.pseudonym,
      a.created_at
    FROM id_respelling r INDEXED BY id_respelling_kept_account
    JOIN account a ON a.id = r.account_id
    WHERE r.kind = 'account' AND r.kept = 1
    UNION
    SELECT r.normalized, 1, a.id, a.external_id, a.pseudonym, a.created_at
    FROM id_respelling r INDEXED BY id_respelling_kept_account
    JOIN account a ON a.external_id = r.normalized
    WHERE r.kind = 'account' AND r.kept = 1
    ORDER BY normalized, nfc DESC, id
    """

  /// The other accounts whose id is this account's in another Unicode form (empty for
  /// almost every account), by row id. Two index look-ups.
  public func twins(ofAccount id: Int64) throws -> [AccountSummary] {
    try read { db in
      guard
        let externalId = try String.fetchOne(
          db.cachedStatement(sql: "SELECT external_id FROM account WHERE id = ?"),
          arguments: [id])
      else { return [] }
      return try Self.accounts(db, spelling: Identifier.normalized(externalId), besides: id)
    }
  }

  /// The accounts whose id is `normalized` (an NFC id) in any Unicode form: the one holding
  /// it in NFC and those `v6-nfc-ids` kept beside it, by row id, leaving out `besides`. Two
  /// index look-ups; empty for almost every id.
  static func accounts(
    _ db: Database, spelling normalized: String, besides: Int64?
  ) throws -> [AccountSummary] {
    try Row.fetchAll(
      db.cachedStatement(
        sql: """
          SELECT id, external_id, pseudonym, created_at FROM account
          WHERE external_id = ?1 AND id IS NOT ?2
          UNION
          SELECT a.id, a.external_id, a.pseudonym, a.created_at
          FROM id_respelling r JOIN account a ON a.id = r.account_id
          WHERE r.kind = 'account' AND r.kept = 1 AND r.normalized = ?1 AND a.id IS NOT ?2
          ORDER BY id
          """), arguments: [normalized, besides]
    ).map(AccountSummary.init(row:))
  }

  /// The row ids of every account that has a twin (few, if any: see ``accountTwins()``).
  public func twinAccountIds() throws -> Set<Int64> {
    Set(try accountTwins().flatMap { $0.accounts.map(\.id) })
  }

  /// When `v6-nfc-ids` ran on this database, if that was recorded.
  static func twinsKeptAt(_ db: Database) throws -> Int64? {
    try Int64.fetchOne(
      db, sql: "SELECT applied_at FROM migration_time WHERE identifier = 'v6-nfc-ids'")
  }
}

// MARK: - An account's consent beside its twins'

/// An account's consent on one service with its twins' consent there: what the upload gate
/// weighs (see ``ConsentState/mayShareVisualContentAndURLs(twins:)``).
public struct ConsentWithTwins: Hashable, Sendable {
  /// The account's own consent on the service.
  public var own: ServiceConsent
  /// Each twin account and its consent on the same service (empty for almost every account).
  public var twins: [TwinConsent]

  /// Creates a value with every field given.
  public init(own: ServiceConsent, twins: [TwinConsent]) {
    self.own = own
    self.twins = twins
  }

  /// The gate's answer: the account and every twin granted consent.
  public var mayShareVisualContentAndURLs: Bool {
    own.state.mayShareVisualContentAndURLs(twins: twins.map(\.consent))
  }

  /// The twins whose consent here is not the account's.
  public var differingTwins: [TwinConsent] { twins.filter { $0.consent != own.state } }
}

extension AppDatabase {
  /// An account's current consent on every service, by service code, each beside its twins'
  /// there (``consentStates(accountId:)`` for the account and each of ``twins(ofAccount:)``).
  public func consentWithTwins(accountId: Int64) throws -> [ConsentWithTwins] {
    let twins = try twins(ofAccount: accountId)
    let twinStates = try twins.map { try consentStates(accountId: $0.id) }
    return try consentStates(accountId: accountId).map { own in
      ConsentWithTwins(
        own: own,
        twins: zip(twins, twinStates).map { twin, states in
          TwinConsent(
            account: twin,
            consent: states.first { $0.serviceId == own.serviceId }?.state ?? .notAsked)
        })
    }
  }
}
