// Lookup by hash alone, for providers that hash on their own upload workers: the same answer
// from `csar lookup` and the service's `POST /v1/lookup`.

import Detection
import Store

// MARK: - Queries

/// The hash types a lookup takes (SHA-1 is what NCMEC fingerprint lists and some platforms
/// use).
public enum LookupHashType: String, Sendable, CaseIterable {
  case pdq, md5, sha256, sha1

  /// Hex digits of a hash of this type.
  public var hexLength: Int {
    switch self {
    case .pdq, .sha256: 64
    case .md5: 32
    case .sha1: 40
    }
  }
}

/// One hash to look up: its type and lowercase hex digits.
public struct HashQuery: Hashable, Sendable {
  /// The type.
  public var type: LookupHashType
  /// Lowercase hex.
  public var value: String

  /// Checks `type` and `value`; `field` names them in an error (such as `hashes[3]`).
  public init(type: String, value: String, field: String) throws(HashQueryError) {
    guard let known = LookupHashType(rawValue: type.lowercased()) else {
      throw HashQueryError(
        field: field + ".type",
        reason: "unknown hash type \"\(DisplayText.clean(type))\" (use pdq, md5, sha256 or sha1)")
    }
    let hex = value.lowercased()
    guard hex.utf8.count == known.hexLength,
      hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
    else {
      throw HashQueryError(
        field: field + ".value",
        reason: "a \(known.rawValue) hash is \(known.hexLength) hex digits")
    }
    self.type = known
    self.value = hex
  }

  /// Parses `TYPE:HEX` (the command line's form).
  public init(parsing text: String, field: String) throws(HashQueryError) {
    guard let colon = text.firstIndex(of: ":") else {
      throw HashQueryError(field: field, reason: "write TYPE:HEX, such as pdq:<64 hex digits>")
    }
    try self.init(
      type: String(text[..<colon]), value: String(text[text.index(after: colon)...]),
      field: field)
  }
}

/// A hash query that cannot be looked up; names the field (`hashes[2].value`, an argument).
public struct HashQueryError: Error, Hashable, Sendable, CustomStringConvertible {
  /// Which field was wrong.
  public var field: String
  /// Why.
  public var reason: String

  /// Creates an error.
  public init(field: String, reason: String) {
    self.field = field
    self.reason = reason
  }

  public var description: String { "\(field): \(reason)" }
}

// MARK: - Results

/// What one hash matched: every enabled bank entry within its bank's threshold (PDQ) or
/// equal (digests), nearest first.
public struct HashLookupResult: Hashable, Sendable {
  /// The query.
  public var query: HashQuery
  /// The matches.
  public var matches: [KnownMatch]

  /// `{"type","value","matches":[{"bank","distance","label","source_id","type"}]}`.
  public var jsonLine: String {
    var bytes: [UInt8] = []
    writeJSON(to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Appends ``jsonLine``'s UTF-8 bytes to `out`.
  public func writeJSON(to out: inout [UInt8]) {
    OrderedJSON.write(
      [
        ("type", .string(query.type.rawValue)), ("value", .string(query.value)),
        ("matches", .array(matches.map { $0.json })),
      ], to: &out)
  }
}

extension BankMatcher {
  /// Looks hashes up in the enabled banks (nothing is queued or recorded).
  public func lookup(_ queries: [HashQuery]) throws -> [HashLookupResult] {
    try lookup(queries, hits: indexHits(queries))
  }

  /// The in-memory half of a lookup: each PDQ query's index hits (nil for a digest, which
  /// only the store answers). Reads nothing from the store.
  public func indexHits(_ queries: [HashQuery]) -> [[PDQMatch]?] {
    queries.map { query in
      guard query.type == .pdq else { return nil }
      guard index.count > 0, let hash = PDQHash(hex: query.value) else { return [] }
      return index.query(hash, maxDistance: maxThreshold)
    }
  }

  /// The lookup's results given ``indexHits(_:)`` of the same queries; the hits' bank
  /// entries are read through `entries` when given (see ``BankEntryReader``).
  public func lookup(
    _ queries: [HashQuery], hits: [[PDQMatch]?], entries: BankEntryReader? = nil
  ) throws -> [HashLookupResult] {
    try zip(queries, hits).map { query, found in
      let matches: [KnownMatch]
      switch query.type {
      case .pdq: matches = try self.matches(ofIndexHits: found ?? [], entries: entries)
      case .md5: matches = try exactMatches(type: .md5, hash: query.value)
      case .sha256: matches = try exactMatches(type: .sha256, hash: query.value)
      case .sha1: matches = try exactMatches(type: .sha1, hash: query.value)
      }
      return HashLookupResult(query: query, matches: matches)
    }
  }
}
