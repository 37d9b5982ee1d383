import Testing

@testable import Compliance

@Suite("Calendar dates")
struct CalendarDateTests {
  func day(_ text: String) throws -> CalendarDate { try CalendarDate(parsing: text) }

  @Test func parsesAndPrintsISODates() throws {
    #expect(try day("2024-02-29").description == "2024-02-29")
    #expect(try day("0999-01-05").description == "0999-01-05")
  }

  @Test(arguments: [
    "2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "24-01-01", "2024-1-01",
    "2024/01/01", "", "2024-01-01T00:00", "２０２４-01-01", "2024-01-0a",
  ])
  func rejectsInvalidDates(_ text: String) {
    #expect(throws: DomainValueError.self) { try CalendarDate(parsing: text) }
  }

  @Test func errorNamesFieldAndValue() {
    do {
      _ = try CalendarDate(parsing: "2023-02-29", field: "completed_on")
      Issue.record("expected an error")
    } catch {
      #expect(error.description.contains("completed_on"))
      #expect(error.description.contains("2023-02-29"))
    }
  }

  @Test(arguments: [
    ("2024-01-31", 1, "2024-02-29"),
    ("2023-01-31", 1, "2023-02-28"),
    ("2024-02-29", 12, "2025-02-28"),
    ("2024-02-29", 48, "2028-02-29"),
    ("2024-03-31", 1, "2024-04-30"),
    ("2024-12-15", 1, "2025-01-15"),
    ("2024-11-30", 3, "2025-02-28"),
    ("2023-05-31", 24, "2025-05-31"),
    ("2024-08-31", 36, "2027-08-31"),
    ("2025-03-31", -1, "2025-02-28"),
    ("2100-01-31", 1, "2100-02-28"),
    ("2000-01-31", 1, "2000-02-29"),
  ])
  func addsCalendarMonthsClampingToMonthEnd(start: String, months: Int, expected: String)
    throws
  {
    #expect(try day(start).adding(months: months) == day(expected))
  }

  @Test func leapYears() {
    #expect(CalendarDate.isLeap(2024))
    #expect(!CalendarDate.isLeap(2023))
    #expect(!CalendarDate.isLeap(1900))
    #expect(CalendarDate.isLeap(2000))
  }

  @Test func dayCountsRoundTrip() throws {
    #expect(try day("1970-01-01").daysSinceEpoch == 0)
    #expect(try day("2000-03-01").daysSinceEpoch == 11_017)
    #expect(try day("1969-12-31").daysSinceEpoch == -1)
    var date = try day("1999-12-25")
    for _ in 0..<1_000 {
      let next = date.adding(days: 1)
      #expect(date.days(until: next) == 1)
      #expect(CalendarDate(daysSinceEpoch: next.daysSinceEpoch) == next)
      #expect(next > date)
      date = next
    }
    #expect(date == (try day("2002-09-20")))
  }

  @Test func unixSecondsGiveTheUTCDay() throws {
    #expect(CalendarDate(unixSeconds: 0) == (try day("1970-01-01")))
    #expect(CalendarDate(unixSeconds: 1_709_251_199) == (try day("2024-02-29")))
    #expect(CalendarDate(unixSeconds: -1) == (try day("1969-12-31")))
  }
}
