// `csar bench images`: hashing time per image format, beside pdqhash (with Pillow decoding)
// on the same files.

import ArgumentParser
import Detection
import DemoPictures
import Foundation
import Imaging
import Moderation

/// `csar bench images`: decode + PDQ time of one picture in every image format.
public struct ImagesBenchmark: ParsableArguments {
  public init() {}

  @Option(name: .long, help: "Folder for the generated files (default: a temporary one).")
  var dir: String?

  @Option(name: .long, help: "Picture width.")
  var width = 1600

  @Option(name: .long, help: "Picture height.")
  var height = 1200

  @Option(name: .long, help: "Repetitions per file.")
  var iterations = 10

  @OptionGroup var reference: BenchReferenceOptions

  @Argument(help: "More image files to time (any format csar reads).")
  var files: [String] = []

  public func validate() throws {
    guard width >= 16, height >= 16, iterations >= 1 else {
      throw ValidationError("--width and --height must be at least 16, --iterations 1")
    }
  }

  /// ffmpeg output options per generated file, from the PNG.
  static let encodings: [(file: String, options: [String])] = [
    ("picture.jpg", ["-q:v", "3"]),
    ("picture.webp", ["-c:v", "libwebp", "-quality", "90"]),
    ("picture-lossless.webp", ["-c:v", "libwebp", "-lossless", "1"]),
    ("picture.gif", ["-vf", "split[a][b];[a]palettegen[p];[b][p]paletteuse"]),
    ("picture.bmp", ["-pix_fmt", "bgr24"]),
    ("picture.tiff", ["-pix_fmt", "rgb24", "-compression_algo", "deflate"]),
  ]

  /// Measures and prints the table.
  public func run() throws {
    let folder = dir ?? NSTemporaryDirectory() + "csar-bench-images-\(getpid())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let png = folder + "/picture.png"
    var paths = [png]
    try Self.ffmpeg(
      [
        "-f", "lavfi", "-i", "testsrc2=size=\(width)x\(height):rate=1", "-frames:v", "1",
        "-pix_fmt", "rgb24", png,
      ], folder: folder)
    for (file, options) in Self.encodings {
      try Self.ffmpeg(["-i", png] + options + [folder + "/" + file], folder: folder)
      paths.append(folder + "/" + file)
    }
    paths += files
    let script = reference.referenceScript ?? BenchFiles.script("formats_reference.py")
    let theirs = script.map {
      Self.reference(python: reference.python, script: $0, paths, iterations, folder: folder)
    } ?? [:]
    print("| format | file | size | csar decode + PDQ | pdqhash (Pillow decode + hash) "
      + "| csar/ref |")
    print("| --- | --- | --- | --- | --- | --- |")
    for path in paths {
      let bytes = try ImageDecoder.readFile(path)
      var times: [Double] = []
      var hashes: MediaHashes?
      for _ in 0..<iterations {
        let t = monotonicSeconds()
        hashes = try MediaHasher.hash(data: bytes, name: path)
        times.append(monotonicSeconds() - t)
      }
      let median = BenchFigures.median(times)
      let name = DisplayText.escapingControls((path as NSString).lastPathComponent)
      let format = hashes.map { "\($0.format.name) \($0.width)x\($0.height)" } ?? "?"
      let ref = theirs[path]
      let ratio = ref.map { $0 > 0 ? BenchFigures.format(median / $0, 2) + "×" : "" } ?? ""
      print("| \(format) | \(name) | \(FileSizeText.of(bytes.count)) | "
        + "\(BenchFigures.ms(median)) | \(ref.map(BenchFigures.ms) ?? "not read") | \(ratio) |")
    }
  }

  /// Runs the ffmpeg CLI (quiet, overwriting; its messages in files in `folder`); throws
  /// with its last message when it fails.
  static func ffmpeg(_ arguments: [String], folder: String) throws {
    let run = try BenchProcess.run(
      ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"] + arguments,
      folder: folder)
    guard run.status == 0 else {
      let why = run.err.split(separator: "\n").last.map { ": " + $0 } ?? ""
      throw BenchmarkError("ffmpeg \(arguments.joined(separator: " ")) failed" + why)
    }
  }

  /// Median seconds per file from the reference script (files it cannot read are left
  /// out); empty when python3, pdqhash or Pillow is missing.
  static func reference(
    python: String, script: String, _ paths: [String], _ iterations: Int, folder: String
  ) -> [String: Double] {
    guard FileManager.default.fileExists(atPath: script),
      let run = try? BenchProcess.run(
        [python, script, "--iterations", "\(iterations)"] + paths, folder: folder)
    else { return [:] }
    var times: [String: Double] = [:]
    for line in run.out.split(separator: "\n") {
      let fields = line.split(separator: "\t")
      if fields.count >= 2, let ms = Double(fields[1]) { times[String(fields[0])] = ms / 1000 }
    }
    return times
  }
}
