// The config's caps on animations reach `csar scan` and `csar serve` (the console's are tested
// in ConsoleUITests).

import Foundation
import Testing

@Suite("Media caps end to end", .serialized)
struct MediaCapsEndToEndTests {
  typealias Fixture = ServiceEndToEndTests.Fixture

  /// Before: every frame of an animation up to 100 was matched, whatever the config said.
  /// With `animation_max_frames = 2`, `csar scan` and `/v1/scan` check two frames of the
  /// three and say there are more.
  @Test func animationFrameCapFromTheConfig() throws {
    let f = try Fixture()
    let gif = ImageFormatsEndToEndTests.fixtures + "/animated.gif"
    func scan() throws -> [String: Any] {
      let result = try Subprocess.run(
        [try CsarBinary.path, "scan", "--json", gif, "--db", f.database],
        overrides: ["XDG_CONFIG_HOME": f.configHome])
      #expect(result.status == 0, "\(result.err)")
      let object = try JSONSerialization.jsonObject(with: Data(result.out.utf8))
      return (object as? [String: Any])?["animation"] as? [String: Any] ?? [:]
    }
    #expect(try scan()["frames"] as? Int == 3)
    try "animation_max_frames = 2\n".write(
      toFile: f.configHome + "/csar/config.toml", atomically: true, encoding: .utf8)
    let capped = try scan()
    #expect(capped["frames"] as? Int == 2, "\(capped)")
    #expect(capped["more_frames"] as? Bool == true, "\(capped)")

    let service = try f.sql("SELECT code FROM service ORDER BY id LIMIT 1")
    let server = try f.serve()
    let token = try f.token
    let consent = try server.json(
      "POST", "/v1/consent/events", token: token,
      """
      [{"event_id":"gif-1","account":"gif-user","service":"\(service)","state":"granted",
        "occurred_at":"2026-11-01T10:00:00Z","source":"app","terms_version":"v9"}]
      """)
    #expect(consent.json["accepted"] as? Int == 1, "\(consent.text)")
    let reply = try server.request(
      "POST", "/v1/scan?account=gif-user&service=\(service)&name=animated.gif", token: token,
      headers: ["Content-Type": "image/gif"],
      body: [UInt8](try Data(contentsOf: URL(fileURLWithPath: gif))))
    let animation = reply.json["animation"] as? [String: Any]
    #expect(animation?["frames"] as? Int == 2, "\(reply.text)")
    #expect(animation?["more_frames"] as? Bool == true, "\(reply.text)")
    #expect(server.stop() == 0)
  }
}
