import Detection
import Foundation
import Imaging
import Testing

@testable import Moderation
@testable import Store

/// The gate on WebP, GIF, BMP, TIFF and HEIF uploads, and on every frame of an animation.
@Suite("Upload gate: image formats and animations")
struct ImageFormatScanTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../DetectionTests/Fixtures/images").standardized.path

  static func fixture(_ name: String) -> String { fixtures + "/" + name }

  /// A database whose bank "known" holds the PDQ of `frame` (a PNG fixture).
  static func database(knowing frame: String) throws -> AppDatabase {
    let db = try moderationDatabase()
    let pdq = try MediaHasher.hash(path: fixture(frame)).pdq
    try db.importBank(
      name: "known", entries: [BankHashEntry(type: .pdq, hash: pdq.hash.hex, label: frame)],
      by: "mod")
    return db
  }

  @Test func everyFormatIsScannedAndAllowedWhenNothingMatches() throws {
    let db = try Self.database(knowing: "animated-3.png")
    let gate = UploadGate(database: db, operatorName: "mod")
    let files = [
      "picture.webp", "picture.gif", "picture.bmp", "picture.tiff", "photo.heic", "photo.avif",
    ]
    let outcomes = try gate.scan(
      inputs: files.map(Self.fixture), account: "A-granted", service: "chat-eu")
    for (file, outcome) in zip(files, outcomes) {
      #expect(outcome.decision == .allowed, "\(file): \(outcome.decision)")
      #expect(outcome.pdq?.count == 64 && outcome.width == 192, "\(file)")
      #expect(outcome.animation == nil, "\(file) is a still image")
    }
  }

  /// Before: only the first frame of a GIF was hashed, so a known picture in a later frame
  /// passed the gate.
  @Test func aKnownPictureInALaterFrameMatches() throws {
    let db = try Self.database(knowing: "animated-3.png")
    let gate = UploadGate(database: db, operatorName: "mod")
    for file in ["animated.gif", "animated.webp"] {
      let outcome = try #require(gate.lookup(inputs: [Self.fixture(file)]).first)
      #expect(outcome.decision == .matched(kind: .knownMatch), "\(file): \(outcome.decision)")
      #expect(outcome.matches.first?.label == "animated-3.png", "\(file)")
      #expect(outcome.matches.first?.distance == 0, "\(file)")
      #expect(
        outcome.animation == ScannedAnimation(frames: 3, trustedFrames: 2, moreFrames: false))
      #expect(outcome.jsonLine.contains("\"animation\":{"), "\(outcome.jsonLine)")
    }
    // For an uploader it becomes a review item.
    let scanned = try gate.scan(
      inputs: [Self.fixture("animated.gif")], account: "A-granted", service: "chat-eu")
    #expect(scanned.first?.decision.code == "flagged")
    #expect(try count(db, "SELECT count(*) FROM flagged_item") == 1)
  }

  @Test func framesBeyondTheLimitAreNotCheckedAndSaySo() throws {
    let db = try Self.database(knowing: "animated-3.png")
    let gate = UploadGate(
      database: db, operatorName: "mod", frameLimits: FrameLimits(maxFrames: 2))
    let outcome = try #require(gate.lookup(inputs: [Self.fixture("animated.gif")]).first)
    #expect(outcome.decision == .allowed)
    #expect(outcome.animation == ScannedAnimation(frames: 2, trustedFrames: 1, moreFrames: true))
  }
}
