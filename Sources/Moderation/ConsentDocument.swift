// An account's consent as JSON: `csar consent show --json` and the service's
// `GET /v1/consent/{account}` print the same document.

import Compliance
import Store

/// The JSON document of one account's consent: current state per service and full history.
public enum ConsentDocument {
  /// `{"account","pseudonym","services":[...],"history":[...],"twins":[...]}` for the account
  /// with this provider id (byte for byte a stored account's id, else in NFC: see
  /// `AppDatabase.account(externalIdOrPseudonym:)`) or pseudonym, or nil when there is none.
  /// `twins` lists the accounts holding the same id in another Unicode form (kept apart by
  /// the NFC id migration, never merged; see `csar consent twins`), each
  /// `{"account","pseudonym","services":[{"service","state"}]}`: a client deciding on this
  /// account learns that the id has another consent too. A service's
  /// `may_share_visual_content_and_urls` is what the upload gate answers: true only when
  /// this account and every twin granted consent there.
  public static func json(database: AppDatabase, account key: String) throws -> JSONValue? {
    guard let found = try database.account(externalIdOrPseudonym: key) else { return nil }
    let states = try database.consentWithTwins(accountId: found.id)
    let history = try database.consentHistory(accountId: found.id)
    let twins = try database.twins(ofAccount: found.id)
    return [
      "account": .string(found.externalId), "pseudonym": .string(found.pseudonym),
      "twins": .array(
        twins.map { twin in
          [
            "account": .string(twin.externalId), "pseudonym": .string(twin.pseudonym),
            "services": .array(
              states.map { service in
                let state = service.twins.first { $0.account.id == twin.id }?.consent
                return [
                  "service": .string(service.own.serviceCode),
                  "state": .string((state ?? .notAsked).rawValue),
                ]
              }),
          ]
        }),
      "services": .array(
        states.map {
          [
            "service": .string($0.own.serviceCode), "state": .string($0.own.state.rawValue),
            "updated_at": $0.own.updatedAt.map { .string(timestamp($0)) } ?? .null,
            "may_share_visual_content_and_urls": .bool($0.mayShareVisualContentAndURLs),
          ]
        }),
      "history": .array(
        history.map {
          [
            "event_id": .string($0.eventId), "service": .string($0.serviceCode),
            "state": .string($0.state.rawValue),
            "occurred_at": .string(timestamp($0.occurredAt)),
            "source": .string($0.source.rawValue), "terms_version": .string($0.termsVersion),
            "operator": .text($0.operatorName), "reason": .text($0.reason),
          ]
        }),
    ]
  }

  /// Unix seconds as ISO-8601 UTC (`2026-11-25T10:00:00Z`).
  public static func timestamp(_ seconds: Int64) -> String {
    let date = CalendarDate(unixSeconds: seconds)
    let s = ((seconds % 86_400) + 86_400) % 86_400
    func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(date)T\(two(s / 3600)):\(two(s / 60 % 60)):\(two(s % 60))Z"
  }
}
