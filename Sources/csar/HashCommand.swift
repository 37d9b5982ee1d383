// `csar hash [--json] FILE...`: SHA-256, MD5 and PDQ of image files.

import ArgumentParser
import Detection
import Imaging
import Moderation

/// Prints the cryptographic and perceptual hashes of image files, one line per file.
struct HashCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hash",
    abstract: "Print SHA-256, MD5 and PDQ hashes of image files (PNG, JPEG).",
    discussion: """
      Plain output: PATH<TAB>WxH<TAB>SHA256<TAB>MD5<TAB>PDQ<TAB>QUALITY.
      With --json, one object per line: {"path","width","height","sha256","md5","pdq",\
      "quality"}, or {"path","error"} for a file that failed. Exits 1 if any file failed.
      """
  )

  @Flag(name: .long, help: "Print JSON Lines.")
  var json = false

  @Option(name: .long, help: "Refuse images with more pixels than this.")
  var maxPixels = ImageDecoder.defaultMaxPixels

  @Argument(help: "Image files.")
  var files: [String]

  mutating func run() throws {
    var failed = false
    let hasher = PDQHasher()
    for path in files {
      do {
        let h = try MediaHasher.hash(path: path, maxPixels: maxPixels, hasher: hasher)
        if json {
          print(
            "{\"path\":\(DetectText.jsonQuote(path)),\"width\":\(h.width),\"height\":\(h.height),"
              + "\"sha256\":\"\(h.digests.sha256)\",\"md5\":\"\(h.digests.md5)\","
              + "\"pdq\":\"\(h.pdq.hash.hex)\",\"quality\":\(h.pdq.quality)}")
        } else {
          print(
            [DisplayText.escapingControls(path), "\(h.width)x\(h.height)", h.digests.sha256,
             h.digests.md5, h.pdq.hash.hex, String(h.pdq.quality)].joined(separator: "\t"))
        }
      } catch {
        failed = true
        if json {
          let message = DetectText.jsonQuote(error.detail)
          print("{\"path\":\(DetectText.jsonQuote(path)),\"error\":\(message)}")
        } else {
          DetectText.printError("csar hash: \(DisplayText.escapingControls(error.description))")
        }
      }
    }
    if failed { throw ExitCode(1) }
  }
}
