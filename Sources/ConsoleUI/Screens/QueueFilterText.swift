import Compliance
import Store

// MARK: - Queue filter text

/// Reads the text of `/` and `:filter` into a ``QueueFilter``: space-separated `key=value`
/// words, `kind=known|new|url` (or the full codes), `service=CODE`, `bank=NAME`,
/// `state=open|all|pending,escalated,…`. Empty text is the default filter (open items).
enum QueueFilterText {
  /// Why a filter text cannot be used.
  struct Problem: Error, Equatable, CustomStringConvertible {
    let message: String
    var description: String { message }
  }

  static let kindAliases: [String: FlagKind] = [
    "known": .knownMatch, "new": .newMaterial, "url": .urlMatch,
  ]
  static let stateAliases: [String: Set<FlagState>] = [
    "open": QueueFilter.openStates, "all": Set(FlagState.allCases),
    "held": [.awaitingSecondHit], "awaiting": [.awaitingSecondHit],
    "decided": [.confirmed, .dismissed],
  ]

  static func parse(_ text: String, services: [String: Int64]) -> Result<QueueFilter, Problem> {
    var filter = QueueFilter()
    for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
      let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
      guard parts.count == 2, !parts[1].isEmpty else {
        return .failure(Problem(message: "\"\(word)\" is not key=value"))
      }
      let (key, value) = (parts[0], parts[1])
      switch key {
      case "kind":
        guard let kind = kindAliases[value] ?? (try? FlagKind(code: value)) else {
          return .failure(Problem(message: "kind is known, new or url (not \(value))"))
        }
        filter.kind = kind
      case "service":
        guard let id = services[value] else {
          return .failure(Problem(message: "no service has the code \(value)"))
        }
        filter.serviceId = id
      case "bank":
        filter.bank = value
      case "state":
        var states: Set<FlagState> = []
        for name in value.split(separator: ",").map(String.init) {
          if let alias = stateAliases[name] {
            states.formUnion(alias)
          } else if let state = try? FlagState(code: name) {
            states.insert(state)
          } else {
            let known = (stateAliases.keys.sorted() + FlagState.allCases.map(\.rawValue))
            return .failure(
              Problem(
                message: "state \(name) is unknown; use "
                  + known.joined(separator: ", ")))
          }
        }
        filter.states = states
      default:
        return .failure(Problem(message: "unknown key \(key); use kind, service, bank or state"))
      }
    }
    return .success(filter)
  }
}
