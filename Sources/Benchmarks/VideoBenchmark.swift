// `csar bench video`: vPDQ hashing of a generated test video beside the `vpdq` package, and
// matching one video against a bank of many.

import ArgumentParser
import Detection
import Foundation
import Moderation
import Store
import Video

/// Times vPDQ of a generated 720p test pattern (ffmpeg's testsrc2, H.264) at one frame per
/// second, the `vpdq` Python package on the same file when installed, and a vPDQ query of
/// 60 frames against N bank videos of 60 frames each.
public struct VideoBenchmark: ParsableArguments {
  public init() {}

  @Option(name: .long, help: "Length of the generated video in seconds.")
  var seconds = 60

  @Option(name: .long, help: "Frame size as WIDTHxHEIGHT.")
  var size = "1280x720"

  @Option(name: .long, help: "Timed runs of each step (the median is shown).")
  var runs = 3

  @Option(name: .long, help: "Bank videos for the matching benchmark.")
  var videos = 10_000

  @Option(name: .long, help: "Frames per bank video and per query.")
  var frames = 60

  /// Measures and prints the figures.
  public func run() throws {
    guard size.split(separator: "x").compactMap({ Int($0) }).count == 2, seconds >= 1,
      runs >= 1, videos >= 1, frames >= 1
    else { throw ValidationError("--size like 1280x720; --seconds, --runs, --videos >= 1") }
    let folder = NSTemporaryDirectory() + "csar-bench-video-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let hashed = try hashing(folder + "/test.mp4", folder: folder)
    matching()
    if let hashed { try scanning(folder + "/test.mp4", hashed, folder: folder) }
  }

  // MARK: - Hashing

  /// Hashes the generated video; nil when ffmpeg could not make it.
  func hashing(_ path: String, folder: String) throws -> VideoHashes? {
    let made = Self.run(
      [
        "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
        "testsrc2=size=\(size):rate=30:duration=\(seconds)", "-c:v", "libx264", "-pix_fmt",
        "yuv420p", path,
      ], folder: folder)
    guard made.status == 0 else {
      print("vpdq hash\tskipped: ffmpeg could not make the test video (\(made.output))")
      return nil
    }
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
    var times: [Double] = []
    var cpuTimes: [Double] = []
    var result: VideoHashes?
    for _ in 0..<runs {
      let t = monotonicSeconds()
      let cpu = BenchFigures.cpuSeconds()
      result = try VideoHasher.hash(data: bytes, name: path, secondsPerHash: 1)
      times.append(monotonicSeconds() - t)
      cpuTimes.append(BenchFigures.cpuSeconds() - cpu)
    }
    guard let result else { return nil }
    let median = BenchFigures.median(times)
    let hashed = max(1, result.features.count)
    print("vpdq hash\t\(seconds) s \(size) H.264 at 30 frames/s, 1 frame/s: "
          + "\(BenchFigures.format(median, 3)) s per video (CPU "
          + "\(BenchFigures.format(BenchFigures.median(cpuTimes), 3)) s), "
          + "\(BenchFigures.format(median / Double(hashed) * 1000, 2)) ms per hashed frame, "
          + "\(result.decodedFrames) frames decoded, \(result.features.count) hashed")
    let script = """
      import sys, time, vpdq
      times = []
      for _ in range(int(sys.argv[2])):
          t = time.perf_counter(); f = vpdq.computeHash(sys.argv[1], seconds_per_hash=1.0)
          times.append(time.perf_counter() - t)
      times.sort(); print(times[len(times) // 2], len(f))
      """
    let reference = Self.run(["python3", "-c", script, path, String(runs)], folder: folder)
    let parts = reference.output.split(separator: " ")
    if reference.status == 0, parts.count == 2, let seconds = Double(parts[0]) {
      print("vpdq hash (vpdq package)\t\(BenchFigures.format(seconds, 3)) s per video, "
            + "\(parts[1].trimmingCharacters(in: .whitespacesAndNewlines)) frames hashed; "
            + "csar/ref \(BenchFigures.format(median / seconds, 2))x")
    } else {
      print("vpdq hash (vpdq package)\tskipped: python3 with the vpdq package is needed "
            + "(pip install vpdq)")
    }
    return result
  }

  // MARK: - Matching

  func matching() {
    var random = BenchRandom(seed: 14)
    func hash() -> PDQHash {
      PDQHash(words: SIMD4(random.next(), random.next(), random.next(), random.next()))
    }
    var bank: [(id: Int, features: [VPDQFeature])] = []
    bank.reserveCapacity(videos)
    for id in 0..<videos {
      bank.append((id, (0..<frames).map {
        VPDQFeature(frame: $0, quality: 100, hash: hash(), timestamp: Double($0))
      }))
    }
    var t = monotonicSeconds()
    let index = VPDQIndex(videos: bank)
    let build = monotonicSeconds() - t
    // Queries: noisy copies of bank videos (up to 12 bits flipped per frame).
    var times: [Double] = []
    var found = 0
    for q in 0..<max(20, runs) {
      let source = bank[(q * 7919) % videos].features
      let query = source.map { feature -> VPDQFeature in
        var h = feature.hash
        for _ in 0..<(random.next() % 13) {
          h.words[Int(random.next() % 4)] ^= 1 << (random.next() % 64)
        }
        return VPDQFeature(
          frame: feature.frame, quality: 100, hash: h, timestamp: feature.timestamp)
      }
      t = monotonicSeconds()
      let matches = index.query(query)
      times.append(monotonicSeconds() - t)
      if matches.first?.similarity.matches(queryThreshold: 80, comparedThreshold: 0) == true {
        found += 1
      }
    }
    print("vpdq match\t\(frames)-frame query against \(videos) videos of \(frames) frames "
          + "(\(index.frameCount) frames indexed), d<=31: "
          + "\(BenchFigures.format(BenchFigures.median(times) * 1000, 3)) ms median of "
          + "\(times.count) queries (target < 50 ms), each found its video: "
          + "\(found)/\(times.count); index built in \(BenchFigures.format(build, 2)) s")
  }

  // MARK: - Scanning

  /// `csar scan` of the test video against a store holding `videos` known videos (random
  /// frames) plus the video itself: bank import, loading the frames from the store into the
  /// index, the whole scan (decode, hash, digests, both kinds of matching), the match alone.
  func scanning(_ path: String, _ own: VideoHashes, folder: String) throws {
    let database = try BenchDatabase.scratch(path: folder + "/bench.sqlite")
    try database.ensureOperator(name: "bench", role: .lead)
    var random = BenchRandom(seed: 15)
    var bank: [BankVideoEntry] = (0..<videos).map { id in
      BankVideoEntry(
        name: "V-\(id)",
        frames: (0..<frames).map {
          let hash = PDQHash(
            words: SIMD4(random.next(), random.next(), random.next(), random.next()))
          return BankVideoFrame(frame: $0, quality: 100, hash: hash.hex, timestamp: Double($0))
        })
    }
    bank.append(
      BankVideoEntry(
        name: "the-test-video",
        frames: own.features.map {
          BankVideoFrame(
            frame: $0.frame, quality: $0.quality, hash: $0.hash.hex, timestamp: $0.timestamp)
        }))
    var t = monotonicSeconds()
    try database.importVideoBank(name: "videos", videos: bank, by: "bench")
    let importSeconds = monotonicSeconds() - t
    let live = LiveVideoBankMatcher(database: database)
    t = monotonicSeconds()
    let matcher = try live.current()
    let load = monotonicSeconds() - t
    let gate = UploadGate(database: database, operatorName: "bench", videoBanks: live)
    var times: [Double] = []
    var cpuTimes: [Double] = []
    var matched = 0
    for _ in 0..<runs {
      t = monotonicSeconds()
      let cpu = BenchFigures.cpuSeconds()
      let outcome = gate.lookup(inputs: [path])[0]
      times.append(monotonicSeconds() - t)
      cpuTimes.append(BenchFigures.cpuSeconds() - cpu)
      if outcome.matches.first?.video?.video.name == "the-test-video" { matched += 1 }
    }
    var matchTimes: [Double] = []
    for _ in 0..<20 {
      t = monotonicSeconds()
      _ = matcher.matches(own.features)
      matchTimes.append(monotonicSeconds() - t)
    }
    print("vpdq bank\t\(videos + 1) videos of \(frames) frames imported in "
          + "\(BenchFigures.format(importSeconds, 2)) s (one transaction); loaded from the store "
          + "and indexed (\(matcher.frameCount) frames) in \(BenchFigures.format(load, 2)) s, "
          + "once per process")
    print("vpdq scan\t\(seconds) s \(size) video against \(videos + 1) bank videos: "
          + "\(BenchFigures.format(BenchFigures.median(times), 3)) s per scan (CPU "
          + "\(BenchFigures.format(BenchFigures.median(cpuTimes), 3)) s), of which matching "
          + "\(BenchFigures.format(BenchFigures.median(matchTimes) * 1000, 3)) ms; found the "
          + "known video \(matched)/\(times.count)")
  }

  /// Exit status and output (standard output, then error) of a program on PATH, its
  /// output files in `folder`; 127 and the reason when it cannot start.
  static func run(_ arguments: [String], folder: String) -> (status: Int32, output: String) {
    do {
      let run = try BenchProcess.run(arguments, folder: folder)
      return (run.status, run.out + run.err)
    } catch {
      return (127, "\(error)")
    }
  }
}
