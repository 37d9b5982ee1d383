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

  static func timestamp() -> String {
    Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
  }
}
