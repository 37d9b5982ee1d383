// vPDQ, as ThreatExchange defines it: the PDQ hash of selected frames of a video, and the rule
// that matches two such lists.

import Foundation
import Imaging
import Video

// MARK: - Features

/// The PDQ hash of one video frame, with where it sits in the video.
public struct VPDQFeature: Sendable, Equatable, Hashable {
  /// 0-based frame number in decoding order.
  public var frame: Int
  /// PDQ quality 0...100.
  public var quality: Int
  /// The frame's PDQ hash.
  public var hash: PDQHash
  /// Seconds from the start: frame / frame rate, computed in single precision as upstream.
  public var timestamp: Double

  /// Creates a feature.
  public init(frame: Int, quality: Int, hash: PDQHash, timestamp: Double) {
    self.frame = frame
    self.quality = quality
    self.hash = hash
    self.timestamp = timestamp
  }
}

/// Everything `csar hash` and the upload gate compute for one video file.
public struct VideoHashes: Sendable {
  /// What the container says.
  public var info: VideoInfo
  /// SHA-256 and MD5 of the file's bytes.
  public var digests: FileDigests
  /// One feature per selected frame, in frame order.
  public var features: [VPDQFeature]
  /// Frames decoded (selected or not).
  public var decodedFrames: Int
  /// Every `frameMod`-th frame was hashed.
  public var frameMod: Int

  /// The container's duration, else decoded frames / frame rate.
  public var duration: Double {
    info.duration ?? Double(decodedFrames) / info.frameRate
  }
}

// MARK: - Hashing

/// vPDQ hashing: frame selection as upstream, PDQ of each whole frame.
public enum VideoHasher {
  /// Hash every `frameMod`-th frame: `max(1, Int(secondsPerHash * fps))`, as upstream (0 seconds
  /// per hash hashes every frame).
  public static func frameMod(secondsPerHash: Double, frameRate: Double) -> Int {
    let product = secondsPerHash * frameRate
    guard product.isFinite, product >= 1 else { return 1 }
    return product >= Double(Int32.max) ? Int(Int32.max) : Int(product)
  }

  /// Digests, decodes and hashes a video held in memory; `name` identifies it in errors.
  public static func hash(
    data: [UInt8], name: String, secondsPerHash: Double = 1, limits: VideoLimits = .default,
    hasher: PDQHasher? = nil
  ) throws(MediaDecodingError) -> VideoHashes {
    let reader = try VideoReader(data: data, name: name, limits: limits)
    let mod = frameMod(secondsPerHash: secondsPerHash, frameRate: reader.info.frameRate)
    let pipeline = FrameHashPipeline(
      digesting: data, hasher: hasher ?? PDQHasher(), frameRate: Float(reader.info.frameRate))
    // Drained on every exit, a decoding error included, before the hasher goes out of use.
    defer { pipeline.drain() }
    while let frame = try reader.next(frameMod: mod) {
      pipeline.submit(frame)
    }
    let (digests, features) = pipeline.finish()
    return VideoHashes(
      info: reader.info, digests: digests, features: features,
      decodedFrames: reader.decodedFrames, frameMod: mod)
  }
}

// MARK: - Decoding and hashing side by side

/// Hashes the frames a video reader hands over on a serial queue of its own, while the
/// caller's thread goes on decoding: upstream's vpdq hashes on worker threads while FFmpeg
/// decodes, and the same work done one frame after the other was 7% slower in wall time on
/// 2 cores (decode 3.8 s, hash 0.45 s of CPU for a 60 s 720p video). The file's digests are
/// computed on the same queue first. At most `depth` frames wait for their hash, so memory
/// stays a few frames whatever the video's length.
final class FrameHashPipeline: @unchecked Sendable {
  // Safety: `hasher`, `digests` and `features` are touched only by blocks on `queue` (serial)
  // and, after `drain()` has waited for all of them, by `finish()`.
  private let hasher: PDQHasher
  private let frameRate: Float
  private var digests: FileDigests?
  private var features: [VPDQFeature] = []
  private let queue = DispatchQueue(label: "csar.vpdq.frame-hashing")
  private let slots: DispatchSemaphore

  /// Starts with the digests of `data`, the file's bytes.
  init(digesting data: [UInt8], hasher: PDQHasher, frameRate: Float, depth: Int = 3) {
    self.hasher = hasher
    self.frameRate = frameRate
    self.slots = DispatchSemaphore(value: max(1, depth))
    queue.async { self.digests = FileDigests(of: data) }
  }

  /// Queues one frame for hashing; waits while `depth` frames are already waiting.
  func submit(_ frame: VideoFrame) {
    slots.wait()
    queue.async {
      let result = self.hasher.hash(frame.image)
      self.features.append(
        VPDQFeature(
          frame: frame.number, quality: result.quality, hash: result.hash,
          timestamp: Double(Float(frame.number) / self.frameRate)))
      self.slots.signal()
    }
  }

  /// Waits until every submitted frame is hashed.
  func drain() { queue.sync {} }

  /// The file's digests and the features of every submitted frame, in frame order.
  func finish() -> (FileDigests, [VPDQFeature]) {
    drain()
    // Set by the first block queued (in `init`), which `drain()` has waited for.
    return (digests!, features)
  }
}

// MARK: - Matching rule

/// How much of two videos' frames match each other.
public struct VPDQSimilarity: Sendable, Equatable {
  /// Percent of the query's unique trusted frames within the distance of some target frame.
  public var queryPercent: Double
  /// Percent of the target's unique trusted frames within the distance of some query frame.
  public var comparedPercent: Double

  /// Creates a result.
  public init(queryPercent: Double, comparedPercent: Double) {
    self.queryPercent = queryPercent
    self.comparedPercent = comparedPercent
  }

  /// Whether both shares reach their thresholds (percent).
  public func matches(queryThreshold: Double, comparedThreshold: Double) -> Bool {
    queryPercent >= queryThreshold && comparedPercent >= comparedThreshold
  }
}

/// The vPDQ matching rule between two feature lists.
public enum VPDQ {
  /// Frames below this PDQ quality are left out of matching.
  public static let minimumQuality = 50
  /// Default frame distance.
  public static let defaultDistance = 31
  /// Default share of the query's frames that must match (percent).
  public static let defaultQueryThreshold = 80.0
  /// Default share of the target's frames that must match (percent).
  public static let defaultComparedThreshold = 0.0

  /// The unique hashes of frames with quality >= `minimumQuality`, in first-seen order.
  public static func trustedHashes(_ features: [VPDQFeature], minimumQuality: Int = minimumQuality)
    -> [PDQHash]
  {
    trustedFeatures(features, minimumQuality: minimumQuality).map(\.hash)
  }

  /// The first frame of each unique hash among frames with quality >= `minimumQuality`.
  public static func trustedFeatures(
    _ features: [VPDQFeature], minimumQuality: Int = minimumQuality
  ) -> [VPDQFeature] {
    var seen = Set<PDQHash>()
    return features.filter { feature in
      feature.quality >= minimumQuality && seen.insert(feature.hash).inserted
    }
  }

  /// q% and c% between two videos by brute force (each unique trusted frame of one side against
  /// every unique trusted frame of the other; distance <= `distance`). Either side with no
  /// trusted frame gives 0 and 0.
  public static func similarity(
    query: [VPDQFeature], target: [VPDQFeature], distance: Int = defaultDistance,
    minimumQuality: Int = minimumQuality
  ) -> VPDQSimilarity {
    let q = trustedHashes(query, minimumQuality: minimumQuality)
    let t = trustedHashes(target, minimumQuality: minimumQuality)
    guard !q.isEmpty, !t.isEmpty else { return VPDQSimilarity(queryPercent: 0, comparedPercent: 0) }
    func share(_ a: [PDQHash], in b: [PDQHash]) -> Double {
      let hits = a.filter { x in b.contains { x.distance(to: $0) <= distance } }.count
      return Double(hits) * 100 / Double(a.count)
    }
    return VPDQSimilarity(queryPercent: share(q, in: t), comparedPercent: share(t, in: q))
  }
}
