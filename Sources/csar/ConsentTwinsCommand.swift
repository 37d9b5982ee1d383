// `csar consent twins [--json]`: accounts whose ids are one id in different Unicode forms.

import ArgumentParser
import Moderation
import Store
import TextSafety

extension ConsentCommand {
  /// `csar consent twins`: the twin accounts `v6-nfc-ids` kept apart, with where their ids
  /// differ and each one's consent, so nobody decides on one believing it is the only one.
  struct Twins: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "twins",
      abstract: "List accounts whose ids are one id in different Unicode forms (NFD/NFC).",
      discussion: """
        Opening a database written before ids were stored in NFC respelt its ids in NFC, \
        except where the NFC spelling was already another account's: both accounts were \
        kept, never merged. A look-up (consent show, scan, the service) by an id spelt byte \
        for byte as one of them finds that one, any other spelling the account in NFC \
        (where imports record new events); an upload of any of them is scanned only when \
        every one granted consent on the service. Each set shows both ids escaped, the \
        code points where they differ, each account's consent, and when they were kept \
        apart. With --json, one object per set: {"normalized_id","kept_at","accounts":\
        [{"account","pseudonym","nfc","code_points","services":[...]}]}. Exit 0, with or \
        without twins.
        """)

    @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
    var db: String?

    @Flag(name: .long, help: "Print JSON Lines (one object per set of twins).")
    var json = false

    func run() throws {
      let database = try RiskCommandSetup(db: db, today: nil, createIfMissing: false).database
      let sets = try database.accountTwins()
      if sets.isEmpty {
        if !json { print("No twin accounts: every account id is held in one Unicode form.") }
        return
      }
      for twins in sets {
        let states = try twins.accounts.map { try database.consentStates(accountId: $0.id) }
        if json {
          print(Self.json(twins, states: states))
        } else {
          Self.printPlain(twins, states: states)
        }
      }
      if !json {
        print("An id spelt exactly as one of these finds that account, any other spelling the")
        print("one in NFC. Uploads are scanned only when every twin granted consent on the")
        print("service. Accounts are never merged.")
      }
    }

    static func printPlain(_ twins: AccountTwins, states: [[ServiceConsent]]) {
      let kept = twins.keptAt.map { ConsentCommand.timestamp($0) } ?? "time not recorded"
      print(
        "\"\(SafeText.escaped(twins.normalizedId))\": \(twins.accounts.count) accounts "
          + "(kept apart by the NFC id migration, \(kept))")
      for (index, account) in twins.accounts.enumerated() {
        let form =
          twins.isNormalized(account)
          ? "in NFC, found by id" : "not NFC, found by this exact id or pseudonym"
        print(
          "  account \(account.pseudonym)  id \"\(SafeText.escaped(account.externalId))\"  "
            + "\(twins.differingCodePoints[index])  (\(form))")
        print("    consent: " + consentSummary(states[index]))
      }
    }

    /// `chat-eu granted since 2026-01-02T10:00:00Z; 2 services not asked`.
    static func consentSummary(_ states: [ServiceConsent]) -> String {
      let asked = states.filter { $0.updatedAt != nil }
      var parts = asked.map { state in
        "\(state.serviceCode) \(state.state.rawValue)"
          + (state.updatedAt.map { " since " + ConsentCommand.timestamp($0) } ?? "")
      }
      let notAsked = states.count - asked.count
      if asked.isEmpty {
        parts.append("not asked on any service")
      } else if notAsked > 0 {
        parts.append(ImportReporting.plural(notAsked, "service") + " not asked")
      }
      return parts.joined(separator: "; ")
    }

    static func json(_ twins: AccountTwins, states: [[ServiceConsent]]) -> String {
      let accounts = twins.accounts.enumerated().map { index, account -> JSONValue in
        [
          "account": .string(account.externalId), "pseudonym": .string(account.pseudonym),
          "nfc": .bool(twins.isNormalized(account)),
          "code_points": .string(twins.differingCodePoints[index]),
          "services": .array(
            states[index].map {
              [
                "service": .string($0.serviceCode), "state": .string($0.state.rawValue),
                "updated_at": $0.updatedAt.map { .string(ConsentCommand.timestamp($0)) }
                  ?? .null,
              ]
            }),
        ]
      }
      return OrderedJSON.object([
        ("normalized_id", .string(twins.normalizedId)),
        ("kept_at", twins.keptAt.map { .string(ConsentCommand.timestamp($0)) } ?? .null),
        ("accounts", .array(accounts)),
      ])
    }

    /// verify's line about twins, or nil when there are none.
    static func notice(_ database: AppDatabase) throws -> String? {
      AccountTwins.verifyNotice(try database.accountTwins())
    }
  }
}
