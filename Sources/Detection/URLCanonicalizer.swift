// URL canonicalisation and lookup expressions as Google Safe Browsing v4 (Update API) defines
// them, so that URL lists match however a URL is written.
//
// Canonical form: tab/CR/LF removed, surrounding spaces trimmed, fragment dropped, percent-
// escapes undone repeatedly, scheme defaulted to http, userinfo and port dropped; host without
// leading/trailing dots, runs of dots collapsed, a Unicode host in its IDNA ASCII form
// (`xn--`), IPv4 in any inet_aton form written as dotted decimal, lowercased; path with "."
// and ".." segments resolved and runs of "/" collapsed (the query is left alone); finally
// bytes <= 0x20, >= 0x7F, '#' and '%' are escaped as %XX.

// MARK: - Errors

/// Why a string could not be canonicalised as a URL.
public struct URLCanonicalizationError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The input as given.
  public var input: String
  /// What is wrong with it.
  public var reason: String

  /// Creates an error.
  public init(input: String, reason: String) {
    self.input = input
    self.reason = reason
  }

  /// Names the input and the problem.
  public var description: String { "\"\(input)\": \(reason)" }
}

// MARK: - Canonical URL

/// A canonical URL split into the parts lookups use.
public struct CanonicalURL: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// Lowercase scheme, e.g. "http".
  public var scheme: String
  /// Canonical host (escaped).
  public var host: String
  /// Canonical path, starting with "/" (escaped).
  public var path: String
  /// The query without "?", or `nil` when the URL has no "?".
  public var query: String?

  /// `scheme://host/path[?query]`.
  public var description: String {
    "\(scheme)://\(host)\(path)" + (query.map { "?" + $0 } ?? "")
  }

  /// Whether the host is a dotted-decimal IPv4 address.
  public var hostIsIPv4: Bool { URLCanonicalizer.parseIPv4(Array(host.utf8)) != nil }

  /// The host-suffix / path-prefix expressions Safe Browsing looks up (at most 5 hosts x 6
  /// paths), most specific first, each as "host/path" without the scheme.
  public var lookupExpressions: [String] {
    var hosts = [host]
    if !hostIsIPv4 {
      let parts = host.split(separator: ".", omittingEmptySubsequences: false)
      let longest = min(5, parts.count - 1)
      if longest >= 2 {
        for n in stride(from: longest, through: 2, by: -1) {
          let suffix = parts.suffix(n).joined(separator: ".")
          if suffix != host { hosts.append(suffix) }
        }
      }
    }
    var paths: [String] = []
    func add(_ p: String) { if !paths.contains(p) { paths.append(p) } }
    if let query { add(path + "?" + query) }
    add(path)
    add("/")
    let segments = path.split(separator: "/", omittingEmptySubsequences: true)
    // Directory prefixes: up to three below the root, never the full path's last segment.
    let directories = path.hasSuffix("/") ? segments.count : max(0, segments.count - 1)
    var prefix = "/"
    for segment in segments.prefix(min(3, directories)) {
      prefix += segment + "/"
      add(prefix)
    }
    var out: [String] = []
    for h in hosts {
      for p in paths { out.append(h + p) }
    }
    return out
  }
}

// MARK: - Canonicaliser

/// Google Safe Browsing v4 URL canonicalisation.
public enum URLCanonicalizer {
  /// The canonical form of `url` as a string.
  public static func canonicalize(_ url: String) throws(URLCanonicalizationError) -> String {
    try parse(url).description
  }

  /// The canonical form of raw URL bytes (for inputs that are not valid UTF-8).
  public static func canonicalize(bytes: [UInt8]) throws(URLCanonicalizationError) -> String {
    try parse(bytes: bytes, display: String(decoding: bytes, as: UTF8.self)).description
  }

  /// Canonicalises and splits `url`.
  public static func parse(_ url: String) throws(URLCanonicalizationError) -> CanonicalURL {
    try parse(bytes: Array(url.utf8), display: url)
  }

  /// The lookup expressions of `url` (see `CanonicalURL.lookupExpressions`).
  public static func lookupExpressions(
    _ url: String
  ) throws(URLCanonicalizationError) -> [String] {
    try parse(url).lookupExpressions
  }

  // MARK: - Steps

  static func parse(
    bytes input: [UInt8], display: String
  ) throws(URLCanonicalizationError) -> CanonicalURL {
    // Tab, CR and LF go wherever they are; surrounding spaces go.
    var bytes = input.filter { $0 != 0x09 && $0 != 0x0D && $0 != 0x0A }
    while let first = bytes.first, first == 0x20 { bytes.removeFirst() }
    while let last = bytes.last, last == 0x20 { bytes.removeLast() }
    // The fragment goes before unescaping (an escaped '#' is not a fragment).
    if let hash = bytes.firstIndex(of: UInt8(ascii: "#")) { bytes.removeSubrange(hash...) }
    bytes = unescapeRepeatedly(bytes)
    if bytes.isEmpty {
      throw URLCanonicalizationError(input: display, reason: "empty URL")
    }

    // Scheme.
    var scheme = "http"
    var rest = bytes[...]
    if let range = firstRange(of: Array("://".utf8), in: bytes) {
      let candidate = bytes[..<range.lowerBound]
      if !candidate.isEmpty && candidate.allSatisfy(isSchemeByte) {
        scheme = String(decoding: candidate, as: UTF8.self).lowercased()
        rest = bytes[range.upperBound...]
      }
    }

    // Authority ends at the first '/' or '?'.
    let authorityEnd = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }
      ?? rest.endIndex
    var authority = Array(rest[rest.startIndex..<authorityEnd])
    let tail = Array(rest[authorityEnd...])
    if let at = authority.lastIndex(of: UInt8(ascii: "@")) {
      authority.removeSubrange(...at)
    }
    if let colon = authority.lastIndex(of: UInt8(ascii: ":")),
      authority[(colon + 1)...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
    {
      authority.removeSubrange(colon...)
    }
    let host = canonicalHost(authority)
    if host.isEmpty {
      throw URLCanonicalizationError(input: display, reason: "no host name")
    }

    // Path and query.
    var rawPath = tail
    var query: [UInt8]?
    if let q = tail.firstIndex(of: UInt8(ascii: "?")) {
      rawPath = Array(tail[..<q])
      query = Array(tail[(q + 1)...])
    }
    let path = canonicalPath(rawPath)

    return CanonicalURL(
      scheme: scheme, host: escape(host), path: escape(path), query: query.map(escape))
  }

  static func isSchemeByte(_ b: UInt8) -> Bool {
    (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39)
      || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
  }

  static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
    guard haystack.count >= needle.count else { return nil }
    for i in 0...(haystack.count - needle.count)
    where haystack[i..<(i + needle.count)].elementsEqual(needle) {
      return i..<(i + needle.count)
    }
    return nil
  }

  static func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case 0x30...0x39: b - 0x30
    case 0x41...0x46: b - 0x41 + 10
    case 0x61...0x66: b - 0x61 + 10
    default: nil
    }
  }

  /// Undoes %XX escapes until none is left (invalid '%' sequences stay as they are).
  static func unescapeRepeatedly(_ input: [UInt8]) -> [UInt8] {
    var bytes = input
    while true {
      var out: [UInt8] = []
      out.reserveCapacity(bytes.count)
      var changed = false
      var i = 0
      while i < bytes.count {
        if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count,
          let high = hexValue(bytes[i + 1]), let low = hexValue(bytes[i + 2])
        {
          out.append(high << 4 | low)
          i += 3
          changed = true
        } else {
          out.append(bytes[i])
          i += 1
        }
      }
      bytes = out
      if !changed { return bytes }
    }
  }

  static func canonicalHost(_ raw: [UInt8]) -> [UInt8] {
    // A Unicode host in its ASCII (Punycode) form, so lists and uploads compare in one form
    // (bytes that are not UTF-8 stay, and are escaped below).
    let ascii = raw.contains { $0 >= 0x80 } ? IDNA.toASCII(raw) ?? raw : raw
    // Strip leading/trailing dots, collapse runs of dots.
    var host: [UInt8] = []
    for b in ascii {
      if b == UInt8(ascii: "."), host.last == UInt8(ascii: ".") || host.isEmpty { continue }
      host.append(b)
    }
    while host.last == UInt8(ascii: ".") { host.removeLast() }
    if let address = parseIPv4(host) {
      let text = (0..<4).map { String((address >> UInt32(24 - 8 * $0)) & 0xFF) }
        .joined(separator: ".")
      return Array(text.utf8)
    }
    return host.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
  }

  /// An IPv4 address in any form inet_aton accepts: 1 to 4 parts, each decimal, octal
  /// (leading 0) or hex (0x); the last part fills the remaining bytes.
  static func parseIPv4(_ host: [UInt8]) -> UInt32? {
    let parts = host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    guard (1...4).contains(parts.count) else { return nil }
    var values: [UInt64] = []
    for part in parts {
      guard !part.isEmpty else { return nil }
      var digits = Array(part)
      var radix: UInt64 = 10
      if digits.count >= 2, digits[0] == UInt8(ascii: "0"),
        digits[1] == UInt8(ascii: "x") || digits[1] == UInt8(ascii: "X")
      {
        radix = 16
        digits.removeFirst(2)
      } else if digits.count >= 2, digits[0] == UInt8(ascii: "0") {
        radix = 8
        digits.removeFirst()
      }
      var value: UInt64 = 0
      for d in digits {
        guard let v = hexValue(d), UInt64(v) < radix else { return nil }
        value = value * radix + UInt64(v)
        if value > 0xFFFF_FFFF { return nil }
      }
      values.append(value)
    }
    var address: UInt64 = 0
    for (i, v) in values.enumerated() {
      if i < values.count - 1 {
        guard v <= 255 else { return nil }
        address |= v << UInt64(8 * (3 - i))
      } else {
        let remainingBytes = 4 - i
        guard remainingBytes == 4 || v < (1 << UInt64(8 * remainingBytes)) else { return nil }
        address |= v
      }
    }
    return UInt32(address)
  }

  /// Resolves "." and ".." segments and collapses runs of "/"; "/" when empty.
  static func canonicalPath(_ raw: [UInt8]) -> [UInt8] {
    let slash = UInt8(ascii: "/")
    let segments = raw.split(separator: slash, omittingEmptySubsequences: true)
    var stack: [ArraySlice<UInt8>] = []
    var trailingSlash = raw.last == slash
    for segment in segments {
      if segment.elementsEqual([UInt8(ascii: ".")]) {
        trailingSlash = true
      } else if segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
        if !stack.isEmpty { stack.removeLast() }
        trailingSlash = true
      } else {
        stack.append(segment)
        trailingSlash = false
      }
    }
    if raw.last == slash { trailingSlash = true }
    var out: [UInt8] = [slash]
    for (i, segment) in stack.enumerated() {
      out += segment
      if i < stack.count - 1 || trailingSlash { out.append(slash) }
    }
    return out
  }

  /// Escapes bytes <= 0x20, >= 0x7F, '#' and '%' as %XX (uppercase hex).
  static func escape(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    for b in bytes {
      if b <= 0x20 || b >= 0x7F || b == UInt8(ascii: "#") || b == UInt8(ascii: "%") {
        out += [UInt8(ascii: "%"), digits[Int(b >> 4)], digits[Int(b & 15)]]
      } else {
        out.append(b)
      }
    }
    return String(decoding: out, as: UTF8.self)
  }
}
