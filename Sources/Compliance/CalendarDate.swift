// MARK: - Calendar dates

/// A day in the proleptic Gregorian calendar, without time or zone.
///
/// Deadlines in the regulation are counted in calendar days and months, so they are computed on
/// plain dates rather than on instants: no time zone or daylight-saving change can move a due
/// date. `CalendarDate` is `Comparable` and prints as `YYYY-MM-DD`.
public struct CalendarDate: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let year: Int
  public let month: Int
  public let day: Int

  /// Creates a date, or throws when the day does not exist (2023-02-29, month 13, day 0).
  public init(year: Int, month: Int, day: Int) throws(DomainValueError) {
    guard (1...9999).contains(year) else {
      throw DomainValueError(field: "year", value: String(year), expected: "1...9999")
    }
    guard (1...12).contains(month) else {
      throw DomainValueError(field: "month", value: String(month), expected: "1...12")
    }
    let last = CalendarDate.daysIn(month: month, year: year)
    guard (1...last).contains(day) else {
      throw DomainValueError(field: "day", value: String(day), expected: "1...\(last)")
    }
    self.year = year
    self.month = month
    self.day = day
  }

  /// Parses `YYYY-MM-DD` strictly (four-digit year, two-digit month and day).
  public init(parsing text: String, field: String = "date") throws(DomainValueError) {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    let widths = parts.map(\.count)
    guard parts.count == 3, widths == [4, 2, 2],
      parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
      let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2])
    else {
      throw DomainValueError(field: field, value: text, expected: "a date as YYYY-MM-DD")
    }
    do {
      try self.init(year: y, month: m, day: d)
    } catch {
      throw DomainValueError(field: field, value: text, expected: "an existing calendar day")
    }
  }

  private init(unchecked year: Int, _ month: Int, _ day: Int) {
    self.year = year
    self.month = month
    self.day = day
  }

  public var description: String {
    func pad(_ n: Int, _ width: Int) -> String {
      let s = String(n)
      return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
  }

  public static func < (a: CalendarDate, b: CalendarDate) -> Bool {
    (a.year, a.month, a.day) < (b.year, b.month, b.day)
  }

  // MARK: Arithmetic

  /// True for Gregorian leap years (divisible by 4, except centuries not divisible by 400).
  public static func isLeap(_ year: Int) -> Bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
  }

  /// Number of days in a month of a year.
  public static func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// Adds calendar months, clamping the day to the end of the target month:
  /// 2024-01-31 + 1 month = 2024-02-29, 2024-02-29 + 12 months = 2025-02-28.
  public func adding(months: Int) -> CalendarDate {
    let index = year * 12 + (month - 1) + months
    let newYear = index / 12
    let newMonth = index % 12 + 1
    let newDay = min(day, CalendarDate.daysIn(month: newMonth, year: newYear))
    return CalendarDate(unchecked: newYear, newMonth, newDay)
  }

  /// Days since 1970-01-01 (negative before it).
  public var daysSinceEpoch: Int {
    // Howard Hinnant's days_from_civil algorithm.
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  /// The date a number of days after 1970-01-01.
  public init(daysSinceEpoch days: Int) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    self.init(unchecked: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
  }

  /// Adds (or with a negative count subtracts) days.
  public func adding(days: Int) -> CalendarDate {
    CalendarDate(daysSinceEpoch: daysSinceEpoch + days)
  }

  /// Whole days from this date to another (positive when `other` is later).
  public func days(until other: CalendarDate) -> Int {
    other.daysSinceEpoch - daysSinceEpoch
  }

  /// The UTC calendar day of a Unix time in seconds.
  public init(unixSeconds: Int64) {
    let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
    self.init(daysSinceEpoch: Int(days))
  }
}

extension Character {
  fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
