// An account's consent as JSON: `csar consent show --json` and the service's
// `GET /v1/consent/{account}` print the same document.

import Compliance
import Store

/// The JSON document of one account's consent: current state per service and full history.
public enum ConsentDocument {
  /// `{"account","pseudonym","services":[...],"history":[...],"twins":[...]}` for the account
  /// with this provider id or pseudonym, or nil when there is none. `twins` lists the
  /// accounts holding the same id in another Unicode form (kept apart by the NFC id
  /// migration, never merged; see `csar consent twins`), each `{"account","pseudonym"}`:
  /// a client deciding on this account learns that its consent may sit on another too.
  public static func json(database: AppDatabase, account key: String) throws -> JSONValue? {
    guard let found = try database.account(externalIdOrPseudonym: key) else { return nil }
    let states = try database.consentStates(accountId: found.id)
    let history = try database.consentHistory(accountId: found.id)
    let twins = try database.twins(ofAccount: found.id)
    return [
      "account": .string(found.externalId), "pseudonym": .string(found.pseudonym),
      "twins": .array(
        twins.map { ["account": .string($0.externalId), "pseudonym": .string($0.pseudonym)] }),
      "services": .array(
        states.map {
          [
            "service": .string($0.serviceCode), "state": .string($0.state.rawValue),
            "updated_at": $0.updatedAt.map { .string(timestamp($0)) } ?? .null,
            "may_share_visual_content_and_urls": .bool($0.state.mayShareVisualContentAndURLs),
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
