import Crypto
import Foundation

// MARK: - The provider key

/// The provider's secret for pseudonymising personal data in reports: 32 random bytes kept as
/// 64 hex digits in their own file, apart from the data (by default
/// `$XDG_CONFIG_HOME/csar/provider.key`), never in the database. Created on first use (folder
/// 0700, file 0600). Loading refuses a key that is a symlink, belongs to another account, that
/// the group or others may read or write (a team key in a team folder may be read by the
/// team), that lies in a folder others can write to, or that is weak (repeated or patterned
/// bytes).
public struct ProviderKey: Sendable {
  /// Where the key was read from.
  public let path: String
  let bytes: [UInt8]

  /// A key from raw bytes (tests).
  public init(bytes: [UInt8], path: String = "<memory>") {
    self.path = path
    self.bytes = bytes
  }

  /// The key file name in the configuration folder.
  public static let fileName = "provider.key"

  /// The default key file of the database at `databasePath`: the key an older csar made
  /// beside the database (`csar.sqlite` -> `csar.key`) while that file exists, so pseudonyms
  /// already sent stay valid (see ``legacyPath(databasePath:)``); else
  /// `$XDG_CONFIG_HOME/csar/provider.key` (`~/.config/csar/provider.key` when unset or not
  /// absolute), apart from the data.
  public static func defaultPath(
    databasePath: String,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> String {
    let legacy = legacyPath(databasePath: databasePath)
    var info = stat()
    if lstat(legacy, &info) == 0 { return legacy }
    return configFolder(environment: environment) + "/" + fileName
  }

  /// Where csar before 2026-11-30 kept the key: beside the database, named after it. Such a
  /// key keeps being used while it passes the same checks as any key (csar warns, see
  /// ``isBesideDatabase``); move it apart with `mv` and point `provider_key` at it.
  public static func legacyPath(databasePath: String) -> String {
    (databasePath as NSString).deletingPathExtension + ".key"
  }

  /// `$XDG_CONFIG_HOME/csar`, or `~/.config/csar`.
  public static func configFolder(environment: [String: String]) -> String {
    if let config = environment["XDG_CONFIG_HOME"], config.hasPrefix("/") {
      return config + "/csar"
    }
    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    return home + "/.config/csar"
  }

  /// Whether this key lives in the folder of the database at `databasePath` (where a copy or
  /// backup of the data would take it along).
  public func isBesideDatabase(_ databasePath: String) -> Bool {
    PrivateFiles.folder(of: path) == PrivateFiles.folder(of: databasePath)
  }

  /// Reads the key at `path`, creating it (folder 0700, file 0600, or 0640 in a team folder)
  /// when missing. With `databasePath`, refuses to create a private key for a database shared
  /// with a team: every member must use the team's key.
  public static func loadOrCreate(
    path: String, databasePath: String? = nil
  ) throws(ProviderKeyError) -> ProviderKey {
    var info = stat()
    if lstat(path, &info) != 0 {
      if let databasePath,
        case .group(let gid) = FileSharing.of(folder: PrivateFiles.folder(of: databasePath)),
        FileSharing.of(folder: PrivateFiles.folder(of: path)) != .group(gid)
      {
        throw .notTheTeamKey(path: path, databasePath: databasePath)
      }
      try create(path: path)
    }
    return try load(path: path)
  }

  /// Reads an existing key file after checking it and its folder (see the type's summary).
  public static func load(path: String) throws(ProviderKeyError) -> ProviderKey {
    let data: [UInt8]
    do {
      try PrivateFiles.checkFolder(PrivateFiles.folder(of: path), what: "provider key folder")
      guard
        let read = try PrivateFiles.readPrivate(
          path, what: "provider key", groupMayWrite: false, limit: 4096)
      else { throw ProviderKeyError.unreadable(path: path, reason: "no such file") }
      data = read
    } catch let error as PrivateFileError {
      throw .unsafe(error)
    } catch let error as ProviderKeyError {
      throw error
    } catch {
      throw .unreadable(path: path, reason: "\(error)")
    }
    let text = String(decoding: data, as: UTF8.self)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    guard let bytes = hexBytes(text), bytes.count == 32 else {
      throw .malformed(path: path)
    }
    if let reason = weakness(bytes) { throw .weak(path: path, reason: reason) }
    return ProviderKey(bytes: bytes, path: path)
  }

  /// Why `bytes` cannot be a randomly drawn key, or nil. 32 random bytes repeat few values
  /// (fewer than 16 distinct values has a probability far below 2^-100) and follow no step.
  static func weakness(_ bytes: [UInt8]) -> String? {
    if Set(bytes).count == 1 { return "every byte is \(hex([bytes[0]]))" }
    if Set(bytes).count < 16 { return "only \(Set(bytes).count) distinct byte values" }
    let steps = Set(zip(bytes, bytes.dropFirst()).map { $1 &- $0 })
    if steps.count == 1 { return "the bytes count up or down in equal steps" }
    return nil
  }

  /// Writes a fresh random key (folder 0700 when missing; file 0600, or 0640 in a team
  /// folder): written to a temporary file, flushed, then linked to `path`, so a reader never
  /// sees half a key. When another process created the key first, theirs is kept.
  static func create(path: String) throws(ProviderKeyError) {
    do throws(PrivateFileError) {
      try PrivateFiles.makeFolder(PrivateFiles.folder(of: path))
      let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
      let temporary = try PrivateFiles.Temporary(for: path)
      defer { temporary.discard() }
      if case .group = FileSharing.of(folder: PrivateFiles.folder(of: path)) {
        fchmod(temporary.descriptor, 0o640)
      }
      try temporary.write(Array((hex(bytes) + "\n").utf8))
      try temporary.sync()
      if link(temporary.path, path) != 0, errno != EEXIST {
        throw PrivateFileError.io(
          path: path, action: "create the file", reason: String(cString: strerror(errno)))
      }
      try PrivateFiles.syncFolder(PrivateFiles.folder(of: path))
    } catch {
      throw .unsafe(error)
    }
  }

  // MARK: - Pseudonyms

  /// The pseudonym of `value` in `field`: lowercase hex HMAC-SHA-256 under the key of
  /// `field` + NUL + `value` (the field name separates, say, an account id from a name that
  /// happens to be spelled the same). Stable for one key; unlinkable without it.
  public func pseudonym(field: String, value: String) -> String {
    var message = Data(field.utf8)
    message.append(0)
    message.append(contentsOf: Array(value.utf8))
    let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: bytes))
    return Self.hex(Array(mac))
  }

  static func hex(_ bytes: [UInt8]) -> String { AuditChain.hex(bytes) }

  static func hexBytes(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
      guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else {
        return nil
      }
      bytes.append(high << 4 | low)
      index += 2
    }
    return bytes
  }

  private static func nibble(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}

/// A provider key file that cannot be used; the message names the file and the fix.
public enum ProviderKeyError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The key file or its folder is exposed (others may read or write it, another account
  /// owns it, a symlink) or could not be written.
  case unsafe(PrivateFileError)
  /// The file is missing or unreadable.
  case unreadable(path: String, reason: String)
  /// The file does not hold 64 hex digits.
  case malformed(path: String)
  /// The key is not random (all zero, one byte repeated, a counting pattern).
  case weak(path: String, reason: String)
  /// A private key would be created for a database shared with a team.
  case notTheTeamKey(path: String, databasePath: String)

  public var description: String {
    switch self {
    case .unsafe(let error):
      return error.description + Self.leakNote(error)
    case .unreadable(let path, let reason):
      return "\(path): cannot read the provider key file: \(reason)"
    case .malformed(let path):
      return "\(path): the provider key file must hold exactly 64 hex digits (32 bytes)"
    case .weak(let path, let reason):
      return "\(path): the provider key is weak (\(reason)): it was not drawn at random, and "
        + "pseudonyms made with it can be reversed. Refusing to use it; move it away and let "
        + "csar create a new key (pseudonyms sent before cannot be matched with new ones)"
    case .notTheTeamKey(let path, let databasePath):
      return "\(databasePath) is shared with a team, but no key is at \(path) and a key "
        + "created there would be yours alone: set provider_key in your config.toml to the "
        + "team's key (see `csar init --help`)"
    }
  }

  private static func leakNote(_ error: PrivateFileError) -> String {
    switch error {
    case .tooOpen, .folderWritable, .wrongOwner:
      " (and consider the key leaked if others did read or replace it)"
    default: ""
    }
  }
}
