// Bank entries of index hits, read on one thread through a connection of its own.

import GRDB

/// Reads the bank entries of PDQ index hits for one thread: through a read-only connection
/// of its own, and from a cache of the entries it has read for the same bank generation.
///
/// Why: the service's event loops answer lookups with hits themselves. Through the shared
/// reader pool, the read cost more than the index query, and the loops slept on the pool's
/// locks; through connections of their own they still wait on each other inside SQLite
/// (each read transaction takes the WAL's process-wide shared-memory lock). A known entry
/// asked for again (the same known image uploaded again) is answered from memory. The
/// cache belongs to one bank generation (a new index, after any bank change, starts a new
/// one), so it is never staler than the index that found the hit.
///
/// One thread only: the cache is not synchronised. The service keeps one reader a thread.
public final class BankEntryReader: @unchecked Sendable {
  private let connection: DatabaseQueue
  /// Entries read for `generation`, by row id; nil for an id the store did not show
  /// (retracted, in a disabled bank, or not yet published).
  private var cache: [Int64: BankHashHit?] = [:]
  private var generation = -1
  /// Most entries kept; past it the cache starts over.
  public static let cacheLimit = 65_536

  /// Opens `database`'s file read-only; throws for a database without a file (in memory).
  public init(database: AppDatabase) throws {
    var configuration = Configuration()
    configuration.readonly = true
    configuration.label = "csar.bank-entries"
    configuration.busyMode = .timeout(AppDatabase.busyTimeout)
    guard database.hasFile else {
      throw StoreError.cannotOpen(path: database.path, reason: "a database in memory has no file")
    }
    connection = try DatabaseQueue(path: database.path, configuration: configuration)
  }

  /// Bank hashes by row id, in id order, as ``AppDatabase/bankHashes(ids:)`` gives them;
  /// `generation` names the bank index the ids come from (a new one empties the cache).
  public func bankHashes(ids: [Int64], generation: Int) throws -> [BankHashHit] {
    guard !ids.isEmpty else { return [] }
    if generation != self.generation {
      cache.removeAll(keepingCapacity: true)
      self.generation = generation
    }
    var found: [BankHashHit] = []
    var missing: [Int64] = []
    for id in ids {
      if let known = cache[id] {
        if let entry = known { found.append(entry) }
      } else {
        missing.append(id)
      }
    }
    guard !missing.isEmpty else { return found.sorted { $0.hashId < $1.hashId } }
    let read = try read(missing)
    if cache.count + missing.count > Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
    let byId = Dictionary(read.map { ($0.hashId, $0) }) { first, _ in first }
    for id in missing { cache.updateValue(byId[id], forKey: id) }
    return (found + read).sorted { $0.hashId < $1.hashId }
  }

  /// From the store, in one read transaction (several statements over 500 ids see one
  /// state; one statement is its own consistent read, without BEGIN / COMMIT around it).
  private func read(_ ids: [Int64]) throws -> [BankHashHit] {
    if ids.count <= 500 {
      return try connection.inDatabase { db in try AppDatabase.bankHashes(ids: ids, db) }
    }
    return try connection.read { db in try AppDatabase.bankHashes(ids: ids, db) }
  }
}
