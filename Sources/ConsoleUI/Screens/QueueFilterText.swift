import Compliance
import Store

// MARK: - Queue filter text

/// Reads the text of `/` and `:filter` into a ``QueueFilter``: space-separated `key=value`
/// words, `kind=known|new|url` (or the full codes), `service=CODE` (or name), `bank=NAME`,
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

  /// A service by code, or by name (case and spaces ignored: `service=cafechat`,
  /// `service=Café_Chat`), or by the start of one code or name when only one has it.
  static func service(_ value: String, in services: [(code: String, name: String, id: Int64)])
    -> Result<Int64, Problem>
  {
    if let exact = services.first(where: { $0.code == value }) { return .success(exact.id) }
    let wanted = squeeze(value)
    if let named = services.first(where: { squeeze($0.name) == wanted }) {
      return .success(named.id)
    }
    let starting = services.filter {
      squeeze($0.code).hasPrefix(wanted) || squeeze($0.name).hasPrefix(wanted)
    }
    if starting.count == 1 { return .success(starting[0].id) }
    if starting.isEmpty {
      return .failure(Problem(message: "no service has the code or name \(value)"))
    }
    let codes = starting.prefix(5).map(\.code).joined(separator: ", ")
    return .failure(Problem(message: "service=\(value) could be \(codes); type more or Tab"))
  }

  /// Lower case without spaces, underscores or dashes: how names are compared.
  static func squeeze(_ text: String) -> String {
    text.lowercased().filter { $0 != " " && $0 != "_" && $0 != "-" }
  }

  /// Tab in the filter prompt: completes the last word's `service=` value to a code (the one
  /// matching service, or what all matching codes share); nil when there is nothing to add.
  static func complete(_ text: String, services: [(code: String, name: String)]) -> String? {
    let head = text.split(separator: " ", omittingEmptySubsequences: false).dropLast()
      .joined(separator: " ")
    let last = String(text.split(separator: " ", omittingEmptySubsequences: false).last ?? "")
    let prefix = "service="
    guard last.hasPrefix(prefix) else {
      return prefix.hasPrefix(last) && !last.isEmpty ? (head.isEmpty ? "" : head + " ") + prefix
        : nil
    }
    let wanted = squeeze(String(last.dropFirst(prefix.count)))
    let codes = services.filter {
      squeeze($0.code).hasPrefix(wanted) || squeeze($0.name).hasPrefix(wanted)
    }.map(\.code).sorted()
    guard let first = codes.first else { return nil }
    var common = first
    for code in codes.dropFirst() {
      while !code.hasPrefix(common) { common.removeLast() }
    }
    let value = codes.count == 1 ? first : common
    guard value.count >= wanted.count else { return nil }
    return (head.isEmpty ? "" : head + " ") + prefix + value
  }

  static func parse(_ text: String, services: [(code: String, name: String, id: Int64)])
    -> Result<QueueFilter, Problem>
  {
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
        switch service(value, in: services) {
        case .success(let id): filter.serviceId = id
        case .failure(let problem): return .failure(problem)
        }
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
