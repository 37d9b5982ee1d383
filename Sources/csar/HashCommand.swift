// `csar hash [--json] FILE...`: SHA-256, MD5 and PDQ of image files, vPDQ of videos.

import ArgumentParser
import Detection
import Foundation
import Imaging
import Moderation
import Store
import Video

/// Prints the cryptographic and perceptual hashes of image and video files, one line per file.
struct HashCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hash",
    abstract:
      "Print SHA-256, MD5, SHA-1 and PDQ of images (PNG, JPEG, WebP, GIF, BMP, TIFF, HEIF) and "
      + "vPDQ of videos.",
    discussion: """
      Plain output: PATH<TAB>WxH<TAB>SHA256<TAB>MD5<TAB>PDQ<TAB>QUALITY<TAB>SHA1 for an image, \
      PATH<TAB>WxH<TAB>SHA256<TAB>MD5<TAB>vpdq<TAB>FRAMES<TAB>SECONDS<TAB>FPS for a video.
      With --json, one object per line: {"path","width","height","sha256","md5","pdq",\
      "quality","sha1"} for an image, {"path","type":"video","width","height","duration",\
      "fps","md5","sha256","sha1","vpdq":[{"frame","quality","pdq","timestamp"}...]} for a video (MP4, \
      MOV, WebM, MKV, AVI, FLV, MPEG), or {"path","error"} for a file that failed. Exits 1 if \
      any file failed.
      """
  )

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  @Option(name: .long, help: "Refuse images with more pixels than this.")
  var maxPixels = ImageDecoder.defaultMaxPixels

  @Option(
    name: .long,
    help: "Videos: hash one frame every S seconds (0 = every frame, as the sample hashes).")
  var secondsPerHash = 1.0

  @Argument(help: "Image or video files.")
  var files: [String]

  func validate() throws {
    guard secondsPerHash >= 0, secondsPerHash.isFinite else {
      throw ValidationError("--seconds-per-hash must be 0 or more")
    }
  }

  mutating func run() throws {
    var failed = false
    let hasher = PDQHasher()
    let limits = try VideoSettings.limits()
    for path in files {
      do {
        let bytes = try ImageDecoder.readFile(path)
        if ImageFormat.sniff(bytes) == nil, VideoContainer.sniff(bytes) != nil {
          let video = try VideoHasher.hash(
            data: bytes, name: path, secondsPerHash: secondsPerHash, limits: limits,
            hasher: hasher)
          print(json ? Self.json(path: path, video) : Self.line(path: path, video))
          continue
        }
        let h = try MediaHasher.hash(data: bytes, name: path, maxPixels: maxPixels, hasher: hasher)
        if json {
          print(OrderedJSON.object([
            ("path", .string(path)), ("width", .int(Int64(h.width))),
            ("height", .int(Int64(h.height))), ("sha256", .string(h.digests.sha256)),
            ("md5", .string(h.digests.md5)), ("pdq", .string(h.pdq.hash.hex)),
            ("quality", .int(Int64(h.pdq.quality))), ("sha1", .string(h.digests.sha1)),
          ]))
        } else {
          print(
            [DisplayText.escapingControls(path), "\(h.width)x\(h.height)", h.digests.sha256,
             h.digests.md5, h.pdq.hash.hex, String(h.pdq.quality), h.digests.sha1]
              .joined(separator: "\t"))
        }
      } catch {
        failed = true
        let (description, detail) = Self.describe(error)
        if json {
          print(OrderedJSON.object([("path", .string(path)), ("error", .string(detail))]))
        } else {
          DetectText.printError("csar hash: \(DisplayText.escapingControls(description))")
        }
      }
    }
    if failed { throw ExitCode(1) }
  }

  /// The error's full description and its detail without the path.
  static func describe(_ error: any Error) -> (String, String) {
    switch error {
    case let e as MediaDecodingError: (e.description, e.detail)
    default: (String(describing: error), String(describing: error))
    }
  }

  // MARK: - Video output

  static func json(path: String, _ v: VideoHashes) -> String {
    let frames = v.features.map {
      "{\"frame\":\($0.frame),\"quality\":\($0.quality),\"pdq\":\"\($0.hash.hex)\","
        + "\"timestamp\":\(number($0.timestamp, digits: 3))}"
    }
    return "{\"path\":" + JSONValue.string(path).description + ",\"type\":\"video\","
      + "\"width\":\(v.info.width),\"height\":\(v.info.height),"
      + "\"duration\":\(number(v.duration, digits: 3)),\"fps\":\(number(v.info.frameRate, digits: 3)),"
      + "\"md5\":\"\(v.digests.md5)\",\"sha256\":\"\(v.digests.sha256)\","
      + "\"sha1\":\"\(v.digests.sha1)\","
      + "\"vpdq\":[\(frames.joined(separator: ","))]}"
  }

  static func line(path: String, _ v: VideoHashes) -> String {
    [DisplayText.escapingControls(path), "\(v.info.width)x\(v.info.height)", v.digests.sha256,
     v.digests.md5, "vpdq", "\(v.features.count) frames", "\(number(v.duration, digits: 3)) s",
     "\(number(v.info.frameRate, digits: 3)) fps"].joined(separator: "\t")
  }

  /// A JSON number with at most `digits` decimals (trailing zeros dropped).
  static func number(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return "0" }
    var text = String(format: "%.\(digits)f", value)
    while text.contains("."), text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text
  }
}
