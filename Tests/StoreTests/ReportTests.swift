import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

@Suite("Reports: pseudonymisation, export, verdicts, four-eyes reveal")
struct ReportTests {
  static let key = ProviderKey(bytes: Array(0..<32))

  /// A database with `n` ready known-material reports for account 1 (which has an IP address,
  /// a device id and a name).
  static func withReadyReports(_ n: Int, clock: TestClock = TestClock(), path: String? = nil)
    throws -> (AppDatabase, [String])
  {
    let db = try seededDatabase(path: path, clock: clock.function)
    try db.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO account_detail (account_id, field, value, seen_at) VALUES
            (1, 'ip_address', '203.0.113.7', 1), (1, 'device_id', 'dev-42', 2),
            (1, 'name', 'Jo Example', 3)
          """)
    }
    var refs: [String] = []
    for _ in 0..<n {
      let item = try queueItem(db, kind: .knownMatch, account: 1)
      refs.append(try #require(try claimAndDecide(db, item, .confirm).reportCaseRef))
    }
    return (db, refs)
  }

  static func json(_ path: String) throws -> [String: Any] {
    let data = try #require(FileManager.default.contents(atPath: path))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  // MARK: - Pseudonymisation

  @Test func pseudonymsAreKeyedAndStable() {
    let other = ProviderKey(bytes: Array(repeating: 1, count: 32))
    let a = Self.key.pseudonym(field: "account_id", value: "A100000001")
    #expect(a == Self.key.pseudonym(field: "account_id", value: "A100000001"))
    let same = ProviderKey(bytes: Array(0..<32))
    #expect(a == same.pseudonym(field: "account_id", value: "A100000001"))
    #expect(a != other.pseudonym(field: "account_id", value: "A100000001"))
    #expect(a != Self.key.pseudonym(field: "account_id", value: "A100000002"))
    #expect(a != Self.key.pseudonym(field: "name", value: "A100000001"))
    #expect(a.count == 64 && a.allSatisfy(\.isHexDigit))
  }

  /// HMAC-SHA-256 under the key of `field` NUL `value` (checked against Python's hmac).
  @Test func pseudonymIsHMACSHA256OfFieldNulValue() {
    let jefe = ProviderKey(bytes: Array("Jefe".utf8))
    #expect(
      jefe.pseudonym(field: "account_id", value: "A100000001")
        == "d36ee78da49f7dafb8c19e222895d1a5f5c5658fbade99454b1d10b2abfd6814")
  }

  @Test func keyFileIsCreatedWith0600AndReused() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("keys/provider.key")
    let first = try ProviderKey.loadOrCreate(path: path)
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((attributes[.posixPermissions] as? Int) == 0o600)
    let again = try ProviderKey.loadOrCreate(path: path)
    #expect(
      first.pseudonym(field: "account_id", value: "x")
        == again.pseudonym(field: "account_id", value: "x"))
    let other = try ProviderKey.loadOrCreate(path: folder.file("other.key"))
    #expect(
      first.pseudonym(field: "account_id", value: "x")
        != other.pseudonym(field: "account_id", value: "x"))
  }

  @Test func keyFileOthersCanReadIsRefused() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("provider.key")
    _ = try ProviderKey.loadOrCreate(path: path)
    chmod(path, 0o644)
    let tooOpen = ProviderKeyError.unsafe(
      .tooOpen(path: path, what: "provider key", mode: 0o644, fix: 0o600))
    #expect(throws: tooOpen) { _ = try ProviderKey.loadOrCreate(path: path) }
    #expect(tooOpen.description.contains("chmod 600"))
    chmod(path, 0o600)
    try "not hex\n".write(toFile: path, atomically: false, encoding: .utf8)
    #expect(throws: ProviderKeyError.malformed(path: path)) {
      _ = try ProviderKey.load(path: path)
    }
  }

  // MARK: - Export

  @Test func exportWritesPseudonymisedFilesAndMarksThemSentOnce() throws {
    let (db, refs) = try Self.withReadyReports(3)
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let outbox = try Outbox(directory: folder.file("outbox"))
    let exported = try db.exportReadyReports(
      to: outbox, provider: "Example GmbH", key: Self.key, by: "alice", batchSize: 2)
    #expect(exported.map(\.caseRef) == refs)
    let files = try FileManager.default.contentsOfDirectory(atPath: outbox.directory).sorted()
    #expect(files == refs.map { $0 + ".json" })
    let report = try Self.json(outbox.path(refs[0] + ".json"))
    #expect(report["case_ref"] as? String == refs[0])
    #expect(report["provider"] as? String == "Example GmbH")
    #expect(report["pseudonymised"] as? Bool == true)
    let account = try #require(report["account"] as? [String: Any])
    #expect(
      account["account_id"] as? String
        == Self.key.pseudonym(field: "account_id", value: "A100000001"))
    #expect(
      account["ip_addresses"] as? [String]
        == [Self.key.pseudonym(field: "ip_address", value: "203.0.113.7")])
    let text = try String(contentsOfFile: outbox.path(refs[0] + ".json"), encoding: .utf8)
    for clear in ["A100000001", "203.0.113.7", "dev-42", "Jo Example"] {
      #expect(!text.contains(clear))
    }
    #expect(try db.reportListings(state: .sent).count == 3)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'report.export'") == 3)
    // A re-run exports nothing and leaves the files alone.
    #expect(try db.exportReadyReports(to: outbox, provider: "P", key: Self.key, by: "alice")
      .isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: outbox.directory).count == 3)
    #expect(try db.verifyAuditChain().isOK)
  }

  /// Between writing the files and marking the reports, one decision is undone (its report
  /// voided) and another export marks a report first.
  @Test func changesBetweenWritingAndMarkingAreRespected() throws {
    let clock = TestClock()
    let (db, refs) = try Self.withReadyReports(3, clock: clock)
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let outbox = try Outbox(directory: folder.file("outbox"))
    let undone = try #require(try db.lastDecision(by: "alice"))
    let exported = try db.exportReadyReports(
      to: outbox, provider: "P", key: Self.key, by: "alice", batchSize: 10,
      beforeMarking: {
        try db.undoDecision(undone.id, by: "alice")
        try db.writer.write {
          try $0.execute(
            sql: "UPDATE report SET state = 'sent' WHERE case_ref = ?", arguments: [refs[0]])
        }
      })
    #expect(exported.map(\.caseRef) == [refs[1]])
    let files = try FileManager.default.contentsOfDirectory(atPath: outbox.directory).sorted()
    #expect(files == [refs[0] + ".json", refs[1] + ".json"])
    #expect(try db.reportListings().map(\.caseRef) == [refs[0], refs[1]])
  }

  @Test func failedWriteMarksNothing() throws {
    let (db, refs) = try Self.withReadyReports(2)
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let outbox = try Outbox(directory: folder.file("outbox"))
    // A folder where the second report's file should go: its rename fails (even for root).
    try FileManager.default.createDirectory(
      atPath: outbox.path(refs[1] + ".json"), withIntermediateDirectories: true)
    #expect(throws: ReportError.self) {
      try db.exportReadyReports(to: outbox, provider: "P", key: Self.key, by: "alice")
    }
    #expect(try db.reportListings(state: .ready).count == 2)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'report.export'") == 0)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: outbox.directory)
    #expect(!leftovers.contains { $0.hasSuffix(".tmp") })
  }

  // MARK: - Verdicts

  static func exported(_ n: Int) throws -> (AppDatabase, [String], TempFolder) {
    let (db, refs) = try withReadyReports(n)
    let folder = try TempFolder()
    try db.exportReadyReports(
      to: try Outbox(directory: folder.file("outbox")), provider: "P", key: key, by: "alice")
    return (db, refs, folder)
  }

  @Test func verdictsWithUnknownIdsAreRefusedWholeWithLineNumbers() throws {
    let (db, refs, folder) = try Self.exported(2)
    defer { folder.cleanUp() }
    let text = """
      {"case_ref": "\(refs[0])", "verdict": "not_manifestly_unfounded"}
      {"case_ref": "CSAR-2025-999999", "verdict": "manifestly_unfounded"}

      {"case_ref": "\(refs[1])", "verdict": "maybe"}
      not json
      """
    do {
      try db.importVerdicts(Array(text.utf8), format: .jsonl, file: "v.jsonl", by: "alice")
      Issue.record("expected the import to fail")
    } catch let error as VerdictImportError {
      #expect(error.issues.map(\.line) == [2, 4, 5])
      #expect(error.issues[0].reason.contains("no report \"CSAR-2025-999999\""))
      #expect(error.description.contains("v.jsonl:4: verdict"))
    }
    #expect(try db.reportListings(state: .sent).count == 2)
    #expect(try count(db, "SELECT count(*) FROM audit_event WHERE action = 'report.verdict'") == 0)
  }

  @Test func verdictsApplyFromCSVAndARerunChangesNothing() throws {
    let (db, refs, folder) = try Self.exported(3)
    defer { folder.cleanUp() }
    let csv = """
      case_ref,verdict,comment
      \(refs[0]),not_manifestly_unfounded,
      \(refs[1]),manifestly_unfounded,"see ""note"" here"

      """
    let summary = try db.importVerdicts(Array(csv.utf8), format: .csv, file: "v.csv", by: "alice")
    #expect(summary.applied == 2 && summary.unchanged == 0)
    #expect(summary.founded == [refs[0]] && summary.closed == [refs[1]])
    let listed = try db.reportListings()
    #expect(listed.map(\.state) == [.founded, .closed, .sent])
    #expect(listed[1].notifyDueAt == fixedNow && listed[0].notifyDueAt == nil)
    // The user of the closed case is notified once; a founded case has nobody to notify.
    try db.markUserNotified(caseRef: refs[1], by: "alice")
    try db.markUserNotified(caseRef: refs[1], by: "alice")
    #expect(try db.reportListings()[1].notifiedAt == fixedNow)
    #expect(throws: ReportError.noNotificationDue(caseRef: refs[0])) {
      try db.markUserNotified(caseRef: refs[0], by: "alice")
    }
    #expect(
      try count(db, "SELECT count(*) FROM audit_event WHERE action = 'report.user_notified'") == 1)
    let again = try db.importVerdicts(Array(csv.utf8), format: .csv, file: "v.csv", by: "alice")
    #expect(again.applied == 0 && again.unchanged == 2)
    // Contradicting a recorded verdict is refused.
    let flip = "case_ref,verdict\n\(refs[1]),not_manifestly_unfounded\n"
    #expect(throws: VerdictImportError.self) {
      try db.importVerdicts(Array(flip.utf8), format: .csv, file: "f.csv", by: "alice")
    }
  }

  @Test func verdictOnAReportNotYetSentIsRefused() throws {
    let (db, refs) = try Self.withReadyReports(1)
    let line = "{\"case_ref\":\"\(refs[0])\",\"verdict\":\"manifestly_unfounded\"}\n"
    #expect(throws: VerdictImportError.self) {
      try db.importVerdicts(Array(line.utf8), format: .jsonl, file: "v", by: "alice")
    }
    let header = "verdict\nx\n"
    do {
      try db.importVerdicts(Array(header.utf8), format: .csv, file: "h.csv", by: "alice")
    } catch let error as VerdictImportError {
      #expect(error.issues.first?.line == 1)
    }
  }

  @Test func verdictFilesWithBOMAndCRLFParse() {
    let csv = "\u{FEFF}Case_Ref,Verdict\r\nCSAR-2025-100001, manifestly_unfounded \r\n\r\n"
    let parsed = VerdictFileParser.parse(Array(csv.utf8), format: .csv)
    #expect(parsed.issues.isEmpty)
    #expect(
      parsed.lines
        == [VerdictLine(line: 2, caseRef: "CSAR-2025-100001", verdict: .manifestlyUnfounded)])
    let jsonl = "{\"verdict\":\"not_manifestly_unfounded\"}\n{\"case_ref\":\"X\",\"verdict\":1}\n"
    let bad = VerdictFileParser.parse(Array(jsonl.utf8), format: .jsonl)
    #expect(bad.issues.map(\.line) == [1, 2])
    #expect(bad.issues[0].reason == "case_ref: missing")
  }

  @Test func outboxRefusesNamesOutsideIt() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let outbox = try Outbox(directory: folder.file("o"))
    for name in ["../escape.json", ".hidden", ""] {
      #expect(throws: ReportError.self) { try outbox.write("{}", as: name) }
    }
    try outbox.write("{}", as: "a.json")
    #expect(throws: ReportError.self) { _ = try Outbox(directory: outbox.path("a.json")) }
  }

  // MARK: - Four eyes

  @Test func revealNeedsTheApprovalOfAnotherLead() throws {
    let (db, refs, folder) = try Self.exported(1)
    defer { folder.cleanUp() }
    try db.ensureOperator(name: "dana", role: .lead, uid: 1003)
    let ref = refs[0]
    let outbox = try Outbox(directory: folder.file("reveal"))
    #expect(throws: ReportError.wrongState(caseRef: ref, state: .sent, needed: .founded)) {
      try db.requestReveal(caseRef: ref, by: "alice")
    }
    let verdict = "{\"case_ref\":\"\(ref)\",\"verdict\":\"not_manifestly_unfounded\"}"
    try db.importVerdicts(Array(verdict.utf8), format: .jsonl, file: "v", by: "alice")
    #expect(throws: ReportError.noRevealRequest(caseRef: ref)) {
      try db.reveal(caseRef: ref, to: outbox, provider: "P", key: Self.key, by: "alice")
    }
    try db.requestReveal(caseRef: ref, by: "bahar")
    #expect(throws: ReportError.awaitingApproval(caseRef: ref)) {
      try db.reveal(caseRef: ref, to: outbox, provider: "P", key: Self.key, by: "alice")
    }
    #expect(throws: ReportError.notALead(operatorName: "alice")) {
      try db.approveReveal(caseRef: ref, by: "alice")
    }
    #expect(throws: ReportError.sameOperator(caseRef: ref, operatorName: "bahar")) {
      try db.approveReveal(caseRef: ref, by: "bahar")
    }
    try db.approveReveal(caseRef: ref, by: "dana")
    // The approver cannot be the one who reveals.
    #expect(throws: ReportError.awaitingApproval(caseRef: ref)) {
      try db.reveal(caseRef: ref, to: outbox, provider: "P", key: Self.key, by: "dana")
    }
    #expect(!FileManager.default.fileExists(atPath: outbox.path(ref + "-reveal.json")))
    let written = try db.reveal(
      caseRef: ref, to: outbox, provider: "P", key: Self.key, by: "bahar")
    let package = try Self.json(written.path)
    #expect(package["approved_by"] as? [String] == ["dana"])
    let report = try #require(package["report"] as? [String: Any])
    let account = try #require(report["account"] as? [String: Any])
    #expect(account["account_id"] as? String == "A100000001")
    #expect(account["names"] as? [String] == ["Jo Example"])
    let table = try #require(package["pseudonyms"] as? [String: String])
    #expect(table[Self.key.pseudonym(field: "account_id", value: "A100000001")] == "A100000001")
    #expect(try db.reportListings().first?.state == .revealed)
    #expect(throws: ReportError.wrongState(caseRef: ref, state: .revealed, needed: .founded)) {
      try db.reveal(caseRef: ref, to: outbox, provider: "P", key: Self.key, by: "bahar")
    }
    let actions = try db.writer.read {
      try String.fetchAll(
        $0, sql: "SELECT action FROM audit_event WHERE action LIKE 'report.%' ORDER BY id")
    }
    #expect(
      actions == [
        "report.create", "report.export", "report.verdict", "report.request_reveal",
        "report.approve_reveal", "report.reveal",
      ])
    #expect(try db.verifyAuditChain().isOK)
  }
}
