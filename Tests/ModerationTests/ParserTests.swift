import Testing

@testable import Moderation
@testable import Store

/// The import file parsers: what they accept, and every bad line with its number and reason.
@Suite("Import file parsers")
struct ParserTests {
  static let pdq = String(repeating: "f0", count: 32)
  static let md5 = String(repeating: "ab", count: 16)
  static let sha = String(repeating: "0123456789abcdef", count: 4)

  // MARK: - Hash lists

  @Test func bankCSVWithoutHeader() {
    let file = BankFile.parse(
      "pdq,\(Self.pdq),sample one,S-1\nmd5,\(Self.md5.uppercased())\n\n# comment\n"
        + "SHA256,\(Self.sha),,S-3\n", file: "b.csv")
    #expect(file.problems.isEmpty)
    #expect(!file.hasHeader)
    #expect(file.delimiter == ",")
    #expect(
      file.entries == [
        BankHashEntry(type: .pdq, hash: Self.pdq, label: "sample one", sourceId: "S-1"),
        BankHashEntry(type: .md5, hash: Self.md5),
        BankHashEntry(type: .sha256, hash: Self.sha, sourceId: "S-3"),
      ])
  }

  @Test func bankTSVWithHeaderAndQuotes() {
    let file = BankFile.parse(
      "hash\ttype\tlabel\r\n\(Self.pdq)\tPDQ\t\"a \"\"q\"\"\"\r\n", file: "b.tsv")
    #expect(file.problems.isEmpty)
    #expect(file.delimiter == "\t")
    #expect(file.hasHeader)
    #expect(file.entries == [BankHashEntry(type: .pdq, hash: Self.pdq, label: "a \"q\"")])
  }

  @Test func bankHeaderMayReorderColumns() {
    let file = BankFile.parse(
      "type,label,hash\npdq,first,\(Self.pdq)\n", file: "h.csv")
    #expect(file.problems.isEmpty)
    #expect(file.entries == [BankHashEntry(type: .pdq, hash: Self.pdq, label: "first")])
  }

  @Test func bankBadLinesAreReportedWithNumbers() {
    let text = """
      type,hash,label,source_id
      pdq,\(Self.pdq),ok
      gif,\(Self.pdq)
      pdq,\(Self.pdq.dropLast(2))
      md5,\(Self.md5.dropLast())z
      sha256,\(Self.sha),a,b,c
      pdq,\(Self.pdq),again
      ,\(Self.pdq)
      md5,
      pdq,"\(Self.pdq)
      pdq,\(String(Self.pdq.reversed())),bell\u{07}
      """
    let file = BankFile.parse(text, file: "bad.csv")
    #expect(file.entries.count == 1)
    #expect(file.problems.map(\.line) == [3, 4, 5, 6, 7, 8, 9, 10, 11])
    let reasons = file.problems.map(\.reason)
    #expect(reasons[0].contains("unknown hash type \"gif\""))
    #expect(reasons[1] == "pdq hash must have 64 hex digits, not 62")
    #expect(reasons[2].contains("non-hex character \"z\""))
    #expect(reasons[3].contains("too many columns: 5"))
    #expect(reasons[4] == "duplicate pdq hash (first on line 2)")
    #expect(reasons[5].contains("missing hash type"))
    #expect(reasons[6] == "empty md5 hash")
    #expect(reasons[7] == "unterminated quoted field")
    #expect(reasons[8] == "label contains a control character")
    #expect(file.problems[0].description.hasPrefix("bad.csv:3: "))
  }

  @Test func bankExtraHeaderColumnsAreKeptAsMetadata() {
    let colour = BankFile.parse(
      "type,hash,label,colour,metadata\npdq,\(Self.pdq),x,red,\"{\"\"n\"\":1}\"\n"
        + "md5,\(Self.md5),,,\nsha1,\(String(repeating: "1", count: 40)),,,[1]\n",
      file: "h.csv")
    #expect(colour.problems.map(\.description) == [
      "h.csv:4: metadata must be a JSON object, such as {\"collab\":\"x\"}"
    ])
    #expect(
      colour.entries == [
        BankHashEntry(
          type: .pdq, hash: Self.pdq, label: "x", metadata: #"{"colour":"red","n":"1"}"#),
        BankHashEntry(type: .md5, hash: Self.md5),
      ])
  }

  /// `threatexchange dataset -P --csv`: Python's csv module (CRLF lines), the columns in the
  /// order the CLI writes them, `tags` space-separated; a `url` signal is not a hash.
  @Test func threatExchangeDatasetCSV() {
    let text =
      "collab,signal_type,signal_str,category,tags\r\n"
      + "Sample Signals,pdq,\(Self.pdq),TRUE_POSITIVE,media_priority_s1 sample\r\n"
      + "Sample Signals,video_md5,\(Self.md5),TRUE_POSITIVE,\r\n"
      + "Other Collab,url,https://example.com/a,TRUE_POSITIVE,\r\n"
    let file = BankFile.parse(text, file: "te.csv")
    #expect(file.hasHeader)
    #expect(file.problems.map(\.description) == [
      "te.csv:4: unknown hash type \"url\" (use pdq, md5, sha256, sha1, "
        + "or an alias such as video_md5, HASH_PDQ, ImagePDQ)"
    ])
    #expect(
      file.entries == [
        BankHashEntry(
          type: .pdq, hash: Self.pdq,
          label: "TRUE_POSITIVE",
          metadata: #"{"collab":"Sample Signals","tags":"media_priority_s1 sample"}"#),
        BankHashEntry(
          type: .md5, hash: Self.md5, label: "TRUE_POSITIVE",
          metadata: #"{"collab":"Sample Signals"}"#),
      ])
    // The column order of the issue's report: signal_type first.
    let reordered = BankFile.parse(
      "signal_type,signal_str,collab,category,tags\nvideo_sha256,\(Self.sha),C,FP,\n",
      file: "te2.csv")
    #expect(reordered.problems.isEmpty)
    #expect(
      reordered.entries == [
        BankHashEntry(type: .sha256, hash: Self.sha, label: "FP", metadata: #"{"collab":"C"}"#)
      ])
  }

  /// threatexchange's `TYPE VALUE` lines (`dataset -P -S`, `hash`): one space between.
  @Test func threatExchangeTypeValueList() {
    let file = BankFile.parse(
      "pdq \(Self.pdq)\nvideo_md5  \(Self.md5)\n\npdq \(Self.pdq.dropLast())\npdq\n",
      file: "te.txt")
    #expect(file.delimiter == " ")
    #expect(
      file.entries == [
        BankHashEntry(type: .pdq, hash: Self.pdq), BankHashEntry(type: .md5, hash: Self.md5),
      ])
    #expect(file.problems.map(\.line) == [4, 5])
    #expect(file.problems.first?.reason == "pdq hash must have 64 hex digits, not 63")
    #expect(file.problems.last?.reason == "empty pdq hash")
  }

  @Test func typeAliasesOfOtherTools() {
    let aliases: [(String, BankHashType)] = [
      ("HASH_PDQ", .pdq), ("ImagePDQ", .pdq), ("pdq", .pdq), ("PDQ", .pdq),
      ("video_md5", .md5), ("VideoMD5", .md5), ("HASH_MD5", .md5), ("photo_md5", .md5),
      ("video_sha256", .sha256), ("SHA-256", .sha256), ("hash_sha256", .sha256),
    ]
    for (name, type) in aliases {
      #expect(BankFile.hashType(named: name) == type, "\(name)")
    }
    for name in ["url", "vpdq", "video_tmk_pdqf", "raw_text", "md", "pdqmd5", ""] {
      #expect(BankFile.hashType(named: name) == nil, "\(name)")
    }
  }

  @Test func bankBadHeaders() {
    let noType = BankFile.parse("hash,label\n\(Self.pdq),x\n", file: "h.csv")
    #expect(noType.problems.first?.reason == "header needs a type and a hash column")
  }

  // MARK: - URL lists

  @Test func urlListExpressions() {
    let file = URLListFile.parse(
      """
      # comment
      http://Evil.EXAMPLE/\tsite
      evil.example/dir/
      https://user@a.b.example:8443/x/../page.html?q=1#frag\tpage
      1.2.3.4/
      """, file: "u.txt")
    #expect(file.problems.isEmpty)
    #expect(
      file.entries.map(\.expression) == [
        "evil.example/", "evil.example/dir/", "a.b.example/page.html?q=1", "1.2.3.4/",
      ])
    #expect(file.entries.map(\.label) == ["site", nil, "page", nil])
  }

  @Test func urlListBadLines() {
    let file = URLListFile.parse(
      "evil.example\nhttp://evil.example/\n\tlabel only\nlocalhost/\na\tb\tc\n"
        + "x.example\tb\u{1B}\n",
      file: "u.txt")
    #expect(file.entries.map(\.expression) == ["evil.example/"])
    #expect(file.problems.map(\.line) == [2, 3, 4, 5, 6])
    #expect(file.problems[0].reason.hasPrefix("duplicate of line 1"))
    #expect(file.problems[1].reason == "empty URL")
    #expect(file.problems[2].reason.contains("host has no dot"))
    #expect(file.problems[3].reason.hasPrefix("too many columns"))
    #expect(file.problems[4].reason == "label contains a control character")
  }

  // MARK: - Classifier scores

  @Test func flagsLines() {
    let file = FlagsFile.parse(
      """
      {"account":"A-1","service":"chat-eu","media":"m/1.png","model":"m1","score":0.93,"id":"e1"}
      {"account":"A-2","service":"chat-eu","media":"m/2.png","model":"m1","score":1,"id":7,"x":[]}

      {"account":"A-3","service":"chat-eu","media":"m/3.png","model":"m1","score":0}
      """, file: "f.jsonl")
    #expect(file.problems.isEmpty)
    #expect(file.events.map(\.id) == ["e1", "7", nil])
    #expect(file.events.map(\.line) == [1, 2, 4])
    #expect(file.events[1].score == 1)
  }

  @Test func flagsBadLines() {
    let base = #""service":"chat-eu","media":"m.png","model":"m1""#
    let file = FlagsFile.parse(
      """
      {"account":"A-1",\(base),"score":0.5,"id":"e1"}
      not json
      [1, 2]
      {\(base),"score":0.5}
      {"account":"A-1",\(base),"score":"0.9"}
      {"account":"A-1",\(base),"score":1.5}
      {"account":"A-1",\(base),"score":true}
      {"account":"A-1",\(base),"score":0.5,"id":"e1"}
      {"account":42,\(base),"score":0.5}
      {"account":"",\(base),"score":0.5}
      {"account":"A-1",\(base),"score":0.5,"id":1.5}
      """, file: "f.jsonl")
    #expect(file.events.count == 1)
    #expect(file.problems.map(\.line) == Array(2...11))
    let reasons = file.problems.map(\.reason)
    #expect(reasons[0] == "not valid JSON")
    #expect(reasons[1] == "not a JSON object")
    #expect(reasons[2] == "missing field \"account\"")
    #expect(reasons[3] == "field \"score\" must be a number")
    #expect(reasons[4] == "score 1.5 is not in 0...1")
    #expect(reasons[5] == "field \"score\" must be a number")
    #expect(reasons[6] == "duplicate id \"e1\" (first on line 1)")
    #expect(reasons[7] == "field \"account\" must be a string")
    #expect(reasons[8] == "field \"account\" is empty")
    #expect(reasons[9] == "field \"id\" must be a string or an integer")
  }
}
