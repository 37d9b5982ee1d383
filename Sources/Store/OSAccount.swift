#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - OS accounts (the password database)

/// An account of the operating system: its login name and uid, as the password database
/// (`getpwuid_r` / `getpwnam_r`) knows them. csar's operators are bound to these.
public struct OSAccount: Hashable, Sendable, CustomStringConvertible {
  /// The login name.
  public let name: String
  /// The user id.
  public let uid: UInt32

  /// Creates a value with every field given.
  public init(name: String, uid: UInt32) {
    self.name = name
    self.uid = uid
  }

  /// `name (uid N)`, as messages name an account.
  public var description: String { "\"\(name)\" (uid \(uid))" }

  /// The effective uid of this process: who is calling.
  public static var effectiveUid: UInt32 { UInt32(geteuid()) }

  /// The account with this uid, or nil when the password database has none.
  public static func withUid(_ uid: UInt32) -> OSAccount? {
    lookup { entry, buffer, size, result in
      getpwuid_r(uid_t(uid), &entry, buffer, size, &result)
    }
  }

  /// The account with this login name, or nil when there is none.
  public static func named(_ login: String) -> OSAccount? {
    guard !login.isEmpty, !login.contains("\0") else { return nil }
    return lookup { entry, buffer, size, result in
      getpwnam_r(login, &entry, buffer, size, &result)
    }
  }

  /// Runs a reentrant password-database lookup, growing its buffer while it is too small.
  private static func lookup(
    _ call: (inout passwd, UnsafeMutablePointer<CChar>, Int, inout UnsafeMutablePointer<passwd>?)
      -> Int32
  ) -> OSAccount? {
    var size = 1024
    while size <= 1 << 20 {
      var entry = passwd()
      var result: UnsafeMutablePointer<passwd>?
      let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: size)
      defer { buffer.deallocate() }
      let status = call(&entry, buffer, size, &result)
      if status == ERANGE {
        size *= 2
        continue
      }
      guard status == 0, result != nil, let name = entry.pw_name else { return nil }
      return OSAccount(name: String(cString: name), uid: UInt32(entry.pw_uid))
    }
    return nil
  }
}
