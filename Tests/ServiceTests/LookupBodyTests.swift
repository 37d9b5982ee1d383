// The lookup body's own JSON reader: strict (unknown or repeated members, wrong types, bad
// hex, too many hashes are 400s naming the field) and faithful to RFC 8259 (escapes, numbers,
// whitespace, UTF-8).

import Testing

@testable import Moderation
@testable import Service
@testable import Store

@Suite("Service: the lookup body")
struct LookupBodyTests {
  static let pdq = String(repeating: "ab", count: 32)

  static func parse(_ text: String, limit: Int = 1000) throws(APIError) -> [HashQuery] {
    try LookupBody.queries(Array(text.utf8), limit: limit)
  }

  /// The field a body is refused for (nil when accepted).
  static func refused(_ text: String, limit: Int = 1000) -> String? {
    do {
      _ = try parse(text, limit: limit)
      return nil
    } catch {
      #expect(error.status.code == 400, "\(text)")
      return error.field
    }
  }

  @Test func aGoodBodyGivesItsQueriesInOrder() throws {
    let queries = try Self.parse(
      #" { "hashes" : [ {"type":"pdq","value":"\#(Self.pdq.uppercased())"} ,"#
        + #"{"value":"\#(String(repeating: "0", count: 32))","type":"MD5"} ] } "# + "\n")
    #expect(queries.map(\.type) == [.pdq, .md5])
    #expect(queries[0].value == Self.pdq)
    #expect(try Self.parse(#"{"hashes":[]}"#).isEmpty)
  }

  @Test func escapesAreDecodedAsJSONSaysSo() throws {
    // "pdq" written with \u escapes, and a surrogate pair in a value that is then refused.
    let escaped = try Self.parse(#"{"hashes":[{"type":"\u0070d\u0071","value":"\#(Self.pdq)"}]}"#)
    #expect(escaped.first?.type == .pdq)
    #expect(Self.refused(#"{"hashes":[{"type":"pdq","value":"\ud83d\ude00"}]}"#)
      == "hashes[0].value")
    #expect(Self.refused(#"{"hashes":[{"type":"pdq","value":"\ud83d"}]}"#) == "body")
    #expect(Self.refused(#"{"hashes":[{"type":"pdq","value":"\x"}]}"#) == "body")
  }

  @Test func unknownOrRepeatedMembersAreRefusedByName() {
    #expect(Self.refused(#"{"hashes":[],"extra":1}"#) == "extra")
    #expect(
      Self.refused(#"{"hashes":[{"type":"pdq","value":"\#(Self.pdq)","label":"x"}]}"#)
        == "hashes[0].label")
    #expect(Self.refused(#"{"hashes":[],"hashes":[]}"#) == "body")
  }

  @Test func wrongTypesAndBadHashesNameTheirField() {
    #expect(Self.refused("{") == "body")
    #expect(Self.refused("[]") == "body")
    #expect(Self.refused("{}") == "hashes")
    #expect(Self.refused(#"{"hashes":3}"#) == "hashes")
    #expect(Self.refused(#"{"hashes":["pdq"]}"#) == "hashes[0]")
    #expect(Self.refused(#"{"hashes":[{"type":"pdq"}]}"#) == "hashes[0].value")
    #expect(Self.refused(#"{"hashes":[{"type":7,"value":"00"}]}"#) == "hashes[0].type")
    #expect(Self.refused(#"{"hashes":[{"type":"crc","value":"00"}]}"#) == "hashes[0].type")
    #expect(Self.refused(#"{"hashes":[{"type":"md5","value":"abc"}]}"#) == "hashes[0].value")
    #expect(
      Self.refused(#"{"hashes":[{"type":"pdq","value":"\#(String(repeating: "g", count: 64))"}]}"#)
        == "hashes[0].value")
    let two = #"{"hashes":[{"type":"pdq","value":"\#(Self.pdq)"},"#
      + #"{"type":"pdq","value":"\#(Self.pdq)"}]}"#
    #expect(Self.refused(two, limit: 1) == "hashes")
    #expect(Self.refused(two, limit: 2) == nil)
  }

  @Test func onlyOneStrictJSONValueIsAccepted() {
    for text in [
      #"{"hashes":[]} x"#, #"{"hashes":[],}"#, #"{"hashes":[1,]}"#, "{'hashes':[]}",
      #"{"hashes":[01]}"#, #"{"hashes":[1.]}"#, #"{"hashes":[-]}"#, #"{"hashes":[tru]}"#,
      "{\"hashes\":[\"a\nb\"]}", #"{"hashes":[]"#, "",
      String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
    ] {
      #expect(Self.refused(text) == "body", "\(text)")
    }
    // Not UTF-8 inside a string.
    var bytes = Array(#"{"hashes":[{"type":"pdq","value":"x"}]}"#.utf8)
    bytes[bytes.count - 5] = 0xFF
    #expect(throws: APIError.self) { try LookupBody.queries(bytes, limit: 10) }
  }

  @Test func numbersAndLiteralsAreReadAsJSON() throws {
    func value(_ text: String) throws -> JSONValue {
      try Array(text.utf8).withUnsafeBufferPointer { FlatJSON.parseValue($0) }.get()
    }
    #expect(try value("-12") == .int(-12))
    #expect(try value("1.5e2") == .double(150))
    #expect(try value("2.0") == .double(2))
    #expect(try value(" [true,false,null]\n") == .array([.bool(true), .bool(false), .null]))
    #expect(try value(#""a\"\\\/\b\f\n\r\t""#) == .string("a\"\\/\u{8}\u{C}\n\r\t"))
    #expect(try value(#""\u00e9\ud83d\ude00""#) == .string("é😀"))
    #expect(try value(#"{"a":[1,{"b":"c"}]}"#)
      == .object(["a": .array([.int(1), .object(["b": .string("c")])])]))
  }

  // MARK: - The plain reader

  static func plain(_ text: String, limit: Int = 1000) -> [HashQuery]? {
    Array(text.utf8).withUnsafeBufferPointer { PlainLookupBody.queries($0, limit: limit) }
  }

  /// The strict reader's queries from `text` alone (nil when it refuses the body).
  static func strict(_ text: String, limit: Int = 1000) -> [HashQuery]? {
    Array(text.utf8).withUnsafeBufferPointer { bytes in
      try? LookupBody.checkedQueries(bytes, limit: limit)
    }
  }

  /// The bodies clients write (minified, Python's `json.dumps` with its spaces, the value
  /// first, upper-case hex) are read without the JSON tree, to the same queries.
  @Test func theUsualBodiesAreReadPlainlyToTheSameQueries() throws {
    let zeros = String(repeating: "0", count: 32)
    for text in [
      #"{"hashes":[{"type":"pdq","value":"\#(Self.pdq)"}]}"#,
      #"{"hashes": [{"type": "pdq", "value": "\#(Self.pdq)"}, "#
        + #"{"type": "md5", "value": "\#(zeros)"}]}"# + "\n",
      "{\r\n\t\"hashes\" :[ {\"value\":\"\(Self.pdq.uppercased())\",\"type\":\"PDQ\"} ]}",
      #"{"hashes":[]}"#,
    ] {
      let plain = try #require(Self.plain(text), "\(text)")
      #expect(plain == Self.strict(text), "\(text)")
    }
    #expect(Self.plain(#"{"hashes":[{"type":"pdq","value":"\#(Self.pdq)"}]}"#)?.first?.value
      == Self.pdq)
  }

  /// Whatever the plain reader does not take whole (an escape, a repeated or third member, a
  /// refused type or value, one hash over the limit) is left to the strict reader, which
  /// names the field: the plain reader never answers differently.
  @Test func thePlainReaderLeavesEverythingElseToTheStrictOne() {
    let good = #"{"type":"pdq","value":"\#(Self.pdq)"}"#
    let two = #"{"hashes":[\#(good),\#(good)]}"#
    #expect(Self.plain(two, limit: 1) == nil)
    #expect(Self.refused(two, limit: 1) == "hashes")
    for text in [
      #"{"hashes":[{"type":"\u0070dq","value":"\#(Self.pdq)"}]}"#,
      #"{"hashes":[{"type":"pdq","type":"pdq"}]}"#,
      #"{"hashes":[{"type":"pdq","value":"\#(Self.pdq)","label":"x"}]}"#,
      #"{"hashes":[{"type":"crc","value":"00"}]}"#,
      #"{"hashes":[{"type":"pdq","value":"abc"}]}"#,
      #"{"hashes":[],"hashes":[]}"#, #"{"hashes":[]} x"#, #"{"hashes":[\#(good),]}"#,
      #"{"hashes":[{"type":"pdq","value":"é"}]}"#, "{\"hashes\":[{\"type\":\"p\u{1}\"}]}",
    ] {
      #expect(Self.plain(text) == nil, "\(text)")
    }
  }

  /// Bodies cut, doubled and spliced from the usual ones at random places, with a byte
  /// put in or taken out: wherever the plain reader gives queries, the strict reader gives
  /// the same (seeded: the same 20,000 bodies each run).
  /// Whitespace, an escape, JSON's punctuation, letters, a digit and a control character.
  static let someBytes = Array(" \t\r\n\\\",:{}[]aA0\u{1}".utf8)

  @Test func wheneverThePlainReaderAnswersTheStrictOneAgrees() {
    let bodies = [
      #"{"hashes":[{"type":"pdq","value":"\#(Self.pdq)"},"#
        + #"{"value":"\#(Self.pdq.prefix(40))","type":"sha1"}]}"#,
      #" { "hashes" : [ { "type" : "md5" , "value" : "\#(Self.pdq.prefix(32))" } ] } "#,
      #"{"hashes":[{"type":"PDQ","value":"\#(Self.pdq.uppercased())"},\#t{"type":"x"}]}"#,
    ].map { Array($0.utf8) }
    var generator = SplitMix64(seed: 0x5EED)
    var answered = 0
    for _ in 0..<20_000 {
      var bytes = bodies.randomElement(using: &generator)!
      for _ in 0..<Int.random(in: 1...3, using: &generator) {
        let other = bodies.randomElement(using: &generator)!
        let at = Int.random(in: 0...bytes.count, using: &generator)
        let from = Int.random(in: 0..<other.count, using: &generator)
        let to = Int.random(in: from...other.count, using: &generator)
        switch Int.random(in: 0..<5, using: &generator) {
        case 0: bytes.insert(contentsOf: other[from..<to], at: at)
        case 1: bytes.removeSubrange(min(at, from)..<min(bytes.count, max(at, to)))
        case 2: bytes.replaceSubrange(at..<min(bytes.count, at + 1), with: other[from..<to])
        case 3: bytes.insert(Self.someBytes.randomElement(using: &generator)!, at: at)
        default: if at < bytes.count { bytes.remove(at: at) }
        }
      }
      let text = String(decoding: bytes, as: UTF8.self)
      guard let plain = Self.plain(text, limit: 2) else { continue }
      answered += 1
      #expect(plain == Self.strict(text, limit: 2), "\(text)")
    }
    #expect(answered >= 100)
  }
}
