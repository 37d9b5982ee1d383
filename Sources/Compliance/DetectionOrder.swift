// MARK: - Detection orders

/// What a detection order lets the provider detect.
public struct DetectionScope: OptionSet, Hashable, Sendable {
  public let rawValue: Int
  public init(rawValue: Int) { self.rawValue = rawValue }

  public static let knownMaterial = DetectionScope(rawValue: 1 << 0)
  public static let newMaterial = DetectionScope(rawValue: 1 << 1)
  public static let grooming = DetectionScope(rawValue: 1 << 2)
  public static let images = DetectionScope(rawValue: 1 << 3)
  public static let videos = DetectionScope(rawValue: 1 << 4)
  public static let urls = DetectionScope(rawValue: 1 << 5)

  /// Each member with its code, in display order.
  public static let named: [(DetectionScope, String)] = [
    (.knownMaterial, "known"), (.newMaterial, "new"), (.grooming, "grooming"),
    (.images, "images"), (.videos, "videos"), (.urls, "urls"),
  ]

  /// Codes of the members, comma-separated (`known,new,images`).
  public var codes: String {
    DetectionScope.named.filter { contains($0.0) }.map(\.1).joined(separator: ",")
  }

  /// Parses comma-separated codes; throws naming the first unknown code.
  public init(codes: String) throws(DomainValueError) {
    var scope: DetectionScope = []
    for code in codes.split(separator: ",").map({ $0.trimmingSpaces }) where !code.isEmpty {
      guard let member = DetectionScope.named.first(where: { $0.1 == code }) else {
        let accepted = DetectionScope.named.map(\.1).joined(separator: ", ")
        throw DomainValueError(field: "scope", value: code, expected: "one of \(accepted)")
      }
      scope.insert(member.0)
    }
    self = scope
  }
}

/// A detection order as issued by an authority to one service.
public struct DetectionOrderTerms: Hashable, Sendable {
  public let authority: String
  public let reference: String
  public let starts: CalendarDate
  public let ends: CalendarDate
  public let scope: DetectionScope
  public let includesEndToEndEncrypted: Bool

  public init(
    authority: String, reference: String, starts: CalendarDate, ends: CalendarDate,
    scope: DetectionScope, includesEndToEndEncrypted: Bool
  ) {
    self.authority = authority
    self.reference = reference
    self.starts = starts
    self.ends = ends
    self.scope = scope
    self.includesEndToEndEncrypted = includesEndToEndEncrypted
  }

  /// Whether the order is in force on a day (start and end inclusive).
  public func isActive(on day: CalendarDate) -> Bool { starts <= day && day <= ends }

  /// Whether the order is in force and ends within `days` days (default 60).
  public func isEndingSoon(on day: CalendarDate, within days: Int = 60) -> Bool {
    isActive(on: day) && day.days(until: ends) <= days
  }
}

extension Substring {
  fileprivate var trimmingSpaces: String {
    String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
  }
}
