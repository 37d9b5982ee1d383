import Compliance

// MARK: - Number and time formatting

/// How numbers, percentages and ages are written in the console.
enum Format {
  /// `1,234,567`
  static func count(_ n: Int) -> String {
    let digits = String(abs(n))
    var out = ""
    for (index, c) in digits.enumerated() {
      if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return n < 0 ? "-" + out : out
  }

  /// `42%` (or `—` when there is nothing to divide).
  static func percent(_ part: Int, of whole: Int) -> String {
    guard whole > 0 else { return "—" }
    return "\(Int((Double(part) * 100 / Double(whole)).rounded()))%"
  }

  /// A compact age: `45s`, `12m`, `3h`, `5d`, `7w`.
  static func age(seconds: Int64) -> String {
    let s = max(0, seconds)
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m" }
    if s < 86_400 { return "\(s / 3600)h" }
    if s < 86_400 * 14 { return "\(s / 86_400)d" }
    return "\(s / (86_400 * 7))w"
  }

  /// `2026-11-25 14:03` in UTC.
  static func timestamp(_ unixSeconds: Int64) -> String {
    let day = CalendarDate(unixSeconds: unixSeconds)
    let secondOfDay = ((unixSeconds % 86_400) + 86_400) % 86_400
    let hours = secondOfDay / 3600
    let minutes = secondOfDay % 3600 / 60
    func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(day) \(two(hours)):\(two(minutes))"
  }
}
