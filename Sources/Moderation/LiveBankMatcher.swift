// One bank index for a long-running process, kept fresh: rebuilt aside when the banks
// change (in any process) and swapped in whole, so no lookup ever sees a half-built index.

import Foundation
import Store
import Synchronization

/// The current ``BankMatcher`` of a database, and the means to keep it current. Lookups take
/// ``current`` (a complete, immutable matcher); ``refresh()`` builds a new one when the
/// banks' stamp changed and swaps it in atomically.
public final class LiveBankMatcher: Sendable {
  /// One built matcher with what it was built from.
  public struct Generation: Sendable {
    /// The matcher.
    public let matcher: BankMatcher
    /// The banks' stamp read before the matcher was loaded.
    public let stamp: String
    /// When it was built.
    public let builtAt: Date
    /// Enabled banks.
    public let banks: Int
    /// Hashes of every type in the enabled banks.
    public let hashes: Int
  }

  /// The database the banks live in.
  public let database: AppDatabase
  private let generation: Mutex<Generation>
  private let building = Mutex(false)

  /// Loads the banks once.
  public init(database: AppDatabase) throws {
    self.database = database
    generation = Mutex(try Self.build(database))
  }

  /// The matcher to use now.
  public var current: BankMatcher { generation.withLock { $0.matcher } }

  /// The generation in use (matcher, stamp, build time).
  public var currentGeneration: Generation { generation.withLock { $0 } }

  /// Rebuilds the matcher when the banks changed since it was built; returns whether it
  /// swapped. A refresh already running elsewhere makes this one return false at once.
  @discardableResult
  public func refresh() throws -> Bool {
    guard building.withLock({ if $0 { return false }; $0 = true; return true }) else {
      return false
    }
    defer { building.withLock { $0 = false } }
    let stamp = try database.bankStamp()
    guard stamp != generation.withLock({ $0.stamp }) else { return false }
    let fresh = try Self.build(database)
    generation.withLock { $0 = fresh }
    return true
  }

  /// The matcher reads its stamp first: a change made while loading shows as a new stamp
  /// next time. The index comes from the snapshot file beside the database when that holds
  /// the same banks (and is written there otherwise).
  static func build(_ database: AppDatabase) throws -> Generation {
    let matcher = try BankMatcher(
      database: database, snapshot: BankMatcher.snapshotPath(database: database))
    // The index holds exactly the enabled banks' PDQ hashes: only digests are counted.
    let counts = try database.enabledBankCounts(countingPDQ: false)
    return Generation(
      matcher: matcher, stamp: matcher.stamp, builtAt: Date(), banks: counts.banks,
      hashes: matcher.index.count + counts.digests)
  }
}
