// Known videos end to end: `csar bank import` of vPDQ hash files made from `csar hash`,
// `bank export` and back, `csar scan` flagging a known video, and `csar serve` taking a video.

import Foundation
import Testing

@Suite("Video banks end to end", .serialized)
struct VideoBankEndToEndTests {
  typealias Fixture = DetectionCommandsEndToEndTests.Fixture

  /// The clip's every frame as sample-hash lines (`frame,quality,hex,timestamp`), from
  /// `csar hash --json --seconds-per-hash 0`.
  static func sampleHashes(of clip: String) throws -> String {
    let every = try CsarBinary.run(["hash", "--json", "--seconds-per-hash", "0", clip])
    #expect(every.status == 0, "\(every.err)")
    let object = try JSONSerialization.jsonObject(with: Data(every.out.utf8)) as? [String: Any]
    let frames = try #require(object?["vpdq"] as? [[String: Any]])
    return frames.map {
      let time = String(format: "%.3f", ($0["timestamp"] as? Double) ?? 0)
      return "\($0["frame"] as? Int ?? -1),\($0["quality"] as? Int ?? -1),"
        + "\($0["pdq"] as? String ?? ""),\(time)\n"
    }.joined()
  }

  /// Before: a folder of vPDQ hash files was refused by `bank import` (no video banks), and
  /// a known video uploaded was `allowed`.
  @Test func importExportAndScanOfAKnownVideo() throws {
    let f = try Fixture()
    guard let clip = try VideoCommandsEndToEndTests.clip(f) else { return }
    let folder = f.directory + "/known"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try Self.sampleHashes(of: clip).write(
      toFile: folder + "/pattern.txt", atomically: true, encoding: .utf8)
    // A bad file in the folder: nothing is imported, each bad line named.
    try "0,100,\(String(repeating: "0", count: 64)),0.000\n1,200,zz,x\n".write(
      toFile: folder + "/zz-bad.txt", atomically: true, encoding: .utf8)
    let refused = try f.csar("bank", "import", "videos", folder)
    #expect(refused.status != 0)
    #expect(refused.err.contains("zz-bad.txt:2: "), "\(refused.err)")
    #expect(try f.csar("bank", "list", "--json").out.contains("\"videos\"") == false)
    try FileManager.default.removeItem(atPath: folder + "/zz-bad.txt")
    let imported = try f.csar("bank", "import", "videos", folder, "--json")
    #expect(imported.status == 0, "\(imported.err)")
    let summary = try #require(f.json(imported.out).first)
    #expect(summary["added"] as? Int == 1 && summary["frames"] as? Int == 75)
    let listed = f.json(try f.csar("bank", "list", "--json").out)
    #expect(listed.first { $0["name"] as? String == "videos" }?["vpdq"] as? Int == 1)

    // Export in threatexchange's form and import that into a second bank: the same video.
    let out = f.directory + "/exported"
    let exported = try f.csar(
      "bank", "export", "videos", "--format", "threatexchange-vpdq", "--output", out)
    #expect(exported.status == 0, "\(exported.err)")
    let json = try String(contentsOfFile: out + "/pattern.json", encoding: .utf8)
    #expect(json.hasPrefix("[\""))
    let again = try f.csar("bank", "import", "copy", out, "--json")
    #expect(f.json(again.out).first?["frames"] as? Int == 75, "\(again.err)")
    let stdout = try f.csar("bank", "export", "videos")
    #expect(stdout.out == (try Self.sampleHashes(of: clip)), "sample lines on stdout")

    // The upload of that video is flagged; the item records the vPDQ match.
    #expect(try f.csar("bank", "disable", "copy").status == 0)
    let (account, service) = try f.account("granted")
    let scan = try f.csar("scan", "--account", account, "--service", service, "--json", clip)
    #expect(scan.status == 0, "\(scan.err)")
    let outcome = try #require(f.json(scan.out).first)
    #expect(outcome["decision"] as? String == "flagged", "\(scan.out)")
    let match = try #require((outcome["matches"] as? [[String: Any]])?.first)
    #expect(match["type"] as? String == "vpdq" && match["bank"] as? String == "videos")
    #expect(match["query_percent"] as? Double == 100)
    let item = try #require(outcome["item"] as? Int)
    let recorded = try f.sql(
      "SELECT match || ' ' || query_percent FROM flagged_item_video WHERE item_id = \(item)")
    #expect(recorded == "vpdq 100.0")
    let plain = try f.csar("scan", "--account", account, "--service", service, clip)
    #expect(plain.out.contains("vpdq \"pattern\" q 100%"), "\(plain.out)")
  }

  /// Before: `/v1/scan` refused `video/mp4` with 415. Now the video is scanned like on the
  /// command line and a known one is flagged.
  @Test func theServiceScansAVideoUpload() throws {
    let f = try ServiceEndToEndTests.Fixture()
    guard let clip = try VideoCommandsEndToEndTests.clip(at: f.directory + "/media/clip.mp4")
    else { return }
    let lines = try Self.sampleHashes(of: clip)
    let file = try f.write("pattern.txt", lines)
    #expect(try f.csar("bank", "import", "videos", file).status == 0)
    let service = try f.sql("SELECT code FROM service ORDER BY id LIMIT 1")
    let server = try f.serve()
    let token = try f.token
    let consent = try server.json(
      "POST", "/v1/consent/events", token: token,
      """
      [{"event_id":"video-1","account":"video-user","service":"\(service)","state":"granted",
        "occurred_at":"2026-11-01T10:00:00Z","source":"app","terms_version":"v9"}]
      """)
    #expect(consent.json["accepted"] as? Int == 1, "\(consent.text)")
    let reply = try server.request(
      "POST", "/v1/scan?account=video-user&service=\(service)&name=clip.mp4", token: token,
      headers: ["Content-Type": "video/mp4"],
      body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: clip))))
    #expect(reply.status == 200, "\(reply.text)")
    #expect(reply.json["decision"] as? String == "flagged", "\(reply.text)")
    let match = (reply.json["matches"] as? [[String: Any]])?.first
    #expect(match?["type"] as? String == "vpdq", "\(reply.text)")
    #expect((reply.json["video"] as? [String: Any])?["hashed_frames"] as? Int == 3)
    #expect(server.stop() == 0)

    // Before: `csar serve` decoded videos under the built-in caps, whatever the config said.
    // With `video_max_seconds = 2` in its config, the 3 s clip is refused by that cap.
    try "video_max_seconds = 2\n".write(
      toFile: f.configHome + "/csar/config.toml", atomically: true, encoding: .utf8)
    let capped = try f.serve()
    let refused = try capped.request(
      "POST", "/v1/scan?account=video-user&service=\(service)&name=clip.mp4", token: token,
      headers: ["Content-Type": "video/mp4"],
      body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: clip))))
    #expect(refused.json["decision"] as? String == "error", "\(refused.text)")
    #expect(refused.text.contains("over the limit of 2.0 s"), "\(refused.text)")
    #expect(capped.stop() == 0)
  }
}
