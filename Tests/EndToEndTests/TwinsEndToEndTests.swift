import Foundation
import Testing

/// Twin accounts (one id in NFD and in NFC, kept apart when a database from before NFC ids is
/// opened), shown by `csar consent twins`, `csar audit verify`, `csar consent show` and the
/// console, run as the built binary.
@Suite("Twin accounts end to end", .serialized)
struct TwinsEndToEndTests {
  static let nfd = "Zoe\u{308}-4", nfc = "Zo\u{EB}-4"
  static let nfdPseudonym = "u-7e57ab000001", nfcPseudonym = "u-7e57ab000002"

  /// SQL that takes a database back to before NFC ids (and twins): its next open respells
  /// its ids and keeps twins apart, as a database an earlier version wrote.
  static let beforeNFCIds = """
    DROP INDEX id_respelling_kept_account;
    DROP TABLE migration_time;
    DROP TABLE id_respelling;
    DELETE FROM grdb_migrations WHERE identifier IN ('v6-nfc-ids', 'v7-twins');
    """

  let directory: String
  let database: String

  init() throws {
    directory = try CsarBinary.temporaryDirectory()
    database = directory + "/demo.sqlite"
    let result = try CsarBinary.run(["demo", "--db", database, "--items", "40"])
    #expect(result.status == 0, "csar demo failed: \(result.err)")
  }

  func sql(_ query: String) throws -> String {
    let result = try Subprocess.run(["sqlite3", database, query])
    #expect(result.status == 0, "\(query): \(result.err)")
    return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  func csar(_ arguments: String...) throws -> (status: Int32, out: String, err: String) {
    try CsarBinary.run(arguments + ["--db", database])
  }

  /// The first item of a reviewer's queue.
  func firstItem() throws -> String {
    try sql(
      "SELECT id FROM flagged_item WHERE state = 'pending' ORDER BY priority, created_at, id "
        + "LIMIT 1")
  }

  /// The database as a csar from before NFC ids left it: the NFD account (consent granted on
  /// the first service, owner of `item`) beside its NFC twin. The next open keeps them apart.
  func addTwins(item: String) throws {
    _ = try sql(Self.twinsSQL(item: item))
  }

  /// SQL that makes the database one a csar from before NFC ids left with twins (see
  /// ``addTwins(item:)``).
  static func twinsSQL(item: String) -> String {
    """
    INSERT INTO account (external_id, pseudonym, created_at) VALUES
      ('\(Self.nfd)', '\(Self.nfdPseudonym)', 0), ('\(Self.nfc)', '\(Self.nfcPseudonym)', 0);
    INSERT INTO consent_event
      (event_id, account_id, service_id, state, occurred_at, source, terms_version)
      SELECT 'twin-1', a.id, s.id, 'granted', 1735725600, 'app', 'tos-1'
      FROM account a, (SELECT id FROM service ORDER BY code LIMIT 1) s
      WHERE a.pseudonym = '\(Self.nfdPseudonym)';
    INSERT INTO consent_current (account_id, service_id, state, updated_at)
      SELECT account_id, service_id, 'granted', 1735725600 FROM consent_event
      WHERE event_id = 'twin-1';
    UPDATE flagged_item SET account_id = (
      SELECT id FROM account WHERE pseudonym = '\(Self.nfdPseudonym)') WHERE id = \(item);
    \(Self.beforeNFCIds)
    """
  }

  /// Whether `text` holds `part` byte for byte (Swift's `contains` takes NFD and NFC as one).
  static func holds(_ text: String, _ part: String) -> Bool {
    let bytes = Array(text.utf8), needle = Array(part.utf8)
    guard needle.count <= bytes.count else { return false }
    return (0...(bytes.count - needle.count)).contains {
      bytes[$0..<($0 + needle.count)].elementsEqual(needle)
    }
  }

  @Test func twinsAreListedCountedByVerifyAndNamedByShow() throws {
    // None yet: a plain message, no JSON line, exit 0; verify says nothing of twins.
    let none = try csar("consent", "twins")
    #expect(none.status == 0 && none.out.hasPrefix("No twin accounts"), "\(none.out)\(none.err)")
    let noneJSON = try csar("consent", "twins", "--json")
    #expect(noneJSON.status == 0 && noneJSON.out.isEmpty, "\(noneJSON.out)")
    let plain = try csar("audit", "verify")
    #expect(plain.status == 0 && !plain.out.contains("twins"), "\(plain.out)\(plain.err)")

    try addTwins(item: try firstItem())
    let listed = try csar("consent", "twins")
    #expect(listed.status == 0, "\(listed.err)")
    let out = listed.out
    #expect(out.contains(": 2 accounts (kept apart by the NFC id migration, 20"), "\(out)")
    #expect(
      Self.holds(
        out, "account \(Self.nfcPseudonym)  id \"\(Self.nfc)\"  U+00EB  (in NFC, found by id)"),
      "\(out)")
    #expect(
      Self.holds(
        out,
        "account \(Self.nfdPseudonym)  id \"\(Self.nfd)\"  U+0065 U+0308  "
          + "(not NFC, found by this exact id or pseudonym)"), "\(out)")
    #expect(out.contains("granted since 2025-01-01T10:00:00Z; "), "\(out)")
    #expect(out.contains("consent: not asked on any service"), "\(out)")

    let json = try csar("consent", "twins", "--json")
    let lines = json.out.split(separator: "\n")
    try #require(lines.count == 1, "\(json.out)")
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
    #expect((object["kept_at"] as? String)?.hasSuffix("Z") == true, "\(object)")
    let accounts = object["accounts"] as? [[String: Any]] ?? []
    #expect(accounts.map { $0["pseudonym"] as? String } == [Self.nfcPseudonym, Self.nfdPseudonym])
    #expect(accounts.map { $0["nfc"] as? Bool } == [true, false])
    #expect(accounts.map { $0["code_points"] as? String } == ["U+00EB", "U+0065 U+0308"])
    let ids = accounts.compactMap { ($0["account"] as? String).map { Array($0.utf8) } }
    #expect(ids == [Array(Self.nfc.utf8), Array(Self.nfd.utf8)])

    // Verify counts them on a line of its own and still passes: twins are not tampering.
    let verified = try csar("audit", "verify")
    #expect(verified.status == 0, "\(verified.out)\(verified.err)")
    #expect(
      verified.out.contains(
        "twins: 1 account id held by 2 accounts in different Unicode forms (kept apart, not "
          + "tampering); list them: csar consent twins"), "\(verified.out)")
    let verifiedJSON = try csar("audit", "verify", "--json")
    #expect(verifiedJSON.status == 0, "\(verifiedJSON.err)")
    #expect(verifiedJSON.out.contains("\"ok\":true") && verifiedJSON.out.contains("\"twins\":1"))

    // The NFC spelling finds the NFC account, which names its twin.
    let shown = try csar("consent", "show", Self.nfc)
    #expect(shown.status == 0, "\(shown.err)")
    #expect(shown.out.contains("(pseudonym \(Self.nfcPseudonym))"), "\(shown.out)")
    #expect(
      shown.out.contains(
        "twin: account \(Self.nfdPseudonym) has this id in another Unicode form (U+00EB here, "
          + "U+0065 U+0308 there)"), "\(shown.out)")

    // The JSON document (the service's GET /v1/consent/{account} too) lists the twin.
    let document = try csar("consent", "show", "--json", Self.nfc)
    #expect(document.status == 0, "\(document.err)")
    let parsed = try JSONSerialization.jsonObject(with: Data(document.out.utf8)) as? [String: Any]
    let twins = parsed?["twins"] as? [[String: Any]]
    #expect(twins?.count == 1, "\(document.out)")
    #expect(twins?.first?["pseudonym"] as? String == Self.nfdPseudonym, "\(document.out)")
    #expect(
      (twins?.first?["account"] as? String).map { Self.holds($0, Self.nfd) } == true,
      "\(document.out)")
  }

  /// The first service's code and the first demo picture's path and SHA-256.
  func upload() throws -> (service: String, path: String, sha256: String) {
    let path = directory + "/media/1.png"
    let hashed = try CsarBinary.run(["hash", "--json", path])
    let object = try JSONSerialization.jsonObject(with: Data(hashed.out.utf8)) as? [String: Any]
    let sha256 = try #require(object?["sha256"] as? String, "\(hashed.out)\(hashed.err)")
    return (try sql("SELECT code FROM service ORDER BY code LIMIT 1"), path, sha256)
  }

  static func object(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
  }

  /// Before, a scan or `consent show` by the NFD id consulted the NFC account without a
  /// word: the NFD account (granted) went unmentioned by the scan, and once the NFC one
  /// granted while the NFD one had not, the upload was read all the same. Now the spelling
  /// given answers, the twin is named with its consent, and the upload is read only when
  /// both granted.
  @Test func aScanOrLookupByATwinsSpellingAnswersForItAndWeighsBoth() throws {
    try addTwins(item: try firstItem())
    let (service, path, sha256) = try upload()

    // By the NFD id: its own account granted, its twin was never asked: blocked, unread.
    let byNFD = try csar("scan", "--account", Self.nfd, "--service", service, "--json", path)
    #expect(byNFD.status == 0, "\(byNFD.err)")
    let blocked = Self.object(byNFD.out)
    #expect(blocked["decision"] as? String == "blocked", "\(byNFD.out)")
    #expect(blocked["reason"] as? String == "a twin account has not granted consent")
    #expect(blocked["consent"] as? String == "granted", "\(byNFD.out)")
    #expect(blocked["sha256"] == nil, "\(byNFD.out)")
    let twins = blocked["twins"] as? [[String: Any]] ?? []
    #expect(twins.map { $0["pseudonym"] as? String } == [Self.nfcPseudonym], "\(byNFD.out)")
    #expect(twins.map { $0["consent"] as? String } == ["not_asked"], "\(byNFD.out)")
    #expect(
      byNFD.err.contains(
        "twin: account \(Self.nfcPseudonym) holds this id in another Unicode form (U+00EB "
          + "there, U+0065 U+0308 as given), consent not_asked on \(service); uploads are "
          + "scanned only when every twin granted consent"), "\(byNFD.err)")

    // By the NFC id: its own account was never asked; the twin is named all the same.
    let byNFC = try csar("scan", "--account", Self.nfc, "--service", service, path)
    #expect(byNFC.out.contains("\tblocked: no consent\t(consent not_asked)"), "\(byNFC.out)")
    #expect(
      byNFC.err.contains("twin: account \(Self.nfdPseudonym) holds this id"), "\(byNFC.err)")
    #expect(byNFC.err.contains("consent granted on \(service)"), "\(byNFC.err)")

    // consent show by the NFD id is the NFD account, and may not share for its twin's sake.
    let shown = try csar("consent", "show", Self.nfd)
    #expect(shown.status == 0, "\(shown.err)")
    #expect(shown.out.contains("(pseudonym \(Self.nfdPseudonym))"), "\(shown.out)")
    #expect(
      shown.out.contains(
        "granted    may share visual content and URLs: no (twin \(Self.nfcPseudonym) "
          + "not_asked) since 2025-01-01T10:00:00Z"), "\(shown.out)")
    let document = Self.object(try csar("consent", "show", "--json", Self.nfd).out)
    #expect(document["pseudonym"] as? String == Self.nfdPseudonym)
    let first = (document["services"] as? [[String: Any]])?.first {
      $0["service"] as? String == service
    }
    #expect(first?["state"] as? String == "granted")
    #expect(first?["may_share_visual_content_and_urls"] as? Bool == false, "\(document)")

    // The backend grants consent sending the NFD id: imports file it on the NFC account.
    let events = directory + "/events.jsonl"
    let event =
      #"{"event_id":"twin-2","account":"\#(Self.nfd)","service":"\#(service)","#
      + #""state":"granted","occurred_at":"2026-11-01T10:00:00Z","source":"app","#
      + #""terms_version":"tos-1"}"#
    try (event + "\n").write(toFile: events, atomically: true, encoding: .utf8)
    let imported = try csar("consent", "import", events)
    #expect(imported.status == 0, "\(imported.out)\(imported.err)")
    let nfcDocument = Self.object(try csar("consent", "show", "--json", Self.nfc).out)
    #expect(nfcDocument["pseudonym"] as? String == Self.nfcPseudonym)
    let shared = (nfcDocument["services"] as? [[String: Any]])?.first {
      $0["service"] as? String == service
    }
    #expect(shared?["state"] as? String == "granted", "\(nfcDocument)")
    #expect(shared?["may_share_visual_content_and_urls"] as? Bool == true, "\(nfcDocument)")

    // Both granted: the upload is read (its digest is there) for the account spelt.
    let admitted = try csar("scan", "--account", Self.nfd, "--service", service, "--json", path)
    let read = Self.object(admitted.out)
    #expect(["allowed", "flagged"].contains(read["decision"] as? String), "\(admitted.out)")
    #expect(read["sha256"] as? String == sha256, "\(admitted.out)")
    let named = read["twins"] as? [[String: Any]] ?? []
    #expect(named.map { $0["consent"] as? String } == ["granted"], "\(admitted.out)")
    #expect(admitted.err.contains("consent granted on \(service)"), "\(admitted.err)")

    // Refusals are audited with their reason; twins are still no tampering.
    #expect(
      try sql(
        "SELECT count(*) FROM audit_event WHERE action = 'scan.blocked' "
          + "AND details_json LIKE '%a twin account has not granted consent%'") == "1")
    #expect(try csar("audit", "verify").status == 0)

    // The NFD account withdraws (as its history before NFC ids could say): the NFC account's
    // grant no longer lets an upload through by either spelling. Before, a scan by either
    // spelling read it.
    _ = try sql(
      """
      INSERT INTO consent_event
        (event_id, account_id, service_id, state, occurred_at, source, terms_version)
        SELECT 'twin-3', account_id, service_id, 'withdrawn', 1735812000, 'app', 'tos-1'
        FROM consent_event WHERE event_id = 'twin-1';
      UPDATE consent_current SET state = 'withdrawn', updated_at = 1735812000
        WHERE (account_id, service_id) =
          (SELECT account_id, service_id FROM consent_event WHERE event_id = 'twin-1');
      """)
    // (Pairs, not a comparison: Swift's == takes the two spellings as one string.)
    for (spelling, twinState) in [(Self.nfc, "withdrawn"), (Self.nfd, "granted")] {
      let scanned = try csar("scan", "--account", spelling, "--service", service, "--json", path)
      let answer = Self.object(scanned.out)
      #expect(answer["decision"] as? String == "blocked", "\(scanned.out)")
      #expect(answer["sha256"] == nil, "nothing of it is read: \(scanned.out)")
      let states = (answer["twins"] as? [[String: Any]] ?? []).map { $0["consent"] as? String }
      #expect(states == [twinState], "\(scanned.out)")
    }
  }

  /// What a person sees: the review item of a twin says so before a decision, and the
  /// Consent screen marks both accounts and says so on the open one.
  @Test func theConsoleShowsTwinsToAPerson() throws {
    let item = try firstItem()
    try addTwins(item: item)
    let session = try TmuxSession(width: 120, height: 40, directory: directory)
    try session.type(
      "\(try CsarBinary.path) --db \(database) --operator alice; echo \"EXIT=$?\"")
    try session.send("Enter")
    try session.waitFor("Re-categorisation deadlines", timeout: 60)
    try session.send("3")
    try session.waitFor("Review queue ·", timeout: 30)
    try session.send("Enter")
    try session.waitFor(
      "Item \(item) · claimed until", "Twin", "another account has this id",
      Self.nfcPseudonym, "y confirm", timeout: 30)
    try session.send("Escape")
    try session.waitUntilGone("claimed until", timeout: 30)

    try session.send("4")
    try session.waitFor("Accounts ·", timeout: 30)
    try session.send("/")
    try session.waitFor("Search account", timeout: 30)
    try session.type("Zo")
    try session.send("Enter")
    try session.waitFor("2 accounts match", "-4 (twin)", timeout: 30)
    try session.send("Enter")
    try session.waitFor(
      "Twin: another account has this id in another Unicode form",
      "(U+00EB there, U+0065 U+0308 here); never merged", timeout: 30)
    try session.send("q")
    try session.waitFor("EXIT=0", timeout: 30)
  }
}
