// How `csar scan` words a video match.

import Foundation
import Moderation

/// Text for video matches in `csar scan`'s plain output.
enum VideoScanText {
  /// "q 92% c 75%, upload 3.0-9.0 s, known video 0.0-6.0 s".
  static func describe(_ match: VideoMatch) -> String {
    "q \(percent(match.queryPercent)) c \(percent(match.comparedPercent)), upload "
      + span(match.segment) + ", known video " + span(match.bankSegment)
  }

  /// Seconds with one decimal: "12.5 s".
  static func seconds(_ value: Double) -> String { String(format: "%.1f s", value) }

  static func span(_ range: ClosedRange<Double>) -> String {
    String(format: "%.1f-%.1f s", range.lowerBound, range.upperBound)
  }

  static func percent(_ value: Double) -> String { String(format: "%.0f%%", value) }
}
