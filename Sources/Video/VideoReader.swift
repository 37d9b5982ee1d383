// Decoding videos into RGB frames through the CVideoCodecs shim (FFmpeg).

import CVideoCodecs
import Imaging

// MARK: - Limits

/// Caps on what one video may cost to decode. Each is checked before or while decoding and
/// fails with its own error kind; `0` switches a cap off.
public struct VideoLimits: Sendable, Equatable {
  /// Largest frame, in pixels (width * height).
  public var maxPixels: Int
  /// Longest duration, in seconds: the container's claim and the decoded frames both count.
  public var maxSeconds: Double
  /// Most frames decoded (selected or not).
  public var maxFrames: Int
  /// Wall-clock budget for opening and decoding one video, in seconds.
  public var maxDecodeSeconds: Double
  /// Decoder threads (0 = FFmpeg's choice, as vPDQ does).
  public var threads: Int

  /// Creates limits.
  public init(
    maxPixels: Int = 8_294_400, maxSeconds: Double = 3600, maxFrames: Int = 216_000,
    maxDecodeSeconds: Double = 300, threads: Int = 0
  ) {
    self.maxPixels = maxPixels
    self.maxSeconds = maxSeconds
    self.maxFrames = maxFrames
    self.maxDecodeSeconds = maxDecodeSeconds
    self.threads = threads
  }

  /// 4K frames (3840x2160), one hour, 60 frames/s for that hour, five minutes of decoding.
  public static let `default` = VideoLimits()
}

// MARK: - Containers

/// Video containers the gate opens, recognised from their first bytes.
public enum VideoContainer: String, Sendable, CaseIterable {
  /// ISO base media: MP4, MOV, M4V, 3GP.
  case mp4
  /// Matroska and WebM.
  case matroska
  /// AVI.
  case avi
  /// Flash video.
  case flv
  /// MPEG transport stream.
  case mpegts
  /// MPEG program stream.
  case mpeg

  /// HEIF/AVIF brands: ISO media files that are still images, not videos.
  static let imageBrands: Set<String> = [
    "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis",
  ]

  /// The container of `bytes`, or nil when it is none of the above.
  public static func sniff(_ bytes: some Collection<UInt8>) -> VideoContainer? {
    let head = Array(bytes.prefix(12))
    func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
      head.count >= offset + prefix.count
        && Array(head[offset..<offset + prefix.count]) == prefix
    }
    if starts(Array("ftyp".utf8), at: 4), head.count >= 12 {
      let brand = String(decoding: head[8..<12], as: UTF8.self)
      return imageBrands.contains(brand) ? nil : .mp4
    }
    if starts([0x1A, 0x45, 0xDF, 0xA3]) { return .matroska }
    if starts(Array("RIFF".utf8)) && starts(Array("AVI ".utf8), at: 8) { return .avi }
    if starts(Array("FLV".utf8)) { return .flv }
    if starts([0x00, 0x00, 0x01, 0xBA]) { return .mpeg }
    if head.count >= 1, head[0] == 0x47, bytes.count >= 189,
      bytes[bytes.index(bytes.startIndex, offsetBy: 188)] == 0x47
    {
      return .mpegts
    }
    // Older QuickTime files start with another atom than ftyp.
    for atom in ["moov", "mdat", "wide", "free"] where starts(Array(atom.utf8), at: 4) {
      return .mp4
    }
    return nil
  }
}

// MARK: - Results

/// What a video's container says about its first video stream.
public struct VideoInfo: Sendable, Equatable {
  /// Frame width in pixels.
  public var width: Int
  /// Frame height in pixels.
  public var height: Int
  /// Frames per second: the stream's average frame rate, else its base rate (as vPDQ).
  public var frameRate: Double
  /// The container's duration in seconds, when it states one.
  public var duration: Double?
  /// Frames the stream declares (0 when it does not say).
  public var declaredFrames: Int
  /// The codec's short name, e.g. "h264".
  public var codec: String
  /// The demuxer's name, e.g. "mov,mp4,m4a,3gp,3g2,mj2".
  public var container: String
}

/// One decoded frame: its 0-based number in decoding order and its pixels.
public struct VideoFrame: Sendable {
  /// 0-based frame number.
  public var number: Int
  /// The frame converted to RGB24 at the stream's size.
  public var image: RGBImage
}

// MARK: - Reader

/// Reads the frames of a video held in memory, one at a time. Not shared between tasks.
public final class VideoReader {
  /// What the container says.
  public let info: VideoInfo
  /// The name used in errors.
  public let name: String
  private let data: [UInt8]
  private let handle: OpaquePointer
  private var buffer: [UInt8]

  /// Opens `data` (the whole file); `name` identifies it in errors. Checks the declared size,
  /// duration and frame count against `limits`.
  public init(
    data: [UInt8], name: String = "<data>", limits: VideoLimits = .default
  ) throws(MediaDecodingError) {
    self.data = data
    self.name = name
    var raw = csar_video_limits(
      max_pixels: UInt64(max(0, limits.maxPixels)), max_seconds: max(0, limits.maxSeconds),
      max_frames: UInt64(max(0, limits.maxFrames)),
      max_decode_seconds: max(0, limits.maxDecodeSeconds), threads: Int32(limits.threads))
    var rawInfo = csar_video_info()
    var opened: OpaquePointer?
    var message = [CChar](repeating: 0, count: 512)
    let status = data.withUnsafeBufferPointer { bytes in
      message.withUnsafeMutableBufferPointer { text in
        csar_video_open(
          bytes.baseAddress, bytes.count, &raw, &opened, &rawInfo, text.baseAddress, text.count)
      }
    }
    guard status == CSAR_VIDEO_OK, let opened else {
      throw MediaDecodingError(kind: Kind(status), source: name, detail: Self.text(message))
    }
    handle = opened
    let rate = Double(rawInfo.rate_num) / Double(rawInfo.rate_den)
    info = VideoInfo(
      width: Int(rawInfo.width), height: Int(rawInfo.height), frameRate: rate,
      duration: rawInfo.duration >= 0 ? rawInfo.duration : nil,
      declaredFrames: Int(rawInfo.declared_frames),
      codec: Self.string(rawInfo.codec), container: Self.string(rawInfo.container))
    buffer = []
  }

  deinit { csar_video_close(handle) }

  /// Frames decoded so far, selected or not.
  public var decodedFrames: Int { Int(csar_video_decoded_frames(handle)) }

  /// The next frame whose number `n` has `n % frameMod == 0`, or nil after the last.
  public func next(frameMod: Int = 1) throws(MediaDecodingError) -> VideoFrame? {
    let count = info.width * info.height * 3
    if buffer.count != count { buffer = [UInt8](repeating: 0, count: count) }
    var number: Int64 = 0
    var message = [CChar](repeating: 0, count: 512)
    let status = buffer.withUnsafeMutableBufferPointer { pixels in
      message.withUnsafeMutableBufferPointer { text in
        csar_video_next(
          handle, Int64(max(1, frameMod)), pixels.baseAddress, pixels.count, &number,
          text.baseAddress, text.count)
      }
    }
    if status == CSAR_VIDEO_END { return nil }
    guard status == CSAR_VIDEO_OK else {
      throw MediaDecodingError(kind: Kind(status), source: name, detail: Self.text(message))
    }
    return VideoFrame(
      number: Int(number), image: RGBImage(width: info.width, height: info.height, pixels: buffer))
  }

  // MARK: - Helpers

  typealias Kind = MediaDecodingError.Kind

  static func text(_ message: [CChar]) -> String {
    String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  static func string<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
  }
}

extension MediaDecodingError.Kind {
  init(_ status: csar_video_status) {
    switch status {
    case CSAR_VIDEO_NO_STREAM: self = .noVideoStream
    case CSAR_VIDEO_UNSUPPORTED: self = .unsupported
    case CSAR_VIDEO_TOO_LARGE: self = .tooLarge
    case CSAR_VIDEO_TOO_LONG: self = .tooLong
    case CSAR_VIDEO_TOO_MANY_FRAMES: self = .tooManyFrames
    case CSAR_VIDEO_TIMEOUT: self = .timeout
    case CSAR_VIDEO_NO_MEMORY: self = .outOfMemory
    case CSAR_VIDEO_DECODE_FAILED: self = .decodeFailed
    default: self = .corrupt
    }
  }
}
