import Foundation
import Detection
import Imaging
import Testing

@testable import Moderation
@testable import Store

/// Bank, URL list and classifier imports: all or nothing, `--skip-invalid`, idempotence, audit.
@Suite("Imports")
struct ImportTests {
  static let pdqA = String(repeating: "0f", count: 32)
  static let pdqB = String(repeating: "3c", count: 32)
  static let md5 = String(repeating: "ab", count: 16)

  @Test func anyBadLineImportsNothing() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try scratch.write("bank.csv", "pdq,\(Self.pdqA)\npdq,xyz\nmd5,\(Self.md5)\n")
    let events = try count(db, "SELECT count(*) FROM audit_event")
    #expect {
      try Imports.bank(
        name: "known", path: path, skipInvalid: false, threshold: nil, database: db, by: "mod")
    } throws: { error in
      guard case .invalidLines(let file, let problems) = error as? ModerationError else {
        return false
      }
      return file == path && problems.map(\.line) == [2]
        && "\(error)".contains("nothing imported")
    }
    #expect(try count(db, "SELECT count(*) FROM bank") == 0)
    #expect(try count(db, "SELECT count(*) FROM bank_hash") == 0)
    #expect(try count(db, "SELECT count(*) FROM audit_event") == events)
  }

  @Test func skipInvalidImportsTheGoodLinesInOneAuditedTransaction() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try scratch.write(
      "bank.csv", "pdq,\(Self.pdqA),first\npdq,xyz\nmd5,\(Self.md5),,L-9\n")
    let outcome = try Imports.bank(
      name: "known", path: path, skipInvalid: true, threshold: nil, database: db, by: "mod")
    #expect(outcome.problems.map(\.line) == [2])
    #expect(outcome.summary.added == 2)
    #expect(outcome.summary.created)
    #expect(outcome.summary.skipped == 1)
    let bank = try db.hashBank(name: "known")
    #expect(bank.enabled && bank.pdqThreshold == 31)
    #expect((bank.pdqCount, bank.md5Count, bank.sha256Count) == (1, 1, 0))
    let actions: [String] = try column(
      db, "SELECT action FROM audit_event WHERE action LIKE 'bank.%'")
    #expect(actions == ["bank.import"])
    #expect(try db.exactBankHits(type: .md5, hash: Self.md5).first?.sourceId == "L-9")
  }

  @Test func reimportIsIdempotent() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let first = try scratch.write("a.csv", "pdq,\(Self.pdqA)\nmd5,\(Self.md5)\n")
    let second = try scratch.write("b.csv", "md5,\(Self.md5)\npdq,\(Self.pdqB)\n")
    _ = try Imports.bank(
      name: "known", path: first, skipInvalid: false, threshold: nil, database: db, by: "mod")
    let again = try Imports.bank(
      name: "known", path: first, skipInvalid: false, threshold: nil, database: db, by: "mod")
    #expect((again.summary.added, again.summary.alreadyPresent) == (0, 2))
    #expect(!again.summary.created)
    let more = try Imports.bank(
      name: "known", path: second, skipInvalid: false, threshold: 20, database: db, by: "mod")
    #expect((more.summary.added, more.summary.alreadyPresent) == (1, 1))
    #expect(try db.hashBank(name: "known").total == 3)
    #expect(try db.hashBank(name: "known").pdqThreshold == 20)
    // The import that changed nothing left no audit event.
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'bank.import'") == 2)
  }

  /// A `threatexchange dataset -P --csv` file as the CLI writes it imports as it is: aliases
  /// mapped, `collab` and `tags` kept as metadata.
  @Test func threatExchangeDatasetCSVImports() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let sha = String(repeating: "5a", count: 32)
    let path = try scratch.write(
      "te.csv",
      "collab,signal_type,signal_str,category,tags\r\n"
        + "Sample Signals,pdq,\(Self.pdqA),TRUE_POSITIVE,sample\r\n"
        + "Sample Signals,video_md5,\(Self.md5),TRUE_POSITIVE,\r\n"
        + "Sample Signals,video_sha256,\(sha),TRUE_POSITIVE,\r\n")
    let outcome = try Imports.bank(
      name: "te", path: path, skipInvalid: false, threshold: nil, database: db, by: "mod")
    #expect(outcome.summary.added == 3 && outcome.problems.isEmpty)
    let bank = try db.hashBank(name: "te")
    #expect((bank.pdqCount, bank.md5Count, bank.sha256Count) == (1, 1, 1))
    #expect(try db.exactBankHits(type: .md5, hash: Self.md5).first?.label == "TRUE_POSITIVE")
    let metadata = try column(
      db, "SELECT metadata FROM bank_hash WHERE type = 'md5'", as: String.self)
    #expect(metadata == [#"{"collab":"Sample Signals"}"#])
    #expect(try db.exactBankHits(type: .sha256, hash: sha).count == 1)
  }

  /// threatexchange's `TYPE VALUE` list imports; one bad line imports nothing and is named.
  @Test func threatExchangeTypeValueListImportsAllOrNothing() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let bad = try scratch.write("bad.txt", "pdq \(Self.pdqA)\nurl https://example.com/\n")
    #expect {
      try Imports.bank(
        name: "te", path: bad, skipInvalid: false, threshold: nil, database: db, by: "mod")
    } throws: { error in
      guard case .invalidLines(_, let problems) = error as? ModerationError else { return false }
      return problems.map(\.description) == [
        "\(bad):2: unknown hash type \"url\" (use pdq, md5, sha256, sha1, "
          + "or an alias such as video_md5, HASH_PDQ, ImagePDQ)"
      ]
    }
    #expect(try count(db, "SELECT count(*) FROM bank_hash") == 0)
    let good = try scratch.write("te.txt", "pdq \(Self.pdqA)\nHASH_MD5 \(Self.md5)\n")
    let outcome = try Imports.bank(
      name: "te", path: good, skipInvalid: false, threshold: nil, database: db, by: "mod")
    #expect(outcome.summary.added == 2)
    #expect(try db.exactBankHits(type: .md5, hash: Self.md5).count == 1)
  }

  @Test func manyPDQHitsAreLookedUpInChunks() throws {
    let db = try moderationDatabase()
    let entries = (0..<1_200).map { i in
      BankHashEntry(type: .pdq, hash: String(format: "%064x", i), label: "n\(i)")
    }
    try db.importBank(name: "many", entries: entries, by: "mod")
    let ids: [Int64] = try column(db, "SELECT id FROM bank_hash")
    let hits = try db.bankHashes(ids: ids.reversed())
    #expect(hits.count == 1_200)
    #expect(hits.map(\.hashId) == ids.sorted())
    #expect(Set(hits.compactMap(\.label)).count == 1_200)
  }

  @Test func emptyFileAndUnreadableFile() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let empty = try scratch.write("empty.csv", "# nothing\n\n")
    #expect(throws: ModerationError.empty(file: empty)) {
      try Imports.bank(
        name: "known", path: empty, skipInvalid: false, threshold: nil, database: db, by: "mod")
    }
    let missing = scratch.path + "/missing.csv"
    #expect {
      try Imports.bank(
        name: "known", path: missing, skipInvalid: true, threshold: nil, database: db, by: "mod")
    } throws: { "\($0)".hasPrefix(missing + ": cannot read") }
    let binary = try scratch.write("bin.csv", bytes: [0xFF, 0xFE, 0x00, 0xC3])
    let utf16 = "the file is not UTF-8 text (UTF-16?); save it as UTF-8"
    #expect(throws: ModerationError.unreadable(file: binary, reason: utf16)) {
      try Imports.bank(
        name: "known", path: binary, skipInvalid: false, threshold: nil, database: db, by: "mod")
    }
  }

  @Test func bankSettingsAreAuditedAndChecked() throws {
    let db = try moderationDatabase()
    try db.importBank(name: "known", entries: [.init(type: .pdq, hash: Self.pdqA)], by: "mod")
    #expect(try !db.setBankEnabled(name: "known", enabled: false, by: "mod").enabled)
    try db.setBankEnabled(name: "known", enabled: false, by: "mod")  // no change, no event
    #expect(try db.setBankThreshold(name: "known", threshold: 12, by: "mod").pdqThreshold == 12)
    #expect(throws: StoreError.self) {
      try db.setBankThreshold(name: "known", threshold: 65, by: "mod")
    }
    #expect(throws: StoreError.notFound(entity: "bank", id: "nope")) {
      try db.setBankEnabled(name: "nope", enabled: true, by: "mod")
    }
    #expect(throws: StoreError.self) {
      try db.importBank(name: "bad name!", entries: [], by: "mod")
    }
    let actions: [String] = try column(
      db, "SELECT action FROM audit_event WHERE entity = 'bank' ORDER BY id")
    #expect(actions == ["bank.import", "bank.disable", "bank.threshold"])
    #expect(try db.hashBanks().map(\.name) == ["known"])
  }

  @Test func urlListImportAndMatching() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try scratch.write(
      "urls.txt", "evil.example/\tsite\nhttp://shop.example/bad/\tdir\nnice.example/a.html\n")
    let outcome = try Imports.urlList(
      name: "sb", path: path, skipInvalid: false, database: db, by: "mod")
    #expect(outcome.summary.added == 3)
    let again = try Imports.urlList(
      name: "sb", path: path, skipInvalid: false, database: db, by: "mod")
    #expect((again.summary.added, again.summary.alreadyPresent) == (0, 3))

    func lists(_ url: String) throws -> [String] {
      try URLListMatcher.match(url, in: db).hits.map { "\($0.list):\($0.expression)" }
    }
    #expect(try lists("HTTPS://a.b.EVIL.example:443/x/y?z#f") == ["sb:evil.example/"])
    #expect(try lists("http://shop.example/bad/things/1.png") == ["sb:shop.example/bad/"])
    #expect(try lists("http://shop.example/bad") == [])
    #expect(try lists("http://shop.example/%62ad/x") == ["sb:shop.example/bad/"])
    #expect(try lists("http://nice.example/a.html?x=1") == ["sb:nice.example/a.html"])
    #expect(try lists("http://nice.example/b.html") == [])
    #expect(try lists("http://notevil.example/") == [])
    try db.setURLListEnabled(name: "sb", enabled: false, by: "mod")
    #expect(try lists("http://evil.example/") == [])
  }

  @Test func urlListBadLineImportsNothing() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try scratch.write("urls.txt", "evil.example/\nlocalhost/\n")
    #expect(throws: ModerationError.self) {
      try Imports.urlList(name: "sb", path: path, skipInvalid: false, database: db, by: "mod")
    }
    #expect(try db.urlLists().isEmpty)
  }

  // MARK: - Classifier flags

  static let flags = """
    {"account":"A-granted","service":"chat-eu","media":"m/1.png","model":"nm-2","score":0.99,
    "id":"e1"}
    {"account":"A-granted","service":"chat-eu","media":"m/2.png","model":"nm-2","score":0.85}
    {"account":"A-granted","service":"chat-eu","media":"m/3.png","model":"nm-2","score":0.2,
    "id":"e3"}
    """.replacingOccurrences(of: ",\n\"id\"", with: ",\"id\"")

  /// The media roots of a scratch folder (`m/` beside a database file there), with the
  /// pictures `m/1.png` and `m/2.png` the flags name.
  static func mediaRoots(_ scratch: Scratch) throws -> MediaRoots {
    try FileManager.default.createDirectory(
      atPath: scratch.path + "/m", withIntermediateDirectories: true)
    for n in 1...2 {
      try scratch.write("m/\(n).png", bytes: ImageEncoder.encodePNG(Picture.make(seed: n)))
    }
    return MediaRoots(configured: [scratch.path + "/m"], databasePath: scratch.path + "/db")
  }

  /// The bad lines a flags import of `path` stops on (nil when it does not stop on them).
  static func badLines(_ path: String, _ db: AppDatabase, _ roots: MediaRoots) throws
    -> [String]?
  {
    do {
      _ = try Imports.flags(
        path: path, skipInvalid: false, threshold: 0.8, database: db, mediaRoots: roots,
        by: "mod")
      return nil
    } catch ModerationError.invalidLines(_, let problems) {
      return problems.map(\.description)
    }
  }

  @Test func flagsImportQueuesAndIsIdempotent() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try scratch.write("flags.jsonl", Self.flags)
    let roots = try Self.mediaRoots(scratch)
    let first = try Imports.flags(
      path: path, skipInvalid: false, threshold: 0.8, database: db, mediaRoots: roots, by: "mod")
    #expect(first.summary.queued.count == 2)
    #expect(first.summary.belowThreshold == 1)
    let rows: [String] = try column(
      db,
      """
      SELECT kind || ' ' || priority || ' ' || media_path || ' ' || model || ' ' || score
      FROM flagged_item ORDER BY id
      """)
    #expect(rows == ["new_material 1 m/1.png nm-2 0.99", "new_material 2 m/2.png nm-2 0.85"])
    let recorded: [String] = try column(db, "SELECT sha256 FROM flagged_item ORDER BY id")
    let files = try (1...2).map { try MediaFile(path: scratch.path + "/m/\($0).png").readAll() }
    #expect(recorded == files.map { FileDigests.sha256(of: $0) })
    let again = try Imports.flags(
      path: path, skipInvalid: false, threshold: 0.8, database: db, mediaRoots: roots, by: "mod")
    #expect(again.summary.queued.isEmpty)
    #expect(again.summary.alreadyImported == 3)
    #expect(try count(db, "SELECT count(*) FROM flagged_item") == 2)
    let imports = try count(db, "SELECT count(*) FROM audit_event WHERE action = 'flags.import'")
    #expect(imports == 1)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'flag.create'") == 2)
  }

  @Test func flagsForUnknownOrNonConsentingAccountsImportNothing() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let path = try scratch.write(
      "flags.jsonl",
      Self.flags + "\n"
        + #"{"account":"A-nobody","service":"chat-eu","media":"x","model":"m","score":0.9}"#
        + "\n" + #"{"account":"A-granted","service":"nope","media":"x","model":"m","score":0.9}"#
        + "\n" + #"{"account":"A-refused","service":"chat-eu","media":"x","model":"m","score":1}"#
        + "\n" + #"{"account":"A-granted","service":"foto-de","media":"x","model":"m","score":1}"#
        + "\n")
    let roots = try Self.mediaRoots(scratch)
    #expect(
      try Self.badLines(path, db, roots) == [
        path + ":4: unknown account \"A-nobody\"", path + ":5: unknown service \"nope\"",
        path + ":6: account \"A-refused\" has not granted consent on chat-eu (refused): "
          + "its uploads may not be scanned",
        path + ":7: account \"A-granted\" has not granted consent on foto-de (not_asked): "
          + "its uploads may not be scanned",
      ])
    #expect(try count(db, "SELECT count(*) FROM flagged_item") == 0)
    let skipped = try Imports.flags(
      path: path, skipInvalid: true, threshold: 0.8, database: db, mediaRoots: roots, by: "mod")
    #expect(skipped.summary.queued.count == 2 && skipped.summary.skipped == 4)
    #expect(throws: ModerationError.self) {
      try Imports.flags(
        path: path, skipInvalid: true, threshold: 1.5, database: db, mediaRoots: roots,
        by: "mod")
    }
  }

  @Test func flagsNamingMediaOutsideTheRootsAreBadLines() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let roots = try Self.mediaRoots(scratch)
    let key = try scratch.write("csar.key", String(repeating: "k", count: 32))
    // A folder link inside the root that leads out of it.
    try FileManager.default.createSymbolicLink(
      atPath: scratch.path + "/m/out", withDestinationPath: scratch.path)
    let who = #""account":"A-granted","service":"chat-eu","model":"nm","score":0.9"#
    let media = ["/etc/shadow", key, "m/../csar.key", "m/out/csar.key", "m/missing.png"]
    let path = try scratch.write(
      "flags.jsonl",
      media.map { #"{\#(who),"media":"\#($0)"}"# }.joined(separator: "\n")
        + "\n" + #"{\#(who),"media":"m/1.png"}"# + "\n")
    let all = scratch.path + "/m"
    let expected = [
      ":1: media path \"/etc/shadow\" is outside the media roots (\(all))",
      ":2: media path \"\(key)\" is outside the media roots (\(all))",
      ":3: media path \"m/../csar.key\" is outside the media roots (\(all))",
      ":4: media path \"m/out/csar.key\" is outside the media roots (\(all))",
      ":5: \(all)/missing.png: No such file or directory",
    ]
    #expect(try Self.badLines(path, db, roots) == expected.map { path + $0 })
    #expect(try count(db, "SELECT count(*) FROM flagged_item") == 0)
  }
}
