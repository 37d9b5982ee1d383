import Foundation
import Testing

@testable import Store

/// The provider key file: where it lives by default and what csar refuses to load.
@Suite struct ProviderKeyFileTests {
  static let zeroKey = String(repeating: "0", count: 64) + "\n"

  /// Writes `text` as a key file with `mode`.
  static func plant(_ text: String, at path: String, mode: mode_t = 0o600) throws {
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    chmod(path, mode)
  }

  @Test func theKeyLivesInTheConfigFolderApartFromTheData() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let environment = ["XDG_CONFIG_HOME": temp.file("config"), "HOME": "/nonexistent"]
    let database = temp.file("data/csar.sqlite")
    let path = ProviderKey.defaultPath(databasePath: database, environment: environment)
    #expect(path == temp.file("config/csar/provider.key"))
    #expect(
      ProviderKey.defaultPath(databasePath: database, environment: ["HOME": "/home/a"])
        == "/home/a/.config/csar/provider.key")
    looseUmask()
    let key = try ProviderKey.loadOrCreate(path: path, databasePath: database)
    #expect(fileMode(temp.file("config/csar")) == 0o700)
    #expect(fileMode(path) == 0o600)
    #expect(!key.isBesideDatabase(database))
    // No temporary is left beside it.
    #expect(try FileManager.default.contentsOfDirectory(atPath: temp.file("config/csar"))
      == ["provider.key"])
  }

  @Test func anOlderKeyBesideTheDatabaseKeepsItsPseudonyms() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let database = temp.file("csar.sqlite")
    let legacy = temp.file("csar.key")
    let old = try ProviderKey.loadOrCreate(path: legacy)
    let environment = ["XDG_CONFIG_HOME": temp.file("config")]
    let path = ProviderKey.defaultPath(databasePath: database, environment: environment)
    #expect(path == legacy)
    let key = try ProviderKey.loadOrCreate(path: path, databasePath: database)
    #expect(key.isBesideDatabase(database))
    #expect(
      key.pseudonym(field: "account_id", value: "A1") == old.pseudonym(field: "account_id", value: "A1"))
  }

  @Test func weakKeysAreRefused() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let path = temp.file("provider.key")
    for text in [
      Self.zeroKey, String(repeating: "ab", count: 32),
      String(repeating: "0001", count: 16),
      (0..<32).map { String(format: "%02x", $0) }.joined(),
    ] {
      try Self.plant(text, at: path)
      #expect(throws: ProviderKeyError.self, "\(text)") { _ = try ProviderKey.load(path: path) }
      do {
        _ = try ProviderKey.load(path: path)
      } catch {
        guard case .weak = error else {
          Issue.record("\(text): \(error)")
          continue
        }
      }
    }
    try Self.plant(String(repeating: "00", count: 16), at: path)
    #expect(throws: ProviderKeyError.malformed(path: path)) { _ = try ProviderKey.load(path: path) }
  }

  @Test func aKeyInAFolderOthersCanWriteIsRefused() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let folder = temp.file("shared")
    mkdir(folder, 0o700)
    let path = folder + "/provider.key"
    _ = try ProviderKey.loadOrCreate(path: path)
    chmod(folder, 0o1777)
    #expect(
      throws: ProviderKeyError.unsafe(
        .folderWritable(path: folder, what: "provider key folder", mode: 0o1777, byGroup: false))
    ) { _ = try ProviderKey.loadOrCreate(path: path) }
  }

  @Test func aKeyOthersCanReadOrThatIsASymlinkIsRefused() throws {
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let real = temp.file("real.key")
    _ = try ProviderKey.loadOrCreate(path: real)
    chmod(real, 0o640)
    #expect(throws: ProviderKeyError.self) { _ = try ProviderKey.load(path: real) }
    chmod(real, 0o600)
    let link = temp.file("provider.key")
    symlink(real, link)
    #expect(throws: ProviderKeyError.unsafe(.symlink(path: link, what: "provider key"))) {
      _ = try ProviderKey.load(path: link)
    }
  }

  @Test func aKeyOfAnotherAccountIsRefused() throws {
    guard geteuid() == 0 else {
      print("skipped: giving a key to another account needs root")
      return
    }
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    let path = temp.file("provider.key")
    _ = try ProviderKey.loadOrCreate(path: path)
    chown(path, 65534, 65534)
    #expect(
      throws: ProviderKeyError.unsafe(
        .wrongOwner(path: path, what: "provider key", owner: 65534))
    ) { _ = try ProviderKey.load(path: path) }
  }

  @Test func aTeamDatabaseNeedsTheTeamsKey() throws {
    guard geteuid() == 0 else {
      print("skipped: giving a folder to another group needs root")
      return
    }
    let temp = try TempFolder()
    defer { temp.cleanUp() }
    try PrivateFiles.makeFolder(temp.file("data"), sharing: .group(teamGid))
    try PrivateFiles.makeFolder(temp.file("key"), sharing: .group(teamGid))
    let database = temp.file("data/csar.sqlite")
    let mine = temp.file("mine/provider.key")
    #expect(throws: ProviderKeyError.notTheTeamKey(path: mine, databasePath: database)) {
      _ = try ProviderKey.loadOrCreate(path: mine, databasePath: database)
    }
    let team = temp.file("key/provider.key")
    _ = try ProviderKey.loadOrCreate(path: team, databasePath: database)
    #expect(fileMode(team) == 0o640)
    #expect(fileGroup(team) == teamGid)
    // A member who is not its owner may read it (group read, no group write).
    chown(team, 65534, teamGid)
    _ = try ProviderKey.load(path: team)
  }
}
