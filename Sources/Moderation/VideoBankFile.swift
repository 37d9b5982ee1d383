// vPDQ hash files: ThreatExchange's sample-hash format (`frame,quality,hex,timestamp` lines)
// and python-threatexchange's serialisation (a JSON array of "hex,quality,timestamp"
// strings; its older form, an object of frame number -> {quality, hash {w}, timestamp}, is
// read too). One video per file; a folder holds many.

import Detection
import Foundation
import Store

// MARK: - Formats

/// The vPDQ hash-file formats csar reads and writes.
public enum VideoHashFormat: String, Sendable, CaseIterable {
  /// ThreatExchange's sample hashes: one frame a line, `frame,quality,hex,timestamp`.
  case sampleHashes = "vpdq"
  /// python-threatexchange's signal: a JSON array of `"hex,quality,timestamp"` strings.
  case threatExchange = "threatexchange-vpdq"
  /// python-threatexchange's older JSON object (read only).
  case threatExchangeLegacy = "threatexchange-vpdq-legacy"

  /// The file extension written for this format.
  public var fileExtension: String { self == .sampleHashes ? "txt" : "json" }
}

/// A vPDQ hash file (or a folder of them) read for import: the videos, and every bad line.
public struct VideoBankFile: Sendable {
  /// One video per good file.
  public var videos: [BankVideoEntry] = []
  /// Bad lines (`FILE:LINE: reason`), in file and line order.
  public var problems: [LineProblem] = []

  /// Whether `text` looks like a vPDQ hash file (its first line a sample-hash frame, or a
  /// JSON array whose first entry is a "hex,quality,timestamp" string, or the older object).
  public static func sniff(_ text: String) -> VideoHashFormat? {
    let body = text.drop { $0.isWhitespace || $0 == "\u{FEFF}" }
    if body.first == "[" {
      let first = body.dropFirst().drop { $0.isWhitespace }
      guard first.first == "\"" else { return nil }
      let entry = first.dropFirst().prefix { $0 != "\"" }
      return entry.split(separator: ",", omittingEmptySubsequences: false).count == 3
        && entry.prefix(64).allSatisfy(\.isHexDigit) ? .threatExchange : nil
    }
    if body.first == "{" {
      let key = body.dropFirst().drop { $0.isWhitespace }
      guard key.first == "\"" else { return nil }
      let digits = key.dropFirst().prefix { $0 != "\"" }
      return !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
        && body.prefix(400).contains("\"quality\"") ? .threatExchangeLegacy : nil
    }
    guard let line = body.split(whereSeparator: \.isNewline).first else { return nil }
    let parts = line.split(separator: ",", omittingEmptySubsequences: false)
    guard parts.count == 4, Int(parts[0]) != nil, Int(parts[1]) != nil,
      Double(parts[3].trimmingCharacters(in: .whitespaces)) != nil
    else { return nil }
    return .sampleHashes
  }

  /// Whether `path` is a folder, or a file whose content sniffs as vPDQ.
  public static func isVideoHashes(path: String) -> Bool {
    var folder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &folder) else { return false }
    if folder.boolValue { return true }
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    let head = (try? handle.read(upToCount: 4096)) ?? Data()
    return sniff(String(decoding: head, as: UTF8.self)) != nil
  }

  /// Reads a vPDQ file, or every regular file of a folder (names starting with `.` left out,
  /// in name order; each file is one video named by its file name without extension).
  public static func load(path: String) throws(ModerationError) -> VideoBankFile {
    var folder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &folder) else {
      throw ModerationError.unreadable(file: path, reason: "no such file or folder")
    }
    guard folder.boolValue else {
      var file = VideoBankFile()
      file.add(path: path, text: try ImportText.read(path))
      return file
    }
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: path)
        .filter { !$0.hasPrefix(".") }.sorted()
    } catch {
      throw ModerationError.unreadable(file: path, reason: (error as NSError).localizedDescription)
    }
    var file = VideoBankFile()
    for name in names {
      let full = (path.hasSuffix("/") ? path : path + "/") + name
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: full, isDirectory: &isFolder),
        !isFolder.boolValue
      else { continue }
      do {
        file.add(path: full, text: try ImportText.read(full))
      } catch {
        file.problems.append(LineProblem(file: full, line: 1, reason: error.description))
      }
    }
    return file
  }

  /// Parses one file's text as one video (any of the formats, by content).
  public mutating func add(path: String, text: String) {
    let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    var frames: [BankVideoFrame] = []
    var bad: [LineProblem] = []
    switch Self.sniff(text) {
    case .sampleHashes?: (frames, bad) = Self.sampleHashes(text, file: path)
    case .threatExchange?: (frames, bad) = Self.threatExchange(text, file: path)
    case .threatExchangeLegacy?: (frames, bad) = Self.legacy(text, file: path)
    case nil:
      bad = [
        LineProblem(
          file: path, line: 1,
          reason: "not a vPDQ hash file (expected frame,quality,hex,timestamp lines or "
            + "threatexchange's JSON array of \"hex,quality,timestamp\")")
      ]
    }
    if bad.isEmpty && frames.isEmpty {
      bad = [LineProblem(file: path, line: 1, reason: "no frames")]
    }
    if bad.isEmpty, let problem = Self.checkUnique(frames, file: path) { bad = [problem] }
    if bad.isEmpty {
      videos.append(BankVideoEntry(name: name, frames: frames))
    } else {
      problems += bad
    }
  }

  // MARK: - Parsers

  static func sampleHashes(_ text: String, file: String) -> ([BankVideoFrame], [LineProblem]) {
    var frames: [BankVideoFrame] = []
    var problems: [LineProblem] = []
    for (number, raw) in ImportText.lines(text) {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.isEmpty { continue }
      let parts = line.split(separator: ",", omittingEmptySubsequences: false)
      guard parts.count == 4, let frame = Int(parts[0]), frame >= 0 else {
        problems.append(
          LineProblem(file: file, line: number, reason: "expected frame,quality,hex,timestamp"))
        continue
      }
      do {
        let feature = try VPDQ.feature(
          hex: parts[2], quality: parts[1], timestamp: parts[3], frame: frame, line: number)
        frames.append(Self.frame(feature))
      } catch {
        problems.append(LineProblem(file: file, line: number, reason: error.reason))
      }
    }
    return (frames, problems)
  }

  static func threatExchange(_ text: String, file: String) -> ([BankVideoFrame], [LineProblem])
  {
    guard let entries = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [Any]
    else {
      return ([], [LineProblem(file: file, line: 1, reason: "not a JSON array")])
    }
    let lines = JSONArrayLines.entryLines(text)
    var frames: [BankVideoFrame] = []
    var problems: [LineProblem] = []
    for (index, entry) in entries.enumerated() {
      let line = index < lines.count ? lines[index] : 1
      let parts = (entry as? String)?.split(separator: ",", omittingEmptySubsequences: false)
      guard let parts, parts.count == 3 else {
        problems.append(
          LineProblem(
            file: file, line: line,
            reason: "entry \(index + 1): expected a string \"hex,quality,timestamp\""))
        continue
      }
      do {
        let feature = try VPDQ.feature(
          hex: parts[0], quality: parts[1], timestamp: parts[2], frame: index, line: line)
        frames.append(Self.frame(feature))
      } catch {
        problems.append(
          LineProblem(file: file, line: line, reason: "entry \(index + 1): \(error.reason)"))
      }
    }
    return (frames, problems)
  }

  /// The older object: `{"<frame>": {"quality": Q, "hash": {"w": [16 words]}, "timestamp": T}}`
  /// (the words least significant first, as PDQ's Hash256 keeps them).
  static func legacy(_ text: String, file: String) -> ([BankVideoFrame], [LineProblem]) {
    guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    else {
      return ([], [LineProblem(file: file, line: 1, reason: "not a JSON object")])
    }
    var frames: [BankVideoFrame] = []
    var problems: [LineProblem] = []
    for key in object.keys.sorted(by: { (Int($0) ?? -1, $0) < (Int($1) ?? -1, $1) }) {
      let value = object[key] as? [String: Any]
      let words = (value?["hash"] as? [String: Any])?["w"] as? [Int]
      guard let frame = Int(key), frame >= 0, let value, let words, words.count == 16,
        words.allSatisfy({ (0...0xFFFF).contains($0) }),
        let quality = value["quality"] as? Int, (0...100).contains(quality),
        let time = (value["timestamp"] as? NSNumber)?.doubleValue, time.isFinite, time >= 0
      else {
        problems.append(
          LineProblem(
            file: file, line: 1,
            reason: "frame \"\(DisplayText.clean(key))\": expected {quality 0-100, hash {w: "
              + "16 words}, timestamp >= 0}"))
        continue
      }
      let hex = words.reversed().map { String(format: "%04x", $0) }.joined()
      frames.append(BankVideoFrame(frame: frame, quality: quality, hash: hex, timestamp: time))
    }
    return (frames, problems)
  }

  static func frame(_ feature: VPDQFeature) -> BankVideoFrame {
    BankVideoFrame(
      frame: feature.frame, quality: feature.quality, hash: feature.hash.hex,
      timestamp: feature.timestamp)
  }

  static func checkUnique(_ frames: [BankVideoFrame], file: String) -> LineProblem? {
    var seen = Set<Int>()
    for frame in frames where !seen.insert(frame.frame).inserted {
      return LineProblem(
        file: file, line: 1, reason: "frame \(frame.frame) appears twice in one video")
    }
    return nil
  }

  // MARK: - Writers

  /// One video in `format` (sample hashes: `%.3f` timestamps as the sample files have them;
  /// threatexchange: its own `{:.3}` rendering of the timestamp).
  public static func write(_ video: BankVideoEntry, format: VideoHashFormat) -> String {
    switch format {
    case .sampleHashes:
      return video.frames.map {
        "\($0.frame),\($0.quality),\($0.hash),\(String(format: "%.3f", $0.timestamp))\n"
      }.joined()
    case .threatExchange, .threatExchangeLegacy:
      let entries = video.frames.map {
        "\"\($0.hash),\($0.quality),\(pythonShort($0.timestamp))\""
      }
      return "[" + entries.joined(separator: ", ") + "]\n"
    }
  }

  /// Python's `format(x, ".3")`: three significant digits, at least one digit after the point,
  /// exponent form from 100 on (python-threatexchange writes timestamps this way, so its
  /// files keep times past 100 s only to a few seconds).
  static func pythonShort(_ value: Double) -> String {
    guard value != 0 else { return "0.0" }
    let scientific = String(format: "%.2e", value)  // d.dde±XX, rounded to 3 digits
    let parts = scientific.split(separator: "e")
    let exponent = Int(parts[1]) ?? 0
    if exponent >= -4 && exponent < 2 {
      var fixed = String(format: "%.\(max(0, 2 - exponent))f", value)
      if fixed.contains(".") {
        while fixed.hasSuffix("0") { fixed.removeLast() }
        if fixed.hasSuffix(".") { fixed += "0" }
      } else {
        fixed += ".0"
      }
      return fixed
    }
    var mantissa = String(parts[0])
    while mantissa.contains("."), mantissa.hasSuffix("0") { mantissa.removeLast() }
    if mantissa.hasSuffix(".") { mantissa.removeLast() }
    return mantissa + "e" + (exponent < 0 ? "-" : "+") + String(format: "%02d", abs(exponent))
  }
}

// MARK: - Line numbers of JSON array entries

/// Where each entry of a top-level JSON array starts (1-based lines), so a bad entry is
/// reported as `FILE:LINE`.
enum JSONArrayLines {
  static func entryLines(_ text: String) -> [Int] {
    var lines: [Int] = []
    var line = 1
    var depth = 0
    var inString = false
    var escaped = false
    var expectEntry = false
    for byte in text.utf8 {
      if byte == 0x0A { line += 1 }
      if inString {
        if escaped {
          escaped = false
        } else if byte == 0x5C {
          escaped = true
        } else if byte == 0x22 {
          inString = false
        }
        continue
      }
      let space = byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
      if expectEntry && !space && byte != 0x5D {
        lines.append(line)
        expectEntry = false
      }
      switch byte {
      case 0x22: inString = true
      case 0x5B, 0x7B:
        depth += 1
        if depth == 1 && byte == 0x5B { expectEntry = true }
      case 0x5D, 0x7D: depth -= 1
      case 0x2C where depth == 1: expectEntry = true
      default: break
      }
    }
    return lines
  }
}

// MARK: - Import

extension Imports {
  /// Imports a vPDQ hash file, or a folder of them (one video each), into bank `name`. Every
  /// bad line of every file is reported; any bad line imports nothing unless `skipInvalid`
  /// (then the videos of the good files are imported).
  public static func videoBank(
    name: String, path: String, skipInvalid: Bool, database: AppDatabase,
    by operatorName: String
  ) throws -> Outcome<VideoBankImportSummary> {
    let file = try VideoBankFile.load(path: path)
    try check(file.problems, file: path, entries: file.videos.count, skipInvalid: skipInvalid)
    let summary = try database.importVideoBank(
      name: name, videos: file.videos, source: BankSource(file: path, format: "vpdq"),
      by: operatorName)
    return Outcome(summary: summary, problems: file.problems)
  }
}
