// `csar bench formats`: `bank import` of N hashes in each format csar reads, and the reference
// tool (threatexchange's local_file fetch) where one is installed.

import ArgumentParser
import Detection
import Foundation
import Moderation
import Store

/// Times `bank import` (read, parse, validate, store in short batches) of N random PDQ hashes
/// written in each format, each into a fresh database file; then, when `threatexchange` is on
/// PATH, its fetch of the same hashes as a `local_file` collaboration (what it does with a list).
public struct FormatsBenchmark: ParsableArguments {
  public init() {}

  @Option(name: .long, help: "Hashes per file.")
  var hashes = 1_000_000

  @Option(name: .long, help: "Also time threatexchange (when installed): true or false.")
  var reference = true

  /// Measures and prints the figures.
  public func run() throws {
    guard hashes >= 1 else { throw ValidationError("--hashes must be at least 1") }
    let folder = NSTemporaryDirectory() + "csar-bench-formats-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var random = BenchRandom(seed: 7)
    let pdq = (0..<hashes).map { _ in
      PDQHash(words: SIMD4(random.next(), random.next(), random.next(), random.next())).hex
    }
    for format in Self.formats {
      let path = folder + "/list." + format.ext
      try Self.write(format.name, pdq, to: path)
      let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
      let database = try BenchDatabase.scratch(path: folder + "/\(format.ext).sqlite")
      try database.ensureOperator(name: "bench", role: .lead)
      var t = monotonicSeconds()
      var cpu = BenchFigures.cpuSeconds()
      let parsed = try BankFile.load(path: path)
      let parse = monotonicSeconds() - t
      let parseCPU = BenchFigures.cpuSeconds() - cpu
      guard parsed.problems.isEmpty, parsed.entries.count == hashes else {
        throw ValidationError("\(format.name): \(parsed.problems.count) problems")
      }
      t = monotonicSeconds()
      cpu = BenchFigures.cpuSeconds()
      try database.importBank(name: "bench", entries: parsed.entries, by: "bench")
      let store = monotonicSeconds() - t
      let storeCPU = BenchFigures.cpuSeconds() - cpu
      let total = parse + store
      print(
        "import \(format.name)\t\(hashes) hashes in \(BenchFigures.format(total, 2)) s, "
          + "\(Int(Double(hashes) / total)) hashes/s: read + parse "
          + "\(BenchFigures.format(parse, 2)) s (CPU \(BenchFigures.format(parseCPU, 2)) s), "
          + "store \(BenchFigures.format(store, 2)) s (CPU \(BenchFigures.format(storeCPU, 2)) s); "
          + "file \(size >> 20) MiB")
    }
    if reference { try referenceRow(pdq, folder: folder) }
  }

  /// The formats, as (name, file extension).
  static let formats: [(name: String, ext: String)] = [
    ("csar csv", "csv"), ("threatexchange dataset csv", "te.csv"),
    ("threatexchange TYPE VALUE", "txt"), ("HMA JSON", "json"),
    ("StopNCII JSON", "stopncii.json"), ("NCMEC XML", "xml"),
  ]

  /// Writes `hashes` as PDQ entries in format `name`.
  static func write(_ name: String, _ hashes: [String], to path: String) throws {
    var out = ""
    out.reserveCapacity(hashes.count * 200)
    switch name {
    case "csar csv":
      out += "type,hash,label,source_id\n"
      for (i, h) in hashes.enumerated() { out += "pdq,\(h),synthetic,S-\(i)\n" }
    case "threatexchange dataset csv":
      out += "signal_type,signal_str,collab,category,tags\n"
      for h in hashes { out += "pdq,\(h),bench,INVESTIGATION_SEED,\n" }
    case "threatexchange TYPE VALUE":
      for h in hashes { out += "pdq \(h)\n" }
    case "HMA JSON":
      out += "["
      for (i, h) in hashes.enumerated() {
        out += (i == 0 ? "\n" : ",\n")
          + #"{"id":\#(i),"bank":{"name":"BENCH"},"signals":{"pdq":"\#(h)"}}"#
      }
      out += "\n]\n"
    case "StopNCII JSON":
      out += #"{"count":\#(hashes.count),"hasMoreRecords":false,"hashRecords":["#
      for (i, h) in hashes.enumerated() {
        out += (i == 0 ? "\n" : ",\n")
          + #"{"lastModtimestamp":1700000000,"signalType":"ImagePDQ","hashValue":"\#(h)","#
          + #""hashStatus":"Active","caseNumbers":{"\#(i)":"Active"}}"#
      }
      out += "\n]}\n"
    default:
      out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        + "<queryResult xmlns=\"https://hashsharing.ncmec.org/hashsharing/v2\">\n<images>\n"
      for (i, h) in hashes.enumerated() {
        out += "<image><member id=\"1\">Bench</member><timestamp>2026-01-01T00:00:00Z"
          + "</timestamp><id>i\(i)</id><classification>A1</classification>"
          + "<fingerprints><pdq>\(h)</pdq></fingerprints></image>\n"
      }
      out += "</images>\n</queryResult>\n"
    }
    try out.write(toFile: path, atomically: false, encoding: .utf8)
  }

  /// threatexchange's `fetch` of the hashes as a local_file collaboration (it parses the lines
  /// and builds its PDQ index), in a scratch HOME so the account's state is untouched.
  func referenceRow(_ hashes: [String], folder: String) throws {
    let home = folder + "/te-home"
    try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    let list = folder + "/list.txt"
    func threatexchange(_ arguments: [String]) -> (status: Int32, seconds: Double)? {
      (try? BenchProcess.run(
        ["threatexchange"] + arguments, environment: ["HOME": home], folder: folder
      )).map { ($0.status, $0.seconds) }
    }
    guard let configured = threatexchange([
      "config", "collab", "edit", "local_file", "--create", "--filename", list, "bench",
    ]), configured.status == 0
    else {
      print("reference threatexchange\tnot installed (pip install threatexchange)")
      return
    }
    guard let fetched = threatexchange(["fetch"]), fetched.status == 0 else {
      print("reference threatexchange\tfetch failed")
      return
    }
    print(
      "reference threatexchange fetch (local_file TYPE VALUE)\t\(hashes.count) hashes in "
        + "\(BenchFigures.format(fetched.seconds, 2)) s, "
        + "\(Int(Double(hashes.count) / fetched.seconds)) hashes/s (parse + its PDQ index)")
  }
}
