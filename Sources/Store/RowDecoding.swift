import Compliance
import GRDB

// MARK: - Reading codes and days from rows

extension Row {
  /// Decodes a Compliance code from a column; an unknown code throws a `DomainValueError`
  /// naming `table.column`, never a crash.
  func code<C: DomainCode>(_ type: C.Type, _ column: String, table: String) throws -> C {
    let raw: String? = self[column]
    guard let raw else {
      throw DomainValueError(
        field: "\(table).\(column)", value: "NULL",
        expected: "one of \(C.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return try C(code: raw, field: "\(table).\(column)")
  }

  /// Like ``code(_:_:table:)`` for a nullable column.
  func optionalCode<C: DomainCode>(_ type: C.Type, _ column: String, table: String) throws -> C?
  {
    guard let raw: String = self[column] else { return nil }
    return try C(code: raw, field: "\(table).\(column)")
  }

  /// Decodes a `YYYY-MM-DD` column.
  func day(_ column: String, table: String) throws -> CalendarDate {
    let raw: String? = self[column]
    return try CalendarDate(parsing: raw ?? "NULL", field: "\(table).\(column)")
  }

  /// Decodes a nullable `YYYY-MM-DD` column.
  func optionalDay(_ column: String, table: String) throws -> CalendarDate? {
    guard let raw: String = self[column] else { return nil }
    return try CalendarDate(parsing: raw, field: "\(table).\(column)")
  }
}

extension CalendarDate {
  /// Unix seconds at 00:00 UTC on this day.
  var unixSeconds: Int64 { Int64(daysSinceEpoch) * 86_400 }
}
