// Everything `csar hash` and the upload gate compute for one image file.

import Imaging

/// The hashes of one image file: digests of its bytes, PDQ of its stored pixels.
public struct MediaHashes: Sendable, Equatable {
  /// Width of the stored pixels.
  public var width: Int
  /// Height of the stored pixels.
  public var height: Int
  /// SHA-256 and MD5 of the file's bytes.
  public var digests: FileDigests
  /// PDQ hash and quality.
  public var pdq: PDQResult
  /// The file format.
  public var format: ImageFormat
  /// The EXIF orientation, if any (not applied to the hash).
  public var orientation: ImageOrientation?
}

/// Computes `MediaHashes` for files and in-memory images.
public enum MediaHasher {
  /// Reads, digests, decodes and PDQ-hashes the file at `path` (a regular file, see
  /// ``MediaFile``).
  public static func hash(
    path: String, maxPixels: Int = ImageDecoder.defaultMaxPixels, hasher: PDQHasher? = nil
  ) throws(MediaDecodingError) -> MediaHashes {
    let bytes = try ImageDecoder.readFile(path)
    return try hash(data: bytes, name: path, maxPixels: maxPixels, hasher: hasher)
  }

  /// Digests, decodes and PDQ-hashes image bytes; `name` identifies them in errors. The image
  /// is hashed as it decodes (``PDQRowHasher``), so its pixels are never all in memory: a
  /// 100-megapixel image takes a few MB besides its file. `hasher` is not needed for that; it
  /// stays for callers that share one with video hashing.
  public static func hash(
    data: [UInt8], name: String, maxPixels: Int = ImageDecoder.defaultMaxPixels,
    hasher: PDQHasher? = nil
  ) throws(MediaDecodingError) -> MediaHashes {
    let digests = FileDigests(of: data)
    let rows = PDQRowHasher()
    let header = try ImageDecoder.decodeRows(
      data: data, name: name, maxPixels: maxPixels, into: rows)
    return MediaHashes(
      width: header.width, height: header.height, digests: digests, pdq: rows.result(),
      format: header.format, orientation: header.orientation)
  }
}
