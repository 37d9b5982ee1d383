// The memory behind a PDQ index: one block in the snapshot file's payload layout, allocated
// for an index built here or mapped read-only from a snapshot file (no copy, shared with
// every process that maps the same file).

import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// One block holding an index's four arrays back to back, each 8-byte aligned: words
/// (4 x UInt64 per hash), ids (Int64 per hash), offsets (16 x 65,537 UInt32, only with the
/// multi-index tables) and members (16 x UInt32 per hash, likewise). Immutable once filled.
final class PDQIndexStorage: @unchecked Sendable {
  /// Byte offsets of the arrays within the block, and its size.
  struct Layout: Equatable {
    var words = 0
    var ids: Int
    var offsets: Int
    var members: Int
    var total: Int

    /// The layout for `count` hashes, with or without the slot tables.
    init(count n: Int, multiIndex: Bool) {
      ids = n * 32
      offsets = ids + n * 8
      members = offsets + (multiIndex ? 16 * PDQIndex.offsetsPerSlot * 4 : 0)
      total = members + (multiIndex ? 16 * n * 4 : 0)
    }
  }

  /// How the block is given back.
  enum Owner {
    /// `calloc`ed here.
    case allocated(UnsafeMutableRawPointer)
    /// `mmap`ed: the whole mapping (which starts before the block, at the file's header).
    case mapped(UnsafeMutableRawPointer, length: Int)
  }

  let count: Int
  let multiIndex: Bool
  let payload: UnsafeRawBufferPointer
  let words: UnsafeBufferPointer<UInt64>
  let ids: UnsafeBufferPointer<Int>
  let offsets: UnsafeBufferPointer<UInt32>
  let members: UnsafeBufferPointer<UInt32>
  private let owner: Owner
  /// The query filters' address once built (see ``installFilters(_:)``), else 0.
  private let filterAddress = Atomic<Int>(0)
  /// A copy of the slot tables' offsets beside the filters (see ``installFilters(_:)``).
  private let offsetCopyAddress = Atomic<Int>(0)
  /// Held while filters are built, so only one caller builds them.
  private let filterBuild = Mutex(false)

  /// Bytes of the block (what a snapshot's payload holds).
  var payloadBytes: Int { payload.count }

  /// Whether the block is a mapped file.
  var isMapped: Bool {
    if case .mapped = owner { return true }
    return false
  }

  /// A zeroed block for `count` hashes (the caller fills it before anyone reads it).
  convenience init(allocatingFor count: Int, multiIndex: Bool) {
    let layout = Layout(count: count, multiIndex: multiIndex)
    guard let block = calloc(1, max(layout.total, 8)) else {
      fatalError("out of memory for a PDQ index of \(count) hashes")
    }
    self.init(
      owner: .allocated(block), payload: UnsafeRawPointer(block), count: count,
      multiIndex: multiIndex)
  }

  /// The block at `payload` inside a mapping, already checked to be `Layout.total` long.
  init(owner: Owner, payload: UnsafeRawPointer, count: Int, multiIndex: Bool) {
    let layout = Layout(count: count, multiIndex: multiIndex)
    self.owner = owner
    self.count = count
    self.multiIndex = multiIndex
    self.payload = UnsafeRawBufferPointer(start: payload, count: layout.total)
    words = UnsafeBufferPointer(
      start: (payload + layout.words).bindMemory(to: UInt64.self, capacity: count * 4),
      count: count * 4)
    ids = UnsafeBufferPointer(
      start: (payload + layout.ids).bindMemory(to: Int.self, capacity: count), count: count)
    let tables = multiIndex ? 16 : 0
    offsets = UnsafeBufferPointer(
      start: (payload + layout.offsets).bindMemory(
        to: UInt32.self, capacity: tables * PDQIndex.offsetsPerSlot),
      count: tables * PDQIndex.offsetsPerSlot)
    members = UnsafeBufferPointer(
      start: (payload + layout.members).bindMemory(to: UInt32.self, capacity: tables * count),
      count: tables * count)
  }

  // MARK: - Query filters

  /// Bytes of the query filters: 16 bytes per entry of every slot table.
  var filterBytes: Int { multiIndex ? 16 * count * 16 : 0 }

  /// The query filters (one pair of words per entry of the slot tables, in their order),
  /// when built; immutable once there.
  var filters: UnsafePointer<SIMD2<UInt64>>? {
    UnsafePointer(bitPattern: filterAddress.load(ordering: .acquiring))
  }

  /// The slot tables' offsets in the filters' block (published with the filters).
  var offsetCopy: UnsafePointer<UInt32>? {
    UnsafePointer(bitPattern: offsetCopyAddress.load(ordering: .acquiring))
  }

  /// Builds the filters with `fill` into private memory (2 MiB aligned and advised to use
  /// huge pages: the filters are read at random, and a page-table walk per read would cost
  /// as much as the read) and publishes them, with a copy of the slot tables' offsets in
  /// front (4 MiB, read at random by every probe: in a mapped snapshot's small pages each
  /// probe also missed the TLB). The first caller builds; a caller arriving while that
  /// runs waits for it; later calls return at once.
  func installFilters(_ fill: (UnsafeMutablePointer<SIMD2<UInt64>>) -> Void) {
    let bytes = filterBytes
    guard bytes > 0 else { return }
    let huge = 2 << 20
    let offsetBytes = (offsets.count * 4 + huge - 1) / huge * huge
    filterBuild.withLock { built in
      guard !built else { return }
      var block: UnsafeMutableRawPointer?
      guard posix_memalign(&block, huge, offsetBytes + bytes) == 0, let block else { return }
      #if canImport(Glibc)
        _ = madvise(block, offsetBytes + bytes, MADV_HUGEPAGE)
      #endif
      let copy = block.bindMemory(to: UInt32.self, capacity: offsets.count)
      copy.initialize(from: offsets.baseAddress!, count: offsets.count)
      let filters = (block + offsetBytes).bindMemory(
        to: SIMD2<UInt64>.self, capacity: bytes / 16)
      fill(filters)
      offsetCopyAddress.store(Int(bitPattern: copy), ordering: .releasing)
      filterAddress.store(Int(bitPattern: filters), ordering: .releasing)
      built = true
    }
  }

  deinit {
    if let offsetCopy { free(UnsafeMutableRawPointer(mutating: offsetCopy)) }
    switch owner {
    case .allocated(let block): free(block)
    case .mapped(let start, let length): munmap(start, length)
    }
  }
}
