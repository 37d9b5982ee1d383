import Foundation
import Testing

/// `csar hash` on WebP, GIF, BMP, TIFF and HEIF files and on damaged copies of them, as a
/// script runs it: every file gets a JSON line, and the C libraries print nothing of their
/// own (libtiff and libheif write warnings to stderr unless told not to).
@Suite("Image formats end to end", .serialized)
struct ImageFormatsEndToEndTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../DetectionTests/Fixtures/images").standardized.path

  @Test func hashReadsEveryFormatAndDamagedFilesQuietly() throws {
    let folder = try CsarBinary.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let names = [
      "picture.webp", "animated.webp", "picture.gif", "animated.gif", "picture.bmp",
      "picture-565.bmp", "picture.tiff", "picture-grey.tiff", "photo.heic", "photo.avif",
    ]
    var paths: [String] = []
    var damaged = 0
    for name in names {
      let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/" + name)))
      // A disguise: the extension says PNG; the content decides.
      let intact = folder + "/\(name).png"
      try Data(bytes).write(to: URL(fileURLWithPath: intact))
      paths.append(intact)
      // Cut short at several points, and with bytes flipped through the middle.
      for (index, cut) in [bytes.count / 5, bytes.count / 2, bytes.count - 9].enumerated() {
        var copy = Array(bytes.prefix(cut))
        if index == 1 { for at in stride(from: 40, to: copy.count, by: 97) { copy[at] ^= 0x5A } }
        let path = folder + "/\(name)-damaged-\(index)"
        try Data(copy).write(to: URL(fileURLWithPath: path))
        paths.append(path)
        damaged += 1
      }
    }
    let result = try CsarBinary.run(["hash", "--json"] + paths, timeout: 300)
    #expect(result.err.isEmpty, "stderr: \(result.err.prefix(500))")
    let lines = result.out.split(separator: "\n").map {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:]
    }
    #expect(lines.count == paths.count)
    for (path, line) in zip(paths, lines) {
      #expect(line["path"] as? String == path)
      if !path.contains("-damaged-") {
        #expect((line["pdq"] as? String)?.count == 64, "\(path): \(line)")
        #expect(line["width"] as? Int == 192, "\(path): \(line)")
      } else {
        #expect(line["pdq"] != nil || line["error"] != nil, "\(path): \(line)")
      }
    }
    let errors = lines.filter { $0["error"] != nil }.count
    #expect(errors > 0 && errors <= damaged, "some damaged copies are refused")
    #expect(result.status == 1, "a failed file makes the exit status 1")
  }

  /// Before: the console's preview decoded a 6000x4000 photo whole (72 MB of RGB) and then
  /// shrank it. Now it shrinks while decoding (JPEG at 1/8 scale), so its peak stays far
  /// below that of a whole decode in the same program (`--whole`).
  @Test func aCameraSizedPreviewNeverHoldsThePictureAtFullSize() throws {
    let folder = try CsarBinary.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let photo = folder + "/camera.jpg"
    let made = try Subprocess.run(
      ["/usr/bin/env", "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
       "testsrc2=size=6000x4000:rate=1", "-frames:v", "1", "-q:v", "3", photo], timeout: 300)
    #expect(made.status == 0, "ffmpeg: \(made.err)")
    let shrunk = try Subprocess.measured(
      [try CsarBinary.path, "bench", "preview", "--iterations", "1", photo], timeout: 300)
    let whole = try Subprocess.measured(
      [try CsarBinary.path, "bench", "preview", "--iterations", "1", "--whole", photo],
      timeout: 300)
    #expect(shrunk.status == 0 && whole.status == 0, "\(shrunk.err)\(whole.err)")
    #expect(shrunk.out.contains("item preview"), "\(shrunk.out)")
    // The program's own high-water mark (wait4's ru_maxrss also counts the test process,
    // whose memory the child shares until it execs).
    func peak(_ out: String) -> Int {
      let line = out.split(separator: "\n").first { $0.hasPrefix("peak resident memory\t") }
      return (line?.split(separator: "\t").last?.split(separator: " ").first)
        .flatMap { Int($0) }.map { $0 / 1_000_000 } ?? 0
    }
    let (small, large) = (peak(shrunk.out), peak(whole.out))
    #expect(small > 0, "\(shrunk.out)")
    #expect(large - small >= 40, "peak \(small) MB shrunk while decoding, \(large) MB whole")
  }

  @Test func benchImagesTimesEveryFormat() throws {
    let folder = try CsarBinary.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let heic = Self.fixtures + "/photo.heic"
    let result = try CsarBinary.run(
      ["bench", "images", "--dir", folder, "--width", "96", "--height", "64", "--iterations",
       "1", "--reference-script", "/nonexistent", heic], timeout: 300)
    #expect(result.status == 0, "\(result.err)")
    for format in ["PNG 96x64", "JPEG 96x64", "WebP 96x64", "GIF 96x64", "BMP 96x64",
                   "TIFF 96x64", "HEIF 192x144"] {
      let row = result.out.split(separator: "\n").first { $0.hasPrefix("| \(format) |") }
      #expect(row?.contains(" ms |") == true, "\(format): \(result.out)")
    }
  }
}
