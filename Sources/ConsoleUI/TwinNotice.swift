import Store

// MARK: - Twin accounts, said plainly

/// What the console says about an account whose id another account holds in another Unicode
/// form (see ``AccountTwins``): wherever one account's consent is shown or decided on, so
/// nobody takes it for the only one.
enum TwinNotice {
  /// The label beside the notice.
  static let label = "Twin"

  /// `another account has this id in another Unicode form: u-cccc00000003 (U+0065 U+0308
  /// there, U+00EB here); never merged`, or nil when `twins` is empty.
  static func text(of account: AccountSummary, twins: [AccountSummary]) -> String? {
    guard !twins.isEmpty else { return nil }
    return heading(twins) + others(of: account, twins: twins) + "; never merged"
  }

  /// `another account has this id in another Unicode form: u-cccc00000003 (consent
  /// refused)`, each twin with its consent on the item's service in the words of `csar
  /// consent show` (for a narrow pane: the Consent screen shows where the ids differ), or nil
  /// when `twins` is empty.
  static func brief(twins: [TwinConsent]) -> String? {
    guard !twins.isEmpty else { return nil }
    let named = twins.map { "\($0.account.pseudonym) (consent \($0.consent.rawValue))" }
    return heading(twins.map(\.account)) + named.joined(separator: ", ")
  }

  /// `another account has this id in another Unicode form: ` (or `2 other accounts have`).
  private static func heading(_ twins: [AccountSummary]) -> String {
    let who = twins.count == 1 ? "another account has" : "\(twins.count) other accounts have"
    return "\(who) this id in another Unicode form: "
  }

  /// The notice as lines of a dialog whose labels take 9 columns (each under 60 columns for
  /// one twin, so none wraps); empty when `twins` is.
  static func dialogLines(of account: AccountSummary, twins: [AccountSummary]) -> [String] {
    guard !twins.isEmpty else { return [] }
    let who = twins.count == 1 ? "another account" : "\(twins.count) other accounts"
    return [
      label.padding(toLength: 9, withPad: " ", startingAt: 0)
        + "\(who): this id in another Unicode form",
      String(repeating: " ", count: 9) + others(of: account, twins: twins),
    ]
  }

  /// `u-cccc00000003 (U+0065 U+0308 there, U+00EB here)`, one per twin.
  static func others(of account: AccountSummary, twins: [AccountSummary]) -> String {
    twins.map { twin in
      let forms = AccountTwins.differingCodePoints(account, twin)
      return "\(twin.pseudonym) (\(forms.twin) there, \(forms.account) here)"
    }.joined(separator: ", ")
  }
}
