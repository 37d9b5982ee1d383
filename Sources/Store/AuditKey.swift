import Crypto
import Foundation

// MARK: - The audit key

/// The secret that keys the audit log's chain (HMAC-SHA-256), so that someone who can write the
/// database file but cannot read the key cannot recompute the chain after changing it. Derived
/// from the provider key (`HMAC(provider key, "csar audit chain v1")`), never stored in the
/// database; the anchors that record the chain's head live beside the key file, in
/// ``anchorFolder``.
public struct AuditKey: Sendable {
  let bytes: [UInt8]
  /// Where the anchor files of the databases chained with this key are written
  /// (`<key folder>/anchors`); nil for keys that anchor nothing (in-memory databases).
  public let anchorFolder: String?

  /// The label that separates the audit key from the provider key's other uses.
  static let derivationLabel = "csar audit chain v1"

  /// The audit key derived from `providerKey`; anchors go to `anchorFolder`, by default the
  /// folder `anchors` beside the key file.
  public init(providerKey: ProviderKey, anchorFolder: String? = nil) {
    let mac = HMAC<SHA256>.authenticationCode(
      for: Data(Self.derivationLabel.utf8), using: SymmetricKey(data: providerKey.bytes))
    bytes = Array(mac)
    self.anchorFolder = anchorFolder ?? Self.anchorFolder(besideKey: providerKey.path)
  }

  init(bytes: [UInt8], anchorFolder: String?) {
    self.bytes = bytes
    self.anchorFolder = anchorFolder
  }

  /// A fresh random key (in-memory databases, scratch databases, tests); anchors nothing
  /// unless given a folder.
  public static func random(anchorFolder: String? = nil) -> AuditKey {
    AuditKey(
      bytes: SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) },
      anchorFolder: anchorFolder)
  }

  /// `<folder of the key file>/anchors`.
  public static func anchorFolder(besideKey keyPath: String) -> String {
    PrivateFiles.folder(of: keyPath) + "/anchors"
  }

  // MARK: - MACs

  /// Lowercase hex HMAC-SHA-256 of `data` under the key.
  func mac(_ data: Data) -> String {
    AuditChain.hex(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: bytes)))
  }

  /// Stored in the database when its chain is first keyed: tells a wrong key from a forged
  /// chain without revealing the key.
  var check: String { mac(Data("csar audit key check v1".utf8)) }

  /// The link before the first event of the database `databaseId`: a chain cannot be moved to
  /// another database and still verify.
  func genesis(databaseId: String) -> String {
    mac(Data("csar audit genesis v1\n\(databaseId)".utf8))
  }
}

// MARK: - Errors

/// Why an audited write or a verification cannot use the audit chain; the message names the
/// database and what to do.
public enum AuditError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The database was opened without an audit key: it can be read, not written.
  case noAuditKey(path: String)
  /// The chain was keyed with another key than the one given.
  case wrongKey(path: String)
  /// The log is not keyed: broken, or from before keyed chains and waiting for an admin's
  /// `csar audit rekey`.
  case notKeyed(path: String, reason: String)
  /// An event of a keyed chain carries no MAC.
  case missingMac(path: String, eventId: Int64)
  /// The anchor file could not be written.
  case cannotWriteAnchor(path: String, reason: String)

  public var description: String {
    switch self {
    case .noAuditKey(let path):
      return "\(path): opened without the audit key (derived from the provider key): "
        + "audited writes and `csar audit verify` need it"
    case .wrongKey(let path):
      return "\(path): the audit chain was keyed with another provider key than the one "
        + "given; use the key file this database was made with"
    case .notKeyed(let path, let reason):
      return "\(path): the audit log is not keyed with the provider key (\(reason)), so "
        + "nothing more is written; run `csar audit verify`"
    case .missingMac(let path, let id):
      return "\(path): audit event \(id) carries no MAC; run `csar audit verify`"
    case .cannotWriteAnchor(let path, let reason):
      return "\(path): cannot write the audit anchor: \(reason)"
    }
  }
}
