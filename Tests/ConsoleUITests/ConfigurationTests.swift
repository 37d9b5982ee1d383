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
