import Crypto
import Foundation

// MARK: - The provider key

/// The provider's secret for pseudonymising personal data in reports: 32 random bytes kept as
/// 64 hex digits in their own file with mode 0600, never in the database. Created on first use;
/// a key file that the group or others can read is refused.
public struct ProviderKey: Sendable {
  /// Where the key was read from.
  public let path: String
  private let bytes: [UInt8]

  /// A key from raw bytes (tests).
  public init(bytes: [UInt8], path: String = "<memory>") {
    self.path = path
    self.bytes = bytes
  }

  /// The default key file: beside the database, named after it (`csar.sqlite` → `csar.key`).
  public static func defaultPath(databasePath: String) -> String {
    (databasePath as NSString).deletingPathExtension + ".key"
  }

  /// Reads the key at `path`, creating it (mode 0600, folder included) when missing.
  public static func loadOrCreate(path: String) throws(ProviderKeyError) -> ProviderKey {
    if !FileManager.default.fileExists(atPath: path) {
      try create(path: path)
    }
    return try load(path: path)
  }

  /// Reads an existing key file; refuses one that the group or others may read or write.
  public static func load(path: String) throws(ProviderKeyError) -> ProviderKey {
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw .unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    guard info.st_mode & S_IFMT == S_IFREG else {
      throw .unreadable(path: path, reason: "not a regular file")
    }
    let mode = Int(info.st_mode) & 0o777
    if mode & 0o077 != 0 {
      throw .tooOpen(path: path, mode: mode)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .unreadable(path: path, reason: "cannot read the file")
    }
    let text = String(decoding: data, as: UTF8.self)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    guard let bytes = hexBytes(text), bytes.count == 32 else {
      throw .malformed(path: path)
    }
    return ProviderKey(bytes: bytes, path: path)
  }

  /// Writes a fresh random key with mode 0600; fails if the file appeared meanwhile.
  static func create(path: String) throws(ProviderKeyError) {
    let folder = (path as NSString).deletingLastPathComponent
    if !folder.isEmpty {
      do {
        try FileManager.default.createDirectory(
          atPath: folder, withIntermediateDirectories: true)
      } catch {
        throw .cannotCreate(path: path, reason: "cannot create the folder \(folder)")
      }
    }
    let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    let text = hex(bytes) + "\n"
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else {
      if errno == EEXIST { return }  // another process created it first: use theirs
      throw .cannotCreate(path: path, reason: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    let written = text.utf8CString.withUnsafeBufferPointer { buffer in
      write(fd, buffer.baseAddress, buffer.count - 1)
    }
    guard written == text.utf8.count, fsync(fd) == 0 else {
      unlink(path)
      throw .cannotCreate(path: path, reason: String(cString: strerror(errno)))
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
  /// The group or others may read or write the key file.
  case tooOpen(path: String, mode: Int)
  /// The file is missing, unreadable or not a regular file.
  case unreadable(path: String, reason: String)
  /// The file does not hold 64 hex digits.
  case malformed(path: String)
  /// A new key file could not be written.
  case cannotCreate(path: String, reason: String)

  public var description: String {
    switch self {
    case .tooOpen(let path, let mode):
      return "\(path): the provider key file has mode \(String(mode, radix: 8)); others could "
        + "read it. Refusing to use it: restrict it with `chmod 600 \(path)` (and consider "
        + "the key leaked if others did read it)"
    case .unreadable(let path, let reason):
      return "\(path): cannot read the provider key file: \(reason)"
    case .malformed(let path):
      return "\(path): the provider key file must hold exactly 64 hex digits (32 bytes)"
    case .cannotCreate(let path, let reason):
      return "\(path): cannot create the provider key file: \(reason)"
    }
  }
}
