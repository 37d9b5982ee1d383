// Structured logs: one JSON object per line on stderr (what journald and log shippers read).

import Foundation
import Logging
import Store

/// A swift-log handler writing `{"ts","level","msg",...metadata}` lines through `write`
/// (the command line's one writer, to stderr). Callers put pseudonyms, never clear account
/// ids, in metadata.
struct JSONLogHandler: LogHandler {
  let label: String
  let write: @Sendable (String) -> Void
  var logLevel: Logger.Level = .info
  var metadata: Logger.Metadata = [:]

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    var pairs: [(String, JSONValue)] = [
      ("ts", .string(Self.timestamp())), ("level", .string(event.level.rawValue)),
      ("msg", .string(event.message.description)),
    ]
    let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
    for key in merged.keys.sorted() {
      pairs.append((key, .string(merged[key]!.description)))
    }
    write(OrderedJSON.object(pairs))
  }

  /// The time as `2026-11-30T06:28:56.910Z` (UTC, milliseconds). Written by hand: Foundation's
  /// ISO 8601 format style cost more per request than a whole lookup.
  static func timestamp() -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var seconds = now.tv_sec
    var parts = tm()
    gmtime_r(&seconds, &parts)
    var text: [UInt8] = []
    text.reserveCapacity(24)
    func digits(_ value: Int, _ count: Int) {
      var divisor = 1
      for _ in 1..<count { divisor *= 10 }
      while divisor > 0 {
        text.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
        divisor /= 10
      }
    }
    digits(Int(parts.tm_year) + 1900, 4)
    text.append(UInt8(ascii: "-"))
    digits(Int(parts.tm_mon) + 1, 2)
    text.append(UInt8(ascii: "-"))
    digits(Int(parts.tm_mday), 2)
    text.append(UInt8(ascii: "T"))
    digits(Int(parts.tm_hour), 2)
    text.append(UInt8(ascii: ":"))
    digits(Int(parts.tm_min), 2)
    text.append(UInt8(ascii: ":"))
    digits(Int(parts.tm_sec), 2)
    text.append(UInt8(ascii: "."))
    digits(Int(now.tv_nsec) / 1_000_000, 3)
    text.append(UInt8(ascii: "Z"))
    return String(decoding: text, as: UTF8.self)
  }
}
