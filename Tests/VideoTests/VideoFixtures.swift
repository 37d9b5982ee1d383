// Benign synthetic test videos made with the ffmpeg command-line tool (lavfi test patterns),
// and the reference `vpdq` Python package run on them.

import Foundation
import TestSupport

/// Runs a program (found on PATH) and waits for it; output goes to temporary files.
enum Tool {
  /// Whether `name` is an executable on PATH.
  static func available(_ name: String) -> Bool {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").contains {
      FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
    }
  }

  /// Exit status, stdout and stderr of `arguments` (the first is the program).
  static func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let out = URL(fileURLWithPath: try ScratchSpace.path("tool.out"))
    let err = URL(fileURLWithPath: try ScratchSpace.path("tool.err"))
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    defer {
      try? FileManager.default.removeItem(at: out)
      try? FileManager.default.removeItem(at: err)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return (
      process.terminationStatus, (try? String(contentsOf: out, encoding: .utf8)) ?? "",
      (try? String(contentsOf: err, encoding: .utf8)) ?? ""
    )
  }
}

/// Test videos from ffmpeg's built-in test sources.
enum VideoFixtures {
  static var ffmpegAvailable: Bool { Tool.available("ffmpeg") }

  /// A fresh temporary directory (gone when the test process ends).
  static func temporaryDirectory() throws -> String { try ScratchSpace.folder("video") }

  /// Encodes `source` (a lavfi graph, e.g. "testsrc2=size=320x240:rate=25:duration=2") with
  /// `codec` options into `path`. Throws with ffmpeg's message when it fails.
  static func make(_ path: String, source: String, codec: [String] = ["-c:v", "libx264"])
    throws
  {
    let result = try Tool.run(
      ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
       "-i", source] + codec + ["-an", path])
    guard result.status == 0 else {
      throw FixtureError(message: "ffmpeg failed for \(source): \(result.err)")
    }
  }

  /// The project root (the folder holding Package.swift).
  static var packageRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
  }

  /// `../shared/conformance/vpdq` beside the project, when present.
  static var conformanceFolder: String? {
    let folder = packageRoot.deletingLastPathComponent()
      .appendingPathComponent("shared/conformance/vpdq").path
    return FileManager.default.fileExists(atPath: folder + "/hashes") ? folder : nil
  }
}

/// A fixture that could not be made.
struct FixtureError: Error, CustomStringConvertible {
  let message: String
  var description: String { message }
}

// MARK: - The reference package

/// ThreatExchange's `vpdq` Python package (PyPI), when python3 can import it.
enum ReferenceVPDQ {
  /// One line per frame: frame, quality, hex, timestamp.
  struct Frame: Equatable {
    var frame: Int
    var quality: Int
    var hex: String
    var timestamp: Double
  }

  static let script = """
    import sys, vpdq
    for f in vpdq.computeHash(sys.argv[1], seconds_per_hash=float(sys.argv[2])):
        print(f"{f.frame_number},{f.quality},{f.hex},{f.timestamp!r}")
    """

  /// Whether `python3 -c "import vpdq"` works (tries `pip install vpdq` once when it does not
  /// and CSAR_TEST_PIP_INSTALL=1 is set).
  static let available: Bool = {
    guard Tool.available("python3") else { return false }
    if (try? Tool.run(["python3", "-c", "import vpdq"]))?.status == 0 { return true }
    guard ProcessInfo.processInfo.environment["CSAR_TEST_PIP_INSTALL"] == "1" else {
      return false
    }
    _ = try? Tool.run(["python3", "-m", "pip", "install", "--quiet", "vpdq"])
    return (try? Tool.run(["python3", "-c", "import vpdq"]))?.status == 0
  }()

  /// The reference hashes of the video at `path`.
  static func hash(_ path: String, secondsPerHash: Double) throws -> [Frame] {
    let result = try Tool.run(["python3", "-c", script, path, String(secondsPerHash)])
    guard result.status == 0 else {
      throw FixtureError(message: "vpdq failed on \(path): \(result.err)")
    }
    return result.out.split(separator: "\n").compactMap { line in
      let parts = line.split(separator: ",")
      guard parts.count == 4, let frame = Int(parts[0]), let quality = Int(parts[1]),
        let time = Double(parts[3])
      else { return nil }
      return Frame(frame: frame, quality: quality, hex: String(parts[2]), timestamp: time)
    }
  }
}
