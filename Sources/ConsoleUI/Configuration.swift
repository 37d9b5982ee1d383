import Foundation
import Compliance
import Imaging
import Video

// MARK: - config.toml

/// Settings read from `$XDG_CONFIG_HOME/csar/config.toml` (every key optional).
///
/// ```toml
/// operator = "alice"         # an operator bound to your OS account (default: your login)
/// theme = "high-contrast"    # built-in name or path to a .toml theme
/// database = "/srv/csar/csar.sqlite"
/// due_soon_days = 60         # window in which a deadline counts as due soon
/// preview_reblur_seconds = 30  # idle seconds before an unblurred preview blurs again
/// break_reminder_after = 25    # unblurred items before a break is suggested
/// lease_minutes = 10           # how long an opened item stays claimed without activity
/// claim_idle_minutes = 5       # an open item is given back after this long without a key
/// preferred_blur = 2           # the blur level `b` jumps to (0 clear … 4 fully blurred)
/// second_hit_window_days = 30  # two confirmed new-material hits within it make a report
/// undo_seconds = 30            # how long `u` can undo the last decision
/// sla_hours_known_match = 24   # decide items of each kind within (overdue items stand out)
/// sla_hours_new_material = 48
/// sla_hours_url_match = 24
/// provider = "Example GmbH"    # provider name written into reports
/// provider_key = "/srv/csar/provider.key"  # pseudonymisation key (default: beside the db)
/// outbox = "/srv/csar/outbox"  # the console exports reports here (default: outbox/ by the db)
/// retention_months = 12        # purge decided items and reports after this many months
/// media_roots = ["/srv/uploads"]  # where media may be read from (default: media/ beside the db)
/// video_max_seconds = 3600     # videos longer than this are refused (scan, hash, serve and
/// video_max_frames = 216000    # ... or with more frames              the console's preview)
/// video_max_pixels = 8294400   # ... or with larger frames (width x height)
/// video_max_decode_seconds = 300  # ... or taking longer to decode (the console: at most 20)
/// animation_max_frames = 100        # frames of a GIF or WebP animation matched (and shown)
/// animation_max_megapixels = 400    # ... and at most this many megapixels of them in all
/// ```
public struct Configuration: Equatable, Sendable {
  public var operatorName: String?
  public var theme: String?
  public var databasePath: String?
  public var dueSoonDays: Int = 60
  public var review = ReviewSettings()
  /// Provider name written into reports.
  public var provider: String?
  /// The pseudonymisation key file (mode 0600; default: beside the database).
  public var providerKeyPath: String?
  /// The folder the console's Reports screen exports to (default: `outbox/` beside the
  /// database).
  public var outbox: String?
  /// Months after which decided items and reports are purged (legal holds exempt).
  public var retentionMonths: Int = 12
  /// Folders media files may be read from (absolute paths); nil: `media/` beside the database.
  public var mediaRoots: [String]?
  /// Caps on the videos and animations `csar scan`, `csar hash`, `csar serve` and the
  /// console decode.
  public var video = VideoCaps()

  public init() {}

  /// `$XDG_CONFIG_HOME/csar/config.toml`, or `~/.config/csar/config.toml`.
  public static func defaultPath(environment: [String: String]) -> String {
    let home = environment["HOME"] ?? NSHomeDirectory()
    let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
      ?? home + "/.config"
    return base + "/csar/config.toml"
  }

  /// Reads a config file; a missing file gives the defaults, a bad one a precise error.
  public static func load(path: String) throws(ConfigurationError) -> Configuration {
    guard FileManager.default.fileExists(atPath: path) else { return Configuration() }
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
      throw ConfigurationError(file: path, key: nil, message: "cannot read the file")
    }
    return try parse(text, file: path)
  }

  /// Parses config text; every problem names the file and key.
  public static func parse(_ text: String, file: String) throws(ConfigurationError)
    -> Configuration
  {
    // The project's own line-aware reader: TOMLKit's parser aborts the process on some
    // malformed keys (found by the fuzz tests), and a config file must never crash csar.
    let (table, errors) = TOMLReader.parse(text)
    if let error = errors.first {
      throw ConfigurationError(file: file, line: error.line, key: nil, message: error.message)
    }
    var config = Configuration()
    for key in table.keys {
      let value = table[key]
      func bad(_ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: value?.line, key: key, message: message)
      }
      switch key {
      case "operator", "theme", "database", "provider", "provider_key", "outbox":
        guard let text = value?.string, !text.isEmpty else {
          throw bad("expected a non-empty string")
        }
        switch key {
        case "operator": config.operatorName = text
        case "theme": config.theme = text
        case "provider": config.provider = text
        case "provider_key": config.providerKeyPath = text
        case "outbox": config.outbox = text
        default: config.databasePath = text
        }
      case "due_soon_days":
        guard let days = value?.int, (1...366).contains(days) else {
          throw bad("expected a number 1-366")
        }
        config.dueSoonDays = days
      case "preview_reblur_seconds":
        guard let seconds = value?.int, (5...3600).contains(seconds) else {
          throw bad("expected seconds 5-3600")
        }
        config.review.reblurAfterSeconds = seconds
      case "break_reminder_after":
        guard let count = value?.int, (1...10_000).contains(count) else {
          throw bad("expected a count 1-10000")
        }
        config.review.breakReminderAfter = count
      case "media_roots":
        guard let list = value?.array, !list.isEmpty,
          case let paths = list.compactMap(\.string), paths.count == list.count,
          paths.allSatisfy({ $0.hasPrefix("/") && !$0.split(separator: "/").contains("..") })
        else {
          throw bad("expected a list of absolute folder paths")
        }
        config.mediaRoots = paths
      case "retention_months":
        guard let months = value?.int, (1...120).contains(months) else {
          throw bad("expected months 1-120")
        }
        config.retentionMonths = months
      case _ where videoNumbers[key] != nil:
        let setting = videoNumbers[key]!
        guard let number = value?.int, setting.range.contains(number) else {
          let range = setting.range
          throw bad("expected \(setting.unit) \(range.lowerBound)-\(range.upperBound)")
        }
        config.video[keyPath: setting.path] = number
      default:
        guard let setting = reviewNumbers[key] else {
          throw bad(
            "unknown key; expected one of "
              + (["operator", "theme", "database", "due_soon_days", "preview_reblur_seconds",
                "break_reminder_after", "provider", "provider_key", "outbox",
                "retention_months", "media_roots"] + reviewNumbers.keys.sorted()
                + videoNumbers.keys.sorted())
              .joined(separator: ", "))
        }
        guard let number = value?.int, setting.range.contains(number) else {
          let range = setting.range
          throw bad("expected \(setting.unit) \(range.lowerBound)-\(range.upperBound)")
        }
        config.review[keyPath: setting.path] = number * setting.scale
      }
    }
    return config
  }
}

// MARK: - Review numbers

extension Configuration {
  /// A whole-number review setting: its allowed range, unit, and where it goes.
  struct ReviewNumber: Sendable {
    let range: ClosedRange<Int>
    let unit: String
    let path: WritableKeyPath<ReviewSettings, Int> & Sendable
    /// Multiplier from the file's unit to the setting's (minutes → seconds).
    var scale = 1
  }

  static let reviewNumbers: [String: ReviewNumber] = [
    "lease_minutes": ReviewNumber(range: 1...120, unit: "minutes", path: \.leaseSeconds, scale: 60),
    "claim_idle_minutes": ReviewNumber(
      range: 1...120, unit: "minutes", path: \.claimIdleSeconds, scale: 60),
    "preferred_blur": ReviewNumber(range: 0...4, unit: "a level", path: \.preferredBlur),
    "second_hit_window_days": ReviewNumber(
      range: 1...365, unit: "days", path: \.secondHitWindowDays),
    "undo_seconds": ReviewNumber(range: 5...600, unit: "seconds", path: \.undoSeconds),
    "sla_hours_known_match": ReviewNumber(
      range: 1...720, unit: "hours", path: \.slaHoursKnownMatch),
    "sla_hours_new_material": ReviewNumber(
      range: 1...720, unit: "hours", path: \.slaHoursNewMaterial),
    "sla_hours_url_match": ReviewNumber(range: 1...720, unit: "hours", path: \.slaHoursURLMatch),
  ]
}

// MARK: - Video caps

/// Caps on one video's decoding (see `video_max_*` in the config file), and on the frames of
/// an animation (`animation_max_*`).
public struct VideoCaps: Equatable, Sendable {
  /// Longest video, in seconds.
  public var maxSeconds = 3600
  /// Most frames.
  public var maxFrames = 216_000
  /// Largest frame, in pixels.
  public var maxPixels = 8_294_400
  /// Longest decoding time, in seconds.
  public var maxDecodeSeconds = 300
  /// Most frames of an animation decoded (and matched, and shown).
  public var animationMaxFrames = FrameLimits.default.maxFrames
  /// Most megapixels of an animation's frames decoded in all.
  public var animationMaxMegapixels = FrameLimits.default.maxTotalPixels / 1_000_000

  /// The defaults.
  public init() {}

  /// The caps as decoder limits (`csar scan`, `hash` and `serve`).
  public var limits: VideoLimits {
    VideoLimits(
      maxPixels: maxPixels, maxSeconds: Double(maxSeconds), maxFrames: maxFrames,
      maxDecodeSeconds: Double(maxDecodeSeconds))
  }

  /// The animation caps as frame limits (`csar scan`, `serve` and the console alike).
  public var frameLimits: FrameLimits {
    FrameLimits(maxFrames: animationMaxFrames, maxTotalPixels: animationMaxMegapixels * 1_000_000)
  }

  /// The caps for the console's preview: the same, with decoding held to at most
  /// ``ContactSheet/videoLimits``' time (20 s), so opening an item never stalls the console
  /// for the minutes a scan may take.
  public var previewLimits: VideoLimits {
    var limits = limits
    limits.maxDecodeSeconds = min(
      limits.maxDecodeSeconds, ContactSheet.videoLimits.maxDecodeSeconds)
    return limits
  }
}

extension Configuration {
  /// A whole-number video cap: its allowed range, unit, and where it goes.
  struct VideoNumber: Sendable {
    let range: ClosedRange<Int>
    let unit: String
    let path: WritableKeyPath<VideoCaps, Int> & Sendable
  }

  static let videoNumbers: [String: VideoNumber] = [
    "video_max_seconds": VideoNumber(range: 1...86_400, unit: "seconds", path: \.maxSeconds),
    "video_max_frames": VideoNumber(range: 1...10_000_000, unit: "frames", path: \.maxFrames),
    "video_max_pixels": VideoNumber(range: 1...100_000_000, unit: "pixels", path: \.maxPixels),
    "video_max_decode_seconds": VideoNumber(
      range: 1...3600, unit: "seconds", path: \.maxDecodeSeconds),
    "animation_max_frames": VideoNumber(
      range: 1...10_000, unit: "frames", path: \.animationMaxFrames),
    "animation_max_megapixels": VideoNumber(
      range: 1...100_000, unit: "megapixels", path: \.animationMaxMegapixels),
  ]
}

/// A config file that cannot be used, naming the file and key.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
  public let file: String
  /// 1-based line of the problem, when known.
  public var line: Int? = nil
  public let key: String?
  public let message: String

  public var description: String {
    let place = line.map { "\(file):\($0)" } ?? file
    if let key { return "\(place): \(key): \(message)" }
    return "\(place): \(message)"
  }
}
