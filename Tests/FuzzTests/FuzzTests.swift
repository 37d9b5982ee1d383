import Compliance
@testable import ConsoleUI
import Foundation
import Imaging
import Moderation
import Store
import Testing

/// Seeded fuzzing of everything that reads outside input: image decoders, import parsers, the
/// questionnaire and answers readers, config and theme files. Each target gets valid seeds,
/// mutated a few hundred times (`CSAR_FUZZ_ITERATIONS` runs longer); a parser may accept or
/// reject an input, but must never crash, hang, or report a line that is not in the file.
@Suite("Fuzzing (seeded, bounded)")
struct FuzzTests {
  // MARK: Images

  static func seedImages() throws -> [[UInt8]] {
    var pixels = [UInt8](repeating: 0, count: 40 * 30 * 3)
    for i in pixels.indices { pixels[i] = UInt8((i * 7 + i / 120) % 256) }
    let image = RGBImage(width: 40, height: 30, pixels: pixels)
    return [
      try ImageEncoder.encodePNG(image), try ImageEncoder.encodeJPEG(image, quality: 80),
      try ImageEncoder.encodeJPEG(image.greyscale(), quality: 60),
    ]
  }

  @Test func imageDecodersRejectDamageCleanly() throws {
    let seeds = try Self.seedImages()
    var mutator = Mutator(seed: 1)
    var decoded = 0
    var rejected: [MediaDecodingError.Kind: Int] = [:]
    for iteration in 0..<Mutator.iterations(default: 600) {
      let input = mutator.mutate(seeds[iteration % seeds.count])
      do {
        let result = try ImageDecoder.decode(data: input, name: "fuzz-\(iteration)")
        #expect(result.image.width >= 1 && result.image.height >= 1)
        #expect(result.image.pixels.count == result.image.width * result.image.height * 3)
        decoded += 1
      } catch {
        #expect(error.description.contains("fuzz-\(iteration)"), "\(error)")
        rejected[error.kind, default: 0] += 1
      }
    }
    // Both outcomes happen: the mutations are neither all harmless nor all fatal.
    #expect(decoded > 0)
    #expect(rejected.values.reduce(0, +) > 0)
  }

  // MARK: Import files

  /// Runs `parse` on mutations of `seed` and checks every reported line is in the input.
  static func fuzzLines(
    _ seed: String, iterations: Int, salt: UInt64, parse: (String) -> [Int]
  ) {
    var mutator = Mutator(seed: salt)
    for _ in 0..<Mutator.iterations(default: iterations) {
      let input = mutator.mutate(Array(seed.utf8))
      let lines = parse(input.text)
      let count = input.lineCount
      for line in lines {
        #expect((1...max(1, count + 1)).contains(line), "line \(line) of \(count)")
      }
    }
  }

  static let bankSeed = """
    type,hash,label,source_id
    pdq,f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22,bridge,src-1
    md5,d35c785545392755e7e4164457657269,,
    sha256,b5b0799616df52d475a3968dc7e54f1d0724c912244ffa6175bc786375dd7298,"quoted, label",x

    """

  @Test func bankListsReportBadLinesOnly() {
    Self.fuzzLines(Self.bankSeed, iterations: 400, salt: 2) { text in
      let file = BankFile.parse(text, file: "bank.csv")
      #expect(file.problems.allSatisfy { $0.description.contains("bank.csv") })
      return file.problems.map(\.line)
    }
  }

  /// HMA, StopNCII and NCMEC documents as the field writes them (see FormatTests).
  static let structuredSeeds: [(file: String, text: String)] = [
    ("bank.json", """
      [
        {"id": 1, "bank": {"name": "B"}, "collab_metadata": {"F": ["A1"]},
         "signals": {"pdq": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
                     "video_md5": "D35C785545392755E7E4164457657269"},
         "metadata": {"content_id": "C-1", "json": {"label": "bridge", "n": 2}}},
        {"pdq": "b5b0799616df52d475a3968dc7e54f1d0724c912244ffa6175bc786375dd7298"},
        {"vpdq": "0,abc"}
      ]

      """),
    ("stopncii.json", """
      {"count": 3, "nextPageToken": "", "hasMoreRecords": false, "hashRecords": [
        {"lastModtimestamp": 1700000000, "signalType": "ImagePDQ",
         "hashValue": "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
         "hashStatus": "Active", "caseNumbers": {"1": "Active"}, "CSPFeedbacks": []},
        {"signalType": "VideoMD5", "hashValue": "d35c785545392755e7e4164457657269",
         "hashStatus": "Withdrawn"},
        {"signalType": "VideoTMK", "hashValue": "AAAA", "hashStatus": "Active"}
      ]}

      """),
    ("ncmec.xml", """
      <?xml version="1.0" encoding="UTF-8"?>
      <queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
        <images count="1">
          <image>
            <member id="42">Example &amp; Co</member><id>image1</id>
            <classification><![CDATA[A1]]></classification>
            <fingerprints>
              <md5>D35C785545392755E7E4164457657269</md5>
              <pdna>a1a1</pdna>
              <pdq>f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22</pdq>
            </fingerprints>
          </image>
          <!-- a comment -->
          <deletedImage><id>image4</id></deletedImage>
        </images>
        <videos><video><id>v1</id><fingerprints>
          <tmk-pdqf href="/v2/entries/1/fingerprints/TMK_PDQF"/>
        </fingerprints></video></videos>
      </queryResult>

      """),
  ]

  /// Mangled documents of each structured format: accepted or refused, never a crash, and
  /// every problem names the file and a line that is in it; what is accepted is well-formed.
  @Test func structuredHashListsReportBadLinesOnly() {
    for (index, seed) in Self.structuredSeeds.enumerated() {
      let clean = BankFile.parse(bytes: Array(seed.text.utf8), file: seed.file)
      #expect(clean.problems.isEmpty && !clean.entries.isEmpty, "\(seed.file): \(clean.problems)")
      Self.fuzzLines(seed.text, iterations: 300, salt: 20 + UInt64(index)) { text in
        let file = BankFile.parse(bytes: Array(text.utf8), file: seed.file)
        #expect(file.problems.allSatisfy { $0.description.hasPrefix(seed.file + ":") })
        for entry in file.entries + file.withdrawn {
          #expect(entry.hash.utf8.count == entry.type.hexLength, "\(entry)")
          #expect(entry.hash == entry.hash.lowercased(), "\(entry)")
        }
        return file.problems.map(\.line)
      }
    }
  }

  /// A document cut anywhere before its end is one problem naming the line where it stops,
  /// and imports nothing.
  @Test func truncatedStructuredHashListsImportNothing() {
    for seed in Self.structuredSeeds {
      let bytes = Array(seed.text.utf8)
      let end = bytes.lastIndex { $0 == UInt8(ascii: "]") || $0 == UInt8(ascii: "}")
        || $0 == UInt8(ascii: ">") }!
      let start = bytes.firstIndex { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "{")
        || $0 == UInt8(ascii: "<") }!
      for cut in (start + 1)...end {
        let prefix = Array(bytes[..<cut])
        let file = BankFile.parse(bytes: prefix, file: seed.file)
        #expect(file.entries.isEmpty && file.withdrawn.isEmpty, "\(seed.file) cut at \(cut)")
        #expect(file.problems.count == 1, "\(seed.file) cut at \(cut): \(file.problems)")
        let lines = prefix.lineCount
        for problem in file.problems {
          #expect(problem.description.hasPrefix("\(seed.file):\(problem.line): not "))
          #expect((1...lines).contains(problem.line), "\(seed.file) cut at \(cut): \(problem)")
        }
      }
    }
  }

  @Test func urlListsReportBadLinesOnly() {
    let seed = "https://evil.example/path?q=1\nhttp://a.b.c/1/2.html\n# comment\nexample.org/\n"
    Self.fuzzLines(seed, iterations: 400, salt: 3) { text in
      URLListFile.parse(text, file: "urls.txt").problems.map(\.line)
    }
  }

  @Test func classifierFlagsReportBadLinesOnly() {
    let seed = """
      {"id": 1, "account": "A1", "service": "chat-ie", "media": "m/1.png", "model": "v", "score": 0.97}
      {"account": "A2", "service": "forum-fr", "media": "m/2.jpg", "model": "v", "score": 0.5}

      """
    Self.fuzzLines(seed, iterations: 400, salt: 4) { text in
      FlagsFile.parse(text, file: "flags.jsonl").problems.map(\.line)
    }
  }

  @Test(arguments: ConsentImportFormat.allCases)
  func consentImportsReportBadLinesOnly(format: ConsentImportFormat) {
    let seed =
      format == .csv
      ? """
        event_id,account,service,state,occurred_at,source,terms_version,reason
        e1,A1,chat-ie,granted,2026-11-25T10:00:00Z,app,tos-9,
        e2,A1,chat-ie,withdrawn,1795600000,support,tos-9,"asked by phone, ticket 7"

        """
      : """
        {"event_id":"e1","account":"A1","service":"chat-ie","state":"granted","occurred_at":"2026-11-25T10:00:00Z","source":"app","terms_version":"tos-9"}
        {"event_id":"e2","account":"A1","service":"chat-ie","state":"refused","occurred_at":1795600000,"source":"import","terms_version":"tos-9"}

        """
    var mutator = Mutator(seed: 5)
    for _ in 0..<Mutator.iterations(default: 400) {
      let input = mutator.mutate(Array(seed.utf8))
      var lines: [Int] = []
      ConsentImportParser.parse(
        input, format: format, onRecord: { _ in }, onIssue: { lines.append($0.line) })
      for line in lines {
        #expect((1...input.lineCount + 1).contains(line), "line \(line) of \(input.lineCount)")
      }
    }
  }

  // MARK: Questionnaires, answers, config and themes

  @Test func questionnaireLoaderNamesFileLineAndKey() {
    var mutator = Mutator(seed: 6)
    let seed = Array(BuiltinQuestionnaire.text.utf8)
    var loaded = 0
    for _ in 0..<Mutator.iterations(default: 150) {
      let input = mutator.mutate(seed)
      do {
        _ = try Questionnaire.parse(input.text, file: "q.toml")
        loaded += 1
      } catch {
        #expect(!error.problems.isEmpty)
        for problem in error.problems {
          #expect(problem.file == "q.toml")
          #expect((1...input.lineCount + 1).contains(problem.line), "\(problem)")
        }
      }
    }
    #expect(loaded < Mutator.iterations(default: 150), "some mutation must be refused")
  }

  @Test func answersFilesNameTheQuestion() throws {
    let questionnaire = try BuiltinQuestionnaire.load()
    let seed = Array(
      """
      users = 25_000_000
      child_access = "yes"
      realtime = ["direct_messages", "group_chats"]
      e2ee = "yes"

      """.utf8)
    var mutator = Mutator(seed: 7)
    for _ in 0..<Mutator.iterations(default: 300) {
      let input = mutator.mutate(seed)
      do {
        _ = try questionnaire.parseAnswers(input.text, file: "answers.toml")
      } catch {
        #expect(error.problems.allSatisfy { $0.file == "answers.toml" })
      }
    }
  }

  @Test func configAndThemeFilesNameTheFile() throws {
    let configSeed = Array(
      "operator = \"alice\"\ntheme = \"mono\"\ndue_soon_days = 60\nlease_minutes = 10\n".utf8)
    let themeSeed = Array(
      try String(contentsOfFile: Self.repository + "/themes/default.toml", encoding: .utf8).utf8)
    var mutator = Mutator(seed: 8)
    for _ in 0..<Mutator.iterations(default: 300) {
      do {
        _ = try Configuration.parse(mutator.mutate(configSeed).text, file: "config.toml")
      } catch {
        #expect(error.file == "config.toml")
      }
      do {
        _ = try ThemeParser.parse(mutator.mutate(themeSeed).text, file: "theme.toml")
      } catch {
        #expect(error.file == "theme.toml")
      }
    }
  }

  // MARK: Deep nesting

  /// Texts nested `depth` levels deep, in every way the TOML and JSON readers nest.
  static func nested(_ depth: Int) -> [(name: String, text: String, json: Bool)] {
    func times(_ text: String) -> String { String(repeating: text, count: depth) }
    return [
      ("array", "users = " + times("[") + times("]") + "\n", false),
      ("multi-line array", "users = " + times("[\n") + times("]\n"), false),
      ("inline table", "users = " + times("{a = ") + "1" + times("}") + "\n", false),
      ("dotted key", "a" + times(".a") + " = 1\n", false),
      ("header", "[a" + times(".a") + "]\nx = 1\n", false),
      ("header and inline", "[" + times("a.").dropLast() + "]\nb = " + times("{c = [") + "\n",
        false),
      ("JSON array", "{\"users\": " + times("[") + times("]") + "}", true),
      ("JSON object", times("{\"a\": ") + "1" + times("}"), true),
    ]
  }

  /// 10,000 levels used to overflow the stack (a crash of every command reading the file);
  /// now each reader refuses the text with its line.
  @Test func deepNestingIsRefusedWithALine() throws {
    let questionnaire = try BuiltinQuestionnaire.load()
    for (name, text, json) in Self.nested(10_000) {
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
      let (_, errors) = json ? TOMLReader.parseJSON(text) : TOMLReader.parse(text)
      #expect(errors.contains { $0.message.contains("nested deeper") }, "\(name)")
      #expect(errors.allSatisfy { (1...lines).contains($0.line) }, "\(name)")
      #expect(throws: FileProblems.self, "\(name)") {
        try questionnaire.parseAnswers(text, file: "answers.toml")
      }
      #expect(throws: FileProblems.self, "\(name)") {
        try Questionnaire.parse(text, file: "q.toml")
      }
      do {
        _ = try Configuration.parse(text, file: "config.toml")
        Issue.record("\(name): config accepted")
      } catch {
        #expect(error.description.hasPrefix("config.toml:"), "\(name): \(error)")
        #expect(error.line != nil, "\(name)")
      }
      #expect(throws: ThemeError.self, "\(name)") {
        try ThemeParser.parse(text, file: "theme.toml")
      }
    }
  }

  /// The limit leaves room for every real file: 60 levels still read.
  @Test func nestingWithinTheLimitIsRead() {
    for (name, text, json) in Self.nested(60) where !name.hasPrefix("header and") {
      let (_, errors) = json ? TOMLReader.parseJSON(text) : TOMLReader.parse(text)
      #expect(errors.isEmpty, "\(name): \(errors)")
    }
  }

  /// `users = 1e308` used to trap converting to Int64 (SIGILL); it is now out of range.
  @Test func hugeNumericAnswersAreOutOfRange() throws {
    let questionnaire = try BuiltinQuestionnaire.load()
    for number in ["1e308", "-1e19", "9.3e18", "1e16"] {
      do {
        _ = try questionnaire.parseAnswers("users = \(number)\n", file: "answers.toml")
        Issue.record("\(number) accepted")
      } catch {
        let problem = try #require(error.problems.first)
        #expect(problem.line == 1 && problem.key == "users", "\(problem)")
        #expect(problem.message.contains("out of range"), "\(problem)")
      }
    }
  }

  /// The package folder (two levels above this file).
  static let repository = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}
