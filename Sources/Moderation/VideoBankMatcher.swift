// Matching a video's frames against the known videos of the enabled banks, by the vPDQ rule.

import Detection
import Foundation
import Store
import Synchronization

/// A bank video an upload matched by the vPDQ rule.
public struct VideoMatch: Hashable, Sendable {
  /// The stored video (with its bank and thresholds).
  public var video: BankVideoRow
  /// Percent of the upload's unique trusted frames within the distance of a frame of it.
  public var queryPercent: Double
  /// Percent of its unique trusted frames within the distance of an upload frame.
  public var comparedPercent: Double
  /// The upload's first matched frame.
  public var firstFrame: Int
  /// The matched segment of the upload (seconds).
  public var segment: ClosedRange<Double>
  /// The matched segment of the bank video (seconds).
  public var bankSegment: ClosedRange<Double>
}

/// Every frame of the enabled banks' known videos in `VPDQIndex`es (one per frame distance,
/// i.e. per distinct bank PDQ threshold): one index query per upload frame, then counts per
/// video, each video held to its own bank's thresholds. Build once per scan run (or keep one
/// per ``AppDatabase/videoBankStamp()``).
public final class VideoBankMatcher: Sendable {
  /// The banks' stamp the indexes were built for.
  public let stamp: String
  /// Known videos indexed.
  public let videoCount: Int
  /// Frames indexed (unique trusted frames over all videos).
  public let frameCount: Int
  /// Seconds spent reading the frames from the store and building the indexes.
  public let buildSeconds: Double
  private let indexes: [(distance: Int, index: VPDQIndex)]
  private let videos: [Int: BankVideoRow]

  /// Loads every known video of the enabled banks.
  public init(database: AppDatabase) throws {
    let start = Date()
    stamp = try database.videoBankStamp()
    var rows: [Int: BankVideoRow] = [:]
    var byDistance: [Int: [(id: Int, features: [VPDQFeature])]] = [:]
    try database.forEachEnabledBankVideo { row, frames in
      let features = frames.compactMap { frame -> VPDQFeature? in
        guard let hash = PDQHash(hex: frame.hash) else { return nil }
        return VPDQFeature(
          frame: frame.frame, quality: frame.quality, hash: hash, timestamp: frame.timestamp)
      }
      rows[Int(row.id)] = row
      byDistance[row.distance, default: []].append((Int(row.id), features))
    }
    indexes = byDistance.keys.sorted().map { ($0, VPDQIndex(videos: byDistance[$0]!)) }
    videos = rows
    videoCount = rows.count
    frameCount = indexes.reduce(0) { $0 + $1.index.frameCount }
    buildSeconds = Date().timeIntervalSince(start)
  }

  /// The bank videos `features` (an upload's frames) match, best upload share first.
  public func matches(_ features: [VPDQFeature]) -> [VideoMatch] {
    let trusted = VPDQ.trustedFeatures(features)
    guard !trusted.isEmpty else { return [] }
    var found: [VideoMatch] = []
    for (distance, index) in indexes {
      for match in index.query(features, distance: distance) {
        guard let video = videos[match.id],
          match.similarity.matches(
            queryThreshold: video.queryPercent, comparedThreshold: video.comparedPercent)
        else { continue }
        let frames = match.matchedQuery.map { trusted[$0] }
        // Every upload frame showing a matched picture (repeats of a hash included).
        let hashes = Set(frames.map(\.hash))
        let shown = features.filter {
          $0.quality >= VPDQ.minimumQuality && hashes.contains($0.hash)
        }
        let times = shown.map(\.timestamp)
        found.append(
          VideoMatch(
            video: video, queryPercent: match.similarity.queryPercent,
            comparedPercent: match.similarity.comparedPercent,
            firstFrame: shown.first?.frame ?? frames[0].frame,
            segment: (times.min() ?? 0)...(times.max() ?? 0), bankSegment: match.targetSpan))
      }
    }
    return found.sorted {
      ($0.queryPercent, $0.comparedPercent, -$0.video.id)
        > ($1.queryPercent, $1.comparedPercent, -$1.video.id)
    }
  }
}

/// The current ``VideoBankMatcher`` of a database for every gate of a process: rebuilt when
/// the video banks' stamp changed (in any process), built on first use.
public final class LiveVideoBankMatcher: Sendable {
  /// The database the banks live in.
  public let database: AppDatabase
  private let built = Mutex<VideoBankMatcher?>(nil)

  /// Creates it; nothing is loaded until the first video is scanned.
  public init(database: AppDatabase) { self.database = database }

  /// The matcher for the banks as they are now (one small read to check the stamp).
  public func current() throws -> VideoBankMatcher {
    let stamp = try database.videoBankStamp()
    return try built.withLock { matcher in
      if let matcher, matcher.stamp == stamp { return matcher }
      let fresh = try VideoBankMatcher(database: database)
      matcher = fresh
      return fresh
    }
  }
}
