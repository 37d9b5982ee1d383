// Finding known PDQ hashes within a Hamming distance, fast at tens of millions of hashes.
//
// Multi-index hashing (Norouzi et al.) with a second pigeonhole. The 256 bits are cut into
// 16 slots of 16 bits, paired into 8 superslots of 32 bits (slots 2k and 2k + 1). If two
// hashes differ in at most d bits, some superslot differs in at most R = floor(d / 8) bits,
// and its nearer slot in at most floor(R / 2), its other slot (the partner) in at most R
// minus that. So a query probes, in each slot's table, its own 16-bit value and every value
// within floor(R / 2) (1 + 16 values at d = 31), and of the entries found under a value e
// bits away keeps only those whose partner is within R - e of the query's: a 16-bit test
// that passes about one entry in a hundred. Each slot's table is a counting-sort layout:
// 65,537 offsets, then the entry numbers ordered by slot value, and beside them each
// entry's partner value (2 bytes), so the test reads the runs as a sequence of 2-byte
// values; only the entries that pass are read (their 32 bytes) and measured in full.
// Small sets, and probe radii beyond 2 (d > 47), use a linear scan instead.

import CPrefetch

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
  /// Beside each of `members`, the entry's value in the partner slot (s ^ 1).
  var partners: UnsafeBufferPointer<UInt16> { storage.partners }

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
        members: UnsafeMutableBufferPointer(mutating: storage.members),
        partners: UnsafeMutableBufferPointer(mutating: storage.partners))
    }
    self.storage = storage
  }

  /// Fills the slot tables (counting sort per slot); `offsets` must be zeroed.
  static func buildTables(
    words w: UnsafeBufferPointer<UInt64>, n: Int, offsets off: UnsafeMutableBufferPointer<UInt32>,
    members mem: UnsafeMutableBufferPointer<UInt32>,
    partners part: UnsafeMutableBufferPointer<UInt16>
  ) {
    var cursor = [UInt32](repeating: 0, count: 65536)
    for s in 0..<16 {
      let base = s * offsetsPerSlot
      for i in 0..<n {
        off[base + Int(slotValue(w, entry: i, slot: s)) + 1] += 1
      }
      for v in 0..<65536 { off[base + v + 1] += off[base + v] }
      for v in 0..<65536 { cursor[v] = off[base + v] }
      let section = s * n
      for i in 0..<n {
        let v = Int(slotValue(w, entry: i, slot: s))
        let position = section + Int(cursor[v])
        mem[position] = UInt32(i)
        part[position] = slotValue(w, entry: i, slot: s ^ 1)
        cursor[v] += 1
      }
    }
  }

  /// Slot `s`'s 16 bits of entry `i`.
  @inline(__always)
  static func slotValue(_ w: UnsafeBufferPointer<UInt64>, entry i: Int, slot s: Int) -> UInt16 {
    UInt16(truncatingIfNeeded: w[i &* 4 &+ s >> 2] >> UInt64((s & 3) &* 16))
  }

  /// Slot `s`'s 16 bits of a hash's words.
  @inline(__always)
  static func slotValue(_ q: SIMD4<UInt64>, slot s: Int) -> UInt16 {
    UInt16(truncatingIfNeeded: q[s >> 2] >> UInt64((s & 3) &* 16))
  }

  // MARK: - Queries

  /// Every indexed hash within `maxDistance` of `hash`, nearest first (ties by identifier).
  public func query(_ hash: PDQHash, maxDistance: Int = 31) -> [PDQMatch] {
    var matches: [PDQMatch] = []
    if usesMultiIndex && maxDistance >= 0 && maxDistance / 8 / 2 <= 2 {
      multiIndexQuery(hash, maxDistance: maxDistance, into: &matches)
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

  /// Candidates gathered before their words are read (see ``multiIndexQuery``).
  static let candidateBatch = 256
  /// Slots whose probes are gathered together.
  static let slotsPerGroup = 4
  /// The values XORed into a slot's key to probe it: the key itself, then every 1-bit flip,
  /// then every 2-bit flip, as far as the radius goes.
  static let probeMasks: [[Int]] = {
    let one = (0..<16).map { 1 << $0 }
    let two = (0..<16).flatMap { b in ((b + 1)..<16).map { c in (1 << b) | (1 << c) } }
    return [[0], [0] + one, [0] + one + two]
  }()

  /// The tables' query. A large index never is in cache, so every step of a query is a
  /// cache miss: the offsets of each probed slot value, the run of partners behind it, then
  /// each candidate's words. A loop that waits for one miss before the next spends most of
  /// its time waiting, so the query goes in phases over four slots at a time, each phase a
  /// loop of independent loads the processor overlaps: the runs' bounds, every cache line
  /// of every run, the partner test (gathering the positions of the few that pass), their
  /// entry numbers, their words; only then the distances. No allocation but the matches.
  func multiIndexQuery(_ hash: PDQHash, maxDistance: Int, into matches: inout [PDQMatch]) {
    let q = hash.words
    let n = ids.count
    let superRadius = maxDistance / 8
    let radius = superRadius / 2
    // After `prepareForQueries()`, the offsets are read from huge pages.
    let off = storage.offsetCopy.map { UnsafeBufferPointer(start: $0, count: offsets.count) }
      ?? offsets
    let part = partners
    let masks = Self.probeMasks[radius]
    let runCount = Self.slotsPerGroup * masks.count
    let batch = Self.candidateBatch
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * runCount) { bounds in
      withUnsafeTemporaryAllocation(of: Int.self, capacity: batch) { candidates in
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: batch) { slots in
          withUnsafeTemporaryAllocation(of: SIMD4<UInt64>.self, capacity: batch) { loaded in
            /// Gathers a candidate (its position in the tables), checking the batch first
            /// when it is full.
            @inline(__always) func add(_ position: Int, _ slot: Int, _ count: inout Int) {
              if count == batch {
                check(candidates, slots, loaded, count, q, maxDistance, &matches)
                count = 0
              }
              candidates[count] = position
              slots[count] = UInt8(slot)
              count &+= 1
            }
            /// The bounds of a group's runs (absolute positions in `members` and
            /// `partners`), stored from `first`, and a prefetch of every cache line of
            /// every run (32 partners to a line), so they arrive while the group before
            /// is tested.
            @inline(__always) func fetchRuns(group: Int, from first: Int) {
              var r = first
              for s in group..<(group + Self.slotsPerGroup) {
                let key = Int(Self.slotValue(q, slot: s))
                let base = s &* Self.offsetsPerSlot
                let section = s &* n
                for mask in masks {
                  let v = key ^ mask
                  bounds[r] = section &+ Int(off[base &+ v])
                  bounds[r &+ 1] = section &+ Int(off[base &+ v &+ 1])
                  r &+= 2
                }
              }
              let lines = part.baseAddress!
              for k in stride(from: first, to: r, by: 2) where bounds[k] < bounds[k &+ 1] {
                var m = bounds[k]
                let last = bounds[k &+ 1] &- 1
                while m < last {
                  csar_prefetch(lines + m)
                  m &+= 32
                }
                csar_prefetch(lines + last)
              }
            }
            fetchRuns(group: 0, from: 0)
            for group in stride(from: 0, to: 16, by: Self.slotsPerGroup) {
              // This group's bounds are at one half of `bounds`; the next group's runs are
              // asked for into the other half before this one is tested.
              let here = ((group / Self.slotsPerGroup) & 1) &* 2 &* runCount
              if group &+ Self.slotsPerGroup < 16 {
                fetchRuns(group: group &+ Self.slotsPerGroup, from: 2 &* runCount &- here)
              }
              // The partner test: under a value `e` bits from the query's, an entry within
              // `maxDistance` has its partner slot within `superRadius - e` bits. Eight
              // partners at a time; the run's last (partial) eight are the eight that end
              // it, with the lanes before the run or already tested left out.
              var count = 0
              for k in 0..<runCount {
                let s = group &+ k / masks.count
                let partnerKey = SIMD8(repeating: Self.slotValue(q, slot: s ^ 1))
                let limit = superRadius &- masks[k % masks.count].nonzeroBitCount
                var m = bounds[here &+ 2 &* k]
                let end = bounds[here &+ 2 &* k &+ 1]
                guard m < end else { continue }
                if end < 8 {
                  // Too near the array's start for a vector ending at `end`.
                  while m < end {
                    if (part[m] ^ partnerKey[0]).nonzeroBitCount <= limit {
                      add(m, s, &count)
                    }
                    m &+= 1
                  }
                  continue
                }
                while m < end {
                  let start = min(m, end &- 8)
                  let near = Self.atMostBits(load8(part, at: start) ^ partnerKey, limit)
                  if any(near) {
                    for lane in 0..<8 where near[lane] && start &+ lane >= m {
                      add(start &+ lane, s, &count)
                    }
                  }
                  m = start &+ 8
                }
              }
              check(candidates, slots, loaded, count, q, maxDistance, &matches)
            }
          }
        }
      }
    }
  }

  /// The eight partners from position `m` (unaligned).
  @inline(__always)
  func load8(_ part: UnsafeBufferPointer<UInt16>, at m: Int) -> SIMD8<UInt16> {
    UnsafeRawPointer(part.baseAddress! + m).loadUnaligned(as: SIMD8<UInt16>.self)
  }

  /// Which lanes have at most `bits` bits set. Up to 3 bits (the partner test's limits at
  /// distance 31 are 2 and 3): each step clears every lane's lowest set bit, so a lane is
  /// zero after `bits` steps exactly when it had at most that many, fewer operations than
  /// counting the bits (SSE2 has no popcount), on the loop every query spends most on.
  @inline(__always)
  static func atMostBits(_ v: SIMD8<UInt16>, _ bits: Int) -> SIMDMask<SIMD8<Int16>> {
    guard bits <= 3 else { return bitCounts(v) .<= SIMD8(repeating: UInt16(bits)) }
    let one = SIMD8<UInt16>(repeating: 1)
    var x = v
    if bits >= 1 { x &= x &- one }
    if bits >= 2 { x &= x &- one }
    if bits >= 3 { x &= x &- one }
    return x .== SIMD8<UInt16>()
  }

  /// Each lane's number of set bits (the classic halving sums, eight lanes at once).
  @inline(__always)
  static func bitCounts(_ v: SIMD8<UInt16>) -> SIMD8<UInt16> {
    var x = v &- ((v &>> 1) & 0x5555)
    x = (x & 0x3333) &+ ((x &>> 2) & 0x3333)
    x = (x &+ (x &>> 4)) & 0x0F0F
    return (x &+ (x &>> 8)) & 0x001F
  }

  /// Makes a private huge-page copy of what a query reads at random (see
  /// ``PDQIndexStorage/installCopies()``): for long-running processes over a mapped
  /// snapshot, the slot tables' offsets (4 MiB), copied in milliseconds; queries use it as
  /// soon as it is published and give the same answers with or without it. Thread-safe; a
  /// second call returns at once. Nothing to copy below the tables' size, nor for an index
  /// built in memory (in huge pages already).
  public func prepareForQueries() {
    guard usesMultiIndex, count > 0 else { return }
    storage.installCopies()
  }

  /// Whether queries read from huge pages: an index built in memory always does (nothing
  /// to prepare); a mapped snapshot once ``prepareForQueries()`` has published its copies.
  public var isPreparedForQueries: Bool { !storage.isMapped || storage.offsetCopy != nil }

  /// Reads the entry numbers at `count` gathered positions, then their words (each a loop
  /// of independent loads: at 10M hashes each is a cache and TLB miss, and a loop that
  /// used each as soon as it was read would wait for them one by one), then keeps those
  /// within `maxDistance` that no earlier slot than their own reached (each entry is
  /// reported once: at the first slot whose probe and partner test it passes).
  @inline(__always)
  private func check(
    _ candidates: UnsafeMutableBufferPointer<Int>, _ slots: UnsafeMutableBufferPointer<UInt8>,
    _ loaded: UnsafeMutableBufferPointer<SIMD4<UInt64>>, _ count: Int, _ q: SIMD4<UInt64>,
    _ maxDistance: Int, _ matches: inout [PDQMatch]
  ) {
    let (w, n) = (words, ids.count)
    let superRadius = maxDistance / 8
    let radius = superRadius / 2
    let mem = members
    for k in 0..<count { candidates[k] = Int(mem[candidates[k]]) }
    for k in 0..<count {
      let i = candidates[k]
      // Offsets were checked when the index was mapped; entry numbers are checked here, so
      // no file can make a query read outside the index (an entry past the end is given
      // the query's complement: 256 bits away, never a match).
      if i < n {
        loaded[k] = SIMD4(w[i &* 4], w[i &* 4 &+ 1], w[i &* 4 &+ 2], w[i &* 4 &+ 3])
      } else {
        loaded[k] = ~q
      }
    }
    for k in 0..<count {
      let x = loaded[k] ^ q
      let d = x[0].nonzeroBitCount &+ x[1].nonzeroBitCount &+ x[2].nonzeroBitCount
        &+ x[3].nonzeroBitCount
      guard d <= maxDistance else { continue }
      let s = Int(slots[k])
      var seenEarlier = false
      var t = 0
      while t < s {
        let own = Self.slotValue(x, slot: t).nonzeroBitCount
        if own <= radius && own &+ Self.slotValue(x, slot: t ^ 1).nonzeroBitCount <= superRadius {
          seenEarlier = true
          break
        }
        t += 1
      }
      if !seenEarlier { matches.append(PDQMatch(id: ids[candidates[k]], distance: d)) }
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
