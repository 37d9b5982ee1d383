import Crypto
import Foundation

// MARK: - The service's bearer token

/// The secret that callers of `csar serve` present as `Authorization: Bearer TOKEN`: 32 random
/// bytes as 64 hex digits in their own file beside the provider key (`service.token` in the
/// key's folder, by default `$XDG_CONFIG_HOME/csar/`), created on the service's first start through ``PrivateFiles`` (mode 0600,
/// 0660 in a team folder) and refused, naming the `chmod`, when others can read it.
public struct ServiceToken: Sendable {
  /// Where the token was read from.
  public let path: String
  /// The token text (64 hex digits).
  public let value: String

  /// The default token file: `service.token` beside the provider key file.
  public static func defaultPath(keyPath: String) -> String {
    PrivateFiles.folder(of: keyPath) + "/service.token"
  }

  /// Reads the token at `path`, creating it (and its folder) when missing.
  public static func loadOrCreate(path: String) throws(ServiceTokenError) -> ServiceToken {
    let bytes: [UInt8]?
    do {
      bytes = try readOrCreate(path: path)
    } catch {
      throw .file(error)
    }
    let text = String(decoding: bytes ?? [], as: UTF8.self)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    guard text.utf8.count == 64, text.utf8.allSatisfy({ $0.isHexDigit }) else {
      throw .malformed(path: path)
    }
    return ServiceToken(value: text, path: path)
  }

  static func readOrCreate(path: String) throws(PrivateFileError) -> [UInt8]? {
    if let bytes = try PrivateFiles.readPrivate(path, what: "service token") { return bytes }
    try PrivateFiles.makeFolder(PrivateFiles.folder(of: path))
    let random = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    let text = random.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + "\n"
    do {
      try PrivateFiles.writeNewFile(Array(text.utf8), to: path)
    } catch {
      // Another process created it first: use theirs.
      guard case .exists = error else { throw error }
    }
    return try PrivateFiles.readPrivate(path, what: "service token")
  }

  /// A token from text (tests).
  public init(value: String, path: String = "<memory>") {
    self.value = value
    self.path = path
  }

  /// Whether `presented` is the token, compared in constant time.
  public func accepts(_ presented: some StringProtocol) -> Bool {
    let a = Array(value.utf8)
    let b = Array(presented.utf8)
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in a.indices { difference |= a[i] ^ b[i] }
    return difference == 0
  }
}

/// A token file that cannot be used; the message names the file and the fix.
public enum ServiceTokenError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file is open to others, not a regular file, or could not be read or written.
  case file(PrivateFileError)
  /// The file does not hold 64 hex digits.
  case malformed(path: String)

  public var description: String {
    switch self {
    case .file(let error): error.description
    case .malformed(let path): "\(path): the service token file must hold 64 hex digits"
    }
  }
}

extension UInt8 {
  fileprivate var isHexDigit: Bool {
    (0x30...0x39).contains(self) || (0x61...0x66).contains(self) || (0x41...0x46).contains(self)
  }
}
