// `csar bench bank`: importing a large hash bank, loading it for matching, and scan throughput.

import ArgumentParser
import DemoPictures
import Detection
import Foundation
import Imaging
import Moderation
import Store

/// Times a bank import of a CSV file of N random PDQ hashes into a fresh database file (parse
/// and store in short batches; `--runs` times, each into a new file), a retraction list of a
/// tenth of them (parse and delete, a version per bank), loading the enabled banks into the
/// PDQ index (what every `csar scan` run does first), and the upload gate on
/// generated benign images (decode, SHA-256/MD5/PDQ, bank and consent checks).
public struct BankBenchmark: ParsableArguments {
  public init() {}

  @Option(name: .long, help: "Number of PDQ hashes to import.")
  var hashes = 1_000_000

  @Option(name: .long, help: "Imports to time, each into a fresh database (medians printed).")
  var runs = 1

  @Option(name: .long, help: "Hashes in the retraction list (default: a tenth of --hashes).")
  var retract: Int?

  @Option(name: .long, help: "Number of generated images to scan.")
  var images = 40

  @Option(name: .long, help: "Image width and height as WIDTHxHEIGHT.")
  var size = "640x480"

  @Flag(name: .long, help: "Scan with the eight dihedral variants.")
  var dihedral = false

  /// Measures and prints the figures.
  public func run() throws {
    let parts = size.split(separator: "x").compactMap { Int($0) }
    guard parts.count == 2, hashes >= 1, images >= 1, runs >= 1 else {
      throw ValidationError(
        "--size must look like 640x480; --hashes, --images and --runs at least 1")
    }
    let folder = NSTemporaryDirectory() + "csar-bench-bank-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }

    // Import: a CSV file as `csar bank import` reads it (parse and check, then store in
    // batches).
    var random = BenchRandom(seed: 99)
    var csv = "type,hash,label,source_id\n"
    csv.reserveCapacity(hashes * 90)
    for i in 0..<hashes {
      let hash = PDQHash(words: SIMD4(random.next(), random.next(), random.next(), random.next()))
      csv += "pdq,\(hash.hex),synthetic,S-\(i)\n"
    }
    let csvPath = folder + "/bank.csv"
    try csv.write(toFile: csvPath, atomically: false, encoding: .utf8)
    csv = ""
    func seconds(_ wall: Double, _ cpu: Double) -> String {
      "\(BenchFigures.format(wall, 2)) s (CPU \(BenchFigures.format(cpu, 2)) s)"
    }
    var figures: [String: [Double]] = [:]
    var database: AppDatabase!
    var parsed: BankFile!
    for run in 1...runs {
      let path = folder + "/bench-\(run).sqlite"
      if run > 1 { BenchDatabase.remove(folder + "/bench-\(run - 1).sqlite") }
      database = try Self.freshDatabase(path: path)
      var t = monotonicSeconds()
      var cpu = BenchFigures.cpuSeconds()
      parsed = try BankFile.load(path: csvPath)
      figures["parse", default: []].append(monotonicSeconds() - t)
      figures["parse CPU", default: []].append(BenchFigures.cpuSeconds() - cpu)
      t = monotonicSeconds()
      cpu = BenchFigures.cpuSeconds()
      let imported = try database.importBank(name: "bench", entries: parsed.entries, by: "bench")
      figures["store", default: []].append(monotonicSeconds() - t)
      figures["store CPU", default: []].append(BenchFigures.cpuSeconds() - cpu)
      let fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        ?? 0
      func last(_ key: String) -> Double { figures[key]!.last! }
      let total = last("parse") + last("store")
      print("import\(runs > 1 ? " run \(run)" : "")\t\(hashes) PDQ hashes (CSV) in "
            + "\(BenchFigures.format(total, 2)) s, \(Int(Double(hashes) / total)) hashes/s: "
            + "parse \(seconds(last("parse"), last("parse CPU"))), "
            + "store \(seconds(last("store"), last("store CPU"))) in \(imported.batches) "
            + "transactions of up to \(AppDatabase.bankImportBatchSize) hashes; database "
            + "\(BenchFigures.format(Double(fileBytes) / Double(hashes), 1)) bytes/hash")
    }
    if runs > 1 {
      func median(_ key: String) -> Double { BenchFigures.median(figures[key]!) }
      print("import\tmedian of \(runs): parse \(seconds(median("parse"), median("parse CPU"))), "
            + "store \(seconds(median("store"), median("store CPU")))")
    }

    try importWhileAnotherConnectionWrites(parsed.entries, folder: folder)

    // Retraction: a list of every tenth imported hash, as `csar bank retract` reads it.
    let listed = min(retract ?? hashes / 10, parsed.entries.count)
    var list = "type,hash\n"
    list.reserveCapacity(listed * 72)
    let step = max(1, parsed.entries.count / max(1, listed))
    for entry in parsed.entries.lazy.enumerated().filter({ $0.offset % step == 0 })
      .prefix(listed).map(\.element)
    {
      list += "pdq,\(entry.hash)\n"
    }
    let listPath = folder + "/retract.csv"
    try list.write(toFile: listPath, atomically: false, encoding: .utf8)
    list = ""
    var t = monotonicSeconds()
    var cpu = BenchFigures.cpuSeconds()
    let retracted = try Curation.retract(path: listPath, database: database, by: "bench")
    let retractSeconds = monotonicSeconds() - t
    let retractCPU = BenchFigures.cpuSeconds() - cpu
    print("retract\t\(retracted.requested) of \(hashes) PDQ hashes (CSV) in "
          + "\(seconds(retractSeconds, retractCPU)): \(retracted.removed) removed, "
          + "\(retracted.versions.count) bank version, one transaction")

    // Load for matching.
    t = monotonicSeconds()
    cpu = BenchFigures.cpuSeconds()
    let matcher = try BankMatcher(database: database)
    let load = monotonicSeconds() - t
    let loadCPU = BenchFigures.cpuSeconds() - cpu
    print("load\t\(seconds(load, loadCPU)): read \(BenchFigures.format(matcher.loadSeconds, 2))"
          + " s, index \(BenchFigures.format(matcher.buildSeconds, 2)) s (each `csar scan` run)")

    // Scan: images written as PNG, every fourth one also planted in the bank.
    let (width, height) = (parts[0], parts[1])
    var paths: [String] = []
    var planted: [BankHashEntry] = []
    for i in 0..<images {
      let image = DemoMedia.picture(i).downscaled(width: width, height: height)
      let path = folder + "/\(i).png"
      try ImageEncoder.writePNG(image, to: path)
      paths.append(path)
      if i % 4 == 0 {
        planted.append(BankHashEntry(type: .pdq, hash: PDQ.hash(image).hash.hex))
      }
    }
    try database.importBank(name: "planted", entries: planted, by: "bench")
    let gate = UploadGate(database: database, operatorName: "bench", dihedral: dihedral)
    _ = try gate.bankMatcher()
    var times: [Double] = []
    var cpuTimes: [Double] = []
    var flagged = 0
    for path in paths {
      t = monotonicSeconds()
      cpu = BenchFigures.cpuSeconds()
      let outcome = try gate.scan(inputs: [path], account: "A-bench", service: "bench")[0]
      times.append(monotonicSeconds() - t)
      cpuTimes.append(BenchFigures.cpuSeconds() - cpu)
      if outcome.decision.code == "flagged" { flagged += 1 }
    }
    let median = BenchFigures.median(times)
    let cpuMedian = BenchFigures.median(cpuTimes)
    print("scan\t\(images) PNG \(width)x\(height)\(dihedral ? " (dihedral)" : ""): median "
          + "\(BenchFigures.ms(median)) (CPU \(BenchFigures.ms(cpuMedian))) per image, "
          + "\(BenchFigures.format(1 / median, 1)) images/s "
          + "on one core (\(flagged) flagged) against \(matcher.index.count + planted.count) "
          + "hashes")
  }

  /// A new database file at `path` with the bench's operator, a service and one account
  /// that consented (for the scans).
  static func freshDatabase(path: String) throws -> AppDatabase {
    let database = try BenchDatabase.scratch(path: path)
    try database.ensureOperator(name: "bench", role: .lead)
    try database.createService(code: "bench", name: "Bench", kind: .hosting, by: "bench")
    let consent = Array(
      """
      event_id,account,service,state,occurred_at,source,terms_version
      e1,A-bench,bench,granted,2026-01-01T00:00:00Z,app,v1

      """.utf8)
    _ = try database.importConsent(
      bytes: consent, fileName: "consent.csv", options: .init(operatorName: "bench"))
    return database
  }

  /// The same import into a second fresh database while another connection (a console
  /// deciding, say) makes an audited write every 50 ms (see ``WriteProbe``).
  func importWhileAnotherConnectionWrites(_ entries: [BankHashEntry], folder: String) throws {
    let probe = try WriteProbe(path: folder + "/shared.sqlite")
    let (_, line) = try probe.run({ summary in
      "\(entries.count) PDQ hashes stored (\(summary.batches) transactions)"
    }) {
      try probe.importer.importBank(name: "bench", entries: entries, by: "bench")
    }
    print(line)
  }
}
