import Foundation
import Testing

@testable import Moderation
@testable import Store

/// Classifier event ids are kept as written: numbers no Int64 holds used to collapse into one
/// value, so a different event was taken for a duplicate and never queued.
@Suite("Exact classifier ids")
struct ExactIdTests {
  static func line(_ id: String, media: String = "m/1.png") -> String {
    #"{"account":"A-granted","service":"chat-eu","media":""# + media
      + #"","model":"m","score":0.9,"id":"# + id + "}"
  }

  @Test func idsBeyondInt64StayDistinct() {
    let ids = ["9223372036854775807", "9223372036854775808", "9223372036854775809",
      "18446744073709551616", "-9223372036854775809"]
    let file = FlagsFile.parse(ids.map { Self.line($0) }.joined(separator: "\n"), file: "f")
    #expect(file.problems.isEmpty, "\(file.problems)")
    #expect(file.events.map(\.id) == ids)
  }

  @Test func numbersNotWrittenAsIntegersAreRefused() {
    let file = FlagsFile.parse(
      ["1e300", "-1e19", "1E300", "2.0"].map { Self.line($0) }.joined(separator: "\n"), file: "f")
    #expect(file.events.isEmpty)
    #expect(file.problems.map(\.reason) == Array(
      repeating: "field \"id\" must be a string or an integer", count: 4))
  }

  @Test func aKeyGivenTwiceIsRefused() {
    let file = FlagsFile.parse(
      #"{"account":"A-granted","account":"A-other","service":"chat-eu","media":"m","model":"m","#
        + #""score":0.9}"#, file: "f")
    #expect(file.events.isEmpty)
    #expect(file.problems.first?.reason.contains("\"account\" is given twice") == true)
  }

  @Test func loneSurrogatesAndDeepExtrasAreRefused() {
    let lone = #"{"account":"A\ud800","service":"chat-eu","media":"m","model":"m","score":0.9}"#
    let deep = #"{"account":"A-granted","service":"chat-eu","media":"m","model":"m","score":1,"#
      + #""x":"# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
      + "}"
    let file = FlagsFile.parse(lone + "\n" + deep, file: "f")
    #expect(file.events.isEmpty)
    #expect(file.problems.map(\.line) == [1, 2])
    #expect(file.problems[0].reason.contains("lone surrogate"))
    #expect(file.problems[1].reason.contains("nested deeper than 64"))
  }

  /// The finding: two events whose ids differ beyond 2^63 are both queued.
  @Test func bothEventsAreQueued() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try scratch.write(
      "flags.jsonl",
      Self.line("9223372036854775808", media: "m/1.png") + "\n"
        + Self.line("9223372036854775809", media: "m/2.png") + "\n")
    let outcome = try Imports.flags(
      path: path, skipInvalid: false, threshold: 0.8, database: db,
      mediaRoots: try ImportTests.mediaRoots(scratch), by: "mod")
    #expect(outcome.summary.queued.count == 2)
    #expect(outcome.summary.alreadyImported == 0)
  }

  /// A UTF-16 file is named as such, not reported as bad JSON on every line.
  @Test func utf16FilesAreNamed() throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let text = Self.line("1") + "\n"
    let path = try scratch.write("flags.jsonl", bytes: [0xFF, 0xFE] + Array(text.utf16).flatMap {
      [UInt8($0 & 0xFF), UInt8($0 >> 8)]
    })
    #expect {
      try FlagsFile.load(path: path)
    } throws: { error in
      "\(error)".contains("not UTF-8 text (UTF-16?)")
    }
  }
}
