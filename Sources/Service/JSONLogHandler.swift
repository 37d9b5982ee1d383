// Structured logs: one JSON object per line on stderr (what journald and log shippers read).

import Foundation
import Logging
import Store

/// A swift-log handler writing `{"ts","level","msg",...metadata}` lines to stderr. Callers
/// put pseudonyms, never clear account ids, in metadata.
struct JSONLogHandler: LogHandler {
  let label: String
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
    FileHandle.standardError.write(Data((OrderedJSON.object(pairs) + "\n").utf8))
  }

  static func timestamp() -> String {
    Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
  }
}
