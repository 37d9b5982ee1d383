import Foundation
import Testing

/// `csar hash` and `csar scan` on a generated test-pattern video, as a script would run them.
@Suite("Video commands end to end", .serialized)
struct VideoCommandsEndToEndTests {
  typealias Fixture = DetectionCommandsEndToEndTests.Fixture

  /// A 3 s 320x240 H.264 test pattern in the demo's media folder; nil without ffmpeg.
  static func clip(_ f: Fixture) throws -> String? {
    try clip(at: f.directory + "/media/clip.mp4")
  }

  /// The same test pattern at `path`; nil without ffmpeg.
  static func clip(at path: String) throws -> String? {
    let made = try? Subprocess.run([
      "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
      "testsrc2=size=320x240:rate=25:duration=3", "-c:v", "libx264", "-pix_fmt", "yuv420p", path,
    ])
    guard made?.status == 0 else {
      print("skipped: ffmpeg is not installed")
      return nil
    }
    return path
  }

  @Test func hashPrintsTheVideoObjectTheIssueNames() throws {
    let f = try Fixture()
    guard let clip = try Self.clip(f) else { return }
    let result = try CsarBinary.run(["hash", "--json", clip])
    #expect(result.status == 0, "\(result.err)")
    let object = try #require(f.json(result.out).first)
    #expect(Set(object.keys) == [
      "path", "type", "width", "height", "duration", "fps", "md5", "sha256", "sha1", "vpdq",
    ])
    #expect(object["type"] as? String == "video")
    #expect(object["width"] as? Int == 320 && object["height"] as? Int == 240)
    #expect(object["fps"] as? Double == 25)
    #expect(object["duration"] as? Double == 3)
    let frames = try #require(object["vpdq"] as? [[String: Any]])
    #expect(frames.map { $0["frame"] as? Int } == [0, 25, 50])
    #expect(frames.map { $0["timestamp"] as? Double } == [0, 1, 2])
    #expect(Set(frames[0].keys) == ["frame", "quality", "pdq", "timestamp"])
    #expect((frames[0]["pdq"] as? String)?.count == 64)
    let every = try CsarBinary.run(["hash", "--json", "--seconds-per-hash", "0", clip])
    #expect((f.json(every.out).first?["vpdq"] as? [Any])?.count == 75)
  }

  /// Before: `csar scan` of an unmatched MP4 said `error` and exited 1.
  @Test func scanAllowsAnUnmatchedVideo() throws {
    let f = try Fixture()
    guard let clip = try Self.clip(f) else { return }
    let (account, service) = try f.account("granted")
    let scan = try f.csar("scan", "--account", account, "--service", service, "--json", clip)
    #expect(scan.status == 0, "\(scan.out) \(scan.err)")
    let outcome = try #require(f.json(scan.out).first)
    #expect(outcome["decision"] as? String == "allowed")
    #expect((outcome["video"] as? [String: Any])?["hashed_frames"] as? Int == 3)
  }
}
