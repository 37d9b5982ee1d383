// The PDQ index as a flat file, so a process starts with a built index instead of reading
// every hash from the database and building the tables again.

import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A snapshot file of a ``PDQIndex``, versioned and tagged (the caller's tag says what the
/// index was built from; a snapshot with another tag is stale).
///
/// Layout, little-endian, every array 8-byte aligned: the magic `CSARPDQ1`, the format
/// version (UInt64), the tag's length and bytes (padded), then the four arrays, each as its
/// element count (UInt64) and its elements: words (UInt64), ids (Int64), offsets (UInt32),
/// members (UInt32).
public enum PDQIndexSnapshot {
  /// The format written; files of another version are ignored (rebuilt).
  public static let version: UInt64 = 1
  static let magic = Array("CSARPDQ1".utf8)

  /// Writes `index` to the open file `fd` (the caller creates the file, privately, and
  /// renames it into place once it is written and flushed).
  public static func write(_ index: PDQIndex, tag: String, to fd: Int32, path: String)
    throws(SnapshotError)
  {
    var ok = true
    func put(_ pointer: UnsafeRawBufferPointer) {
      var offset = 0
      while ok, offset < pointer.count {
        let n = Glibc.write(fd, pointer.baseAddress! + offset, pointer.count - offset)
        if n < 0, errno == EINTR { continue }
        if n <= 0 { ok = false } else { offset += n }
      }
    }
    func put(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { put($0) } }
    func pad(_ count: Int) {
      let extra = (8 - count % 8) % 8
      [UInt8](repeating: 0, count: extra).withUnsafeBytes { put($0) }
    }
    magic.withUnsafeBytes { put($0) }
    put(version)
    let tagBytes = Array(tag.utf8)
    put(UInt64(tagBytes.count))
    tagBytes.withUnsafeBytes { put($0) }
    pad(tagBytes.count)
    put(UInt64(index.words.count))
    index.words.withUnsafeBytes { put($0) }
    put(UInt64(index.ids.count))
    index.ids.withUnsafeBytes { put($0) }
    put(UInt64(index.offsets.count))
    index.offsets.withUnsafeBytes { put($0) }
    pad(index.offsets.count * 4)
    put(UInt64(index.members.count))
    index.members.withUnsafeBytes { put($0) }
    guard ok else { throw SnapshotError(path: path, reason: Self.errorText()) }
  }

  /// The index in the snapshot at `path` when its version and tag are the ones asked for;
  /// nil when there is no such file or it is stale. A damaged file is an error.
  public static func read(path: String, tag: String) throws(SnapshotError) -> PDQIndex? {
    let fd = open(path, O_RDONLY | O_NOFOLLOW)
    guard fd >= 0 else {
      if errno == ENOENT { return nil }
      throw SnapshotError(path: path, reason: Self.errorText())
    }
    defer { close(fd) }
    var reader = Reader(fd: fd, path: path)
    let head = try reader.bytes(8)
    guard head == magic else {
      throw SnapshotError(path: path, reason: "not a PDQ index snapshot")
    }
    guard try reader.word() == version else { return nil }
    let tagCount = Int(try reader.word())
    guard tagCount < 1 << 20 else { throw SnapshotError(path: path, reason: "damaged header") }
    let tagBytes = try reader.bytes(tagCount)
    _ = try reader.bytes((8 - tagCount % 8) % 8)
    guard tagBytes == Array(tag.utf8) else { return nil }
    let words: [UInt64] = try reader.array()
    let ids: [Int] = try reader.array()
    let offsets: [UInt32] = try reader.array()
    _ = try reader.bytes((8 - offsets.count * 4 % 8) % 8)
    let members: [UInt32] = try reader.array()
    let n = ids.count
    guard words.count == n * 4,
      (offsets.isEmpty && members.isEmpty)
        || (offsets.count == 16 * 65537 && members.count == 16 * n
          && offsets.last.map { Int($0) == n } == true)
    else { throw SnapshotError(path: path, reason: "the arrays do not fit together") }
    return PDQIndex(words: words, ids: ids, offsets: offsets, members: members)
  }

  static func errorText() -> String { String(cString: strerror(errno)) }

  /// Reads a snapshot in order.
  struct Reader {
    let fd: Int32
    let path: String

    /// Fills `buffer` from the file; the problem, if any.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) -> SnapshotError? {
      var offset = 0
      while offset < buffer.count {
        let n = Glibc.read(fd, buffer.baseAddress! + offset, buffer.count - offset)
        if n < 0, errno == EINTR { continue }
        guard n > 0 else {
          return SnapshotError(path: path, reason: n == 0 ? "the file is cut short" : errorText())
        }
        offset += n
      }
      return nil
    }

    mutating func bytes(_ count: Int) throws(SnapshotError) -> [UInt8] {
      var out = [UInt8](repeating: 0, count: count)
      if let failure = out.withUnsafeMutableBytes({ fill($0) }) { throw failure }
      return out
    }

    mutating func word() throws(SnapshotError) -> UInt64 {
      var value: UInt64 = 0
      if let failure = withUnsafeMutableBytes(of: &value, { fill($0) }) { throw failure }
      return UInt64(littleEndian: value)
    }

    mutating func array<T: FixedWidthInteger>() throws(SnapshotError) -> [T] {
      let count = Int(try word())
      guard count >= 0, count < 1 << 36 else {
        throw SnapshotError(path: path, reason: "damaged array length")
      }
      var failure: SnapshotError?
      let out = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        failure = fill(UnsafeMutableRawBufferPointer(buffer))
        initialized = failure == nil ? count : 0
      }
      if let failure { throw failure }
      return out
    }
  }
}

/// A snapshot that cannot be written or read; names the file.
public struct SnapshotError: Error, Sendable, CustomStringConvertible {
  /// The file.
  public var path: String
  /// Why.
  public var reason: String

  public var description: String { "\(path): PDQ index snapshot: \(reason)" }
}
