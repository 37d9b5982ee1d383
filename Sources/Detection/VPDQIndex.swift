// vPDQ matching against many videos: every bank video's unique trusted frames in one PDQ index,
// one query per query frame, then counts per video (the brute-force rule's result, exactly).

import Foundation

/// The frames of many known videos, indexed for the vPDQ rule.
public struct VPDQIndex: Sendable {
  /// A video the query matched, with both shares.
  public struct Match: Sendable, Equatable {
    /// The caller's identifier of the video.
    public var id: Int
    /// q% and c%.
    public var similarity: VPDQSimilarity
    /// Indices (into ``VPDQ/trustedFeatures(_:minimumQuality:)`` of the query) of the query's
    /// unique trusted frames that found this video, ascending.
    public var matchedQuery: [Int]
    /// Earliest and latest time (seconds) of this video's frames that were found.
    public var targetSpan: ClosedRange<Double>
  }

  private let frames: PDQIndex
  /// Video ordinal of each indexed frame.
  private let frameVideo: [Int32]
  /// Time (seconds) of each indexed frame (the first frame with that hash in its video).
  private let frameTime: [Double]
  private let videoIds: [Int]
  /// Unique trusted frames per video.
  private let videoFrames: [Int32]

  /// Number of videos.
  public var videoCount: Int { videoIds.count }
  /// Number of indexed frames (unique trusted frames over all videos).
  public var frameCount: Int { frameVideo.count }

  /// Indexes each video's unique frames of quality >= `minimumQuality`.
  public init(
    videos: some Sequence<(id: Int, features: [VPDQFeature])>,
    minimumQuality: Int = VPDQ.minimumQuality
  ) {
    var words: [UInt64] = []
    var owners: [Int32] = []
    var times: [Double] = []
    var ids: [Int] = []
    var counts: [Int32] = []
    for (id, features) in videos {
      let unique = VPDQ.trustedFeatures(features, minimumQuality: minimumQuality)
      for feature in unique {
        let words4 = feature.hash.words
        words += [words4[0], words4[1], words4[2], words4[3]]
        owners.append(Int32(ids.count))
        times.append(feature.timestamp)
      }
      ids.append(id)
      counts.append(Int32(unique.count))
    }
    frames = PDQIndex(words: words, ids: Array(0..<owners.count))
    frameVideo = owners
    frameTime = times
    videoIds = ids
    videoFrames = counts
  }

  /// Every video with at least one frame within `distance` of a trusted query frame, with q%
  /// and c% as `VPDQ.similarity` computes them; best q% first.
  public func query(
    _ features: [VPDQFeature], distance: Int = VPDQ.defaultDistance,
    minimumQuality: Int = VPDQ.minimumQuality
  ) -> [Match] {
    let query = VPDQ.trustedHashes(features, minimumQuality: minimumQuality)
    guard !query.isEmpty else { return [] }
    // Per video: which query frames found it, and which of its frames were found.
    var queryHits: [Int32: Set<Int>] = [:]
    var frameHits: [Int32: Set<Int>] = [:]
    for (q, hash) in query.enumerated() {
      for hit in frames.query(hash, maxDistance: distance) {
        let video = frameVideo[hit.id]
        queryHits[video, default: []].insert(q)
        frameHits[video, default: []].insert(hit.id)
      }
    }
    return queryHits.map { video, hits in
      let found = frameHits[video] ?? []
      let times = found.map { frameTime[$0] }
      return Match(
        id: videoIds[Int(video)],
        similarity: VPDQSimilarity(
          queryPercent: Double(hits.count) * 100 / Double(query.count),
          comparedPercent: Double(found.count) * 100 / Double(videoFrames[Int(video)])),
        matchedQuery: hits.sorted(),
        targetSpan: (times.min() ?? 0)...(times.max() ?? 0))
    }.sorted {
      ($0.similarity.queryPercent, -$0.id) > ($1.similarity.queryPercent, -$1.id)
    }
  }
}

// MARK: - Hash files

/// A line or entry of a vPDQ hash file that cannot be read.
public struct VPDQParseError: Error, Sendable, Equatable, CustomStringConvertible {
  /// 1-based line (sample-hash files) or entry (threatexchange JSON).
  public var line: Int
  /// What is wrong.
  public var reason: String

  /// Creates an error.
  public init(line: Int, reason: String) {
    self.line = line
    self.reason = reason
  }

  /// "line N: reason".
  public var description: String { "line \(line): \(reason)" }
}

extension VPDQ {
  /// Reads ThreatExchange's sample-hash format: one frame a line, `frame,quality,hex,timestamp`
  /// (blank lines ignored).
  public static func parseSampleHashes(_ text: String) throws(VPDQParseError) -> [VPDQFeature] {
    var features: [VPDQFeature] = []
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
    {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.isEmpty { continue }
      let parts = line.split(separator: ",", omittingEmptySubsequences: false)
      guard parts.count == 4, let frame = Int(parts[0]), frame >= 0 else {
        throw VPDQParseError(line: index + 1, reason: "expected frame,quality,pdq,timestamp")
      }
      features.append(try feature(
        hex: parts[2], quality: parts[1], timestamp: parts[3], frame: frame, line: index + 1))
    }
    return features
  }

  /// Reads python-threatexchange's vPDQ signal: a JSON array of `"hex,quality,timestamp"`
  /// strings (frames numbered from 0 in order).
  public static func parseThreatExchange(_ text: String) throws(VPDQParseError) -> [VPDQFeature]
  {
    let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8))
    guard let entries = parsed as? [Any] else {
      throw VPDQParseError(line: 1, reason: "expected a JSON array of \"hex,quality,timestamp\"")
    }
    var features: [VPDQFeature] = []
    for (index, entry) in entries.enumerated() {
      let parts = (entry as? String)?.split(separator: ",", omittingEmptySubsequences: false)
      guard let parts, parts.count == 3 else {
        throw VPDQParseError(line: index + 1, reason: "expected a string \"hex,quality,timestamp\"")
      }
      features.append(try feature(
        hex: parts[0], quality: parts[1], timestamp: parts[2], frame: index, line: index + 1))
    }
    return features
  }

  /// One frame from the three text fields of a hash file (`line` names it in an error).
  public static func feature(
    hex: Substring, quality: Substring, timestamp: Substring, frame: Int, line: Int
  ) throws(VPDQParseError) -> VPDQFeature {
    guard hex.count == 64, let hash = PDQHash(hex: hex) else {
      throw VPDQParseError(line: line, reason: "not a PDQ hash (64 hex digits)")
    }
    guard let q = Int(quality), (0...100).contains(q) else {
      throw VPDQParseError(line: line, reason: "quality must be 0-100")
    }
    guard let t = Double(timestamp), t.isFinite, t >= 0 else {
      throw VPDQParseError(line: line, reason: "timestamp must be seconds >= 0")
    }
    return VPDQFeature(frame: frame, quality: q, hash: hash, timestamp: t)
  }
}
