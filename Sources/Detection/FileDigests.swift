// Cryptographic digests for exact matching of known files.

import Crypto
import Foundation

/// SHA-256, MD5 and SHA-1 of a file's bytes, as lowercase hex.
public struct FileDigests: Sendable, Equatable, Hashable {
  /// SHA-256, 64 lowercase hex digits.
  public var sha256: String
  /// MD5, 32 lowercase hex digits.
  public var md5: String
  /// SHA-1, 40 lowercase hex digits (NCMEC fingerprint lists use it; empty when unknown).
  public var sha1: String = ""

  /// Digests of `bytes`.
  public init(of bytes: [UInt8]) {
    sha256 = Self.hex(SHA256.hash(data: bytes))
    md5 = Self.hex(Insecure.MD5.hash(data: bytes))
    sha1 = Self.hex(Insecure.SHA1.hash(data: bytes))
  }

  /// SHA-256 of `bytes` alone, as lowercase hex.
  public static func sha256(of bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

  /// Creates digests from known hex values (`sha1` empty when unknown).
  public init(sha256: String, md5: String, sha1: String = "") {
    self.sha256 = sha256
    self.md5 = md5
    self.sha1 = sha1
  }

  static func hex(_ digest: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for byte in digest {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self)
  }
}
