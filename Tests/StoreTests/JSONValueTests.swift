// The canonical JSON text of strings: audit details and stored metadata are hashed as this text,
// so its escaping must never change.

import Foundation
import Testing

@testable import Store

@Suite("Canonical JSON text")
struct JSONValueTests {
  /// The escaping rules applied scalar by scalar: the reference the faster byte-wise
  /// writer must match.
  static func reference(_ s: String) -> String {
    let named: [Unicode.Scalar: String] = [
      "\"": "\\\"", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
    ]
    let body = s.unicodeScalars.map { scalar -> String in
      if let name = named[scalar] { return name }
      if scalar.value < 0x20 || scalar.value == 0x7F {
        return String(format: "\\u%04x", scalar.value)
      }
      return String(scalar)
    }
    return "\"" + body.joined() + "\""
  }

  @Test func stringsAreEscapedAsBefore() {
    #expect(JSONValue.string("a\"b\\c\n\r\t\u{1}\u{1B}\u{7F}é😀").description
      == #""a\"b\\c\n\r\t\u0001\u001b\u007fé😀""#)
    #expect(JSONValue.string("plain text, café").description == #""plain text, café""#)
    #expect(JSONValue.object(["k\"": "v\n"]).description == #"{"k\"":"v\n"}"#)
    let pieces = ["a", "\"", "\\", "\n", "\u{0}", "\u{1F}", "\u{7F}", "\u{80}", "é", "e\u{301}",
      "😀", "\u{2028}", " ", "\t", "\r\n"]
    var state: UInt64 = 3
    for _ in 0..<2000 {
      var text = ""
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      for i in 0..<Int(state >> 60) {
        text += pieces[Int((state >> UInt64(i * 4)) & 0xF) % pieces.count]
      }
      let written = JSONValue.string(text).description
      #expect(written == Self.reference(text), "\(text.debugDescription)")
    }
  }
}
