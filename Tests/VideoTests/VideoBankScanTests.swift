// The upload gate against known videos: the vPDQ rule with per-bank thresholds, and the
// review item recording which bank video and which part of the upload matched.

import Compliance
import Detection
import Foundation
import Testing
import Video

@testable import Moderation
@testable import Store

@Suite struct VideoBankScanTests {
  /// A 3 s test pattern and the same clip's every frame as a known video of bank "known".
  static func setUp() throws -> (dir: String, path: String, db: AppDatabase)? {
    guard let (dir, path) = try VideoScanTests.clip("upload.mp4") else { return nil }
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    let every = try VideoHasher.hash(data: bytes, name: path, secondsPerHash: 0).features
    let db = try VideoScanTests.database()
    try db.importVideoBank(
      name: "known",
      videos: [
        BankVideoEntry(
          name: "pattern-clip", label: "test pattern",
          frames: every.map {
            BankVideoFrame(
              frame: $0.frame, quality: $0.quality, hash: $0.hash.hex, timestamp: $0.timestamp)
          })
      ], by: "mod")
    return (dir, path, db)
  }

  /// Before: a video whose vPDQ was in a bank was `allowed` (only single frames were looked
  /// up in image banks). Now it is flagged and the item records the bank video, both shares
  /// and the matched segments.
  @Test func aKnownVideoIsFlaggedWithWhatMatched() throws {
    guard let (dir, path, db) = try Self.setUp() else { return }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let outcome = try VideoScanTests.scan(path, in: db)
    guard case .flagged(.knownMatch, let itemId) = outcome.decision else {
      Issue.record("expected a flagged item, got \(outcome.decision)")
      return
    }
    let best = try #require(outcome.matches.first)
    let found = try #require(best.video)
    #expect(best.bank == "known" && best.label == "test pattern")
    #expect(found.queryPercent == 100)
    #expect(found.comparedPercent > 0 && found.comparedPercent < 100)
    #expect(found.segment == 0...2)
    let record = try #require(try db.videoMatch(itemId: itemId))
    #expect(record.kind == .vpdq)
    #expect(record.bankVideoId == found.video.id)
    #expect(record.queryPercent == 100)
    #expect(record.startSeconds == 0 && record.endSeconds == 2)
    #expect(record.hashedFrames == 3 && record.duration.map { abs($0 - 3) < 0.1 } == true)
    #expect(try db.bankVideo(id: found.video.id)?.name == "pattern-clip")
    let line = outcome.jsonLine
    #expect(line.contains("\"type\":\"vpdq\"") && line.contains("\"query_percent\":100"))
  }

  /// Before: a vPDQ import made no bank version (a video item recorded none), and a bank of
  /// videos could not be deleted. Now the item records the version that matched, and
  /// deleting the bank removes its videos, keeps the item and its version, and says so.
  @Test func videoItemsRecordTheVersionAndTheirBankCanBeDeleted() throws {
    guard let (dir, path, db) = try Self.setUp() else { return }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let version = try #require(try db.hashBank(name: "known").version)
    #expect(version.change == .import && version.added == 1 && version.total == 1)
    let outcome = try VideoScanTests.scan(path, in: db)
    guard case .flagged(.knownMatch, let itemId) = outcome.decision else {
      Issue.record("expected a flagged item, got \(outcome.decision)")
      return
    }
    func itemVersion() throws -> Int64? {
      try db.writer.read {
        try Int64.fetchOne(
          $0, sql: "SELECT bank_version_id FROM flagged_item WHERE id = ?", arguments: [itemId])
      }
    }
    #expect(try itemVersion() == version.id)
    let deleted = try db.deleteBank(name: "known", by: "mod")
    #expect(deleted.change == .delete && deleted.removed == 1 && deleted.total == 0)
    #expect(try db.videoMatch(itemId: itemId)?.bankVideoId == nil)
    #expect(try db.videoMatch(itemId: itemId)?.kind == .vpdq)
    #expect(try itemVersion() == version.id)
    #expect(try db.bankVersion(id: version.id)?.label == "known@v1")
    let left = try db.writer.read {
      try Int.fetchOne(
        $0,
        sql: "SELECT (SELECT count(*) FROM bank_video) + (SELECT count(*) FROM bank_video_frame)")
    }
    #expect(left == 0)
    let details = try db.writer.read {
      try String.fetchOne(
        $0, sql: "SELECT details_json FROM audit_event WHERE action = 'bank.delete'")
    }
    #expect(details?.contains(#""video_items_detached":1"#) == true)
    #expect(details?.contains(#""name":"pattern-clip""#) == true)
    #expect(try db.verifyAudit().isOK)
    // The upload no longer matches anything.
    #expect(try VideoScanTests.scan(path, in: db).decision.code == "allowed")
  }

  /// A bank's compared-percent threshold above what the upload covers: no match in that bank.
  @Test func perBankThresholdsDecide() throws {
    guard let (dir, path, db) = try Self.setUp() else { return }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try db.setVPDQThresholds(
      name: "known", VPDQThresholds(queryPercent: 80, comparedPercent: 90), by: "mod")
    #expect(try VideoScanTests.scan(path, in: db).decision == .allowed)
    try db.setBankEnabled(name: "known", enabled: true, by: "mod")
    try db.setVPDQThresholds(
      name: "known", VPDQThresholds(queryPercent: 80, comparedPercent: 0), by: "mod")
    #expect(try VideoScanTests.scan(path, in: db).decision.code == "flagged")
    try db.setBankEnabled(name: "known", enabled: false, by: "mod")
    #expect(try VideoScanTests.scan(path, in: db).decision == .allowed)
  }

  /// A different video shares no frame with the known one.
  @Test func anotherVideoDoesNotMatch() throws {
    guard let (dir, _, db) = try Self.setUp() else { return }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let other = "\(dir)/other.mp4"
    try VideoFixtures.make(other, source: "mandelbrot=size=320x240:rate=25", codec: [
      "-t", "3", "-c:v", "libx264",
    ])
    let outcome = try VideoScanTests.scan(other, in: db)
    #expect(outcome.decision == .allowed, "\(outcome.matches)")
  }

  /// A known image in one frame: the item records the frame and its time.
  @Test func aFrameMatchRecordsTheFrame() throws {
    guard let (dir, path) = try VideoScanTests.clip("clip.mp4") else { return }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    let frames = try VideoHasher.hash(data: bytes, name: path, secondsPerHash: 1).features
    let known = try #require(frames.last)
    let db = try VideoScanTests.database(bank: [
      BankHashEntry(type: .pdq, hash: known.hash.hex, label: "a frame")
    ])
    let outcome = try VideoScanTests.scan(path, in: db)
    guard case .flagged(_, let itemId) = outcome.decision else {
      Issue.record("expected a flagged item, got \(outcome.decision)")
      return
    }
    #expect(outcome.matches.first?.frame == known.frame)
    let record = try #require(try db.videoMatch(itemId: itemId))
    #expect(record.kind == .framePDQ && record.frame == known.frame)
    #expect(record.startSeconds == known.timestamp)
  }
}
