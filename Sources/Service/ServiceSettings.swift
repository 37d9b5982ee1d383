// What `csar serve` is told: where to listen, limits, and where flagged uploads are kept.

import Foundation
import Imaging
import Video

/// The settings of one service process (the executable fills them from its options).
public struct ServiceSettings: Sendable {
  /// Where the service listens.
  public enum Listen: Sendable, Equatable, CustomStringConvertible {
    /// A TCP address (`127.0.0.1:8480`; port 0 picks a free one).
    case tcp(host: String, port: Int)
    /// A Unix domain socket path.
    case unixSocket(String)

    /// Parses `HOST:PORT` (`[::1]:8480` for IPv6); the message names `--listen`.
    public init(parsing text: String) throws(ServiceSettingsError) {
      let bad = ServiceSettingsError(
        field: "--listen", reason: "write HOST:PORT, such as 127.0.0.1:8480")
      guard let colon = text.lastIndex(of: ":") else { throw bad }
      var host = String(text[..<colon])
      if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
      guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]),
        (0...65535).contains(port)
      else { throw bad }
      self = .tcp(host: host, port: port)
    }

    public var description: String {
      switch self {
      case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
      case .unixSocket(let path): "unix:" + path
      }
    }
  }

  /// Where to listen (default `127.0.0.1:8480`: loopback only).
  public var listen = Listen.tcp(host: "127.0.0.1", port: 8480)
  /// Largest request body accepted (bytes); larger ones get 413 without being read.
  public var maxBodyBytes = 32 << 20
  /// Most hashes one `POST /v1/lookup` may ask for.
  public var maxLookupHashes = 1_000
  /// Time one request may take before it is answered 503.
  public var requestTimeout: Duration = .seconds(10)
  /// A kept-alive connection with nothing read or written for this long, and no answer
  /// owed, is closed (a reverse proxy's upstream keep-alive should be shorter).
  public var idleTimeout: Duration = .seconds(60)
  /// A connection whose request head has begun and is not whole within this is answered 408
  /// and closed (the body has `requestTimeout`).
  public var headTimeout: Duration = .seconds(10)
  /// Most client connections open at once; one more takes the place of the connection idle
  /// the longest, or is answered 503 and closed when none is idle (nil: the open-file limit
  /// less a reserve, at most 10,000; see ``ConnectionGate``).
  public var maxConnections: Int?
  /// Threads doing the blocking work (decoding, hashing, SQLite).
  public var workers = max(2, ProcessInfo.processInfo.activeProcessorCount)
  /// Requests that may wait for a worker; beyond workers + this, 503 with `Retry-After`.
  public var queueCapacity = 256
  /// How often the banks' stamp is checked (a change is served within about this).
  public var refreshInterval: Duration = .milliseconds(500)
  /// Whether every successful lookup gets an access log line (failed ones always do; the
  /// metrics count them all).
  public var logLookups = false
  /// Refuse images with more pixels than this (as `csar scan`).
  public var maxPixels = ImageDecoder.defaultMaxPixels
  /// Caps on decoding an uploaded video (config `video_max_*`, as `csar scan`).
  public var videoLimits = VideoLimits.default
  /// Caps on an animation's frames (config `animation_max_*`, as `csar scan`).
  public var frameLimits = FrameLimits.default
  /// The folders media may be read from (classifier events' media must lie inside them).
  public var mediaRoots: MediaRoots
  /// Where uploads that matched a bank are kept for review (a private folder, private
  /// files), inside the media roots so that the console shows them.
  public var uploadsFolder: String

  /// Settings with defaults; matched uploads go to `uploads/` in the first media root unless
  /// `uploadsFolder` says otherwise.
  public init(mediaRoots: MediaRoots, uploadsFolder: String? = nil) {
    self.mediaRoots = mediaRoots
    self.uploadsFolder =
      uploadsFolder ?? ((mediaRoots.folders.first ?? "media") + "/uploads")
  }
}

/// A setting that cannot be used; names the option.
public struct ServiceSettingsError: Error, Sendable, CustomStringConvertible {
  /// The option (`--listen`).
  public var field: String
  /// Why.
  public var reason: String

  public var description: String { "\(field): \(reason)" }
}
