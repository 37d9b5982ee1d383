import Foundation
import ProcessSpawn
import Testing

/// Every command of the command line, run on hostile fixtures (a database whose names, labels,
/// reasons and references hold escape sequences, C1 and bidi controls; files whose names and
/// contents hold them too), prints no ESC, other C0 control but newline and tab, DEL, C1,
/// BEL or bidi control byte on stdout or stderr, in plain and in JSON output.
@Suite("Hostile text never reaches the terminal raw", .serialized)
struct HostileOutputEndToEndTests {
  /// OSC title, BEL, CSI colour, an 8-bit CSI (U+009B), RLO, ZWSP and an isolate.
  static let hostile = "\u{1B}]0;owned\u{07}\u{1B}[31m\u{9B}2J\u{202E}\u{200B}\u{2066}x"
  /// The same, as an SQL expression for sqlite3.
  static let hostileSQL =
    "char(27) || ']0;owned' || char(7) || char(27) || '[31m' || char(155) || '2J' "
    + "|| char(8238) || char(8203) || char(8294) || 'x'"

  /// Runs a program as ``CsarBinary/run(_:timeout:)`` does, with `environment` added;
  /// stdout and stderr as bytes. A status above 128 is a signal.
  static func run(_ argv: [String], environment: [String: String] = [:]) throws
    -> (status: Int32, out: [UInt8], err: [UInt8])
  {
    let folder = try CsarBinary.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let pid = try Subprocess.spawn(
      argv, out: folder + "/out", err: folder + "/err",
      overrides: ["XDG_CONFIG_HOME": CsarBinary.configHome].merging(environment) { $1 })
    let code = ProcessSpawn.wait(pid)
    let out = FileManager.default.contents(atPath: folder + "/out") ?? Data()
    let err = FileManager.default.contents(atPath: folder + "/err") ?? Data()
    return (code, [UInt8](out), [UInt8](err))
  }

  /// The first forbidden byte sequence in `bytes`, described; nil when there is none.
  static func firstForbidden(_ bytes: [UInt8]) -> String? {
    for (i, b) in bytes.enumerated() {
      if (b < 0x20 && b != 0x0A && b != 0x09) || b == 0x7F {
        return "control byte 0x\(String(b, radix: 16)) at \(i)"
      }
      guard i + 1 < bytes.count else { continue }
      let next = bytes[i + 1]
      // C1 (U+0080-U+009F), U+061C.
      if b == 0xC2, (0x80...0x9F).contains(next) { return "C1 control at \(i)" }
      if b == 0xD8, next == 0x9C { return "U+061C at \(i)" }
      guard i + 2 < bytes.count, b == 0xE2 else { continue }
      let third = bytes[i + 2]
      // U+200B-U+200F, U+202A-U+202E, U+2066-U+2069.
      if next == 0x80, (0x8B...0x8F).contains(third) || (0xAA...0xAE).contains(third) {
        return "bidi or zero-width control at \(i)"
      }
      if next == 0x81, (0xA6...0xA9).contains(third) { return "bidi isolate at \(i)" }
    }
    return nil
  }

  @Test func everyCommandPrintsOnlyHarmlessText() throws {
    let h = Self.hostile
    let directory = try CsarBinary.temporaryDirectory()
    let database = directory + "/demo.sqlite"
    let demo = try CsarBinary.run(["demo", "--db", database, "--items", "30"])
    #expect(demo.status == 0, "\(demo.err)")
    func sql(_ query: String) throws {
      let result = try Subprocess.run(["sqlite3", database, query])
      #expect(result.status == 0, "\(query): \(result.err)")
    }
    func write(_ name: String, _ text: String) throws -> String {
      let path = directory + "/" + name
      try Data(text.utf8).write(to: URL(fileURLWithPath: path))
      return path
    }
    let hs = Self.hostileSQL
    try sql(
      """
      UPDATE service SET name = \(hs) || name;
      UPDATE detection_order SET reference = \(hs), authority = \(hs);
      UPDATE flagged_item SET label = \(hs), model = \(hs), bank = \(hs);
      UPDATE report SET case_ref = case_ref || \(hs) WHERE id % 2 = 0;
      -- Twin accounts with hostile ids (NFD and NFC), found by the next open's migration.
      INSERT INTO account (external_id, pseudonym, created_at) VALUES
        (\(hs) || 'e' || char(769) || '-t', 'u-7e57ab0000f1', 0),
        (\(hs) || char(233) || '-t', 'u-7e57ab0000f2', 0);
      \(TwinsEndToEndTests.beforeNFCIds)
      """)
    let service = try Subprocess.run(["sqlite3", database, "SELECT code FROM service LIMIT 1"])
      .out.trimmingCharacters(in: .whitespacesAndNewlines)
    let someCase = try Subprocess.run(
      ["sqlite3", database, "SELECT case_ref FROM report ORDER BY id LIMIT 1"]
    ).out.trimmingCharacters(in: .whitespacesAndNewlines)

    // Files named and filled with hostile text.
    let consent = try write(
      "consent\(h).csv",
      """
      event_id,account,service,state,occurred_at,source,terms_version,reason
      hx1,A\u{202E}1\u{200B},\(service),granted,2026-11-25T10:00:00Z,support,tos-9,"\(h)"
      hx2,A2,\(service),\(h),2026-11-25T10:00:00Z,support,tos-9,bad state
      hx3,A3\(h),\(service),granted,2026-11-25T10:00:00Z,support,tos-9,

      """)
    let answers = try write("answers\(h).toml", "users = \"\(h)\"\nchild_access = \"\(h)\"\n")
    let questionnaire = try write("q\(h).toml", "id = \"\(h)\"\ntitle = \"\(h)\"\n")
    let image = try write("image\u{202E}gnp.png", "not a picture \(h)")
    let urls = try write("urls\(h).txt", "https://\(h).example/\nhttps://ok.example/\(h)\n")
    let bank = try write("bank\(h).csv", "type,hash,label\npdq,\(h),\(h)\nmd5,\(h)\n")
    let flags = try write(
      "flags\(h).jsonl",
      "{\"id\": \"\(h)\", \"account\": \"A1\", \"service\": \"\(h)\", \"media\": \"m\", "
        + "\"model\": \"\(h)\", \"score\": 0.9}\n{\"bad\n")
    let verdicts = try write(
      "verdicts\(h).jsonl", "{\"case_ref\": \"\(h)\", \"verdict\": \"\(h)\"}\n")
    let theme = try write("theme\(h).toml", "[\(h)]\nx = \"\(h)\"\n")

    let db = ["--db", database]
    let commands: [[String]] = [
      ["consent", "import", consent] + db, ["consent", "import", consent, "--json"] + db,
      ["consent", "import", consent, "--skip-invalid"] + db,
      ["consent", "show", "A\u{202E}1\u{200B}"] + db,
      ["consent", "show", "A\u{202E}1\u{200B}", "--json"] + db,
      ["consent", "show", h] + db, ["consent", "stats"] + db, ["consent", "stats", "--json"] + db,
      ["consent", "twins"] + db, ["consent", "twins", "--json"] + db,
      ["consent", "show", "u-7e57ab0000f1"] + db,
      ["deadlines"] + db, ["deadlines", "--json"] + db,
      ["assess", "--service", service, "--answers", answers] + db,
      ["assess", "--service", h, "--answers", answers] + db,
      ["assess", "--service", service, "--answers", answers, "--questionnaire", questionnaire]
        + db,
      ["hash", image], ["hash", "--json", image], ["hash", directory + "/missing\(h)"],
      ["url", "canonicalize", "https://\(h).example/"],
      ["url", "import", "list\(h)", urls] + db, ["url", "import", "urls", urls, "--skip-invalid"]
        + db,
      ["url", "list"] + db, ["url", "list", "--json"] + db,
      ["url", "match", "https://\(h).example/"] + db,
      ["bank", "import", "bank", bank] + db, ["bank", "import", "bank\(h)", bank] + db,
      ["bank", "list"] + db, ["bank", "list", "--json"] + db, ["bank", "enable", h] + db,
      ["flags", "import", flags] + db, ["flags", "import", flags, "--json"] + db,
      ["scan", "--account", h, "--service", service, image] + db,
      ["scan", "--account", h, "--service", service, "--json", image] + db,
      ["order", "list"] + db, ["order", "list", "--json"] + db,
      ["order", "add", "--service", service, "--authority", h, "--reference", h, "--from",
       "2026-01-01", "--to", "2027-01-01", "--scope", h] + db,
      ["hold", "place", "--case", someCase, "--reason", h] + db,
      ["hold", "place", "--case", h, "--reason", h] + db,
      ["hold", "list"] + db, ["hold", "list", "--json"] + db,
      ["report", "list"] + db, ["report", "list", "--json"] + db,
      ["report", "export", "--outbox", directory + "/outbox\(h)"] + db,
      ["report", "verdict", verdicts] + db, ["report", "request-reveal", h] + db,
      ["report", "approve", h] + db, ["report", "notified", h] + db,
      ["purge", "--dry-run"] + db, ["purge", "--dry-run", "--json"] + db,
      ["audit", "verify"] + db, ["audit", "verify", "--json"] + db,
      ["deadlines", "--operator", h] + db, ["order", "list", "--today", h] + db,
      ["--theme", theme] + db, ["--theme", h] + db, ["--questionnaire", questionnaire] + db,
      ["--bogus\(h)"], ["consent", h], ["hash", "--max-pixels", h, image],
      ["demo", "--db", directory + "/demo\(h).sqlite", "--items", "5"],
      ["operator", "list"] + db, ["operator", "list", "--json"] + db,
      ["operator", "add", h, "--role", "reviewer"] + db, ["operator", "disable", h] + db,
      ["init", "--db", directory + "/init\(h)/csar.sqlite"],
      ["init", "--db", directory + "/init2/csar.sqlite", "--group", h],
      ["hash", "--json", directory + "/video\(h).mp4"], ["help", h],
    ]
    var ran = 0
    for arguments in commands {
      let result = try Self.run([try CsarBinary.path] + arguments)
      let shown = arguments.map { $0.debugDescription }.joined(separator: " ")
      #expect(result.status < 128, "\(shown) crashed")
      for (stream, bytes) in [("stdout", result.out), ("stderr", result.err)] {
        if let problem = Self.firstForbidden(bytes) {
          let text = String(decoding: bytes, as: UTF8.self).debugDescription
          Issue.record("\(stream) of csar \(shown): \(problem): \(text.prefix(600))")
        }
      }
      ran += 1
    }
    #expect(ran == commands.count)
    // The hostile twins were listed, their ids escaped, the differing code points shown.
    let twins = String(
      decoding: try Self.run([try CsarBinary.path, "consent", "twins"] + db).out, as: UTF8.self)
    #expect(twins.contains("u-7e57ab0000f1") && twins.contains("U+0065 U+0301"), "\(twins)")
    #expect(twins.contains("\\u001b]0;owned\\u0007"), "\(twins)")
    // The hostile reason was stored as it came, and shows escaped.
    let show = try Self.run([try CsarBinary.path, "consent", "show", "A\u{202E}1\u{200B}"] + db)
    #expect(String(decoding: show.out, as: UTF8.self).contains("\\u001b]0;owned\\u0007"))
    // JSON keeps the exact data.
    let json = try Self.run(
      [try CsarBinary.path, "consent", "show", "A\u{202E}1\u{200B}", "--json"] + db)
    let object = try JSONSerialization.jsonObject(with: Data(json.out)) as? [String: Any]
    #expect(object?["account"] as? String == "A\u{202E}1\u{200B}")
    let history = object?["history"] as? [[String: Any]] ?? []
    #expect(history.contains { $0["reason"] as? String == h })
  }
}

/// The writer cannot be bypassed: no command file writes to stdout or stderr except through
/// `Output` (csar's own `print` is `Output`'s, so `print` is fine).
@Test func onlyTheWriterWritesToTheTerminal() throws {
  let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")
  let bypasses = [
    "FileHandle.standardError", "FileHandle.standardOutput", "fputs(", "Swift.print(",
    "write(1,", "write(2,", "putchar(", "vprintf(", "printf(",
  ]
  let files = try #require(FileManager.default.enumerator(atPath: folder.path))
    .compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
  #expect(files.contains("csar/Output.swift"))
  for file in files where file != "csar/Output.swift" {
    let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
    for bypass in bypasses where text.contains(bypass) {
      Issue.record("\(file) writes with \(bypass) instead of Output")
    }
  }
}
