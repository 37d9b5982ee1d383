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
}
