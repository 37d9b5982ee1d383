// vPDQ against ThreatExchange: the public sample videos with their reference hashes, and the
// `vpdq` package on videos made here.

import Detection
import Foundation
import Testing
import Video

@Suite struct VPDQConformanceTests {
  /// Upstream's rule on the sample videos: the same number of frames, and every frame with
  /// quality >= 50 on both sides within distance 31 of the reference.
  @Test func sampleVideosMatchTheReferenceHashes() throws {
    guard let folder = VideoFixtures.conformanceFolder else {
      print("skipped: ../shared/conformance/vpdq is not beside the project")
      return
    }
    let names = try FileManager.default.contentsOfDirectory(atPath: folder + "/hashes")
      .filter { $0.hasSuffix(".txt") && !$0.contains("128x128") }.sorted()
    #expect(names.count == 4)
    for file in names {
      let name = String(file.dropLast(4))
      let reference = try String(contentsOfFile: "\(folder)/hashes/\(file)", encoding: .utf8)
        .split(separator: "\n").map { $0.split(separator: ",") }
      let bytes = try [UInt8](
        Data(contentsOf: URL(fileURLWithPath: "\(folder)/videos/\(name).mp4")))
      // Every frame hashed in a debug build on a busy machine can pass the 300 s decode cap;
      // the cap is not what this test checks (VideoLimitsTests does).
      let video = try VideoHasher.hash(
        data: bytes, name: name, secondsPerHash: 0, limits: VideoLimits(maxDecodeSeconds: 3600))
      #expect(video.features.count == reference.count, "\(name): frame count")
      var compared = 0
      var worst = 0
      for (line, feature) in zip(reference, video.features) {
        #expect(Int(line[0]) == feature.frame, "\(name): frame numbers")
        guard let quality = Int(line[1]), quality >= 50, feature.quality >= 50,
          let hash = PDQHash(hex: line[2])
        else { continue }
        compared += 1
        worst = max(worst, hash.distance(to: feature.hash))
      }
      #expect(compared > 0, "\(name): no frame compared")
      #expect(worst <= 31, "\(name): worst distance \(worst)")
    }
  }

  /// Bit-exact against ThreatExchange's `vpdq` package (built on the same FFmpeg) on test
  /// patterns in several codecs, sizes and frame rates, at 1 s per hash and every frame.
  @Test func generatedVideosMatchTheVPDQPackageExactly() throws {
    guard VideoFixtures.ffmpegAvailable else {
      print("skipped: ffmpeg is not installed")
      return
    }
    guard ReferenceVPDQ.available else {
      print("skipped: the vpdq Python package is not installed (pip install vpdq)")
      return
    }
    let dir = try VideoFixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let cases: [(String, String, [String])] = [
      ("testsrc2.mp4", "testsrc2=size=320x240:rate=25:duration=3", ["-c:v", "libx264"]),
      ("smpte.mp4", "smptehdbars=size=322x182:rate=30000/1001:duration=3",
       ["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
      ("mandel.webm", "mandelbrot=size=200x150:rate=12:end_scale=0.02,trim=duration=3",
       ["-c:v", "libvpx-vp9", "-b:v", "200k"]),
      ("life.avi", "life=size=161x121:rate=10:mold=10,trim=duration=4",
       ["-c:v", "mpeg4", "-pix_fmt", "yuv420p"]),
      ("cells.mkv", "cellauto=size=180x90:rate=24:rule=110,trim=duration=2",
       ["-c:v", "libx264", "-pix_fmt", "yuv444p"]),
    ]
    for (name, source, codec) in cases {
      let path = "\(dir)/\(name)"
      try VideoFixtures.make(path, source: source, codec: codec)
      let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
      for seconds in [1.0, 0.0] {
        let ours = try VideoHasher.hash(data: bytes, name: name, secondsPerHash: seconds)
        let theirs = try ReferenceVPDQ.hash(path, secondsPerHash: seconds)
        #expect(!theirs.isEmpty, "\(name): the reference gave no frames")
        #expect(ours.features.count == theirs.count, "\(name) at \(seconds) s: frame count")
        for (a, b) in zip(ours.features, theirs) {
          #expect(a.frame == b.frame, "\(name) at \(seconds) s: frame number")
          #expect(a.hash.hex == b.hex, "\(name) frame \(a.frame): hash")
          #expect(a.quality == b.quality, "\(name) frame \(a.frame): quality")
          #expect(abs(a.timestamp - b.timestamp) < 1e-6, "\(name) frame \(a.frame): timestamp")
        }
      }
    }
  }
}
