// `csar bench all`'s memory rows: one very large image hashed, and one camera-sized one
// previewed, each by its own process, whose peak resident memory is the figure.

import DemoPictures
import Foundation
import Imaging

extension BenchSuite {
  /// The target for any single input at default limits (issue #10).
  static let singleInputPeakTarget = 256 * 1_000_000

  /// Hashes a `side` x `side` PNG and JPEG (9999: just under the 100-megapixel limit) and
  /// previews a 6000x4000 JPEG (about the largest picture the console decodes), each as
  /// `csar hash` or `csar bench preview` in its own process; the rows give the time and the
  /// peak memory.
  mutating func largeImages(side: Int) {
    let files: [(name: String, path: String)]
    do {
      files = try BenchLargeImages.files(in: folder, side: side)
    } catch {
      table.failed("large images", "could not write them: \(error)")
      return
    }
    for (name, path) in files {
      let preview = name.hasPrefix("preview")
      let arguments =
        preview ? ["bench", "preview", "--iterations", "1", path] : ["hash", path]
      guard let result = runChild(name, arguments) else { continue }
      var row = BenchRow(
        name: name, value: BenchTable.time(result.seconds),
        target: "< 256 MB (peak)", met: result.peakBytes < Self.singleInputPeakTarget,
        peak: BenchTable.mebibytes(result.peakBytes))
      if !result.succeeded {
        row.value = "failed: " + result.lastError
        row.met = false
      }
      table.add(row)
    }
  }
}

/// The synthetic large pictures of the memory rows, written once into the bench folder.
enum BenchLargeImages {
  /// `side` x `side` PNG and JPEG, and a camera picture of at most 6000x4000.
  static func files(in folder: String, side: Int) throws -> [(name: String, path: String)] {
    let (width, height) = (min(6000, side), min(4000, side * 2 / 3))
    let large = "\(side)x\(side)"
    let png = folder + "/large-\(large).png"
    let jpeg = folder + "/large-\(large).jpg"
    let camera = folder + "/camera-\(width)x\(height).jpg"
    let files = FileManager.default
    if !files.fileExists(atPath: png) || !files.fileExists(atPath: jpeg) {
      let image = picture(width: side, height: side)
      try ImageEncoder.writePNG(image, to: png)
      try ImageEncoder.writeJPEG(image, to: jpeg)
    }
    if !files.fileExists(atPath: camera) {
      try ImageEncoder.writeJPEG(picture(width: width, height: height), to: camera)
    }
    let size = { (path: String) in
      FileSizeText.of(
        (try? files.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
    }
    return [
      ("hash \(large) PNG (\(size(png))), whole run", png),
      ("hash \(large) JPEG (\(size(jpeg))), whole run", jpeg),
      ("preview \(width)x\(height) JPEG (\(size(camera))), whole run", camera),
    ]
  }

  /// Broad gradients and rings: compresses well, as the 291 KB PNG did.
  static func picture(width: Int, height: Int) -> RGBImage {
    RGBImage(width: width, height: height) { x, y in
      let ring = UInt8(truncatingIfNeeded: ((x - width / 2) * (x - width / 2)
        + (y - height / 2) * (y - height / 2)) >> 14)
      return (UInt8(x * 255 / width), UInt8(y * 255 / height), ring)
    }
  }
}
