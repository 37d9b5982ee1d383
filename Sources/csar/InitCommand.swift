import ArgumentParser
import Foundation
import Store

/// `csar init`: an empty database for one person or for a team sharing one host.
struct InitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "init",
    abstract: "Create an empty database (and its provider key), private or for a team group.",
    discussion: """
      Without --group the data folder is 0700 and every file in it 0600: only you can read \
      it. With --group NAME (a group you belong to) the data folder becomes 2770 owned by \
      the group, so the database, its -wal and -shm, media and lock files are created 0660 \
      and group-owned by every member, whatever their umask; others get nothing. The group \
      is recorded by the folder itself (setgid, group-owned): csar reads it from there on \
      every open. A team shares one provider key, apart from the data: give --key a path in \
      another folder (made 2770 for the group; the key is 0640, readable by the team, \
      writable by nobody). You become the database's first admin; add the others with \
      `csar operator add LOGIN --role reviewer|lead|admin`, and have each member set \
      `database` and `provider_key` in their config.toml to the paths printed.
      """)

  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  @Option(name: .long, help: "Team group: share the data folder with its members.")
  var group: String?

  @Option(
    name: .long,
    help: "Provider key file (default: $XDG_CONFIG_HOME/csar/provider.key; required with --group).")
  var key: String?

  func validate() throws {
    if group != nil, key == nil {
      throw ValidationError(
        "--group needs --key PATH: a team's key must be where every member can read it, in "
          + "its own folder apart from the data (e.g. /srv/csar/key/provider.key)")
    }
  }

  func run() throws {
    let path = db ?? AppDatabase.defaultPath()
    var info = stat()
    if lstat(path, &info) == 0 {
      throw RiskCommandError("\(path): a database already exists; csar init makes new ones only")
    }
    let sharing = try group.map { try FileSharing.team(named: $0) } ?? .owner
    let folder = PrivateFiles.folder(of: path)
    try Self.prepare(folder: folder, sharing: sharing)
    let keyPath = key ?? ProviderKey.defaultPath(databasePath: path)
    if key != nil { try Self.prepare(folder: PrivateFiles.folder(of: keyPath), sharing: sharing) }
    let providerKey: ProviderKey
    do {
      providerKey = try ProviderKey.loadOrCreate(path: keyPath, databasePath: path)
    } catch {
      throw RiskCommandError(error.description)
    }
    let database = try AppDatabase.open(path: path, auditKey: AuditKey(providerKey: providerKey))
    try database.ensureFirstAdmin()
    let me = PrivateFiles.userName(geteuid())
    print("created \(path) (\(sharing); folder \(Self.octal(sharing.folderMode)), files "
      + "\(Self.octal(sharing.fileMode)))")
    print("provider key \(providerKey.path)")
    print("\(me) is its first admin; add operators with: csar operator add LOGIN --role ROLE")
    if case .group = sharing {
      print("each member's config.toml ($XDG_CONFIG_HOME/csar/config.toml):")
      print("  database = \"\(path)\"")
      print("  provider_key = \"\(providerKey.path)\"")
    }
  }

  /// Creates `folder` with `sharing`, or gives an existing folder of the caller that sharing;
  /// refuses an existing folder of someone else that does not have it.
  static func prepare(folder: String, sharing: FileSharing) throws {
    do {
      var info = stat()
      if stat(folder, &info) == 0, FileSharing.of(folder: folder) != sharing {
        guard info.st_uid == geteuid() else {
          throw RiskCommandError(
            "\(folder): the folder belongs to \(PrivateFiles.userName(info.st_uid)) and is "
              + "not \(sharing); ask them, or pick another folder")
        }
        try PrivateFiles.share(folder: folder, sharing)
      } else {
        try PrivateFiles.makeFolder(folder, sharing: sharing)
      }
      try PrivateFiles.checkFolder(folder, what: "folder")
    } catch let error as PrivateFileError {
      throw RiskCommandError(error.description)
    }
  }

  static func octal(_ mode: mode_t) -> String { String(mode, radix: 8) }
}
