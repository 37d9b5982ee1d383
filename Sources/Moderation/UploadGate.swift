// The upload-moderation gate before transmission: consent first, then hashes and lists.

import Compliance
import Detection
import Foundation
import Imaging
import Store
import Video

// MARK: - Outcomes

/// What the gate decided for one input.
public enum ScanDecision: Hashable, Sendable {
  /// Nothing matched: the upload may go ahead.
  case allowed
  /// The account has not granted consent: visual content and URLs may not be shared.
  case blockedNoConsent(ConsentState)
  /// The account granted consent (its state here) but a twin account, holding its id in
  /// another Unicode form, did not: blocked as if it had not (see
  /// ``ConsentState/mayShareVisualContentAndURLs(twins:)``).
  case blockedByTwin(ConsentState)
  /// A match put an item in the review queue.
  case flagged(kind: FlagKind, itemId: Int64)
  /// A lookup without an uploader matched (nothing is queued).
  case matched(kind: FlagKind)
  /// The input could not be processed.
  case error(String)

  /// One word for scripts: `allowed`, `blocked`, `flagged`, `matched` or `error`.
  public var code: String {
    switch self {
    case .allowed: "allowed"
    case .blockedNoConsent, .blockedByTwin: "blocked"
    case .flagged: "flagged"
    case .matched: "matched"
    case .error: "error"
    }
  }
}

/// Whether an upload may be scanned at all (consent comes before reading anything).
public enum ScanAdmission: Hashable, Sendable {
  /// The account granted consent on the service.
  case granted(ScanSubject)
  /// It did not, or a twin account did not: the upload is blocked, unread.
  case blocked(ScanSubject)
}

/// The gate's answer for one input, with what it computed.
public struct ScanOutcome: Hashable, Sendable {
  /// The input as given.
  public var input: String
  /// Whether the input was taken as a URL (else a file).
  public var isURL: Bool
  /// The decision.
  public var decision: ScanDecision
  /// SHA-256 of a file's bytes (nil for URLs, blocked inputs and unreadable files).
  public var sha256: String?
  /// MD5 of the file's bytes.
  public var md5: String?
  /// SHA-1 of the file's bytes.
  public var sha1: String?
  /// PDQ hash (hex); nil when the file is not a decodable image.
  public var pdq: String?
  /// PDQ quality 0...100.
  public var quality: Int?
  /// Image width, when decoded.
  public var width: Int?
  /// Image height, when decoded.
  public var height: Int?
  /// Trusted bank matches, best first (the first one is on the flagged item).
  public var matches: [KnownMatch] = []
  /// PDQ matches not acted on because the image's PDQ quality is below 50.
  public var untrustedPDQMatches: [KnownMatch] = []
  /// URL list hits, most specific expression first.
  public var urlHits: [URLListHit] = []
  /// The canonical URL.
  public var canonicalURL: String?
  /// Why the file could not be decoded as an image (or video), when its digests still matched.
  public var imageError: String?
  /// For a video: frames hashed (one per second), duration in seconds and frame rate.
  public var video: ScannedVideo?
  /// For an animated image: frames checked.
  public var animation: ScannedAnimation?
  /// The uploader's twin accounts (its id in other Unicode forms) with their consent on the
  /// service: said with every answer for such an account; empty for almost every account.
  public var twins: [TwinConsent] = []

  /// Creates an outcome with nothing computed yet.
  public init(input: String, isURL: Bool, decision: ScanDecision) {
    self.input = input
    self.isURL = isURL
    self.decision = decision
  }

  /// The answer for an input of `subject` that the gate did not admit (nothing of it read).
  public static func blocked(input: String, isURL: Bool, subject: ScanSubject) -> ScanOutcome {
    var outcome = ScanOutcome(
      input: input, isURL: isURL,
      decision: subject.isBlockedByTwin
        ? .blockedByTwin(subject.consent) : .blockedNoConsent(subject.consent))
    outcome.twins = subject.twins
    return outcome
  }
}

/// What the gate learnt about a video upload.
public struct ScannedVideo: Hashable, Sendable {
  /// Frames hashed with PDQ.
  public var hashedFrames: Int
  /// Of those, frames with quality >= 50 (the ones matched against image banks).
  public var trustedFrames: Int
  /// Seconds.
  public var duration: Double
  /// Frames per second.
  public var frameRate: Double
}

/// What the gate learnt about an animated image (GIF, animated WebP).
public struct ScannedAnimation: Hashable, Sendable {
  /// Frames decoded and hashed (the first one included), within the frame limits.
  public var frames: Int
  /// Frames after the first with PDQ quality >= 50 (the ones matched against image banks).
  public var trustedFrames: Int
  /// The file has more frames than the limits let through: they were not checked.
  public var moreFrames: Bool
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
  let mediaRoots: MediaRoots?
  let videoLimits: VideoLimits
  let frameLimits: FrameLimits
  let secondsPerHash: Double
  let groupCommit: GroupCommit?
  private var matcher: BankMatcher?
  /// The known videos of the enabled banks (built on the first video scanned; share one
  /// between gates of a long-running process).
  let videoBanks: LiveVideoBankMatcher
  /// Reused across video and animation frames (images are hashed row by row instead).
  let hasher = PDQHasher()

  /// Creates a gate. The bank index is built on the first file that needs it (or pass one).
  /// With `mediaRoots`, files scanned for an account must lie inside them (their items are
  /// shown in the console, which reads only there); lookups read any regular file.
  public init(
    database: AppDatabase, operatorName: String, dihedral: Bool = false,
    maxPixels: Int = ImageDecoder.defaultMaxPixels, videoLimits: VideoLimits = .default,
    frameLimits: FrameLimits = .default,
    secondsPerHash: Double = 1, matcher: BankMatcher? = nil, mediaRoots: MediaRoots? = nil,
    groupCommit: GroupCommit? = nil, videoBanks: LiveVideoBankMatcher? = nil
  ) {
    self.videoBanks = videoBanks ?? LiveVideoBankMatcher(database: database)
    self.groupCommit = groupCommit
    self.mediaRoots = mediaRoots
    self.database = database
    self.operatorName = operatorName
    self.dihedral = dihedral
    self.maxPixels = maxPixels
    self.videoLimits = videoLimits
    self.frameLimits = frameLimits
    self.secondsPerHash = secondsPerHash
    self.matcher = matcher
  }

  /// Writes review items, grouped when a ``GroupCommit`` was given.
  func createFlaggedItems(_ items: [NewFlaggedItem]) throws -> [Int64] {
    if let groupCommit { return try groupCommit.createFlaggedItems(items, source: "scan") }
    return try database.createFlaggedItems(items, source: "scan", by: operatorName)
  }

  /// The bank matcher (built now if it was not yet; from the snapshot beside the database
  /// when that holds the same banks).
  public func bankMatcher() throws -> BankMatcher {
    if let matcher { return matcher }
    let built = try BankMatcher(
      database: database, snapshot: BankMatcher.snapshotPath(database: database))
    matcher = built
    return built
  }

  /// Whether an input names a URL (it has a `scheme://`) rather than a file.
  public static func isURL(_ input: String) -> Bool {
    guard let range = input.range(of: "://") else { return false }
    let scheme = input[..<range.lowerBound]
    return !scheme.isEmpty && scheme.allSatisfy { $0.isLetter || $0 == "+" || $0 == "-" }
  }

  /// Scans every input for `account` (external id) on `service` (code): without consent
  /// every input is `blockedNoConsent` (one `scan.blocked` event, nothing read); otherwise
  /// matches become review-queue items. Throws only for an unknown service; per-input
  /// problems become `.error` outcomes.
  public func scan(inputs: [String], account: String, service: String) throws -> [ScanOutcome] {
    switch try admit(account: account, service: service, inputs: inputs.count) {
    case .blocked(let subject):
      return inputs.map { .blocked(input: $0, isURL: Self.isURL($0), subject: subject) }
    case .granted(let subject):
      return inputs.map { process($0, subject: subject) }
    }
  }

  /// Whether `account` may upload on `service`: consent is checked before anything of the
  /// upload is read, the account's and every twin account's (see
  /// ``AppDatabase/scanSubject(accountExternalId:serviceCode:)`` for which account an id
  /// names). A refusal is recorded (one `scan.blocked` event for `inputs` inputs).
  /// Throws ``StoreError/notFound(entity:id:)`` for an unknown service.
  public func admit(account: String, service: String, inputs: Int = 1) throws -> ScanAdmission {
    let subject = try database.scanSubject(accountExternalId: account, serviceCode: service)
    guard subject.isAdmitted else {
      if let groupCommit {
        try groupCommit.recordBlockedScan(subject, inputs: inputs)
      } else {
        try database.recordBlockedScan(subject, inputs: inputs, by: operatorName)
      }
      return .blocked(subject)
    }
    return .granted(subject)
  }

  /// Scans an upload's bytes for an admitted subject (see ``admit(account:service:inputs:)``).
  /// `input` names it in the outcome; `keep` stores the bytes of an upload that matched and
  /// returns the path the review item shows (called only on a match, before the item is
  /// written).
  public func scan(
    bytes: [UInt8], input: String, subject: ScanSubject, keep: ([UInt8]) throws -> String
  ) -> ScanOutcome {
    var outcome: ScanOutcome
    do {
      outcome = try scanBytes(bytes, input: input, name: input, subject: subject) {
        try keep(bytes)
      }
    } catch {
      outcome = ScanOutcome(input: input, isURL: false, decision: .error(Self.message(error)))
    }
    outcome.twins = subject.twins
    return outcome
  }

  /// Scans a URL for an admitted subject.
  public func scan(url: String, subject: ScanSubject) -> ScanOutcome {
    process(url, subject: subject)
  }

  /// Looks inputs up without an uploader (an operator checking files or URLs): matches are
  /// reported as `.matched`, nothing is queued and consent does not apply.
  public func lookup(inputs: [String]) -> [ScanOutcome] {
    inputs.map { process($0, subject: nil) }
  }

  func process(_ input: String, subject: ScanSubject?) -> ScanOutcome {
    var outcome: ScanOutcome
    do {
      outcome =
        Self.isURL(input)
        ? try scanURL(input, subject: subject) : try scanFile(input, subject: subject)
    } catch {
      outcome = ScanOutcome(
        input: input, isURL: Self.isURL(input), decision: .error(Self.message(error)))
    }
    outcome.twins = subject?.twins ?? []
    return outcome
  }

  // MARK: - Files

  /// Digests of any file are matched exactly; PDQ needs a decodable image. A file that is not
  /// a decodable image is an error unless its digests matched a bank.
  func scanFile(_ input: String, subject: ScanSubject?) throws -> ScanOutcome {
    // An upload's item records where it lies, absolute, inside the media roots.
    var path = input
    if subject != nil, let mediaRoots {
      path = try mediaRoots.resolve(
        input.hasPrefix("/") ? input : FileManager.default.currentDirectoryPath + "/" + input)
    }
    return try scanBytes(
      ImageDecoder.readFile(path), input: input, name: path, subject: subject
    ) { path }
  }

  /// Digests, PDQ and bank matches of an upload's bytes (`name` names it to the decoders);
  /// `mediaPath` says where a review item finds the media (asked only when something matched
  /// and a subject is given).
  func scanBytes(
    _ bytes: [UInt8], input: String, name path: String, subject: ScanSubject?,
    mediaPath: () throws -> String
  ) throws -> ScanOutcome {
    let digests = FileDigests(of: bytes)
    var outcome = ScanOutcome(input: input, isURL: false, decision: .allowed)
    outcome.sha256 = digests.sha256
    outcome.md5 = digests.md5
    outcome.sha1 = digests.sha1
    let matcher = try bankMatcher()
    let exact = try matcher.exactMatches(digests)
    outcome.matches = exact
    if ImageFormat.sniff(bytes) == nil, VideoContainer.sniff(bytes) != nil {
      return try scanVideo(
        bytes, path: path, outcome: outcome, subject: subject, mediaPath: mediaPath)
    }
    // Hashed as it decodes: the image's pixels are never all in memory.
    let rows = PDQRowHasher()
    let header: ImageHeader
    do {
      header = try ImageDecoder.decodeRows(
        data: bytes, name: path, maxPixels: maxPixels, into: rows)
    } catch {
      outcome.imageError = error.description
      guard !exact.isEmpty else {
        outcome.decision = .error(error.description)
        return outcome
      }
      return try flag(outcome, mediaPath: mediaPath, subject: subject)
    }
    outcome.width = header.width
    outcome.height = header.height
    let pdq: PDQResult
    var variants: PDQDihedralHashes?
    if dihedral {
      let all = rows.dihedralResult()
      variants = all
      pdq = PDQResult(hash: all.original, quality: all.quality)
    } else {
      pdq = rows.result()
    }
    outcome.pdq = pdq.hash.hex
    outcome.quality = pdq.quality
    let perceptual = try matcher.pdqMatches(pdq.hash, dihedral: variants)
    var trusted: [KnownMatch] = []
    if pdq.quality < Self.minimumTrustedQuality {
      outcome.untrustedPDQMatches = perceptual
    } else {
      trusted = perceptual
    }
    // A known image in any frame of an animation matches (the first frame was hashed above).
    if header.format.canAnimate {
      let (frames, animation) = try animationMatches(bytes, name: path, matcher: matcher)
      if animation.frames > 1 || animation.moreFrames { outcome.animation = animation }
      trusted = Self.best(trusted + frames)
    }
    outcome.matches += trusted
    return try flag(outcome, mediaPath: mediaPath, subject: subject)
  }

  /// The closest of several matches of one bank entry (frames of a video or an animation),
  /// best first.
  static func best(_ matches: [KnownMatch]) -> [KnownMatch] {
    var best: [String: KnownMatch] = [:]
    for match in matches {
      let key = "\(match.bank)\u{0}\(match.sourceId ?? "")\u{0}\(match.label ?? "")"
      if let known = best[key], known.distance <= match.distance { continue }
      best[key] = match
    }
    return best.values.sorted { ($0.distance, $0.bank) < ($1.distance, $1.bank) }
  }

  /// An animation (GIF, animated WebP): every frame after the first (which the caller
  /// hashed) within ``frameLimits``, PDQ-hashed; frames of quality 50 or more are matched
  /// against the image banks. Returns their matches and what was checked.
  func animationMatches(
    _ bytes: [UInt8], name: String, matcher: BankMatcher
  ) throws -> (matches: [KnownMatch], animation: ScannedAnimation) {
    var hashes: [PDQHash] = []
    var qualities = 0
    let summary = try ImageDecoder.decodeFrames(
      data: bytes, name: name, maxPixels: maxPixels, limits: frameLimits
    ) { frame, index in
      guard index > 0 else { return true }
      let result = hasher.hash(frame)
      if result.quality >= Self.minimumTrustedQuality {
        hashes.append(result.hash)
        qualities += 1
      }
      return true
    }
    let matches = try hashes.flatMap { try matcher.pdqMatches($0) }
    return (
      matches,
      ScannedAnimation(
        frames: summary.frames, trustedFrames: qualities, moreFrames: summary.moreFrames)
    )
  }

  /// Queues the best match of a file (or reports it, without a subject): the nearest match of
  /// a bank set to report on match, else the nearest match.
  func flag(
    _ scanned: ScanOutcome, mediaPath: () throws -> String, subject: ScanSubject?
  ) throws -> ScanOutcome {
    var outcome = scanned
    // A bank that reports its matches at once wins over nearer matches of review banks.
    if let best = outcome.matches.first(where: { $0.onMatch == .report })
      ?? outcome.matches.first
    {
      guard let subject else {
        outcome.decision = .matched(kind: .knownMatch)
        return outcome
      }
      var item = NewFlaggedItem(
        kind: .knownMatch, priority: 1, serviceId: subject.serviceId,
        accountId: subject.accountId, mediaPath: try mediaPath(), sha256: outcome.sha256,
        md5: outcome.md5, pdq: outcome.pdq, bank: best.bank, label: best.label,
        distance: best.distance, bankVersionId: best.versionId,
        reportOnMatch: best.onMatch == .report)
      item.video = outcome.video.map { Self.videoRecord($0, best: best) }
      let ids = try createFlaggedItems([item])
      outcome.decision = .flagged(kind: .knownMatch, itemId: ids[0])
    }
    return outcome
  }

  // MARK: - URLs

  func scanURL(_ url: String, subject: ScanSubject?) throws -> ScanOutcome {
    let match = try URLListMatcher.match(url, in: database)
    var outcome = ScanOutcome(input: url, isURL: true, decision: .allowed)
    outcome.canonicalURL = match.canonical.description
    outcome.urlHits = match.hits
    if let best = match.hits.first {
      guard let subject else {
        outcome.decision = .matched(kind: .urlMatch)
        return outcome
      }
      let item = NewFlaggedItem(
        kind: .urlMatch, priority: 1, serviceId: subject.serviceId,
        accountId: subject.accountId, url: match.canonical.description, bank: best.list,
        label: best.label)
      let ids = try createFlaggedItems([item])
      outcome.decision = .flagged(kind: .urlMatch, itemId: ids[0])
    }
    return outcome
  }

  /// An error in words (the store's, decoders' and canonicaliser's errors describe themselves).
  static func message(_ error: any Error) -> String { String(describing: error) }
}
