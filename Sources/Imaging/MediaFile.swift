// The one way media and other image inputs are opened and read.
//
// Paths come from command lines, import files and database rows, so they may name anything:
// a FIFO (opening it for reading blocks until a writer appears, forever), a device, a folder
// or a symbolic link planted in place of a picture. Every reader of media (the decoders, the
// digests, the upload gate and the console preview) goes through `MediaFile`, which opens
// with `O_NONBLOCK | O_NOFOLLOW`, checks with `fstat` on the open descriptor that it is a
// regular file, and only then reads.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A media file opened for reading: a regular file, reached without following a symbolic
/// link in its last component, opened without blocking. Reads go through ``read(into:)`` or
/// ``readAll(limit:)``; the descriptor is closed when the value goes away.
public final class MediaFile {
  /// The path as given (errors name it).
  public let path: String
  /// The size `fstat` reported when the file was opened.
  public let size: Int
  /// Device and inode of the opened file (what was really read, whatever the path names now).
  public let identity: (device: UInt64, inode: UInt64)
  private let descriptor: Int32

  /// Opens `path` for reading. Throws (naming the path) when it cannot be opened, is a
  /// symbolic link, or is not a regular file (a FIFO, socket, device or folder).
  public init(path: String) throws(MediaDecodingError) {
    self.path = path
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
    if fd < 0 {
      let code = errno
      // O_NOFOLLOW on a symbolic link fails with ELOOP (Linux) or EMLINK (some BSDs).
      if code == ELOOP || code == EMLINK {
        throw MediaDecodingError(
          kind: .notRegularFile, source: path,
          detail: "is a symbolic link (media files are opened without following links)")
      }
      throw MediaDecodingError(kind: .unreadable, source: path, detail: Self.text(code))
    }
    var info = stat()
    if fstat(fd, &info) != 0 {
      let code = errno
      close(fd)
      throw MediaDecodingError(kind: .unreadable, source: path, detail: Self.text(code))
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      throw MediaDecodingError(
        kind: .notRegularFile, source: path,
        detail: "not a regular file (\(Self.kindName(info.st_mode)))")
    }
    // A regular file never blocks; clear the flag so reads behave plainly.
    let flags = fcntl(fd, F_GETFL)
    if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
    descriptor = fd
    size = Int(info.st_size)
    identity = (UInt64(info.st_dev), UInt64(info.st_ino))
  }

  deinit { close(descriptor) }

  /// Reads up to `buffer.count` bytes at the current position; 0 at the end of the file.
  public func read(into buffer: UnsafeMutableRawBufferPointer) throws(MediaDecodingError) -> Int {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
    while true {
      let n = systemRead(descriptor, base, buffer.count)
      if n >= 0 { return n }
      if errno == EINTR { continue }
      throw MediaDecodingError(kind: .unreadable, source: path, detail: Self.text(errno))
    }
  }

  /// The whole file, refusing (before reading) a file larger than `limit` bytes.
  public func readAll(limit: Int = ImageDecoder.maxFileBytes) throws(MediaDecodingError)
    -> [UInt8]
  {
    if size > limit {
      throw MediaDecodingError(
        kind: .tooLarge, source: path,
        detail: "file is \(size) bytes, over the limit of \(limit) bytes")
    }
    var bytes = [UInt8](repeating: 0, count: size)
    var filled = 0
    var failure: MediaDecodingError?
    bytes.withUnsafeMutableBytes { all in
      while filled < size {
        do throws(MediaDecodingError) {
          let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: all[filled...]))
          if n == 0 { break }
          filled += n
        } catch {
          failure = error
          return
        }
      }
    }
    if let failure { throw failure }
    if filled < size { bytes.removeLast(size - filled) }
    return bytes
  }

  // MARK: - Helpers


  static func text(_ code: Int32) -> String { String(cString: strerror(code)) }

  static func kindName(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFIFO: "a FIFO"
    case S_IFDIR: "a directory"
    case S_IFCHR: "a character device"
    case S_IFBLK: "a block device"
    case S_IFSOCK: "a socket"
    case S_IFLNK: "a symbolic link"
    default: "file type \(mode & S_IFMT)"
    }
  }
}

/// The C library's `read` (the name is taken by ``MediaFile/read(into:)`` inside the class).
private func systemRead(_ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int) -> Int {
  read(fd, base, count)
}
