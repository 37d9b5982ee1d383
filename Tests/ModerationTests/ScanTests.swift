import Detection
import Foundation
import Imaging
import Testing

@testable import Moderation
@testable import Store

/// The upload gate on generated benign images: consent, banks, thresholds, dihedral variants,
/// re-encoding, URL lists, and broken files.
@Suite("Upload gate")
struct ScanTests {
  /// A database with one bank holding `image`'s PDQ (and optionally its SHA-256).
  struct Setup {
    let db: AppDatabase
    let scratch: Scratch
    let original: String
    let pdq: PDQResult

    init(threshold: Int? = nil, alsoSHA256: Bool = false) throws {
      db = try moderationDatabase()
      scratch = try Scratch()
      let image = Picture.make()
      original = try scratch.write("original.png", bytes: ImageEncoder.encodePNG(image))
      pdq = PDQ.hash(image)
      var entries = [BankHashEntry(type: .pdq, hash: pdq.hash.hex, label: "synthetic ring")]
      if alsoSHA256 {
        let bytes = try ImageDecoder.readFile(original)
        entries.append(BankHashEntry(type: .sha256, hash: FileDigests(of: bytes).sha256))
      }
      try db.importBank(name: "known", entries: entries, threshold: threshold, by: "mod")
    }

    func gate(dihedral: Bool = false, maxPixels: Int = ImageDecoder.defaultMaxPixels)
      -> UploadGate
    {
      UploadGate(database: db, operatorName: "mod", dihedral: dihedral, maxPixels: maxPixels)
    }

    func scan(_ inputs: [String], account: String = "A-granted", dihedral: Bool = false)
      throws -> [ScanOutcome]
    {
      try gate(dihedral: dihedral).scan(inputs: inputs, account: account, service: "chat-eu")
    }
  }

  @Test func consentGateBlocksWithoutGrantedConsent() throws {
    let setup = try Setup()
    defer { setup.scratch.remove() }
    for (account, state) in [
      ("A-refused", "refused"), ("A-withdrawn", "withdrawn"), ("A-silent", "not_asked"),
      ("A-unknown", "not_asked"),
    ] {
      let outcomes = try setup.scan([setup.original, "http://evil.example/"], account: account)
      #expect(outcomes.map(\.decision.code) == ["blocked", "blocked"])
      #expect(outcomes[0].decision == .blockedNoConsent(.init(rawValue: state)!))
      #expect(outcomes[0].sha256 == nil, "a blocked upload is not even hashed")
    }
    // Granted on chat-eu only: foto-de is still blocked.
    let other = try setup.gate().scan(
      inputs: [setup.original], account: "A-granted", service: "foto-de")
    #expect(other[0].decision == .blockedNoConsent(.notAsked))
    #expect(try count(setup.db, "SELECT count(*) FROM flagged_item") == 0)
    let blocked: [String] = try column(
      setup.db,
      "SELECT entity_id FROM audit_event WHERE action = 'scan.blocked' ORDER BY id")
    #expect(blocked == ["2", "3", "4", "unknown", "1"])
    #expect(throws: StoreError.notFound(entity: "service", id: "nope")) {
      try setup.gate().scan(inputs: [setup.original], account: "A-granted", service: "nope")
    }
  }

  @Test func uploadsOutsideTheMediaRootsAreNotQueued() throws {
    let setup = try Setup(alsoSHA256: true)
    defer { setup.scratch.remove() }
    let uploads = setup.scratch.path + "/uploads"
    try FileManager.default.createDirectory(atPath: uploads, withIntermediateDirectories: true)
    let roots = MediaRoots(configured: [uploads], databasePath: ":memory:")
    let gate = UploadGate(database: setup.db, operatorName: "mod", mediaRoots: roots)
    let outcome = try gate.scan(inputs: [setup.original], account: "A-granted", service: "chat-eu")
    #expect(outcome[0].decision == .error(
      "media path \"\(setup.original)\" is outside the media roots (\(uploads))"))
    #expect(try count(setup.db, "SELECT count(*) FROM flagged_item") == 0)
    // A lookup (no uploader, nothing queued) may read any regular file.
    #expect(gate.lookup(inputs: [setup.original])[0].decision == .matched(kind: .knownMatch))
    // Inside the roots, the item records the absolute path it was read from.
    let inside = uploads + "/upload.png"
    try FileManager.default.copyItem(atPath: setup.original, toPath: inside)
    let queued = try gate.scan(inputs: [inside], account: "A-granted", service: "chat-eu")
    #expect(queued[0].decision.code == "flagged")
    let paths: [String] = try column(setup.db, "SELECT media_path FROM flagged_item")
    #expect(paths == [inside])
  }

  @Test func exactAndPerceptualMatchFlagsAnItem() throws {
    let setup = try Setup(alsoSHA256: true)
    defer { setup.scratch.remove() }
    let outcome = try #require(try setup.scan([setup.original]).first)
    guard case .flagged(.knownMatch, let itemId) = outcome.decision else {
      Issue.record("expected a flagged item, got \(outcome.decision)")
      return
    }
    #expect(outcome.matches.map(\.type) == [.sha256, .pdq])
    #expect(outcome.pdq == setup.pdq.hash.hex)
    #expect(outcome.quality == setup.pdq.quality && setup.pdq.quality >= 50)
    let item: [String] = try column(
      setup.db,
      """
      SELECT kind || '|' || state || '|' || account_id || '|' || service_id || '|' || bank
        || '|' || distance || '|' || coalesce(label, '-') || '|' || pdq
      FROM flagged_item WHERE id = \(itemId)
      """)
    #expect(item == ["known_match|pending|1|1|known|0|-|\(setup.pdq.hash.hex)"])
    #expect(try count(setup.db, "SELECT count(*) FROM audit_event WHERE action = 'flag.create'")
      == 1)
  }

  @Test func reencodedJPEGMatchesWithinThreshold() throws {
    let setup = try Setup()
    defer { setup.scratch.remove() }
    let image = Picture.make()
    let jpeg = try setup.scratch.write(
      "copy.jpg", bytes: ImageEncoder.encodeJPEG(image, quality: 70))
    let other = try setup.scratch.write(
      "other.png", bytes: ImageEncoder.encodePNG(Picture.make(width: 300, height: 300, seed: 7)
        .oriented(.right)))
    let outcomes = try setup.scan([jpeg, other])
    #expect(outcomes[0].decision.code == "flagged")
    let match = try #require(outcomes[0].matches.first)
    #expect(match.type == .pdq && match.bank == "known" && match.label == "synthetic ring")
    #expect(match.distance <= 31)
    #expect(outcomes[1].decision == .allowed)
    // A tighter bank threshold than the copy's distance lets it through.
    try setup.db.setBankThreshold(name: "known", threshold: max(0, match.distance - 1), by: "mod")
    if match.distance > 0 {
      #expect(try setup.scan([jpeg])[0].decision == .allowed)
    }
  }

  @Test func resizedCopiesMatchWithinThreshold() throws {
    let setup = try Setup()
    defer { setup.scratch.remove() }
    let image = Picture.make()
    var paths: [String] = []
    for (w, h) in [(180, 120), (720, 480), (300, 240)] {
      let bytes = try ImageEncoder.encodeJPEG(image.downscaled(width: w, height: h), quality: 85)
      paths.append(try setup.scratch.write("resized-\(w)x\(h).jpg", bytes: bytes))
    }
    for outcome in try setup.scan(paths) {
      #expect(outcome.decision.code == "flagged", "\(outcome.input)")
      #expect((outcome.matches.first?.distance ?? 99) <= 31, "\(outcome.input)")
    }
  }

  @Test func rotationsAndFlipsMatchOnlyWithDihedralVariants() throws {
    let setup = try Setup()
    defer { setup.scratch.remove() }
    let image = Picture.make()
    var paths: [String] = []
    for orientation in ImageOrientation.allCases where orientation != .up {
      let bytes = try ImageEncoder.encodePNG(image.oriented(orientation))
      paths.append(try setup.scratch.write("t\(orientation.rawValue).png", bytes: bytes))
    }
    let plain = try setup.scan(paths)
    #expect(plain.allSatisfy { $0.decision == .allowed }, "\(plain.map(\.decision))")
    let dihedral = try setup.scan(paths, dihedral: true)
    for outcome in dihedral {
      #expect(outcome.decision.code == "flagged", "\(outcome.input)")
      #expect((outcome.matches.first?.distance ?? 99) <= 31)
    }
  }

  @Test func disabledBanksDoNotMatch() throws {
    let setup = try Setup(alsoSHA256: true)
    defer { setup.scratch.remove() }
    try setup.db.setBankEnabled(name: "known", enabled: false, by: "mod")
    #expect(try setup.scan([setup.original])[0].decision == .allowed)
    try setup.db.setBankEnabled(name: "known", enabled: true, by: "mod")
    #expect(try setup.scan([setup.original])[0].decision.code == "flagged")
  }

  @Test func brokenFilesGiveClearErrorsNotCrashes() throws {
    let setup = try Setup()
    defer { setup.scratch.remove() }
    let png = try ImageEncoder.encodePNG(Picture.make())
    let jpeg = try ImageEncoder.encodeJPEG(Picture.make(), quality: 80)
    var state: UInt32 = 12345
    let noise: [UInt8] = (0..<4000).map { _ in
      state = state &* 1_103_515_245 &+ 12345
      return UInt8(truncatingIfNeeded: state >> 16)
    }
    let inputs = [
      try setup.scratch.write("truncated.png", bytes: Array(png.prefix(png.count / 2))),
      try setup.scratch.write("truncated.jpg", bytes: Array(jpeg.prefix(200))),
      try setup.scratch.write("header-only.png", bytes: Array(png.prefix(8))),
      try setup.scratch.write("empty.png", bytes: []),
      try setup.scratch.write("text.png", "not an image at all"),
      try setup.scratch.write("noise.jpg", bytes: [0xFF, 0xD8, 0xFF] + noise),
      setup.scratch.path + "/missing.png",
      setup.scratch.path,
    ]
    let outcomes = try setup.scan(inputs)
    for outcome in outcomes {
      guard case .error(let message) = outcome.decision else {
        Issue.record("\(outcome.input): expected an error, got \(outcome.decision)")
        continue
      }
      #expect(message.hasPrefix(outcome.input + ": "), "\(message)")
    }
    // Over the pixel limit: refused from the header, before decoding.
    let big = try setup.gate(maxPixels: 1000).scan(
      inputs: [setup.original], account: "A-granted", service: "chat-eu")
    guard case .error(let message) = big[0].decision else {
      Issue.record("expected an error for an oversized image")
      return
    }
    #expect(message.contains("pixel"), "\(message)")
    #expect(try count(setup.db, "SELECT count(*) FROM flagged_item") == 0)
  }

  @Test func anUndecodableFileStillMatchesByDigest() throws {
    let setup = try Setup()
    defer { setup.scratch.remove() }
    let path = try setup.scratch.write("clip.bin", "a benign stand-in for a video file")
    let sha = FileDigests(of: Array("a benign stand-in for a video file".utf8)).sha256
    try setup.db.importBank(name: "videos", entries: [.init(type: .sha256, hash: sha)], by: "mod")
    let outcome = try setup.scan([path])[0]
    #expect(outcome.decision.code == "flagged")
    #expect(outcome.matches.first?.bank == "videos")
    #expect(outcome.pdq == nil && outcome.imageError != nil)
  }

  @Test func aSHA1DigestFromAFingerprintListMatches() throws {
    let setup = try Setup()
    defer { setup.scratch.remove() }
    let bytes = try ImageDecoder.readFile(setup.original)
    // SHA-1 of the PNG's bytes, computed independently of csar (the `sha1sum` tool's value).
    let sha1 = try sha1sum(setup.original)
    #expect(FileDigests(of: bytes).sha1 == sha1)
    try setup.db.setBankEnabled(name: "known", enabled: false, by: "mod")
    try setup.db.importBank(name: "ncmec", entries: [.init(type: .sha1, hash: sha1)], by: "mod")
    let outcome = try setup.scan([setup.original])[0]
    #expect(outcome.decision.code == "flagged")
    #expect(outcome.matches.map(\.type) == [.sha1])
    #expect(outcome.matches.first?.bank == "ncmec")
    #expect(outcome.sha1 == sha1)
    #expect(outcome.jsonLine.contains(#""sha1":"\#(sha1)""#))
  }

  @Test func lowQualityPDQMatchesAreReportedNotActedOn() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    let flat = RGBImage(width: 64, height: 64, red: 128, green: 128, blue: 128)
    let path = try scratch.write("flat.png", bytes: ImageEncoder.encodePNG(flat))
    let pdq = PDQ.hash(flat)
    #expect(pdq.quality < 50)
    try db.importBank(name: "known", entries: [.init(type: .pdq, hash: pdq.hash.hex)], by: "mod")
    let outcome = try UploadGate(database: db, operatorName: "mod")
      .scan(inputs: [path], account: "A-granted", service: "chat-eu")[0]
    #expect(outcome.decision == .allowed)
    #expect(outcome.untrustedPDQMatches.map(\.bank) == ["known"])
  }

  @Test func urlsAreMatchedAgainstEnabledLists() throws {
    let setup = try Setup()
    defer { setup.scratch.remove() }
    try setup.db.importURLList(
      name: "sb", entries: [.init(expression: "evil.example/", label: "phish")], by: "mod")
    let outcomes = try setup.scan([
      "https://cdn.EVIL.example/a/b.png", "https://fine.example/", "http:///no-host",
    ])
    #expect(outcomes.map(\.decision.code) == ["flagged", "allowed", "error"])
    #expect(outcomes[0].urlHits.map(\.label) == ["phish"])
    let url: [String] = try column(setup.db, "SELECT url || ' ' || bank FROM flagged_item")
    #expect(url == ["https://cdn.evil.example/a/b.png sb"])
  }

  @Test func lookupsQueueNothing() throws {
    let setup = try Setup()
    defer { setup.scratch.remove() }
    let outcomes = setup.gate().lookup(inputs: [setup.original])
    #expect(outcomes[0].decision == .matched(kind: .knownMatch))
    #expect(try count(setup.db, "SELECT count(*) FROM flagged_item") == 0)
  }
}

/// The SHA-1 of a file as `sha1sum` prints it.
func sha1sum(_ path: String) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/sha1sum")
  process.arguments = [path]
  let pipe = Pipe()
  process.standardOutput = pipe
  try process.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
}
