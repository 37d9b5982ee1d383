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
  /// Reads, digests, decodes and PDQ-hashes the file at `path`. Pass a `hasher` to reuse
  /// its buffers across many files.
  public static func hash(
    path: String, maxPixels: Int = ImageDecoder.defaultMaxPixels, hasher: PDQHasher? = nil
  ) throws(ImageDecodingError) -> MediaHashes {
    let bytes = try ImageDecoder.readFile(path)
    return try hash(data: bytes, name: path, maxPixels: maxPixels, hasher: hasher)
  }

  /// Digests, decodes and PDQ-hashes image bytes; `name` identifies them in errors.
  public static func hash(
    data: [UInt8], name: String, maxPixels: Int = ImageDecoder.defaultMaxPixels,
    hasher: PDQHasher? = nil
  ) throws(ImageDecodingError) -> MediaHashes {
    let digests = FileDigests(of: data)
    let decoded = try ImageDecoder.decode(data: data, name: name, maxPixels: maxPixels)
    return MediaHashes(
      width: decoded.width, height: decoded.height, digests: digests,
      pdq: (hasher ?? PDQHasher()).hash(decoded.image), format: decoded.format,
      orientation: decoded.orientation)
  }
}
