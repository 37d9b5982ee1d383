import Imaging
import Testing

@testable import ConsoleUI

@Suite("config.toml")
struct ConfigurationTests {
  @Test func readsEveryKey() throws {
    let config = try Configuration.parse(
      """
      operator = "bahar"
      theme = "mono"
      database = "/srv/csar.sqlite"
      due_soon_days = 30
      media_roots = ["/srv/uploads", "/mnt/flagged/"]
      """, file: "config.toml")
    #expect(config.mediaRoots == ["/srv/uploads", "/mnt/flagged/"])
    #expect(config.operatorName == "bahar")
    #expect(config.theme == "mono")
    #expect(config.databasePath == "/srv/csar.sqlite")
    #expect(config.dueSoonDays == 30)
  }

  @Test func missingFileGivesDefaults() throws {
    let config = try Configuration.load(path: "/nonexistent/csar/config.toml")
    #expect(config == Configuration())
    #expect(config.dueSoonDays == 60)
  }

  @Test(arguments: [
    ("due_soon_days = 0", "due_soon_days"), ("due_soon_days = \"60\"", "due_soon_days"),
    ("operater = \"x\"", "operater"), ("theme = \"\"", "theme"),
    ("media_roots = \"/srv\"", "media_roots"), ("media_roots = [\"uploads\"]", "media_roots"),
    ("media_roots = [\"/srv/../etc\"]", "media_roots"), ("media_roots = []", "media_roots"),
  ])
  func badValuesNameTheKey(text: String, key: String) {
    do {
      _ = try Configuration.parse(text, file: "c.toml")
      Issue.record("expected an error for \(key)")
    } catch {
      #expect(error.file == "c.toml")
      #expect(error.key == key)
      #expect(error.description.hasPrefix("c.toml:1: \(key): "))
    }
  }

  @Test func defaultPathFollowsXDG() {
    #expect(
      Configuration.defaultPath(environment: ["XDG_CONFIG_HOME": "/x", "HOME": "/h"])
        == "/x/csar/config.toml")
    #expect(
      Configuration.defaultPath(environment: ["HOME": "/h"]) == "/h/.config/csar/config.toml")
  }
}

// MARK: - Video caps

@Test func videoCapsAreReadAndCheckedNamingTheKey() throws {
  let config = try Configuration.parse(
    "video_max_seconds = 600\nvideo_max_frames = 5000\nvideo_max_decode_seconds = 30\n",
    file: "config.toml")
  #expect(config.video.maxSeconds == 600)
  #expect(config.video.maxFrames == 5000)
  #expect(config.video.maxDecodeSeconds == 30)
  #expect(config.video.maxPixels == VideoCaps().maxPixels)
  #expect(throws: ConfigurationError.self) {
    try Configuration.parse("video_max_pixels = 0\n", file: "config.toml")
  }
  do {
    _ = try Configuration.parse("\nvideo_max_seconds = \"long\"\n", file: "config.toml")
    Issue.record("a bad cap was accepted")
  } catch {
    #expect(error.description.contains("config.toml"))
    #expect(error.description.contains("video_max_seconds"))
  }
}

/// Before: an animation's frames were capped at 100 frames and 400 megapixels, whatever the
/// config said. Now `animation_max_frames` and `animation_max_megapixels` set both.
@Test func animationCapsAreReadAndCheckedNamingTheKey() throws {
  #expect(Configuration().video.frameLimits == .default)
  let config = try Configuration.parse(
    "animation_max_frames = 12\nanimation_max_megapixels = 50\n", file: "config.toml")
  #expect(config.video.frameLimits == FrameLimits(maxFrames: 12, maxTotalPixels: 50_000_000))
  do {
    _ = try Configuration.parse("animation_max_frames = 0\n", file: "config.toml")
    Issue.record("a bad cap was accepted")
  } catch {
    #expect(error.description.contains("config.toml:1: animation_max_frames: expected frames"))
  }
}
