// Matching media hashes against the enabled hash banks.

import Detection
import Foundation
import Store
import Synchronization

/// One bank entry an upload matched.
public struct KnownMatch: Hashable, Sendable {
  /// The bank's name.
  public var bank: String
  /// What matched: `sha256`, `md5`, `sha1` or `pdq`.
  public var type: BankHashType
  /// PDQ Hamming distance (0 for exact digests).
  public var distance: Int
  /// The entry's label, if any.
  public var label: String?
  /// The list's identifier of the entry, if any.
  public var sourceId: String?
  /// For a match found in a video: the frame that matched, and its time in seconds (PDQ of
  /// one frame), or the first matched frame and the matched segment (vPDQ).
  public var frame: Int? = nil
  /// The matched segment of the upload, in seconds (one instant for a single frame).
  public var segment: ClosedRange<Double>? = nil
  /// The bank video matched by the vPDQ rule, with both shares.
  public var video: VideoMatch? = nil
  /// The bank's version when it matched (`bank_version` row id and number).
  public var versionId: Int64? = nil
  /// The version number (1, 2, ...).
  public var version: Int? = nil
  /// What the bank says a match does.
  public var onMatch: BankMatchAction = .review
}

extension KnownMatch {
  /// A match of bank hash `hit` at `distance`.
  init(_ hit: BankHashHit, distance: Int) {
    bank = hit.bank
    type = hit.type
    self.distance = distance
    label = hit.label
    sourceId = hit.sourceId
    versionId = hit.versionId
    version = hit.version
    onMatch = hit.onMatch
  }
}

/// The enabled banks' PDQ hashes in a `PDQIndex` (digests are looked up exactly in the store,
/// through its `(type, hash)` index, so they need no loading). Build once per scan run.
public final class BankMatcher: Sendable {
  /// The database the banks live in.
  public let database: AppDatabase
  /// The PDQ index over every enabled bank (identifiers are `bank_hash` row ids).
  public let index: PDQIndex
  /// Largest threshold among the enabled banks (the index is queried with it, then each
  /// hit is held to its own bank's threshold).
  public let maxThreshold: Int
  /// Seconds spent reading hashes from the store (or the snapshot).
  public let loadSeconds: Double
  /// Seconds spent building the index (0 when it came from a snapshot).
  public let buildSeconds: Double
  /// The banks' stamp the index was built for (see ``AppDatabase/bankStamp()``).
  public let stamp: String
  /// Whether the index was read from a snapshot file.
  public let fromSnapshot: Bool
  /// This matcher's number among those made in the process (each bank index its own).
  public let generation: Int
  private static let made = Atomic<Int>(0)
  /// Why a snapshot file that was there was not used (damaged, cut short, too open), if it
  /// was refused; a missing or stale one is not a problem.
  public let snapshotProblem: String?

  /// Loads the enabled banks' PDQ hashes and builds the index. With `snapshot`, a snapshot
  /// file of the same banks is mapped instead (after checking its owner, mode, size and
  /// checksums), and a missing, stale or refused one is written after the build (a file
  /// that cannot be written is left alone: the index is still right).
  public init(database: AppDatabase, snapshot: String? = nil) throws {
    self.database = database
    generation = Self.made.add(1, ordering: .relaxed).newValue
    let start = Date()
    stamp = try database.bankStamp()
    var problem: String?
    var saved: PDQIndex?
    if let snapshot {
      do {
        saved = try Self.map(snapshot, tag: stamp)
      } catch {
        problem = "\(error)"
      }
    }
    snapshotProblem = problem
    if let saved {
      index = saved
      fromSnapshot = true
      loadSeconds = Date().timeIntervalSince(start)
      buildSeconds = 0
    } else {
      var words: [UInt64] = []
      var ids: [Int] = []
      try database.forEachEnabledPDQHash { id, hex in
        guard let hash = PDQHash(hex: hex) else { return }
        words.append(hash.words[0])
        words.append(hash.words[1])
        words.append(hash.words[2])
        words.append(hash.words[3])
        ids.append(Int(id))
      }
      let loaded = Date()
      index = PDQIndex(words: words, ids: ids)
      fromSnapshot = false
      loadSeconds = loaded.timeIntervalSince(start)
      buildSeconds = Date().timeIntervalSince(loaded)
      if let snapshot { try? Self.save(index, tag: stamp, to: snapshot) }
    }
    maxThreshold = try database.maxEnabledPDQThreshold() ?? 31
  }

  /// The snapshot at `path` when it holds the banks of `tag` (nil when missing or stale),
  /// opened without following a symlink and checked as csar's private files are (owner,
  /// mode) before it is mapped and checked as a snapshot.
  static func map(_ path: String, tag: String) throws -> PDQIndex? {
    let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else {
      if errno == ENOENT { return nil }
      if errno == ELOOP { throw PrivateFileError.symlink(path: path, what: "bank index snapshot") }
      throw SnapshotError(path: path, reason: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    try PrivateFiles.checkOpenFile(fd, path: path, what: "bank index snapshot")
    return try PDQIndexSnapshot.map(fd: fd, path: path, tag: tag)
  }

  /// Writes a snapshot privately and atomically (a temporary file beside it, flushed, renamed).
  static func save(_ index: PDQIndex, tag: String, to path: String) throws {
    let temporary = try PrivateFiles.Temporary(for: path)
    defer { temporary.discard() }
    try PDQIndexSnapshot.write(index, tag: tag, to: temporary.descriptor, path: temporary.path)
    try temporary.sync()
    try temporary.commit()
  }

  /// The snapshot file of a database's bank index (`csar.sqlite` -> `csar.pdqindex`), or nil
  /// for a database that has no file.
  public static func snapshotPath(database: AppDatabase) -> String? {
    guard database.hasFile else { return nil }
    return (database.path as NSString).deletingPathExtension + ".pdqindex"
  }

  /// Exact digest matches in the enabled banks: SHA-256 first, then MD5, then SHA-1 (when
  /// known).
  public func exactMatches(_ digests: FileDigests) throws -> [KnownMatch] {
    try exactMatches(type: .sha256, hash: digests.sha256)
      + exactMatches(type: .md5, hash: digests.md5)
      + (digests.sha1.isEmpty ? [] : exactMatches(type: .sha1, hash: digests.sha1))
  }

  /// Exact matches of one digest in the enabled banks.
  public func exactMatches(type: BankHashType, hash: String) throws -> [KnownMatch] {
    try database.exactBankHits(type: type, hash: hash).map { KnownMatch($0, distance: 0) }
  }

  /// PDQ matches within each bank's threshold, nearest first; with `dihedral`, the best
  /// distance over the eight rotations and flips.
  public func pdqMatches(_ hash: PDQHash, dihedral: PDQDihedralHashes? = nil) throws
    -> [KnownMatch]
  {
    guard index.count > 0 else { return [] }
    let found =
      dihedral.map { index.query(dihedral: $0, maxDistance: maxThreshold) }
      ?? index.query(hash, maxDistance: maxThreshold)
    return try matches(ofIndexHits: found)
  }

  /// The bank entries of PDQ index hits, each held to its own bank's threshold, nearest
  /// first: one store read (through `entries` when given, the calling thread's own
  /// connection), none when there are no hits.
  public func matches(
    ofIndexHits found: [PDQMatch], entries: BankEntryReader? = nil
  ) throws -> [KnownMatch] {
    guard !found.isEmpty else { return [] }
    let distance = Dictionary(found.map { (Int64($0.id), $0.distance) }) { a, _ in a }
    let ids = found.map { Int64($0.id) }
    let hits =
      try entries?.bankHashes(ids: ids, generation: generation)
      ?? database.bankHashes(ids: ids)
    return hits.compactMap { hit -> KnownMatch? in
      guard let d = distance[hit.hashId], d <= hit.pdqThreshold else { return nil }
      return KnownMatch(hit, distance: d)
    }.sorted { ($0.distance, $0.bank) < ($1.distance, $1.bank) }
  }
}
