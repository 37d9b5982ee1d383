// The PDQ index as a flat file, mapped into memory: a process starts with a built index
// without reading every hash from the database, building the tables, or copying the file.

import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A snapshot file of a ``PDQIndex``, versioned and tagged (the caller's tag says what the
/// index was built from; a snapshot with another tag is stale), mapped read-only on use.
///
/// Layout, little-endian: a 64-byte header of UInt64 fields
///
/// | offset | field |
/// |---|---|
/// | 0 | magic `CSARPDQ1` |
/// | 8 | format version (3: with the partners; 2 had none) |
/// | 16 | number of hashes |
/// | 24 | 1 with the multi-index tables, 0 without |
/// | 32 | the tag's length in bytes |
/// | 40 | the file's size in bytes |
/// | 48 | checksum of the payload |
/// | 56 | checksum of bytes 0..<56 and the padded tag |
///
/// then the tag (UTF-8, zero-padded to 8 bytes), then the payload: the index's arrays as
/// ``PDQIndexStorage`` lays them out. Nothing in a file is trusted before it is checked:
/// the header's checksum, the size (exactly what the counts imply), the payload's checksum,
/// and the slot tables' offsets (increasing, within the index); entry numbers are checked
/// by each query. A file that fails a check is an error (the caller rebuilds it).
public enum PDQIndexSnapshot {
  /// The format written; files of another version are stale (rebuilt).
  public static let version: UInt64 = 3
  static let magic = Array("CSARPDQ1".utf8)
  /// Bytes before the tag.
  static let headerBytes = 64
  /// Longest tag accepted.
  static let maxTagBytes = 1 << 20

  // MARK: - Writing

  /// Writes `index` to the open file `fd` (the caller creates the file, privately, and
  /// renames it into place once it is written and flushed).
  public static func write(_ index: PDQIndex, tag: String, to fd: Int32, path: String)
    throws(SnapshotError)
  {
    let tagBytes = Array(tag.utf8)
    guard tagBytes.count <= maxTagBytes else {
      throw SnapshotError(path: path, reason: "the tag is longer than \(maxTagBytes) bytes")
    }
    let storage = index.storage
    let prefix = headerBytes + padded(tagBytes.count)
    var head = [UInt8](repeating: 0, count: prefix)
    head.withUnsafeMutableBytes { raw in
      func put(_ value: UInt64, at offset: Int) {
        raw.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
      }
      raw.copyBytes(from: magic)
      put(version, at: 8)
      put(UInt64(storage.count), at: 16)
      put(storage.multiIndex ? 1 : 0, at: 24)
      put(UInt64(tagBytes.count), at: 32)
      put(UInt64(prefix + storage.payloadBytes), at: 40)
      put(checksum(storage.payload), at: 48)
      UnsafeMutableRawBufferPointer(rebasing: raw[headerBytes...]).copyBytes(from: tagBytes)
      put(headerChecksum(UnsafeRawBufferPointer(raw)), at: 56)
    }
    var failure: String?
    head.withUnsafeBytes { failure = writeAll(fd, $0) }
    if failure == nil { failure = writeAll(fd, storage.payload) }
    if let failure { throw SnapshotError(path: path, reason: failure) }
  }

  static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> String? {
    var offset = 0
    while offset < bytes.count {
      let n = Glibc.write(fd, bytes.baseAddress! + offset, min(bytes.count - offset, 1 << 30))
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { return n == 0 ? "nothing was written" : errorText() }
      offset += n
    }
    return nil
  }

  // MARK: - Mapping

  /// The index in the snapshot at `path` when its version and tag are the ones asked for;
  /// nil when there is no such file or it is stale. A damaged file is an error. (Callers
  /// that check the file's owner and mode first open it themselves and call
  /// ``map(fd:path:tag:)``.)
  public static func read(path: String, tag: String) throws(SnapshotError) -> PDQIndex? {
    let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else {
      if errno == ENOENT { return nil }
      throw SnapshotError(path: path, reason: errorText())
    }
    defer { close(fd) }
    return try map(fd: fd, path: path, tag: tag)
  }

  /// Maps the snapshot open at `fd` read-only and checks it (see the type's description);
  /// nil when it is of another version or tag. The descriptor may be closed afterwards.
  public static func map(fd: Int32, path: String, tag: String) throws(SnapshotError)
    -> PDQIndex?
  {
    func damaged(_ reason: String) -> SnapshotError { SnapshotError(path: path, reason: reason) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw damaged(errorText()) }
    guard info.st_mode & S_IFMT == S_IFREG else { throw damaged("not a regular file") }
    let size = Int(info.st_size)
    guard size >= headerBytes else { throw damaged("the file is cut short (\(size) bytes)") }
    // The checksum reads every page: the whole file is asked for at once (read ahead while
    // the checksum runs over what has come, instead of MAP_POPULATE's read first, sum
    // after). With the file in the page cache both cost the same.
    _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_WILLNEED))
    guard let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0),
      mapping != UnsafeMutableRawPointer(bitPattern: -1)
    else { throw damaged("cannot map the file: " + errorText()) }
    var keep = false
    defer { if !keep { munmap(mapping, size) } }
    let file = UnsafeRawBufferPointer(start: mapping, count: size)
    func field(_ offset: Int) -> UInt64 {
      UInt64(littleEndian: file.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    guard Array(file[0..<8]) == magic else { throw damaged("not a PDQ index snapshot") }
    guard field(8) == version else { return nil }
    let tagCount = field(32)
    guard tagCount <= UInt64(maxTagBytes) else { throw damaged("damaged header") }
    let prefix = headerBytes + padded(Int(tagCount))
    guard size >= prefix else { throw damaged("the file is cut short (\(size) bytes)") }
    guard headerChecksum(UnsafeRawBufferPointer(rebasing: file[0..<prefix])) == field(56)
    else { throw damaged("the header's checksum does not match") }
    let count = field(16)
    let tables = field(24)
    guard count < UInt64(UInt32.max), tables <= 1 else { throw damaged("damaged header") }
    let layout = PDQIndexStorage.Layout(count: Int(count), multiIndex: tables == 1)
    guard field(40) == UInt64(prefix + layout.total), size == prefix + layout.total else {
      throw damaged(
        "the file has \(size) bytes, its header says \(field(40)) and its counts "
          + "\(prefix + layout.total)")
    }
    let tagBytes = file[headerBytes..<(headerBytes + Int(tagCount))]
    guard tagBytes.elementsEqual(tag.utf8) else { return nil }
    let payload = UnsafeRawBufferPointer(rebasing: file[prefix...])
    guard checksum(payload) == field(48) else {
      throw damaged("the payload's checksum does not match")
    }
    let storage = PDQIndexStorage(
      owner: .mapped(mapping, length: size), payload: payload.baseAddress!, count: Int(count),
      multiIndex: tables == 1)
    keep = true
    if let reason = checkTables(storage) { throw damaged(reason) }
    return PDQIndex(storage: storage)
  }

  /// Why the slot tables cannot be used, or nil: each slot's offsets start at 0, never
  /// decrease and end at the number of hashes (so every probe stays inside its section).
  static func checkTables(_ storage: PDQIndexStorage) -> String? {
    guard storage.multiIndex else { return nil }
    let n = UInt32(storage.count)
    let offsets = storage.offsets
    for s in 0..<16 {
      let base = s * PDQIndex.offsetsPerSlot
      guard offsets[base] == 0, offsets[base + 65536] == n else {
        return "slot table \(s) does not cover the index"
      }
      var previous: UInt32 = 0
      for v in 1...65536 {
        let value = offsets[base + v]
        guard value >= previous else { return "slot table \(s) is out of order" }
        previous = value
      }
    }
    return nil
  }

  // MARK: - Checksums

  /// A 64-bit checksum of `bytes` (a multiple of 8 long): four lanes of xxHash64's round
  /// over the 64-bit words, merged and mixed as xxHash64 does. It finds cut, torn or
  /// altered files; it is not a MAC (the file's owner and mode keep others from writing it).
  static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    let p3: UInt64 = 0x1656_67B1_9E37_79F9
    let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    @inline(__always) func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
      let mixed = acc &+ input &* p2
      return ((mixed << 31) | (mixed >> 33)) &* p1
    }
    @inline(__always) func rotate(_ x: UInt64, _ r: UInt64) -> UInt64 {
      (x << r) | (x >> (64 - r))
    }
    let words = bytes.count / 8
    var a = p1 &+ p2
    var b = p2
    var c: UInt64 = 0
    var d = 0 &- p1
    var i = 0
    @inline(__always) func word(_ k: Int) -> UInt64 {
      UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: k * 8, as: UInt64.self))
    }
    while i + 4 <= words {
      a = round(a, word(i))
      b = round(b, word(i + 1))
      c = round(c, word(i + 2))
      d = round(d, word(i + 3))
      i += 4
    }
    var h = rotate(a, 1) &+ rotate(b, 7) &+ rotate(c, 12) &+ rotate(d, 18)
    for lane in [a, b, c, d] { h = (h ^ round(0, lane)) &* p1 &+ p4 }
    h = h &+ UInt64(bytes.count)
    while i < words {
      h = rotate(h ^ round(0, word(i)), 27) &* p1 &+ p4
      i += 1
    }
    h ^= h >> 33
    h = h &* p2
    h ^= h >> 29
    h = h &* p3
    h ^= h >> 32
    return h
  }

  /// The header's checksum: bytes 0..<56 and the padded tag (everything but field 56).
  static func headerChecksum(_ prefix: UnsafeRawBufferPointer) -> UInt64 {
    var copy = Array(prefix)
    for k in 56..<64 { copy[k] = 0 }
    return copy.withUnsafeBytes { checksum($0) }
  }

  static func padded(_ count: Int) -> Int { (count + 7) / 8 * 8 }

  static func errorText() -> String { String(cString: strerror(errno)) }
}

/// A snapshot that cannot be written or read; names the file.
public struct SnapshotError: Error, Sendable, CustomStringConvertible {
  /// The file.
  public var path: String
  /// Why.
  public var reason: String

  /// Creates an error.
  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }

  public var description: String { "\(path): PDQ index snapshot: \(reason)" }
}
