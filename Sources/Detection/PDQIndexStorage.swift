// The memory behind a PDQ index: one block in the snapshot file's payload layout, allocated
// for an index built here or mapped read-only from a snapshot file (no copy, shared with
// every process that maps the same file).

import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// One block holding an index's five arrays back to back, each 8-byte aligned: words
/// (4 x UInt64 per hash), ids (Int64 per hash), offsets (16 x 65,537 UInt32, only with the
/// multi-index tables), members (16 x UInt32 per hash, likewise) and partners (16 x UInt16
/// per hash, likewise: beside each member, its partner slot's value). Immutable once
/// filled.
final class PDQIndexStorage: @unchecked Sendable {
  /// Byte offsets of the arrays within the block, and its size.
  struct Layout: Equatable {
    var words = 0
    var ids: Int
    var offsets: Int
    var members: Int
    var partners: Int
    var total: Int

    /// The layout for `count` hashes, with or without the slot tables.
    init(count n: Int, multiIndex: Bool) {
      ids = n * 32
      offsets = ids + n * 8
      members = offsets + (multiIndex ? 16 * PDQIndex.offsetsPerSlot * 4 : 0)
      partners = members + (multiIndex ? 16 * n * 4 : 0)
      total = partners + (multiIndex ? 16 * n * 2 : 0)
    }
  }

  /// How the block is given back.
  enum Owner {
    /// Allocated here (from 2 MiB up, 2 MiB aligned and advised to use huge pages: queries
    /// read it at random, and a TLB miss per read cost a tenth of a query at 10M hashes).
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
  let partners: UnsafeBufferPointer<UInt16>
  private let owner: Owner
  /// The huge-page copies' address once made (see ``installCopies()``), else 0.
  private let offsetCopyAddress = Atomic<Int>(0)
  /// Held while the copies are made, so only one caller makes them.
  private let copyBuild = Mutex(false)

  /// Bytes of the block (what a snapshot's payload holds).
  var payloadBytes: Int { payload.count }

  /// Whether the block is a mapped file.
  var isMapped: Bool {
    if case .mapped = owner { return true }
    return false
  }

  /// A zeroed block for `count` hashes (the caller fills it before anyone reads it), in
  /// huge pages where the system gives them.
  convenience init(allocatingFor count: Int, multiIndex: Bool) {
    let layout = Layout(count: count, multiIndex: multiIndex)
    let bytes = max(layout.total, 8)
    var raw: UnsafeMutableRawPointer?
    if bytes < Self.hugePage {
      raw = calloc(1, bytes)
    } else if posix_memalign(&raw, Self.hugePage, bytes) == 0, let raw {
      #if canImport(Glibc)
        _ = madvise(raw, bytes, MADV_HUGEPAGE)
      #endif
      memset(raw, 0, bytes)
    }
    guard let block = raw else {
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
    partners = UnsafeBufferPointer(
      start: (payload + layout.partners).bindMemory(to: UInt16.self, capacity: tables * count),
      count: tables * count)
  }

  // MARK: - Huge-page copies

  /// Bytes of the huge-page copy: the slot tables' offsets, rounded up to whole 2 MiB
  /// pages.
  var copyBytes: Int {
    guard multiIndex else { return 0 }
    return Self.hugePages(offsets.count * 4)
  }

  static let hugePage = 2 << 20

  static func hugePages(_ bytes: Int) -> Int { (bytes + hugePage - 1) / hugePage * hugePage }

  /// The slot tables' offsets in huge pages, once copied (see ``installCopies()``).
  var offsetCopy: UnsafePointer<UInt32>? {
    UnsafePointer(bitPattern: offsetCopyAddress.load(ordering: .acquiring))
  }

  /// Copies the slot tables' offsets (4 MiB, one read at random for each of a query's
  /// probes) of a mapped snapshot into private memory, 2 MiB aligned and advised to use
  /// huge pages, and publishes the copy: a mapped snapshot sits in small pages, where each
  /// of those reads also missed the TLB. The partners, read from each probed run's start
  /// on, stay in the mapping: a copy of them (32 bytes a hash, 324 MB at 10M) measured no
  /// faster once the partner test cleared bits (10M: 26,509 against 26,508 lookups a
  /// second, three A/B runs each). A block allocated here is in huge pages already and gets
  /// no copy. The first caller copies; a caller arriving while that runs waits for it;
  /// later calls return at once.
  func installCopies() {
    let bytes = copyBytes
    guard bytes > 0, isMapped else { return }
    copyBuild.withLock { built in
      guard !built else { return }
      var block: UnsafeMutableRawPointer?
      guard posix_memalign(&block, Self.hugePage, bytes) == 0, let block else { return }
      #if canImport(Glibc)
        _ = madvise(block, bytes, MADV_HUGEPAGE)
      #endif
      let copy = block.bindMemory(to: UInt32.self, capacity: offsets.count)
      copy.initialize(from: offsets.baseAddress!, count: offsets.count)
      offsetCopyAddress.store(Int(bitPattern: copy), ordering: .releasing)
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
