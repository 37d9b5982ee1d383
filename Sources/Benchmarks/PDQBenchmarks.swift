// `csar bench pdq|preview|match`: speed figures for PDQ hashing, review previews and PDQ
// matching.

import ArgumentParser
import ConsoleUI
import Detection
import Imaging
import Moderation
import Terminal

// MARK: - pdq

/// `csar bench pdq`: decode and hash times of one image file.
public struct PDQBenchmark: ParsableArguments {
  public init() {}

  @Option(name: .long, help: "Repetitions.")
  var iterations = 30

  @Argument(help: "An image file (PNG, JPEG, WebP, GIF, BMP, TIFF or HEIF).")
  var file: String

  /// Measures and prints the figures.
  public func run() throws {
    let bytes = try ImageDecoder.readFile(file)
    var decodeTimes: [Double] = []
    var hashTimes: [Double] = []
    var dihedralTimes: [Double] = []
    var digestTimes: [Double] = []
    var image = RGBImage(width: 1, height: 1)
    var result = PDQResult(hash: .zero, quality: 0)
    var freshTimes: [Double] = []
    let hasher = PDQHasher()
    for _ in 0..<max(1, iterations) {
      var t = monotonicSeconds()
      image = try ImageDecoder.decode(data: bytes, name: file).image
      decodeTimes.append(monotonicSeconds() - t)
      t = monotonicSeconds()
      result = hasher.hash(image)
      hashTimes.append(monotonicSeconds() - t)
      t = monotonicSeconds()
      _ = PDQ.hash(image)
      freshTimes.append(monotonicSeconds() - t)
      t = monotonicSeconds()
      _ = hasher.dihedralHashes(image)
      dihedralTimes.append(monotonicSeconds() - t)
      t = monotonicSeconds()
      _ = FileDigests(of: bytes)
      digestTimes.append(monotonicSeconds() - t)
    }
    let decode = BenchFigures.median(decodeTimes)
    let hash = BenchFigures.median(hashTimes)
    print("file\t\(DisplayText.escapingControls(file)) (\(image.width)x\(image.height))")
    print("pdq\t\(result.hash.hex) quality \(result.quality)")
    print("decode\t\(BenchFigures.ms(decode)) (median of \(decodeTimes.count))")
    print("pdq hash\t\(BenchFigures.ms(hash)) (reused buffers)")
    print("pdq hash fresh\t\(BenchFigures.ms(BenchFigures.median(freshTimes))) (new buffers)")
    print("pdq 8 dihedral\t\(BenchFigures.ms(BenchFigures.median(dihedralTimes)))")
    print("decode+hash\t\(BenchFigures.ms(decode + hash))")
    print("sha256+md5\t\(BenchFigures.ms(BenchFigures.median(digestTimes)))")
  }
}

// MARK: - preview

/// `csar bench preview`: decode, downscale and blur for a review preview.
public struct PreviewBenchmark: ParsableArguments {
  public init() {}

  // Without --whole nothing here holds the picture at full size: peak memory is the
  // console's for one preview.

  @Option(name: .long, help: "Repetitions.")
  var iterations = 30

  @Option(name: .long, help: "Longest side of the preview.")
  var size = 160

  @Option(name: .long, help: "Blur sigma on the preview, in preview pixels.")
  var sigma = 2.0

  @Flag(
    name: .long,
    help: ArgumentHelp(
      "Decode the whole picture, then shrink it (the console's way before it shrank "
        + "pictures while decoding), to compare time and peak memory."))
  var whole = false

  @Argument(help: "An image file (PNG, JPEG, WebP, GIF, BMP, TIFF or HEIF).")
  var file: String

  /// Measures and prints the figures.
  public func run() throws {
    let bytes = try ImageDecoder.readFile(file)
    var decodeTimes: [Double] = []
    var filterTimes: [Double] = []
    for _ in 0..<max(1, iterations) {
      var t = monotonicSeconds()
      let small: RGBImage
      if whole {
        let image = try ImageDecoder.decode(data: bytes, name: file).image
        decodeTimes.append(monotonicSeconds() - t)
        t = monotonicSeconds()
        small = image.downscaled(toFit: size)
      } else {
        small = try ImageDecoder.decodePreview(data: bytes, name: file, maxSide: size).image
        decodeTimes.append(monotonicSeconds() - t)
        t = monotonicSeconds()
      }
      _ = small.blurred(sigma: sigma)
      filterTimes.append(monotonicSeconds() - t)
    }
    let decode = BenchFigures.median(decodeTimes)
    let filter = BenchFigures.median(filterTimes)
    print("decode\t\(BenchFigures.ms(decode))\(whole ? " (whole)" : " (shrunk while decoding)")")
    print("\(whole ? "downscale+blur" : "blur")\t\(BenchFigures.ms(filter))")
    print("total\t\(BenchFigures.ms(decode + filter))")

    defer { print("peak resident memory\t\(BenchFigures.peakBytes()) bytes (VmHWM)") }
    if whole { return }
    // What the review queue does for one item: decode, orient, shrink, fit the pane, blur,
    // greyscale and turn into half-block cells (a 120x40 console's preview pane).
    let theme = try Theme.load(nameOrPath: "default")
    let pane = Rect(x: 0, y: 0, width: 62, height: 27)
    var cellTimes: [Double] = []
    var stepTimes: [Double] = []
    for _ in 0..<max(1, iterations) {
      var screen = Screen(width: pane.width, height: pane.height)
      var t = monotonicSeconds()
      let preview = ItemPreview(
        itemId: 0, mediaPath: file, url: nil, databasePath: ":memory:",
        roots: MediaRoots(configured: ["/"], databasePath: ":memory:"))
      preview.draw(in: pane, on: &screen, depth: .trueColor, theme: theme)
      cellTimes.append(monotonicSeconds() - t)
      t = monotonicSeconds()
      _ = preview.clearer()
      preview.draw(in: pane, on: &screen, depth: .trueColor, theme: theme)
      stepTimes.append(monotonicSeconds() - t)
    }
    let cells = BenchFigures.ms(BenchFigures.median(cellTimes))
    print("item preview (decode..cells, 62x27)\t\(cells)")
    print("one step less blur (redraw)\t\(BenchFigures.ms(BenchFigures.median(stepTimes)))")
  }
}

// MARK: - match

/// `csar bench match`: query speed of the PDQ index.
public struct MatchBenchmark: ParsableArguments {
  public init() {}

  @Option(name: .long, help: "Number of indexed hashes.")
  var hashes = 1_000_000

  @Option(name: .long, help: "Number of queries.")
  var queries = 1000

  @Option(name: .long, help: "Maximum Hamming distance.")
  var distance = 31

  @Flag(name: .long, help: "Also time the linear scan (slow at millions).")
  var linear = false

  @Flag(name: .long, help: "Prepare the index for queries first, as `csar serve` does.")
  var prepare = false

  /// Measures and prints the figures.
  public func run() throws {
    var seeded = BenchRandom(seed: 12345)
    let planted = min(hashes / 10, queries)
    var words = [UInt64](repeating: 0, count: hashes * 4)
    for i in 0..<words.count { words[i] = seeded.next() }
    // Plant near-duplicates of the first `planted` query centres at distances 0...40.
    var centres: [PDQHash] = []
    for q in 0..<queries {
      centres.append(PDQHash(words: SIMD4(seeded.next(), seeded.next(), seeded.next(),
                                          seeded.next())))
      if q < planted {
        var w = centres[q].words
        for _ in 0..<(q % 41) {
          let k = Int(seeded.next() % 256)
          w[k >> 6] ^= 1 << UInt64(k & 63)
        }
        let slot = Int(seeded.next() % UInt64(hashes))
        for j in 0..<4 { words[slot * 4 + j] = w[j] }
      }
    }
    let before = BenchFigures.residentBytes()
    var t = monotonicSeconds()
    let index = PDQIndex(words: words, ids: Array(0..<hashes))
    let build = monotonicSeconds() - t
    let after = BenchFigures.residentBytes()
    if prepare {
      t = monotonicSeconds()
      index.prepareForQueries()
      print("prepare\t\(BenchFigures.format(monotonicSeconds() - t, 2)) s")
    }
    var times: [Double] = []
    var found = 0
    for centre in centres {
      t = monotonicSeconds()
      found += index.query(centre, maxDistance: distance).count
      times.append(monotonicSeconds() - t)
    }
    let median = BenchFigures.median(times)
    let total = times.reduce(0, +)
    print("hashes\t\(hashes) (\(planted) planted near-duplicates)")
    print("build\t\(BenchFigures.format(build, 2)) s")
    print("query d<=\(distance)\tmedian \(BenchFigures.ms(median)), "
          + "\(Int(Double(times.count) / total)) queries/s (\(found) matches)")
    let growth = Double(after - before) / Double(max(1, hashes))
    print("memory\t\(BenchFigures.format(index.bytesPerHash, 1)) bytes/hash (index "
          + "structures); RSS growth \(BenchFigures.format(growth, 1)) bytes/hash")
    if linear {
      var scan: [Double] = []
      for centre in centres.prefix(20) {
        t = monotonicSeconds()
        _ = index.linearQuery(centre, maxDistance: distance)
        scan.append(monotonicSeconds() - t)
      }
      print("linear scan\tmedian \(BenchFigures.ms(BenchFigures.median(scan)))")
    }
  }
}
