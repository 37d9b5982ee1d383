/// A value from outside (a file, a command-line argument, a database column) that the domain
/// does not accept: names the field, the value and what was expected.
public struct DomainValueError: Error, Equatable, Sendable, CustomStringConvertible {
  public let field: String
  public let value: String
  public let expected: String

  public init(field: String, value: String, expected: String) {
    self.field = field
    self.value = value
    self.expected = expected
  }

  public var description: String {
    "\(field): \"\(value)\" is not valid; expected \(expected)"
  }
}

/// An enum stored or exchanged as a short lowercase code (`high`, `granted`, `known_match`).
///
/// Parsing an unknown code throws a ``DomainValueError`` that lists the accepted codes, so an
/// import line or a hand-edited row with a typo is reported precisely rather than guessed at.
public protocol DomainCode: RawRepresentable, CaseIterable, Hashable, Sendable
where RawValue == String {
  /// What the field is called in files and messages (e.g. `category`).
  static var fieldName: String { get }
}

extension DomainCode {
  /// Parses a code, naming the field and the accepted codes when it is unknown.
  public init(code: String, field: String? = nil) throws(DomainValueError) {
    guard let value = Self(rawValue: code) else {
      let accepted = Self.allCases.map(\.rawValue).joined(separator: ", ")
      throw DomainValueError(
        field: field ?? Self.fieldName, value: code, expected: "one of \(accepted)")
    }
    self = value
  }
}
