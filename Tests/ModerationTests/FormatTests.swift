// Hash lists in the formats the field uses (HMA 2.0 JSON, StopNCII JSON, NCMEC XML), written
// as those tools document or produce them; hostile files; and exports read back.

import Foundation
import Testing

@testable import Moderation
@testable import Store

@Suite("Hash list formats and exports")
struct FormatTests {
  /// The PDQ hash of HMA's API documentation (`GET /h/hash` sample reply).
  static let pdq = "d811ac390bfa6005d08543fe27fd5a11f6b55bdd2603000dc26476fc79fc76b5"
  static let md5 = "facefacefacefacefacefacefaceface"
  static let sha1 = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"

  func parse(_ text: String, _ file: String) -> BankFile {
    BankFile.parse(bytes: Array(text.utf8), file: file)
  }

  // MARK: - HMA 2.0

  /// `/h/hash`'s reply and the body of `POST /c/bank/NAME/signal`, alone and one per line.
  @Test func hmaSignalObjects() {
    let one = parse(#"{"pdq":"\#(Self.pdq)"}"#, "signal.json")
    #expect(one.format == .hmaJSON && one.problems.isEmpty)
    #expect(one.entries == [BankHashEntry(type: .pdq, hash: Self.pdq)])
    let lines = parse(
      """
      {"pdq": "\(Self.pdq.uppercased())", "video_md5": "\(Self.md5)"}
      {"vpdq": "0,abc", "pdq": "\(Self.pdq)"}
      {"video_md5": 12}

      """, "signals.jsonl")
    #expect(lines.entries.map(\.type) == [.pdq, .md5])
    #expect(lines.duplicates == 1)
    #expect(lines.unsupported == ["vpdq": 1])
    #expect(lines.problems.map(\.description) == [
      "signals.jsonl:3: video_md5: a signal is a string of hex digits, not a number"
    ])
  }

  /// Bank contents as HMA answers `GET /c/bank/NAME/content/ID?include_signals=true`, in an
  /// array (a per-bank export), with collab metadata and HMA's own id.
  @Test func hmaBankContents() {
    let text = """
      [
        {
          "id": 1, "disable_until_ts": 0, "collab_metadata": {"NCMEC_FEED": ["A1"]},
          "original_media_uri": null,
          "bank": {"name": "TEST_BANK", "matching_enabled_ratio": 1.0},
          "signals": {"pdq": "\(Self.pdq)", "video_md5": "\(Self.md5)"}
        },
        {"id": 2, "bank": {"name": "TEST_BANK"}, "signals": {"pdq": "d811"}},
        {"id": 3, "signals": {"video_md5": "\(String(repeating: "b", count: 32))"},
         "metadata": {"content_id": "C-3", "json": {"label": "ring", "source": "upload"}}}
      ]
      """
    let file = parse(text, "bank.json")
    #expect(file.format == .hmaJSON)
    #expect(file.problems.map(\.description) == [
      "bank.json:8: [1].signals.pdq: pdq hash must have 64 hex digits, not 4"
    ])
    #expect(file.entries.count == 3)
    #expect(
      file.entries[0].metadata
        == #"{"NCMEC_FEED":"[\"A1\"]","disable_until_ts":"0","hma_bank":"TEST_BANK","hma_id":"1"}"#)
    #expect(file.entries[2].label == "ring" && file.entries[2].sourceId == "C-3")
    #expect(file.entries[2].metadata == #"{"hma_id":"3","source":"upload"}"#)
  }

  // MARK: - StopNCII

  /// A FetchHashes reply as threatexchange's StopNCII client reads it: ImagePDQ and VideoMD5
  /// imported, VideoTMK counted, a Withdrawn record listed apart.
  @Test func stopNCIIFetchHashesReply() {
    let text = """
      {"count": 4, "nextPageToken": "", "nextSetTimestamp": 1700000000, "hasMoreRecords": false,
       "hashRecords": [
        {"lastModtimestamp": 1700000000, "signalType": "ImagePDQ", "hashValue": "\(Self.pdq)",
         "hashStatus": "Active", "caseNumbers": {"1": "Active"}, "CSPFeedbacks": []},
        {"lastModtimestamp": 1700000001, "signalType": "VideoMD5", "hashValue": "\(Self.md5)",
         "hashStatus": "Received", "caseNumbers": {}},
        {"lastModtimestamp": 1700000002, "signalType": "VideoTMK", "hashValue": "AAAA",
         "hashStatus": "Active", "caseNumbers": {}},
        {"lastModtimestamp": 1700000003, "signalType": "ImagePDQ",
         "hashValue": "\(String(repeating: "0", count: 64))", "hashStatus": "Withdrawn",
         "caseNumbers": {"2": "Withdrawn"}},
        {"lastModtimestamp": 1700000004, "signalType": "ImagePDQ", "hashValue": "xyz",
         "hashStatus": "Active"}
      ]}
      """
    let file = parse(text, "stopncii.json")
    #expect(file.format == .stopNCIIJSON)
    #expect(file.entries.map(\.type) == [.pdq, .md5])
    #expect(
      file.entries[0].metadata
        == #"{"CSPFeedbacks":"[]","caseNumbers":"{\"1\":\"Active\"}","hashStatus":"Active","#
        + #""lastModtimestamp":"1700000000"}"#)
    #expect(file.unsupported == ["VideoTMK": 1])
    #expect(file.withdrawn.map(\.hash) == [String(repeating: "0", count: 64)])
    #expect(file.problems.map(\.description) == [
      "stopncii.json:12: hashRecords[4].hashValue: pdq hash has a non-hex character \"x\""
    ])
  }

  /// Metadata text as stored: names sorted, a repeated name's first value, JSON escapes, and
  /// a nested value kept as compact JSON with its numbers as written and its names in order.
  @Test func metadataTextIsSortedEscapedAndKeepsNestedValuesAsWritten() throws {
    #expect(
      BankFile.metadataJSON([("b", "x\"y"), ("a", "1"), ("b", "2"), ("\u{E9}", "\\ \u{1}")])
        == #"{"a":"1","b":"x\"y","\#u{E9}":"\\ \u0001"}"#)
    #expect(BankFile.metadataJSON([]) == nil)
    let text = """
      {"hashRecords": [{"signalType": "ImagePDQ", "hashValue": "\(Self.pdq)",
        "extra": {"z": ["a\\"", 1.50, null, true, {"\u{FC}": "\\n"}], "a": {}}}]}
      """
    let file = parse(text, "stopncii.json")
    let metadata = try #require(file.entries.first?.metadata)
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(metadata.utf8)) as? [String: String])
    #expect(object["extra"] == #"{"z":["a\"",1.50,null,true,{"\#u{FC}":"\n"}],"a":{}}"#)
  }

  // MARK: - NCMEC

  /// An NCMEC hash-sharing reply in its documented shape: MD5, SHA-1 and PDQ imported; PhotoDNA
  /// and by-reference TMK counted; deleted entries listed; feedback ignored.
  @Test func ncmecFingerprintList() {
    let text = """
      <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
      <queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
        <images count="2" maxTimestamp="2017-10-24T15:10:00Z">
          <image>
            <member id="42">Example Member</member>
            <timestamp>2017-10-24T15:00:00Z</timestamp>
            <id>image1</id>
            <classification>A1</classification>
            <fingerprints>
              <md5>\(Self.md5.uppercased())</md5>
              <sha1>\(Self.sha1)</sha1>
              <pdna>a1a1a1a1...</pdna>
              <pdq>\(Self.pdq)</pdq>
            </fingerprints>
            <feedback lastUpdateTimestamp="2023-06-01T12:48:14Z">
              <affirmativeFeedback type="Md5"><members timestamp="2023-06-01T12:48:14Z">
                <member id="43">Other &amp; Co</member></members></affirmativeFeedback>
            </feedback>
          </image>
          <deletedImage><member id="43">Example Member2</member><id>image4</id></deletedImage>
        </images>
        <videos count="1">
          <video>
            <member id="42">Example Member</member><id>video1</id>
            <fingerprints>
              <md5>b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1</md5>
              <sha1>b1b1</sha1>
              <tmk-pdqf rel="self" href="/v2/entries/1/fingerprints/TMK_PDQF"/>
            </fingerprints>
          </video>
        </videos>
        <!-- paging -->
        <paging><next>/v2/entries?start=2001&amp;size=1000</next></paging>
      </queryResult>
      """
    let file = parse(text, "ncmec.xml")
    #expect(file.format == .ncmecXML)
    #expect(file.entries.map(\.type) == [.md5, .sha1, .pdq, .md5])
    #expect(file.entries[0].hash == Self.md5)
    #expect(file.entries[0].label == "A1" && file.entries[0].sourceId == "image1")
    #expect(
      file.entries[0].metadata
        == #"{"media":"image","member":"Example Member","member_id":"42","#
        + #""timestamp":"2017-10-24T15:00:00Z"}"#)
    #expect(file.entries[3].sourceId == "video1")
    #expect(file.unsupported == ["pdna": 1, "tmk-pdqf": 1])
    #expect(file.withdrawnSourceIds == ["image4"])
    #expect(file.problems.map(\.description) == [
      "ncmec.xml:27: video video1 sha1: sha1 hash must have 40 hex digits, not 4"
    ])
  }

  // MARK: - Hostile input

  @Test func billionLaughsIsRefusedBeforeAnyExpansion() {
    var text = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
    for i in 1...9 {
      let previous = i == 1 ? "lol" : "lol\(i - 1)"
      text += "<!ENTITY lol\(i) \"" + String(repeating: "&\(previous);", count: 10) + "\">\n"
    }
    text += "]>\n<queryResult>&lol9;</queryResult>\n"
    let file = parse(text, "lol.xml")
    #expect(file.entries.isEmpty)
    #expect(file.problems.count == 1)
    #expect(file.problems.first?.line == 2)
    #expect(file.problems.first?.reason.contains("DOCTYPE or other declaration is refused") == true)
    let entity = parse("<queryResult>&lol9;</queryResult>", "e.xml")
    #expect(entity.problems.first?.reason.contains("undefined entity &lol9;") == true)
    let external = parse(
      "<?xml version=\"1.0\"?>\n<!DOCTYPE r SYSTEM \"file:///etc/passwd\">\n<r/>", "x.xml")
    #expect(external.problems.first?.reason.contains("DOCTYPE") == true)
  }

  @Test func deepNestingIsRefused() {
    let json = parse(String(repeating: "[", count: 100_000), "deep.json")
    #expect(json.problems.map(\.reason) == [
      "not valid JSON: nested deeper than \(ListJSONReader.maximumDepth) levels: refused"
    ])
    let xml = parse(String(repeating: "<a>", count: 100_000), "deep.xml")
    #expect(xml.problems.map(\.reason) == [
      "not readable XML: nested deeper than \(ListXMLReader.maximumDepth) elements: refused"
    ])
  }

  @Test func brokenFilesNameTheirLine() {
    let json = parse("[\n{\"pdq\": \"\(Self.pdq)\"},\n{\"pdq\" \"x\"}\n]", "broken.json")
    #expect(json.problems.map(\.description) == [
      "broken.json:3: not valid JSON: expected ':' after \"pdq\""
    ])
    let xml = parse("<queryResult>\n<images>\n</queryResult>", "broken.xml")
    #expect(xml.problems.map(\.description) == [
      "broken.xml:3: not readable XML: </queryResult> does not close <images>"
    ])
    let other = parse("<html><body/></html>", "page.xml")
    #expect(other.problems.first?.reason.contains("not an NCMEC fingerprint list") == true)
    #expect(parse("\"just a string\"", "s.json").problems.count == 1)
  }

  @Test func hugeFilesAreRefusedBeforeTheyAreRead() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try scratch.write("big.csv", String(repeating: "pdq,\(Self.pdq)\n", count: 1000))
    #expect(throws: ModerationError.tooLarge(file: path, bytes: 69_000, limit: 65_536)) {
      try BankFile.load(path: path, maximumBytes: 65_536)
    }
    #expect(try BankFile.load(path: path, maximumBytes: 69_000).problems.count == 999)
    // A device never ends: the read stops at the limit.
    #expect(throws: ModerationError.self) {
      try BankFile.load(path: "/dev/zero", maximumBytes: 1 << 20)
    }
    #expect(throws: ModerationError.self) { try BankFile.load(path: scratch.path) }
  }

  /// Items are taken as they are read; the reading keeps the rules of one whole document: an
  /// array among several top-level values is one (wrong) item, the first `hashRecords` is the
  /// one read, and a record list that is not an array is reported.
  @Test func streamedItemsKeepTheDocumentRules() {
    let mixed = parse("[{\"pdq\": \"\(Self.pdq)\"}]\n{\"video_md5\": \"\(Self.md5)\"}\n", "m.json")
    #expect(mixed.problems.map(\.description) == [
      "m.json:1: expected an object of signals or a hash record, not an array"
    ])
    #expect(mixed.entries == [BankHashEntry(type: .md5, hash: Self.md5)])
    let twice = parse(
      """
      {"hashRecords": [{"signalType": "ImagePDQ", "hashValue": "\(Self.pdq)"}],
       "count": 1, "hashRecords": [{"signalType": "VideoMD5", "hashValue": "\(Self.md5)"}]}
      """, "twice.json")
    #expect(twice.format == .stopNCIIJSON && twice.problems.isEmpty)
    #expect(twice.entries.map(\.type) == [.pdq])
    let notArray = parse(
      """
      {"count": 1,
       "hashRecords": "none",
       "hashRecords": [{"signalType": "ImagePDQ", "hashValue": "\(Self.pdq)"}]}
      """, "n.json")
    #expect(notArray.problems.map(\.description) == ["n.json:2: hashRecords: expected an array"])
    #expect(notArray.entries.isEmpty)
    let lines = parse(
      "{\"hashRecords\": [{\"signalType\": \"ImagePDQ\", \"hashValue\": \"ab\"}]}\n"
        + "{\"pdq\": \"\(Self.pdq)\"}\n", "l.jsonl")
    #expect(lines.problems.map(\.description) == [
      "l.jsonl:1: hashRecords[0].hashValue: pdq hash must have 64 hex digits, not 2"
    ])
    #expect(lines.entries.map(\.type) == [.pdq])
  }

  /// The UTF-8 check that spares a String copy of the file answers as the standard library
  /// does: overlong forms, surrogates, scalars past U+10FFFF and cut sequences are refused.
  @Test func utf8CheckAgreesWithTheStandardLibrary() {
    let cases: [[UInt8]] = [
      [], Array("plain ASCII, longer than eight bytes".utf8), Array("é€😀 mixed ascii".utf8),
      [0xC0, 0x80], [0xC1, 0xBF], [0xC2], [0xE0, 0x80, 0x80], [0xE0, 0xA0, 0x80],
      [0xED, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEF, 0xBF, 0xBF], [0xF0, 0x80, 0x80, 0x80],
      [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80],
      [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], Array("abcdefg".utf8) + [0xE2, 0x82],
    ]
    var state: UInt64 = 11
    var random: [[UInt8]] = []
    for _ in 0..<3000 {
      var bytes: [UInt8] = []
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      for i in 0..<Int(state >> 59) {
        let r = UInt8(truncatingIfNeeded: (state >> UInt64(i % 7 * 8)) &+ UInt64(i * 37))
        bytes.append(i % 3 == 0 ? r : r & 0x7F | (r & 0x80 == 0 ? 0 : 0x80))
      }
      random.append(bytes)
    }
    for bytes in cases + random {
      let expected = String(validating: bytes, as: UTF8.self) != nil
      #expect(bytes.withUnsafeBufferPointer { ByteText.isValidUTF8($0) } == expected, "\(bytes)")
    }
  }

  /// Trimming on bytes gives what Foundation's `.whitespacesAndNewlines` gives.
  @Test func byteTrimmingAgreesWithFoundation() {
    for text in [
      "", " ", "  a b  ", "\n\tA1\r\n", "\u{A0}x\u{A0}", "\u{2028} y", "z\u{3000}",
      "\u{0B}v\u{0C}", "\u{85}w", "é", " é ", "x\u{0301} ",
    ] {
      let trimmed = Array(text.utf8).withUnsafeBufferPointer { ByteText.trimmedText($0) }
      let expected = text.trimmingCharacters(in: .whitespacesAndNewlines)
      #expect(trimmed == expected, "\(text.debugDescription)")
    }
  }

  // MARK: - Exports read back

  /// A bank with every type, labels, source ids and metadata, exported in each format and read
  /// back: what the format can carry comes back unchanged.
  @Test func exportsReadBack() throws {
    let db = try moderationDatabase()
    let entries = [
      BankHashEntry(
        type: .pdq, hash: Self.pdq, label: "ring, \"quoted\"", sourceId: "S-1",
        metadata: #"{"collab":"Sample Signals","tags":"a b"}"#),
      BankHashEntry(type: .md5, hash: Self.md5, label: "A1", sourceId: "image1"),
      BankHashEntry(type: .sha1, hash: Self.sha1, sourceId: "image1"),
      BankHashEntry(type: .sha256, hash: String(repeating: "5a", count: 32)),
    ]
    try db.importBank(name: "known", entries: entries, by: "mod")
    func exported(_ format: BankExportFormat) throws -> (BankFile, BankExportSummary) {
      var text = ""
      let summary = try BankExport.export(bank: "known", format: format, database: db) {
        text += $0
      }
      return (parse(text, "known.\(format.rawValue)"), summary)
    }
    let sorted = entries.sorted { ($0.type.rawValue, $0.hash) < ($1.type.rawValue, $1.hash) }
    let (csv, _) = try exported(.csv)
    #expect(csv.problems.isEmpty)
    #expect(csv.entries == sorted)
    let (hma, _) = try exported(.hmaJSON)
    #expect(hma.problems.isEmpty && hma.format == .hmaJSON)
    #expect(hma.entries.map(\.hash) == sorted.map(\.hash))
    #expect(hma.entries.map(\.label) == sorted.map(\.label))
    #expect(hma.entries.map(\.sourceId) == sorted.map(\.sourceId))
    #expect(
      hma.entries.first { $0.type == .pdq }?.metadata
        == #"{"collab":"Sample Signals","hma_bank":"known","tags":"a b"}"#)
    let (teCSV, _) = try exported(.teCSV)
    #expect(teCSV.problems.isEmpty && teCSV.hasHeader)
    #expect(teCSV.entries.map(\.hash) == sorted.map(\.hash))
    #expect(teCSV.entries.map(\.label) == sorted.map(\.label))
    #expect(
      teCSV.entries.first { $0.type == .pdq }?.metadata
        == #"{"collab":"Sample Signals","tags":"a b"}"#)
    #expect(teCSV.entries.first { $0.type == .md5 }?.metadata == #"{"collab":"known"}"#)
    let (te, summary) = try exported(.te)
    #expect(te.problems.isEmpty)
    #expect(te.entries.map(\.type) == [.md5, .pdq, .sha256])
    #expect(summary.leftOut == [.sha1: 1] && summary.written == 3)
    #expect(throws: StoreError.self) {
      try BankExport.export(bank: "missing", format: .csv, database: db) { _ in }
    }
  }

  /// The text of bank `bank` exported in `format`.
  static func exportText(
    bank: String, format: BankExportFormat, database: AppDatabase
  ) throws -> String {
    var text = ""
    _ = try BankExport.export(bank: bank, format: format, database: database) { text += $0 }
    return text
  }

  /// Before: a `te` export carried no audit head. Now its first line, a comment that csar and
  /// threatexchange's `local_file` skip, is the log's head when the export began, which
  /// `csar audit verify --expect-head` finds in the log.
  @Test func aTEExportCarriesTheAuditHeadInACommentLine() throws {
    let db = try moderationDatabase()
    try db.importBank(
      name: "known", entries: [BankHashEntry(type: .pdq, hash: Self.pdq)], by: "mod")
    let head = try #require(try db.auditHead())
    func exported(_ format: BankExportFormat) throws -> String {
      try Self.exportText(bank: "known", format: format, database: db)
    }
    let te = try exported(.te)
    let first = String(te.prefix { $0 != "\n" })
    #expect(first == "# csar audit_head \(head)")
    let carried = try #require(AuditHead(parsing: String(first.split(separator: " ").last!)))
    #expect(try db.verifyAudit(expectedHead: carried).isOK)
    #expect(parse(te, "known.te").entries.map(\.hash) == [Self.pdq])
    // threatexchange's dataset CSV has no comment syntax: its first line stays the header.
    #expect(try exported(.teCSV).hasPrefix("signal_type,signal_str,collab,category,tags\n"))
  }

  /// Before: StopNCII JSON and NCMEC XML exports carried no audit head. Now the JSON has a
  /// member `csar_audit_head` (StopNCII's readers take `hashRecords`, `count` and paging and
  /// skip the rest) and the XML a comment before `<queryResult>`; csar reads both exports
  /// exactly as it reads them without the head, and `--expect-head` finds the head.
  @Test func stopNCIIAndNCMECExportsCarryTheAuditHead() throws {
    let db = try moderationDatabase()
    let entries = [
      BankHashEntry(type: .pdq, hash: Self.pdq, label: "A1", sourceId: "s-1"),
      BankHashEntry(
        type: .md5, hash: Self.md5, sourceId: "s-2", metadata: #"{"member":"Example"}"#),
    ]
    try db.importBank(name: "known", entries: entries, by: "mod")
    let head = try #require(try db.auditHead())
    func exported(_ format: BankExportFormat) throws -> String {
      try Self.exportText(bank: "known", format: format, database: db)
    }
    let json = try exported(.stopNCIIJSON)
    let member = #""csar_audit_head":{"events":\#(head.events),"mac":"\#(head.mac)"},"#
    #expect(json.hasPrefix("{" + member + #""hashRecords":["#), "\(json.prefix(200))")
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    let carried = try #require(object["csar_audit_head"] as? [String: Any])
    let carriedHead = AuditHead(
      events: Int64(carried["events"] as? Int ?? 0), mac: carried["mac"] as? String ?? "")
    #expect(try db.verifyAudit(expectedHead: carriedHead).isOK)
    #expect((object["hashRecords"] as? [Any])?.count == 2 && object["count"] as? Int == 2)

    let xml = try exported(.ncmecXML)
    let comment = "<!-- csar audit_head \(head) -->\n"
    #expect(xml.hasPrefix(#"<?xml version="1.0" encoding="UTF-8"?>"# + "\n" + comment))

    // csar's importer reads each export as it reads it without the head, every entry whole.
    for (text, without, name) in [
      (json, json.replacingOccurrences(of: member, with: ""), "known.json"),
      (xml, xml.replacingOccurrences(of: comment, with: ""), "known.xml"),
    ] {
      #expect(without != text)
      let withHead = parse(text, name)
      let plain = parse(without, name)
      #expect(withHead.problems.isEmpty, "\(withHead.problems)")
      #expect(withHead.entries == plain.entries && withHead.format == plain.format)
      #expect(withHead.unsupported == plain.unsupported)
      #expect(withHead.entries.map(\.hash).sorted() == entries.map(\.hash).sorted())
      #expect(withHead.entries.first { $0.type == .pdq }?.sourceId == "s-1")
    }
  }

  /// Before: no StopNCII or NCMEC export. Now both write what their importers read back: the
  /// hashes of the types the format has, labels, source ids and the format's own fields.
  @Test func stopNCIIAndNCMECExportsReadBack() throws {
    let db = try moderationDatabase()
    let stopNCII = parse(
      #"{"hashRecords": [{"lastModtimestamp": 1700000000, "signalType": "ImagePDQ", "#
        + #""hashValue": "\#(Self.pdq)", "hashStatus": "Active", "#
        + #""caseNumbers": {"1": "Active"}, "CSPFeedbacks": []}]}"#, "in.json")
    let ncmec = parse(
      """
      <queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><images><image>
      <member id="42">Example &amp; Member</member><timestamp>2017-10-24T15:00:00Z</timestamp>
      <id>image1</id><classification>A1</classification><fingerprints>
      <md5>\(Self.md5)</md5><sha1>\(Self.sha1)</sha1></fingerprints></image></images>
      <videos><video><id>video1</id><fingerprints><md5>\(String(repeating: "b1", count: 16))
      </md5></fingerprints></video></videos></queryResult>
      """, "in.xml")
    #expect(stopNCII.problems.isEmpty && ncmec.problems.isEmpty)
    let entries =
      stopNCII.entries + ncmec.entries + [
        BankHashEntry(type: .sha256, hash: String(repeating: "5a", count: 32), label: "x <y>")
      ]
    try db.importBank(name: "known", entries: entries, by: "mod")
    func exported(_ format: BankExportFormat) throws -> (BankFile, BankExportSummary, String) {
      var text = ""
      let summary = try BankExport.export(bank: "known", format: format, database: db) {
        text += $0
      }
      return (parse(text, "known.\(format.rawValue)"), summary, text)
    }
    func key(_ e: BankHashEntry) -> String { e.type.rawValue + e.hash }
    let (json, jsonSummary, jsonText) = try exported(.stopNCIIJSON)
    #expect(json.problems.isEmpty && json.format == .stopNCIIJSON)
    #expect(jsonSummary.written == 3 && jsonSummary.leftOut == [.sha1: 1, .sha256: 1])
    let pdq = try #require(json.entries.first { $0.type == .pdq })
    #expect(pdq == stopNCII.entries[0])
    #expect(jsonText.contains(#""lastModtimestamp":1700000000"#))
    #expect(jsonText.contains(#""caseNumbers":{"1":"Active"}"#))
    #expect(jsonText.contains(#""count":3,"hasMoreRecords":false"#))
    let md5 = try #require(json.entries.first { $0.hash == Self.md5 })
    #expect(md5.label == "A1" && md5.sourceId == "image1")

    let (xml, xmlSummary, xmlText) = try exported(.ncmecXML)
    #expect(xml.problems.isEmpty && xml.format == .ncmecXML)
    #expect(xmlSummary.written == 4 && xmlSummary.leftOut == [.sha256: 1])
    #expect(
      Set(xml.entries.filter { $0.type != .pdq }.map(key)) == Set(ncmec.entries.map(key)))
    for entry in ncmec.entries {
      #expect(xml.entries.first { key($0) == key(entry) } == entry)
    }
    #expect(xmlText.contains("<videos>\n<video><id>video1</id>"))
    #expect(xmlText.contains(#"<member id="42">Example &amp; Member</member>"#))

    // Each reads back into a bank of its own, hash for hash.
    for (format, file) in [("stopncii", json), ("ncmec", xml)] {
      try db.importBank(name: format, entries: file.entries, by: "mod")
      var back: [String] = []
      try db.forEachBankHash(name: format) { back.append(key($0)) }
      #expect(Set(back) == Set(file.entries.map(key)))
    }
  }
}
