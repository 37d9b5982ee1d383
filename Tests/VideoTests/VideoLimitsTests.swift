// Each cap of VideoLimits stops a video with its own error, naming the file and the limit.

import Foundation
import Imaging
import Testing
import Video

@Suite struct VideoLimitsTests {
  static func video(_ source: String = "testsrc2=size=320x240:rate=25:duration=3") throws
    -> [UInt8]?
  {
    guard VideoFixtures.ffmpegAvailable else {
      print("skipped: ffmpeg is not installed")
      return nil
    }
    let dir = try VideoFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try VideoFixtures.make("\(dir)/v.mp4", source: source)
    return try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(dir)/v.mp4")))
  }

  /// Opens and reads every frame under `limits`; the error it stops with, if any.
  static func readAll(_ bytes: [UInt8], _ limits: VideoLimits) -> MediaDecodingError? {
    do {
      let reader = try VideoReader(data: bytes, name: "upload.mp4", limits: limits)
      while try reader.next() != nil {}
      return nil
    } catch {
      return error
    }
  }

  @Test func eachCapStopsTheVideoWithItsOwnError() throws {
    guard let bytes = try Self.video() else { return }
    #expect(Self.readAll(bytes, .default) == nil)
    let cases: [(VideoLimits, MediaDecodingError.Kind, String)] = [
      (VideoLimits(maxPixels: 320 * 239), .tooLarge, "over the limit of 76480 pixels"),
      (VideoLimits(maxSeconds: 2.5), .tooLong, "over the limit of 2.5 s"),
      (VideoLimits(maxFrames: 40), .tooManyFrames, "over the limit of 40"),
      (VideoLimits(maxDecodeSeconds: 1e-9), .timeout, "longer than the limit of 0.0 s"),
    ]
    for (limits, kind, text) in cases {
      let error = try #require(Self.readAll(bytes, limits), "\(kind) was not caught")
      #expect(error.kind == kind)
      #expect(error.description.hasPrefix("upload.mp4: "))
      #expect(error.detail.contains(text), "\(error.detail)")
    }
  }

  /// Before: pictures failed with `ImageDecodingError` and videos with `VideoDecodingError`,
  /// the same shape twice. Now both are one `MediaDecodingError`, described alike: the file,
  /// then the problem with the limit passed.
  @Test func picturesAndVideosFailWithOneErrorDescribedAlike() throws {
    guard let bytes = try Self.video() else { return }
    let picture = try ImageEncoder.encodePNG(RGBImage(width: 40, height: 30))
    var errors: [MediaDecodingError] = []
    do {
      _ = try ImageDecoder.decode(data: picture, name: "upload.png", maxPixels: 1000)
    } catch {
      errors.append(error)
    }
    errors.append(try #require(Self.readAll(bytes, VideoLimits(maxPixels: 1000))))
    #expect(errors.map(\.kind) == [.tooLarge, .tooLarge])
    #expect(
      errors.map(\.description) == [
        "upload.png: PNG: image is 40x30 (1200 pixels), over the limit of 1000 pixels",
        "upload.mp4: frames are 320x240 (76800 pixels), over the limit of 1000 pixels",
      ])
  }

  /// A container that hides its length is still stopped once the decoded frames pass the cap.
  @Test func decodedFramesCountWhenTheContainerDoesNotSay() throws {
    guard let bytes = try Self.video() else { return }
    // MPEG-TS declares no frame count; cut the duration claim by asking for fewer frames.
    let dir = try VideoFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/v.mp4"))
    let ts = "\(dir)/v.ts"
    let result = try Tool.run([
      "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", "\(dir)/v.mp4", "-c", "copy", ts,
    ])
    #expect(result.status == 0, "\(result.err)")
    let stream = try [UInt8](Data(contentsOf: URL(fileURLWithPath: ts)))
    #expect(VideoContainer.sniff(stream) == .mpegts)
    let error = try #require(Self.readAll(stream, VideoLimits(maxFrames: 30)))
    #expect(error.kind == .tooManyFrames)
    #expect(error.detail.contains("more frames than the limit of 30"), "\(error.detail)")
  }

  @Test func truncatedAndEmptyFilesFailCleanly() throws {
    guard let bytes = try Self.video() else { return }
    #expect(Self.readAll([], .default)?.kind == .corrupt)
    #expect(Self.readAll(Array(bytes.prefix(40)), .default) != nil)
    // Cut in the middle: either the frames before the cut, or a decoding error; never a hang.
    _ = Self.readAll(Array(bytes.prefix(bytes.count / 2)), .default)
    #expect(Self.readAll(Array(repeating: 0x47, count: 4096), .default) != nil)
  }
}
