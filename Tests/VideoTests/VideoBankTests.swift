// Known videos in banks: import of vPDQ hash files (sample-hash lines, threatexchange's
// JSON), all or nothing with FILE:LINE errors, export and back, and per-bank thresholds.

import Compliance
import Detection
import Foundation
import Testing

@testable import Moderation
@testable import Store

@Suite struct VideoBankTests {
  static let hexA = String(repeating: "a5", count: 32)
  static let hexB = String(repeating: "3c", count: 32)

  static func database() throws -> AppDatabase {
    let db = try AppDatabase.inMemory(clock: { 1_750_000_000 })
    try db.ensureOperator(name: "mod", role: .lead)
    return db
  }

  static func folder(_ files: [String: String]) throws -> String {
    let dir = try VideoFixtures.temporaryDirectory()
    for (name, text) in files {
      try text.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
    }
    return dir
  }

  static let sample = """
    0,100,\(hexA),0.000
    1,80,\(hexB),0.040

    2,40,\(hexA),0.080
    """

  @Test func sniffsTheFormatsAndNothingElse() {
    #expect(VideoBankFile.sniff(Self.sample) == .sampleHashes)
    // A bad hash on the first line is still a vPDQ file (reported by line, not as a list).
    #expect(VideoBankFile.sniff("0,100,zz,0.000") == .sampleHashes)
    #expect(VideoBankFile.sniff("[\"\(Self.hexA),100,0.0\"]") == .threatExchange)
    #expect(
      VideoBankFile.sniff("{\"0\": {\"quality\": 100, \"hash\": {\"w\": []}}}")
        == .threatExchangeLegacy)
    #expect(VideoBankFile.sniff("pdq,\(Self.hexA),label") == nil)
    #expect(VideoBankFile.sniff("type,hash\npdq,\(Self.hexA)") == nil)
    #expect(VideoBankFile.sniff("[{\"hash\": \"x\"}]") == nil)
  }

  /// Before: `bank import` had no video bank at all; a folder of sample-hash files was an
  /// error. Now each file is one known video, and importing it again adds nothing.
  @Test func aFolderImportsOneVideoPerFileAndOnlyOnce() throws {
    let te = "[\"\(Self.hexB),90,0.0\", \"\(Self.hexA),91,1.0\"]"
    let dir = try Self.folder(["chair.txt": Self.sample, "door.json": te, ".hidden": "x"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let db = try Self.database()
    let first = try Imports.videoBank(
      name: "known-videos", path: dir, skipInvalid: false, database: db, by: "mod")
    #expect(first.summary.created && first.summary.added == 2 && first.summary.frames == 5)
    let again = try Imports.videoBank(
      name: "known-videos", path: dir, skipInvalid: false, database: db, by: "mod")
    #expect(again.summary.added == 0 && again.summary.alreadyPresent == 2)
    let videos = try db.bankVideos(bank: "known-videos")
    #expect(videos.map(\.name) == ["chair", "door"])
    #expect(videos[0].frames.map(\.quality) == [100, 80, 40])
    #expect(videos[1].frames.map(\.frame) == [0, 1])
    #expect(try db.bankVideoCounts() == ["known-videos": 2])
  }

  /// Every bad line of every file is named `FILE:LINE`, and nothing is imported.
  /// Before: a vPDQ import made no version. Now it does, like any import, counted in videos
  /// and naming its source; importing the same videos again makes none.
  @Test func aVPDQImportMakesAVersion() throws {
    let dir = try Self.folder(["chair.txt": Self.sample])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let db = try Self.database()
    let first = try Imports.videoBank(
      name: "known-videos", path: dir, skipInvalid: false, database: db, by: "mod")
    let version = try #require(first.summary.version)
    #expect((version.version, version.change, version.added, version.total) == (1, .import, 1, 1))
    #expect(version.source.format == "vpdq")
    #expect(version.source.file == URL(fileURLWithPath: dir).lastPathComponent)
    #expect(try db.hashBank(name: "known-videos").version == version)
    let again = try Imports.videoBank(
      name: "known-videos", path: dir, skipInvalid: false, database: db, by: "mod")
    #expect(again.summary.version == nil)
    #expect(try db.bankVersions(name: "known-videos").count == 1)
    let details = try db.writer.read {
      try String.fetchOne(
        $0, sql: "SELECT details_json FROM audit_event WHERE action = 'bank.import'")
    }
    #expect(details?.contains(#""version":1"#) == true)
  }

  @Test func badLinesAreNamedAndNothingIsImported() throws {
    let bad = """
      0,100,\(Self.hexA),0.000
      1,101,\(Self.hexA),0.040
      2,100,xyz,0.080
      3,100,\(Self.hexB)
      """
    let badJSON = "[\n  \"\(Self.hexA),100,0.0\",\n  \"\(Self.hexA),100,-1\"\n]"
    let dir = try Self.folder(["a-good.txt": Self.sample, "b-bad.txt": bad, "c.json": badJSON])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let db = try Self.database()
    do {
      _ = try Imports.videoBank(
        name: "v", path: dir, skipInvalid: false, database: db, by: "mod")
      Issue.record("a folder with bad lines was imported")
    } catch ModerationError.invalidLines(_, let problems) {
      #expect(
        problems.map { "\(($0.file as NSString).lastPathComponent):\($0.line)" }
          == ["b-bad.txt:2", "b-bad.txt:3", "b-bad.txt:4", "c.json:3"])
      #expect(problems[0].reason.contains("quality"))
      #expect(problems[3].reason.contains("entry 2"))
    }
    #expect(throws: StoreError.self) { try db.hashBank(name: "v") }
    // With --skip-invalid the good file goes in.
    let some = try Imports.videoBank(
      name: "v", path: dir, skipInvalid: true, database: db, by: "mod")
    #expect(some.summary.added == 1 && some.problems.count == 4)
  }

  @Test func aFileThatIsNotVPDQInAFolderIsABadLine() throws {
    let dir = try Self.folder(["a.txt": Self.sample, "notes.txt": "hello\n"])
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let file = try VideoBankFile.load(path: dir)
    #expect(file.videos.count == 1)
    #expect(file.problems.map(\.line) == [1])
    #expect(file.problems.first?.reason.contains("not a vPDQ hash file") == true)
  }

  /// The older threatexchange object (16-bit words, least significant first) reads as the
  /// same hash as its hex form.
  @Test func readsTheOlderThreatExchangeObject() throws {
    let hash = try #require(PDQHash(hex: Self.hexA))
    var words: [Int] = []
    for word in 0..<4 {
      for part in 0..<4 { words.append(Int((hash.words[word] >> (16 * UInt64(part))) & 0xFFFF)) }
    }
    let text = "{\"30\": {\"quality\": 90, \"hash\": {\"w\": \(words)}, \"timestamp\": 1.0}}"
    var file = VideoBankFile()
    file.add(path: "old.json", text: text)
    #expect(file.problems.isEmpty)
    #expect(file.videos.first?.frames == [
      BankVideoFrame(frame: 30, quality: 90, hash: Self.hexA, timestamp: 1)
    ])
  }

  /// Export writes what import reads: both formats, timestamps as each writes them.
  @Test func exportReadsBackInBothFormats() throws {
    let video = BankVideoEntry(
      name: "clip",
      frames: [
        BankVideoFrame(frame: 0, quality: 100, hash: Self.hexA, timestamp: 0),
        BankVideoFrame(frame: 1, quality: 55, hash: Self.hexB, timestamp: 0.0333333),
        BankVideoFrame(frame: 2, quality: 70, hash: Self.hexB, timestamp: 123.456),
      ])
    let sample = VideoBankFile.write(video, format: .sampleHashes)
    #expect(sample.hasPrefix("0,100,\(Self.hexA),0.000\n1,55,\(Self.hexB),0.033\n"))
    let json = VideoBankFile.write(video, format: .threatExchange)
    #expect(json.contains("\"\(Self.hexB),55,0.0333\""))
    #expect(json.contains("\"\(Self.hexB),70,1.23e+02\""))
    for text in [sample, json] {
      var file = VideoBankFile()
      file.add(path: "clip.x", text: text)
      #expect(file.problems.isEmpty)
      let back = try #require(file.videos.first)
      #expect(back.frames.map(\.hash) == video.frames.map(\.hash))
      #expect(back.frames.map(\.quality) == video.frames.map(\.quality))
    }
  }

  @Test func pythonShortFormatIsPythons() {
    let cases: [(Double, String)] = [
      (0, "0.0"), (1, "1.0"), (0.033, "0.033"), (0.0333333, "0.0333"), (12.5, "12.5"),
      (99.9, "99.9"), (99.96, "1e+02"), (123.456, "1.23e+02"), (1000, "1e+03"),
      (0.0001234, "0.000123"), (0.00001234, "1.23e-05"), (10, "10.0"),
    ]
    for (value, text) in cases { #expect(VideoBankFile.pythonShort(value) == text, "\(value)") }
  }

  @Test func vpdqThresholdsArePerBankAndAudited() throws {
    let db = try Self.database()
    try db.importVideoBank(
      name: "v",
      videos: [
        BankVideoEntry(
          name: "x",
          frames: [BankVideoFrame(frame: 0, quality: 90, hash: Self.hexA, timestamp: 0)])
      ], by: "mod")
    #expect(try db.vpdqThresholds(bank: "v") == .default)
    let before = try db.videoBankStamp()
    try db.setVPDQThresholds(
      name: "v", VPDQThresholds(queryPercent: 90, comparedPercent: 50), by: "mod")
    #expect(try db.vpdqThresholds(bank: "v").comparedPercent == 50)
    #expect(try db.videoBankStamp() != before)
    #expect(throws: StoreError.self) {
      try db.setVPDQThresholds(
        name: "v", VPDQThresholds(queryPercent: 101, comparedPercent: 0), by: "mod")
    }
    let events = try db.writer.read { db in
      try String.fetchAll(db, sql: "SELECT action FROM audit_event ORDER BY id")
    }
    #expect(events.suffix(2) == ["bank.import", "bank.vpdq_threshold"])
  }
}
