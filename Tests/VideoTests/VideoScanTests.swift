// The upload gate on videos: an unmatched video is allowed, a known image inside a video is
// flagged, a damaged or over-limit video is an error naming the problem.

import Compliance
import Detection
import Foundation
import GRDB
import Imaging
import Testing
import Video

@testable import Moderation
@testable import Store

@Suite struct VideoScanTests {
  /// A database with one service, an account that granted consent, and (optionally) a bank.
  static func database(bank entries: [BankHashEntry] = []) throws -> AppDatabase {
    let db = try AppDatabase.inMemory(clock: { 1_750_000_000 })
    try db.ensureOperator(name: "mod", role: .lead)
    try db.createService(code: "chat-eu", name: "Chat", kind: .messaging, by: "mod")
    try db.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO account (id, external_id, pseudonym, created_at)
          VALUES (1, 'A-granted', 'u-000000000001', 0)
          """)
    }
    try db.recordConsentChange(
      accountId: 1, serviceId: 1, to: .granted, source: .app, termsVersion: "2025-01",
      reason: nil, by: "mod")
    if !entries.isEmpty {
      try db.importBank(name: "known", entries: entries, by: "mod")
    }
    return db
  }

  static func scan(_ path: String, in db: AppDatabase, limits: VideoLimits = .default) throws
    -> ScanOutcome
  {
    let gate = UploadGate(database: db, operatorName: "mod", videoLimits: limits)
    return try #require(try gate.scan(inputs: [path], account: "A-granted", service: "chat-eu").first)
  }

  /// A 3 s test pattern (320x240, 25 frames/s) in a fresh folder; nil without ffmpeg.
  static func clip(_ name: String) throws -> (dir: String, path: String)? {
    guard VideoFixtures.ffmpegAvailable else {
      print("skipped: ffmpeg is not installed")
      return nil
    }
    let dir = try VideoFixtures.temporaryDirectory()
    let path = "\(dir)/\(name)"
    try VideoFixtures.make(path, source: "testsrc2=size=320x240:rate=25:duration=3")
    return (dir, path)
  }

  /// Before: an unmatched MP4 was `error` ("not a PNG or JPEG"), so the gate could not pass a
  /// legitimate video.
  @Test func anUnmatchedVideoIsAllowed() throws {
    guard let (dir, path) = try Self.clip("holiday.mp4") else { return }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let db = try Self.database(bank: [
      BankHashEntry(type: .pdq, hash: String(repeating: "a5", count: 32), label: "other")
    ])
    let outcome = try Self.scan(path, in: db)
    #expect(outcome.decision == .allowed)
    #expect(outcome.video?.hashedFrames == 3)
    #expect(outcome.width == 320 && outcome.height == 240)
    #expect(outcome.sha256?.count == 64)
  }

  /// A bank image that appears as one frame of the video flags the upload.
  @Test func aKnownImageInsideAVideoIsFlagged() throws {
    guard let (dir, path) = try Self.clip("clip.mp4") else { return }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    let frames = try VideoHasher.hash(data: bytes, name: path, secondsPerHash: 1).features
    let known = try #require(frames.last)
    let db = try Self.database(bank: [
      BankHashEntry(type: .pdq, hash: known.hash.hex, label: "a frame")
    ])
    let outcome = try Self.scan(path, in: db)
    guard case .flagged(.knownMatch, _) = outcome.decision else {
      Issue.record("expected a flagged item, got \(outcome.decision)")
      return
    }
    #expect(outcome.matches.first?.label == "a frame")
    #expect(outcome.matches.first?.distance == 0)
  }

  @Test func aVideoOverTheLimitsIsAnErrorNamingTheLimit() throws {
    guard let (dir, path) = try Self.clip("long.mp4") else { return }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let db = try Self.database()
    let outcome = try Self.scan(path, in: db, limits: VideoLimits(maxSeconds: 2))
    guard case .error(let message) = outcome.decision else {
      Issue.record("expected an error, got \(outcome.decision)")
      return
    }
    #expect(message.contains("over the limit of 2.0 s"), "\(message)")
  }
}
