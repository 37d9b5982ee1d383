// Finding known PDQ hashes within a Hamming distance, fast at tens of millions of hashes.
//
// Multi-index hashing (Norouzi et al.): the 256 bits are cut into 16 slots of 16 bits. If two
// hashes differ in at most d bits, some slot differs in at most floor(d / 16) bits (pigeonhole),
// so a query probes, in each slot's table, its own 16-bit value and every value within that
// radius (1 + 16 values at d = 31), and checks the full distance of the entries found there.
// Each slot's table is a counting-sort layout: 65,537 offsets plus one array of entry numbers
// ordered by slot value. Small sets, and radii beyond 2 (d > 47), use a linear scan instead.

// MARK: - Results

/// One hit of an index query.
public struct PDQMatch: Sendable, Equatable, Hashable {
  /// The caller's identifier of the matched hash.
  public var id: Int
  /// Hamming distance between the query and the matched hash.
  public var distance: Int

  /// Creates a match.
  public init(id: Int, distance: Int) {
    self.id = id
    self.distance = distance
  }
}

// MARK: - Index

/// An immutable index of PDQ hashes with caller-chosen integer identifiers.
///
/// Its arrays live in one block laid out exactly as a snapshot file's payload (see
/// ``PDQIndexSnapshot``): built in memory, or mapped from such a file without copying.
public struct PDQIndex: Sendable {
  /// Below this many hashes, queries scan linearly (and no tables are built).
  public static let linearScanLimit = 4096
  /// Offsets per slot table: one per 16-bit value, plus the end.
  static let offsetsPerSlot = 65537

  let storage: PDQIndexStorage

  /// Hash words, four per entry (least significant first).
  var words: UnsafeBufferPointer<UInt64> { storage.words }
  /// Identifier per entry.
  var ids: UnsafeBufferPointer<Int> { storage.ids }
  /// Per slot s: offsets[s * 65537 + v] ..< offsets[s * 65537 + v + 1] index `members`
  /// (within slot s's section) for entries whose slot s equals v.
  var offsets: UnsafeBufferPointer<UInt32> { storage.offsets }
  /// Per slot s, `count` entry numbers ordered by slot value (section s * count).
  var members: UnsafeBufferPointer<UInt32> { storage.members }

  /// Number of hashes.
  public var count: Int { storage.count }

  /// Whether queries use the multi-index tables.
  public var usesMultiIndex: Bool { storage.multiIndex }

  /// Whether the index is a mapped snapshot file (not built in this process's memory).
  public var isMapped: Bool { storage.isMapped }

  /// Approximate bytes used per hash (hash, identifier and table entries).
  public var bytesPerHash: Double {
    guard count > 0 else { return 0 }
    return Double(storage.payloadBytes) / Double(count)
  }

  /// Builds an index. `multiIndex: nil` chooses by size (tables from `linearScanLimit` up).
  public init(_ entries: some Sequence<(PDQHash, Int)>, multiIndex: Bool? = nil) {
    var words: [UInt64] = []
    var ids: [Int] = []
    for (hash, id) in entries {
      words.append(hash.words[0])
      words.append(hash.words[1])
      words.append(hash.words[2])
      words.append(hash.words[3])
      ids.append(id)
    }
    self.init(words: words, ids: ids, multiIndex: multiIndex)
  }

  /// An index over storage already filled and checked (a mapped snapshot).
  init(storage: PDQIndexStorage) {
    self.storage = storage
  }

  /// Builds an index from packed words (four per hash) and identifiers.
  public init(words: [UInt64], ids: [Int], multiIndex: Bool? = nil) {
    precondition(words.count == ids.count * 4, "four words per identifier")
    precondition(ids.count < Int(UInt32.max), "too many hashes for one index")
    let n = ids.count
    let tables = multiIndex ?? (n >= Self.linearScanLimit)
    let storage = PDQIndexStorage(allocatingFor: n, multiIndex: tables)
    let w = UnsafeMutableBufferPointer(mutating: storage.words)
    _ = w.initialize(from: words)
    _ = UnsafeMutableBufferPointer(mutating: storage.ids).initialize(from: ids)
    if tables {
      Self.buildTables(
        words: storage.words, n: n,
        offsets: UnsafeMutableBufferPointer(mutating: storage.offsets),
        members: UnsafeMutableBufferPointer(mutating: storage.members))
    }
    self.storage = storage
  }

  /// Fills the slot tables (counting sort per slot); `offsets` must be zeroed.
  static func buildTables(
    words w: UnsafeBufferPointer<UInt64>, n: Int, offsets off: UnsafeMutableBufferPointer<UInt32>,
    members mem: UnsafeMutableBufferPointer<UInt32>
  ) {
    var cursor = [UInt32](repeating: 0, count: 65536)
    for s in 0..<16 {
      let word = s >> 2
      let shift = UInt64((s & 3) * 16)
      let base = s * offsetsPerSlot
      for i in 0..<n {
        let v = Int((w[i * 4 + word] >> shift) & 0xFFFF)
        off[base + v + 1] += 1
      }
      for v in 0..<65536 { off[base + v + 1] += off[base + v] }
      for v in 0..<65536 { cursor[v] = off[base + v] }
      let section = s * n
      for i in 0..<n {
        let v = Int((w[i * 4 + word] >> shift) & 0xFFFF)
        mem[section + Int(cursor[v])] = UInt32(i)
        cursor[v] += 1
      }
    }
  }

  // MARK: - Queries

  /// Every indexed hash within `maxDistance` of `hash`, nearest first (ties by identifier).
  public func query(_ hash: PDQHash, maxDistance: Int = 31) -> [PDQMatch] {
    var matches: [PDQMatch] = []
    let radius = maxDistance / 16
    if usesMultiIndex && maxDistance >= 0 && radius <= 2 {
      multiIndexQuery(hash, maxDistance: maxDistance, radius: radius, into: &matches)
    } else {
      linearQuery(hash, maxDistance: maxDistance, into: &matches)
    }
    matches.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
    return matches
  }

  /// Matches of any of the eight dihedral variants (rotations and flips), best distance per
  /// identifier, nearest first.
  public func query(
    dihedral hashes: PDQDihedralHashes, maxDistance: Int = 31
  ) -> [PDQMatch] {
    var best: [Int: Int] = [:]
    for variant in Set(hashes.all) {
      for match in query(variant, maxDistance: maxDistance) {
        best[match.id] = min(best[match.id] ?? Int.max, match.distance)
      }
    }
    return best.map { PDQMatch(id: $0.key, distance: $0.value) }
      .sorted { ($0.distance, $0.id) < ($1.distance, $1.id) }
  }

  /// Brute force over every hash (also the reference the tests compare the tables with).
  public func linearQuery(_ hash: PDQHash, maxDistance: Int) -> [PDQMatch] {
    var matches: [PDQMatch] = []
    linearQuery(hash, maxDistance: maxDistance, into: &matches)
    matches.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
    return matches
  }

  func linearQuery(_ hash: PDQHash, maxDistance: Int, into matches: inout [PDQMatch]) {
    let q0 = hash.words[0]
    let q1 = hash.words[1]
    let q2 = hash.words[2]
    let q3 = hash.words[3]
    let (w, ids) = (words, ids)
    for i in 0..<ids.count {
      let d = (w[i * 4] ^ q0).nonzeroBitCount + (w[i * 4 + 1] ^ q1).nonzeroBitCount
        + (w[i * 4 + 2] ^ q2).nonzeroBitCount + (w[i * 4 + 3] ^ q3).nonzeroBitCount
      if d <= maxDistance { matches.append(PDQMatch(id: ids[i], distance: d)) }
    }
  }

  func multiIndexQuery(
    _ hash: PDQHash, maxDistance: Int, radius: Int, into matches: inout [PDQMatch]
  ) {
    let q = [hash.words[0], hash.words[1], hash.words[2], hash.words[3]]
    let n = ids.count
    let (w, off, mem, ids) = (words, offsets, members, ids)
    for s in 0..<16 {
      let key = Int((q[s >> 2] >> UInt64((s & 3) * 16)) & 0xFFFF)
      let base = s * Self.offsetsPerSlot
      let section = s * n

      /// Checks every entry whose slot s is `value`.
      func probe(_ value: Int) {
        let start = Int(off[base + value])
        let end = Int(off[base + value + 1])
        var m = start
        while m < end {
          let i = Int(mem[section + m])
          m += 1
          // Offsets were checked when the index was mapped; entry numbers are checked here
          // (one comparison), so no file can make a query read outside the index.
          guard i < n else { continue }
          let x0 = w[i * 4] ^ q[0]
          let x1 = w[i * 4 + 1] ^ q[1]
          let x2 = w[i * 4 + 2] ^ q[2]
          let x3 = w[i * 4 + 3] ^ q[3]
          let d = x0.nonzeroBitCount + x1.nonzeroBitCount + x2.nonzeroBitCount
            + x3.nonzeroBitCount
          guard d <= maxDistance else { continue }
          // Report each entry once: at the first slot within the probe radius.
          var seenEarlier = false
          var t = 0
          while t < s {
            let word = t >> 2 == 0 ? x0 : t >> 2 == 1 ? x1 : t >> 2 == 2 ? x2 : x3
            let slotBits = (word >> UInt64((t & 3) * 16)) & 0xFFFF
            if slotBits.nonzeroBitCount <= radius {
              seenEarlier = true
              break
            }
            t += 1
          }
          if !seenEarlier { matches.append(PDQMatch(id: ids[i], distance: d)) }
        }
      }

      probe(key)
      if radius >= 1 {
        for b in 0..<16 { probe(key ^ (1 << b)) }
      }
      if radius >= 2 {
        for b in 0..<16 {
          for c in (b + 1)..<16 { probe(key ^ (1 << b) ^ (1 << c)) }
        }
      }
    }
  }
}

// MARK: - Exact digests

/// Exact lookup of cryptographic digests (SHA-256, MD5), case-insensitive hex.
public struct DigestIndex: Sendable {
  var table: [String: [Int]] = [:]

  /// Builds from (hex digest, identifier) pairs.
  public init(_ entries: some Sequence<(String, Int)>) {
    for (digest, id) in entries { table[digest.lowercased(), default: []].append(id) }
  }

  /// Number of distinct digests.
  public var count: Int { table.count }

  /// Identifiers recorded for `digest` (empty when unknown).
  public func query(_ digest: String) -> [Int] { table[digest.lowercased()] ?? [] }
}
