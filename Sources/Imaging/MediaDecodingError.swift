// The one error of decoding media: pictures here, videos in `Video` (which depends on this
// module), with one description style.

/// Why a picture or a video could not be read or decoded: names the file (or the name given
/// to in-memory data) and the problem; a limit that was passed is named with its value
/// ("frames are 3840x2160 (8294400 pixels), over the limit of 2073600 pixels").
public struct MediaDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The kind of failure.
  public enum Kind: String, Sendable, Equatable, Hashable {
    // MARK: Any file

    /// The file could not be opened or read.
    case unreadable
    /// The path names something other than a regular file (a FIFO, device, folder or
    /// symbolic link): refused without reading.
    case notRegularFile
    /// The file or buffer has no bytes.
    case empty
    /// Not a picture format csar reads.
    case unknownFormat
    /// The data is damaged or not a valid picture or video.
    case corrupt
    /// The data ends before the picture does.
    case truncated
    /// Over a size limit: the header claims more pixels than allowed (decompression-bomb
    /// guard), a video's frames are larger than allowed, or the file is larger than allowed.
    case tooLarge
    /// Memory ran out.
    case outOfMemory
    /// A valid file in a variant or codec csar does not decode.
    case unsupported

    // MARK: Videos

    /// No video stream in the container.
    case noVideoStream
    /// Longer than the video duration limit.
    case tooLong
    /// More frames than the video frame limit.
    case tooManyFrames
    /// Decoding took longer than the decode-time limit.
    case timeout
    /// The decoder refused a packet or frame.
    case decodeFailed
  }

  /// The kind of failure.
  public var kind: Kind
  /// The file path, or a name given to in-memory data.
  public var source: String
  /// What went wrong, for a person (with the limit, when one was passed).
  public var detail: String

  /// Creates an error.
  public init(kind: Kind, source: String, detail: String) {
    self.kind = kind
    self.source = source
    self.detail = detail
  }

  /// "`source`: `detail`".
  public var description: String { "\(source): \(detail)" }
}
