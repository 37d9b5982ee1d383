// The upload gate on videos: digests (already matched by the caller), the vPDQ rule against
// the banks' known videos, and every hashed frame's PDQ against the image banks.

import Detection
import Foundation
import Store
import Video

extension UploadGate {
  /// The known-video matcher (built now if it was not yet, or rebuilt when the video banks
  /// changed since).
  public func videoBankMatcher() throws -> VideoBankMatcher { try videoBanks.current() }

  /// A video: the vPDQ rule against the banks' known videos, and every hashed frame's PDQ
  /// against the image banks (a known image inside a video matches); frames below quality 50
  /// are left out of both. Matches come after exact digest matches, vPDQ before single
  /// frames. A video that cannot be decoded is an error unless its digests matched.
  func scanVideo(
    _ bytes: [UInt8], path: String, outcome scanned: ScanOutcome, subject: ScanSubject?,
    mediaPath: () throws -> String
  ) throws -> ScanOutcome {
    var outcome = scanned
    let video: VideoHashes
    do {
      video = try VideoHasher.hash(
        data: bytes, name: path, secondsPerHash: secondsPerHash, limits: videoLimits,
        hasher: hasher)
    } catch {
      outcome.imageError = error.description
      guard !outcome.matches.isEmpty else {
        outcome.decision = .error(error.description)
        return outcome
      }
      return try flag(outcome, mediaPath: mediaPath, subject: subject)
    }
    outcome.width = video.info.width
    outcome.height = video.info.height
    let trusted = video.features.filter { $0.quality >= Self.minimumTrustedQuality }
    outcome.video = ScannedVideo(
      hashedFrames: video.features.count, trustedFrames: trusted.count,
      duration: video.duration, frameRate: video.info.frameRate)
    outcome.matches += try videoBankMatcher().matches(video.features).map { found in
      var match = KnownMatch(
        bank: found.video.bank, type: .pdq, distance: 0,
        label: found.video.label ?? found.video.name, sourceId: found.video.name,
        frame: found.firstFrame, segment: found.segment, video: found)
      match.versionId = found.video.versionId
      return match
    }
    outcome.matches += try frameMatches(trusted)
    return try flag(outcome, mediaPath: mediaPath, subject: subject)
  }

  /// Each image-bank entry found in some frame, once, at its nearest frame (the earliest on
  /// a tie), with that frame's number and time; nearest first.
  func frameMatches(_ trusted: [VPDQFeature]) throws -> [KnownMatch] {
    let matcher = try bankMatcher()
    return Self.best(
      try trusted.flatMap { feature in
        try matcher.pdqMatches(feature.hash).map { found in
          var match = found
          match.frame = feature.frame
          match.segment = feature.timestamp...feature.timestamp
          return match
        }
      })
  }

  /// What a video item records: the upload, and how its best match was found.
  static func videoRecord(_ video: ScannedVideo, best: KnownMatch) -> FlaggedVideoMatch {
    var record = FlaggedVideoMatch(
      kind: best.video != nil ? .vpdq : best.frame != nil ? .framePDQ : .digest,
      duration: video.duration, frameRate: video.frameRate, hashedFrames: video.hashedFrames,
      frame: best.frame, startSeconds: best.segment?.lowerBound,
      endSeconds: best.segment?.upperBound)
    if let found = best.video {
      record.bankVideoId = found.video.id
      record.queryPercent = found.queryPercent
      record.comparedPercent = found.comparedPercent
      record.bankStartSeconds = found.bankSegment.lowerBound
      record.bankEndSeconds = found.bankSegment.upperBound
    }
    return record
  }
}
