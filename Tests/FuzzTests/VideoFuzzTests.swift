// Seeded fuzzing of the video shim: damaged small videos never hang or crash, and every
// failure is one of the typed errors naming the input.

import Foundation
import Imaging
import Testing
import Video
import TestSupport

@Suite struct VideoFuzzTests {
  /// Small benign test-pattern videos in the codecs uploads come in, made with the ffmpeg CLI
  /// (nil when it is not installed).
  static func seedVideos() throws -> [[UInt8]]? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    guard path.split(separator: ":").contains(where: {
      FileManager.default.isExecutableFile(atPath: "\($0)/ffmpeg")
    }) else { return nil }
    let dir = try ScratchSpace.folder("video-fuzz")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let sources: [(String, [String])] = [
      ("a.mp4", ["-c:v", "libx264", "-g", "4"]), ("b.webm", ["-c:v", "libvpx-vp9"]),
      ("c.avi", ["-c:v", "mpeg4"]), ("d.mkv", ["-c:v", "libx264", "-pix_fmt", "yuv444p"]),
    ]
    return try sources.map { name, codec in
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [
        "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
        "testsrc2=size=64x48:rate=10:duration=1",
      ] + codec + ["-an", "\(dir)/\(name)"]
      process.standardInput = FileHandle.nullDevice
      try process.run()
      process.waitUntilExit()
      return try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)")))
    }
  }

  @Test func videoDecoderRejectsDamageCleanly() throws {
    guard let seeds = try Self.seedVideos() else {
      print("skipped: ffmpeg is not installed")
      return
    }
    // Tight caps, so a mutation that claims a huge or endless video ends quickly.
    let limits = VideoLimits(
      maxPixels: 1_000_000, maxSeconds: 60, maxFrames: 2_000, maxDecodeSeconds: 10)
    var mutator = Mutator(seed: 7)
    var decoded = 0
    var rejected: [MediaDecodingError.Kind: Int] = [:]
    for iteration in 0..<Mutator.iterations(default: 300) {
      let input = mutator.mutate(seeds[iteration % seeds.count])
      do {
        let reader = try VideoReader(data: input, name: "fuzz-\(iteration)", limits: limits)
        var frames = 0
        while let frame = try reader.next(frameMod: 1 + iteration % 3) {
          #expect(frame.image.pixels.count == reader.info.width * reader.info.height * 3)
          frames += 1
        }
        #expect(frames <= limits.maxFrames)
        decoded += 1
      } catch {
        #expect(error.description.hasPrefix("fuzz-\(iteration): "), "\(error)")
        rejected[error.kind, default: 0] += 1
      }
    }
    #expect(decoded > 0)
    #expect(rejected.values.reduce(0, +) > 0)
  }
}
