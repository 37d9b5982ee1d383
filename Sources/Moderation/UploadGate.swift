// The upload-moderation gate before transmission: consent first, then hashes and lists.

import Compliance
import Detection
import Foundation
import Imaging
import Store

// MARK: - Outcomes

/// What the gate decided for one input.
public enum ScanDecision: Hashable, Sendable {
  /// Nothing matched: the upload may go ahead.
  case allowed
  /// The account has not granted consent: visual content and URLs may not be shared.
  case blockedNoConsent(ConsentState)
  /// A match put an item in the review queue.
  case flagged(kind: FlagKind, itemId: Int64)
  /// The input could not be processed.
  case error(String)
}

/// The gate's answer for one input, with what it computed.
public struct ScanOutcome: Hashable, Sendable {
  /// The input as given.
  public var input: String
  /// Whether the input was taken as a URL (else a file).
  public var isURL: Bool
  /// The decision.
  public var decision: ScanDecision
  /// SHA-256, MD5 and PDQ of a file (nil for URLs, blocked inputs and errors).
  public var sha256: String?
  /// MD5 of the file.
  public var md5: String?
  /// PDQ hash (hex).
  public var pdq: String?
  /// PDQ quality 0...100.
  public var quality: Int?
  /// Trusted bank matches, best first (the first one is on the flagged item).
  public var matches: [KnownMatch] = []
  /// PDQ matches not acted on because the image's PDQ quality is below 50.
  public var untrustedPDQMatches: [KnownMatch] = []
  /// URL list hits, most specific expression first.
  public var urlHits: [URLListHit] = []
  /// The canonical URL.
  public var canonicalURL: String?
}

// MARK: - The gate

/// Scans uploads for one account on one service: consent, hashes, banks, URL lists, and
/// review-queue items for matches (audited under `operatorName`).
public final class UploadGate {
  /// Below this PDQ quality a perceptual match is reported but not acted on.
  public static let minimumTrustedQuality = 50

  let database: AppDatabase
  let operatorName: String
  let dihedral: Bool
  let maxPixels: Int
  private var matcher: BankMatcher?
  private let hasher = PDQHasher()

  /// Creates a gate. The bank index is built on the first file that needs it (or pass one).
  public init(
    database: AppDatabase, operatorName: String, dihedral: Bool = false,
    maxPixels: Int = ImageDecoder.defaultMaxPixels, matcher: BankMatcher? = nil
  ) {
    self.database = database
    self.operatorName = operatorName
    self.dihedral = dihedral
    self.maxPixels = maxPixels
    self.matcher = matcher
  }

  /// The bank matcher (built now if it was not yet).
  public func bankMatcher() throws -> BankMatcher {
    if let matcher { return matcher }
    let built = try BankMatcher(database: database)
    matcher = built
    return built
  }

  /// Whether an input names a URL (it has a `scheme://`) rather than a file.
  public static func isURL(_ input: String) -> Bool {
    guard let range = input.range(of: "://") else { return false }
    let scheme = input[..<range.lowerBound]
    return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0 == "+" || $0 == "-" }
  }

  /// Scans every input for `account` (external id) on `service` (code). Throws only for an
  /// unknown account or service; per-input problems become `.error` outcomes.
  public func scan(inputs: [String], account: String, service: String) throws -> [ScanOutcome] {
    let subject = try database.scanSubject(accountExternalId: account, serviceCode: service)
    guard subject.consent == .granted else {
      try database.recordBlockedScan(subject, inputs: inputs.count, by: operatorName)
      return inputs.map {
        ScanOutcome(input: $0, isURL: Self.isURL($0), decision: .blockedNoConsent(subject.consent))
      }
    }
    return inputs.map { input in
      do {
        return Self.isURL(input)
          ? try scanURL(input, subject: subject) : try scanFile(input, subject: subject)
      } catch {
        return ScanOutcome(
          input: input, isURL: Self.isURL(input), decision: .error(Self.message(error)))
      }
    }
  }

  // MARK: - Files

  func scanFile(_ path: String, subject: ScanSubject) throws -> ScanOutcome {
    let bytes = try ImageDecoder.readFile(path)
    let digests = FileDigests(of: bytes)
    let decoded = try ImageDecoder.decode(data: bytes, name: path, maxPixels: maxPixels)
    let pdq: PDQResult
    var variants: PDQDihedralHashes?
    if dihedral {
      let all = hasher.dihedralHashes(decoded.image)
      variants = all
      pdq = PDQResult(hash: all.original, quality: all.quality)
    } else {
      pdq = hasher.hash(decoded.image)
    }
    var outcome = ScanOutcome(
      input: path, isURL: false, decision: .allowed, sha256: digests.sha256, md5: digests.md5,
      pdq: pdq.hash.hex, quality: pdq.quality)
    let matcher = try bankMatcher()
    let exact = try matcher.exactMatches(sha256: digests.sha256, md5: digests.md5)
    let perceptual = try matcher.pdqMatches(pdq.hash, dihedral: variants)
    if pdq.quality < Self.minimumTrustedQuality {
      outcome.matches = exact
      outcome.untrustedPDQMatches = perceptual
    } else {
      outcome.matches = exact + perceptual
    }
    if let best = outcome.matches.first {
      let item = NewFlaggedItem(
        kind: .knownMatch, priority: 1, serviceId: subject.serviceId,
        accountId: subject.accountId, mediaPath: path, sha256: digests.sha256,
        md5: digests.md5, pdq: pdq.hash.hex, bank: best.bank, label: best.label,
        distance: best.distance)
      let ids = try database.createFlaggedItems([item], source: "scan", by: operatorName)
      outcome.decision = .flagged(kind: .knownMatch, itemId: ids[0])
    }
    return outcome
  }

  // MARK: - URLs

  func scanURL(_ url: String, subject: ScanSubject) throws -> ScanOutcome {
    let canonical = try URLCanonicalizer.parse(url)
    var outcome = ScanOutcome(
      input: url, isURL: true, decision: .allowed, canonicalURL: canonical.description)
    outcome.urlHits = try database.urlListHits(expressions: canonical.lookupExpressions)
    if let best = outcome.urlHits.first {
      let item = NewFlaggedItem(
        kind: .urlMatch, priority: 1, serviceId: subject.serviceId,
        accountId: subject.accountId, url: canonical.description, bank: best.list,
        label: best.label)
      let ids = try database.createFlaggedItems([item], source: "scan", by: operatorName)
      outcome.decision = .flagged(kind: .urlMatch, itemId: ids[0])
    }
    return outcome
  }

  static func message(_ error: any Error) -> String {
    if let error = error as? any CustomStringConvertible { return error.description }
    return "\(error)"
  }
}
