// `csar bench pdq|match`: speed figures for PDQ hashing and PDQ matching.

import ArgumentParser
import Benchmarks
import ConsoleUI
import Detection
import Imaging
import Moderation
import Terminal

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Benchmarks of the detection engine (run a release build).
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract:
      "Measure PDQ, bank, scan, console, consent and report export speed (use a release build).",
    subcommands: [
      AllBench.self, PDQBench.self, MatchBench.self, BankBench.self, PreviewBench.self,
      ConsoleBench.self, QueueBench.self, ConsentBench.self, ContentionBench.self,
      ReportsBench.self, VideoBench.self, FormatsBench.self, ServeBench.self,
      ImagesBench.self,
    ]
  )

  /// Monotonic seconds.
  static func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
  }

  /// Median of measured seconds.
  static func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    if s.isEmpty { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }

  static func ms(_ seconds: Double) -> String { format(seconds * 1000, 3) + " ms" }

  static func format(_ value: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return String(rounded)
  }

  /// Resident set size in bytes (Linux), 0 when unknown.
  static func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0
    var resident = 0
    guard fscanf_statm(file, &size, &resident) else { return 0 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
  }

  static func fscanf_statm(_ file: UnsafeMutablePointer<FILE>, _ a: inout Int,
                           _ b: inout Int) -> Bool {
    var buffer = [CChar](repeating: 0, count: 256)
    guard fgets(&buffer, 256, file) != nil else { return false }
    let text = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    let fields = String(decoding: text, as: UTF8.self).split(separator: " ")
    guard fields.count >= 2, let x = Int(fields[0]), let y = Int(fields[1]) else { return false }
    a = x
    b = y
    return true
  }

  // MARK: - pdq

  /// Decode and hash times of one image file.
  struct PDQBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "pdq", abstract: "Median decode time and PDQ hash time of an image file.")

    @Option(name: .long, help: "Repetitions.")
    var iterations = 30

    @Argument(help: "An image file (PNG, JPEG, WebP, GIF, BMP, TIFF or HEIF).")
    var file: String

    mutating func run() throws {
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
        var t = BenchCommand.now()
        image = try ImageDecoder.decode(data: bytes, name: file).image
        decodeTimes.append(BenchCommand.now() - t)
        t = BenchCommand.now()
        result = hasher.hash(image)
        hashTimes.append(BenchCommand.now() - t)
        t = BenchCommand.now()
        _ = PDQ.hash(image)
        freshTimes.append(BenchCommand.now() - t)
        t = BenchCommand.now()
        _ = hasher.dihedralHashes(image)
        dihedralTimes.append(BenchCommand.now() - t)
        t = BenchCommand.now()
        _ = FileDigests(of: bytes)
        digestTimes.append(BenchCommand.now() - t)
      }
      let decode = BenchCommand.median(decodeTimes)
      let hash = BenchCommand.median(hashTimes)
      print("file\t\(DisplayText.escapingControls(file)) (\(image.width)x\(image.height))")
      print("pdq\t\(result.hash.hex) quality \(result.quality)")
      print("decode\t\(BenchCommand.ms(decode)) (median of \(decodeTimes.count))")
      print("pdq hash\t\(BenchCommand.ms(hash)) (reused buffers)")
      print("pdq hash fresh\t\(BenchCommand.ms(BenchCommand.median(freshTimes))) (new buffers)")
      print("pdq 8 dihedral\t\(BenchCommand.ms(BenchCommand.median(dihedralTimes)))")
      print("decode+hash\t\(BenchCommand.ms(decode + hash))")
      print("sha256+md5\t\(BenchCommand.ms(BenchCommand.median(digestTimes)))")
    }
  }

  // MARK: - preview

  /// Decode, downscale and blur for a review preview.
  struct PreviewBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "preview",
      abstract: "Median time of decode + downscale + blur of a file, and of a review preview.")
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

    mutating func run() throws {
      let bytes = try ImageDecoder.readFile(file)
      var decodeTimes: [Double] = []
      var filterTimes: [Double] = []
      for _ in 0..<max(1, iterations) {
        var t = BenchCommand.now()
        let small: RGBImage
        if whole {
          let image = try ImageDecoder.decode(data: bytes, name: file).image
          decodeTimes.append(BenchCommand.now() - t)
          t = BenchCommand.now()
          small = image.downscaled(toFit: size)
        } else {
          small = try ImageDecoder.decodePreview(data: bytes, name: file, maxSide: size).image
          decodeTimes.append(BenchCommand.now() - t)
          t = BenchCommand.now()
        }
        _ = small.blurred(sigma: sigma)
        filterTimes.append(BenchCommand.now() - t)
      }
      let decode = BenchCommand.median(decodeTimes)
      let filter = BenchCommand.median(filterTimes)
      print("decode\t\(BenchCommand.ms(decode))\(whole ? " (whole)" : " (shrunk while decoding)")")
      print("\(whole ? "downscale+blur" : "blur")\t\(BenchCommand.ms(filter))")
      print("total\t\(BenchCommand.ms(decode + filter))")

      defer { print("peak resident memory\t\(benchPeakBytes()) bytes (VmHWM)") }
      if whole { return }
      // What the review queue does for one item: decode, orient, shrink, fit the pane, blur,
      // greyscale and turn into half-block cells (a 120x40 console's preview pane).
      let theme = try Theme.load(nameOrPath: "default")
      let pane = Rect(x: 0, y: 0, width: 62, height: 27)
      var cellTimes: [Double] = []
      var stepTimes: [Double] = []
      for _ in 0..<max(1, iterations) {
        var screen = Screen(width: pane.width, height: pane.height)
        var t = BenchCommand.now()
        let preview = ItemPreview(
          itemId: 0, mediaPath: file, url: nil, databasePath: ":memory:",
          roots: MediaRoots(configured: ["/"], databasePath: ":memory:"))
        preview.draw(in: pane, on: &screen, depth: .trueColor, theme: theme)
        cellTimes.append(BenchCommand.now() - t)
        t = BenchCommand.now()
        _ = preview.clearer()
        preview.draw(in: pane, on: &screen, depth: .trueColor, theme: theme)
        stepTimes.append(BenchCommand.now() - t)
      }
      let cells = BenchCommand.ms(BenchCommand.median(cellTimes))
      print("item preview (decode..cells, 62x27)\t\(cells)")
      print("one step less blur (redraw)\t\(BenchCommand.ms(BenchCommand.median(stepTimes)))")
    }
  }

  // MARK: - match

  /// Query speed of the PDQ index.
  struct MatchBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "match",
      abstract: "Median PDQ query time at distance 31 against N random hashes plus planted "
        + "near-duplicates.")

    @Option(name: .long, help: "Number of indexed hashes.")
    var hashes = 1_000_000

    @Option(name: .long, help: "Number of queries.")
    var queries = 1000

    @Option(name: .long, help: "Maximum Hamming distance.")
    var distance = 31

    @Flag(name: .long, help: "Also time the linear scan (slow at millions).")
    var linear = false

    mutating func run() throws {
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
      let before = BenchCommand.residentBytes()
      var t = BenchCommand.now()
      let index = PDQIndex(words: words, ids: Array(0..<hashes))
      let build = BenchCommand.now() - t
      let after = BenchCommand.residentBytes()
      var times: [Double] = []
      var found = 0
      for centre in centres {
        t = BenchCommand.now()
        found += index.query(centre, maxDistance: distance).count
        times.append(BenchCommand.now() - t)
      }
      let median = BenchCommand.median(times)
      let total = times.reduce(0, +)
      print("hashes\t\(hashes) (\(planted) planted near-duplicates)")
      print("build\t\(BenchCommand.format(build, 2)) s")
      print("query d<=\(distance)\tmedian \(BenchCommand.ms(median)), "
            + "\(Int(Double(times.count) / total)) queries/s (\(found) matches)")
      let growth = Double(after - before) / Double(max(1, hashes))
      print("memory\t\(BenchCommand.format(index.bytesPerHash, 1)) bytes/hash (index "
            + "structures); RSS growth \(BenchCommand.format(growth, 1)) bytes/hash")
      if linear {
        var scan: [Double] = []
        for centre in centres.prefix(20) {
          t = BenchCommand.now()
          _ = index.linearQuery(centre, maxDistance: distance)
          scan.append(BenchCommand.now() - t)
        }
        print("linear scan\tmedian \(BenchCommand.ms(BenchCommand.median(scan)))")
      }
    }
  }
}
