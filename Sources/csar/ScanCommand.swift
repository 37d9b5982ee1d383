// `csar scan [--account ID --service CODE] [--json] [--dihedral] PATH|URL...`: the upload gate.

import ArgumentParser
import Compliance
import ConsoleUI
import Imaging
import Moderation
import Store
import TextSafety

/// The upload-moderation gate before transmission: consent, hashes, banks and URL lists.
struct ScanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "scan",
    abstract: "Scan uploads (files or URLs) before transmission; queue matches for review.",
    discussion: """
      With --account (the provider's account id) the scan is the upload gate for that \
      account on --service (optional when the database has one service): an account that \
      has not granted consent on the service gets "blocked: no consent" for every input \
      (nothing is read). Otherwise each file is hashed (SHA-256, MD5, PDQ) and matched \
      against the enabled banks (digests exactly, PDQ within each bank's threshold; with \
      --dihedral also rotated and flipped), each URL against the enabled URL lists, and a \
      match becomes a review-queue item (files scanned for an account must lie inside the \
      media roots: config media_roots, default the media folder beside the database). PDQ \
      matches of images with quality below 50 are reported, not queued. Without --account \
      the scan is a lookup: matches are reported as `matched` and nothing is queued.
      Plain output, one line per input: INPUT<TAB>DECISION<TAB>DETAIL, DECISION being \
      allowed, flagged, matched, blocked or error. With --json, one object per line: \
      {"input","type","decision",...} with "reason" and "consent" (blocked), "item" and \
      "kind" (flagged), "sha256","md5","sha1","pdq","quality","width","height","matches",\
      "untrusted_pdq_matches" (files), "canonical","matches" (URLs), "error". Exits 1 if an \
      input could not be scanned.
      An account id spelt byte for byte as a stored account's names that account, any other \
      spelling the account holding the id in NFC. When twin accounts hold the id in another \
      Unicode form (see `csar consent twins`), each is named on stderr with its consent, \
      the JSON carries "twins":[{"account","pseudonym","consent"}], and the upload is \
      scanned only when the account and every twin granted consent (else blocked: a twin \
      account has not granted consent).
      """)

  @Option(name: .long, help: "The uploading account (provider id).")
  var account: String?

  @Option(name: .long, help: "The service code the upload goes to.")
  var service: String?

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  @Flag(name: .long, help: "Also match the eight rotations and flips of each image.")
  var dihedral = false

  @Option(name: .long, help: "Refuse images with more pixels than this.")
  var maxPixels = ImageDecoder.defaultMaxPixels

  @OptionGroup var options: ModerationOptions

  @Argument(help: "Image or video files, or URLs (anything with scheme://).")
  var inputs: [String]

  func validate() throws {
    if service != nil, account == nil {
      throw ValidationError("--service needs --account (the uploader whose consent applies)")
    }
  }

  func run() throws {
    let setup = try options.setup()
    let database = setup.database
    let gate = UploadGate(
      database: database, operatorName: try setup.operatorName(options.operator),
      dihedral: dihedral, maxPixels: maxPixels, videoLimits: setup.configuration.video.limits,
      frameLimits: setup.configuration.video.frameLimits, mediaRoots: setup.mediaRoots)
    let outcomes: [ScanOutcome]
    if let account {
      let service = try serviceCode(database)
      outcomes = try gate.scan(inputs: inputs, account: account, service: service)
      for line in Self.twinLines(outcomes.first?.twins ?? [], account: account, service: service)
      {
        Output.error(line)
      }
    } else {
      outcomes = gate.lookup(inputs: inputs)
    }
    for outcome in outcomes {
      print(json ? outcome.jsonLine : Self.line(outcome))
    }
    if outcomes.contains(where: { $0.decision.code == "error" }) { throw ExitCode(1) }
  }

  /// `--service`, or the only service there is.
  func serviceCode(_ database: AppDatabase) throws -> String {
    if let service { return service }
    let codes = try database.serviceCodes()
    guard codes.count == 1 else {
      throw RiskCommandError(
        "--service is needed: the database has \(codes.count) services ("
          + codes.prefix(8).joined(separator: ", ") + (codes.count > 8 ? ", …" : "") + ")")
    }
    return codes[0]
  }

  // MARK: - Output

  static func line(_ outcome: ScanOutcome) -> String {
    let input = DisplayText.escapingControls(outcome.input)
    switch outcome.decision {
    case .blockedNoConsent(let state):
      return "\(input)\tblocked: no consent\t(consent \(state.rawValue))"
    case .blockedByTwin(let state):
      let twins = outcome.twins.filter { $0.consent != .granted }
        .map { "twin \($0.account.pseudonym) \($0.consent.rawValue)" }
      return "\(input)\tblocked: \(ScanSubject.twinReason)\t(consent \(state.rawValue); "
        + twins.joined(separator: ", ") + ")"
    case .error(let message):
      return "\(input)\terror\t" + DisplayText.escapingControls(message)
    case .allowed:
      if outcome.isURL { return "\(input)\tallowed\tno URL list match" }
      var detail = "no match"
      if let pdq = outcome.pdq, let quality = outcome.quality {
        detail += "; pdq \(pdq) quality \(quality)"
      }
      if let video = outcome.video {
        detail += "; video, \(video.hashedFrames) frames hashed (\(video.trustedFrames) trusted)"
      }
      if let weak = outcome.untrustedPDQMatches.first {
        detail += "; untrusted PDQ match (quality < 50): " + describe(weak)
      }
      return "\(input)\tallowed\t\(detail)"
    case .flagged(let kind, let itemId):
      return "\(input)\tflagged\t\(kind.rawValue) item \(itemId): " + best(outcome)
    case .matched(let kind):
      return "\(input)\tmatched\t\(kind.rawValue): " + best(outcome)
    }
  }

  /// One stderr line per twin account of the uploader (none for almost every account): who
  /// holds the id in which other form, and its consent on the service.
  static func twinLines(_ twins: [TwinConsent], account: String, service: String) -> [String] {
    twins.map { twin in
      let forms = SafeText.differingCodePoints([twin.account.externalId, account])
      return "twin: account \(twin.account.pseudonym) holds this id in another Unicode form "
        + "(\(forms[0]) there, \(forms[1]) as given), consent \(twin.consent.rawValue) on "
        + "\(service); uploads are scanned only when every twin granted consent "
        + "(csar consent twins)"
    }
  }

  static func best(_ outcome: ScanOutcome) -> String {
    if let hit = outcome.urlHits.first { return line(hit) }
    guard let match = outcome.matches.first else { return "" }
    let more = outcome.matches.count - 1
    return describe(match) + (more > 0 ? " (+\(more) more)" : "")
  }

  static func describe(_ match: KnownMatch) -> String {
    if let video = match.video {
      return "bank \(DisplayText.escapingControls(match.bank)) vpdq "
        + "\"\(DisplayText.escapingControls(match.label ?? video.video.name))\" "
        + VideoScanText.describe(video)
    }
    var text = "bank \(DisplayText.escapingControls(match.bank)) \(match.type.rawValue)"
    if match.type == .pdq { text += " distance \(match.distance)" }
    if let label = match.label { text += " \"\(DisplayText.escapingControls(label))\"" }
    if let frame = match.frame, let at = match.segment?.lowerBound {
      text += " at frame \(frame) (" + VideoScanText.seconds(at) + ")"
    }
    return text
  }

  /// A URL list hit as LIST<TAB>EXPRESSION<TAB>LABEL.
  static func line(_ hit: URLListHit) -> String {
    [hit.list, hit.expression, hit.label ?? "-"].map(DisplayText.escapingControls)
      .joined(separator: "\t")
  }
}
