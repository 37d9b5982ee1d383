// The memory behind a PDQ index: one block in the snapshot file's payload layout, allocated
// for an index built here or mapped read-only from a snapshot file (no copy, shared with
// every process that maps the same file).

import Foundation

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

  deinit {
    switch owner {
    case .allocated(let block): free(block)
    case .mapped(let start, let length): munmap(start, length)
    }
  }
}
