// The upload gate and the consent document for twin accounts (one id in NFD and NFC, kept
// apart by `v6-nfc-ids`): the account spelt answers, every twin's consent is weighed, and
// every answer names the twins.

import Compliance
import Foundation
import GRDB
import Testing

@testable import Moderation
@testable import Store

@Suite("Twin accounts at the upload gate")
struct TwinGateTests {
  static let nfd = "Zoe\u{308}-4", nfc = "Zo\u{EB}-4"
  /// Row ids of the twins in ``database(nfd:nfc:)``.
  static let nfdId: Int64 = 5, nfcId: Int64 = 6

  /// The moderation database with twins as `v6-nfc-ids` leaves them (5 holds the NFD
  /// spelling beside 6 in NFC, listed as kept), and their consent on chat-eu.
  static func database(nfd: [ConsentState], nfc: [ConsentState]) throws -> AppDatabase {
    let db = try moderationDatabase()
    try db.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO account (id, external_id, pseudonym, created_at) VALUES
            (5, ?1, 'u-000000000005', 0), (6, ?2, 'u-000000000006', 0)
          """, arguments: [Self.nfd, Self.nfc])
      try db.execute(
        sql: """
          INSERT INTO id_respelling (kind, stored, normalized, account_id, kept)
          VALUES ('account', ?, ?, 5, 1)
          """, arguments: [Self.nfd, Self.nfc])
    }
    for (account, states) in [(nfdId, nfd), (nfcId, nfc)] {
      for state in states { try change(db, account, state) }
    }
    return db
  }

  static func change(_ db: AppDatabase, _ account: Int64, _ state: ConsentState) throws {
    _ = try db.recordConsentChange(
      accountId: account, serviceId: 1, to: state, source: .app, termsVersion: "2025-01",
      reason: nil, by: "mod")
  }

  static func object(_ line: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
  }

  /// Before, both spellings consulted the NFC account alone: it had granted, so the upload
  /// was read and scanned although the account holding the NFD spelling had refused.
  @Test func anUploadIsReadOnlyWhenEveryTwinGrantedConsent() throws {
    let db = try Self.database(nfd: [.refused], nfc: [.granted])
    let gate = UploadGate(database: db, operatorName: "mod")
    let url = "https://example.org/picture"

    let byNFC = try gate.scan(inputs: [url], account: Self.nfc, service: "chat-eu")
    #expect(byNFC.map(\.decision) == [.blockedByTwin(.granted)])
    #expect(byNFC[0].canonicalURL == nil, "nothing of a blocked upload is looked at")
    #expect(byNFC[0].twins.map(\.account.id) == [Self.nfdId])
    #expect(byNFC[0].twins.map(\.consent) == [.refused])
    let json = try Self.object(byNFC[0].jsonLine)
    #expect(json["decision"] as? String == "blocked")
    #expect(json["reason"] as? String == "a twin account has not granted consent")
    #expect(json["consent"] as? String == "granted")
    let twins = try #require(json["twins"] as? [[String: Any]])
    #expect(twins.map { $0["pseudonym"] as? String } == ["u-000000000005"])
    #expect(twins.map { $0["consent"] as? String } == ["refused"])
    #expect(
      twins.map { ($0["account"] as? String).map { Array($0.utf8) } }
        == [Array(Self.nfd.utf8)])

    // The NFD spelling answers for its own account, which refused.
    let byNFD = try gate.scan(inputs: [url], account: Self.nfd, service: "chat-eu")
    #expect(byNFD.map(\.decision) == [.blockedNoConsent(.refused)])
    #expect(byNFD[0].twins.map(\.account.id) == [Self.nfcId])
    #expect(try Self.object(byNFD[0].jsonLine)["reason"] as? String == "no consent")

    // Each refusal is audited with why and the twins' consent.
    let events = try column(
      db, "SELECT details_json FROM audit_event WHERE action = 'scan.blocked' ORDER BY id",
      as: String.self)
    try #require(events.count == 2)
    #expect(events[0].contains("\"reason\":\"a twin account has not granted consent\""))
    #expect(events[0].contains("\"twins\":[{\"account\":5,\"consent\":\"refused\"}]"))
    #expect(events[1].contains("\"reason\":\"no consent\""))

    // Once both granted, either spelling is admitted for its own account, twins named.
    try Self.change(db, Self.nfdId, .granted)
    let spellings = [(Self.nfd, Self.nfdId, Self.nfcId), (Self.nfc, Self.nfcId, Self.nfdId)]
    for (spelling, id, twin) in spellings {
      guard case .granted(let subject) = try gate.admit(account: spelling, service: "chat-eu")
      else {
        Issue.record("\(spelling.unicodeScalars.map(\.value)): both twins granted")
        continue
      }
      #expect(subject.accountId == id)
      let outcome = gate.scan(url: url, subject: subject)
      #expect(outcome.decision == .allowed)
      #expect(outcome.twins.map(\.account.id) == [twin])
      #expect((try Self.object(outcome.jsonLine)["twins"] as? [[String: Any]])?.count == 1)
    }
  }

  /// An account without a twin answers as before: no `twins` key, the same reasons.
  @Test func anAccountWithoutTwinsAnswersAsBefore() throws {
    let db = try Self.database(nfd: [.refused], nfc: [.granted])
    let gate = UploadGate(database: db, operatorName: "mod")
    let granted = try gate.scan(
      inputs: ["https://example.org/a"], account: "A-granted", service: "chat-eu")
    #expect(granted.map(\.decision) == [.allowed] && granted[0].twins.isEmpty)
    #expect(try Self.object(granted[0].jsonLine)["twins"] == nil)
    let refused = try gate.scan(
      inputs: ["https://example.org/a"], account: "A-refused", service: "chat-eu")
    #expect(refused.map(\.decision) == [.blockedNoConsent(.refused)])
    #expect(try Self.object(refused[0].jsonLine)["twins"] == nil)
  }

  /// `consent show --json` and `GET /v1/consent/{account}`: the spelling given answers, the
  /// twins come with their consent, and "may share" is the gate's answer.
  @Test func theConsentDocumentAnswersForTheSpellingGivenAndWeighsTheTwins() throws {
    let db = try Self.database(nfd: [.granted], nfc: [])
    let document = try #require(try ConsentDocument.json(database: db, account: Self.nfd))
    let parsed = try Self.object(document.description)
    #expect((parsed["account"] as? String).map { Array($0.utf8) } == Array(Self.nfd.utf8))
    #expect(parsed["pseudonym"] as? String == "u-000000000005")
    let services = try #require(parsed["services"] as? [[String: Any]])
    #expect(services.map { $0["service"] as? String } == ["chat-eu", "foto-de"])
    #expect(services[0]["state"] as? String == "granted")
    #expect(services[0]["may_share_visual_content_and_urls"] as? Bool == false)
    let twins = try #require(parsed["twins"] as? [[String: Any]])
    #expect(twins.map { $0["pseudonym"] as? String } == ["u-000000000006"])
    let twinServices = try #require(twins.first?["services"] as? [[String: Any]])
    #expect(twinServices.map { $0["state"] as? String } == ["not_asked", "not_asked"])

    let byNFC = try Self.object(
      try #require(try ConsentDocument.json(database: db, account: Self.nfc)).description)
    #expect(byNFC["pseudonym"] as? String == "u-000000000006")

    try Self.change(db, Self.nfcId, .granted)
    let agreed = try Self.object(
      try #require(try ConsentDocument.json(database: db, account: Self.nfd)).description)
    let shared = (agreed["services"] as? [[String: Any]])?.first
    #expect(shared?["may_share_visual_content_and_urls"] as? Bool == true)

    let plain = try Self.object(
      try #require(try ConsentDocument.json(database: db, account: "A-granted")).description)
    #expect((plain["twins"] as? [Any])?.isEmpty == true)
    let plainShared = (plain["services"] as? [[String: Any]])?.first
    #expect(plainShared?["may_share_visual_content_and_urls"] as? Bool == true)
  }

  /// A classifier's flag is the same gate (its media is read): before, the NFC account's
  /// grant let it through although the NFD twin had refused.
  @Test func aClassifierFlagForATwinThatRefusedIsRejectedBeforeItsMediaIsRead() throws {
    let db = try Self.database(nfd: [.refused], nfc: [.granted])
    let text = #"{"account":"\#(Self.nfc)","service":"chat-eu","media":"m/none.png","#
      + #""model":"nm-2","score":0.99,"id":"ev-1"}"#
    do {
      _ = try Imports.flags(
        FlagsFile.parse(text, file: "flags.jsonl"), name: "flags.jsonl", skipInvalid: false,
        threshold: 0.8, database: db, by: "mod")
      Issue.record("a flag for an account whose twin refused must not be imported")
    } catch ModerationError.invalidLines(_, let problems) {
      #expect(problems.map(\.line) == [1])
      #expect(
        problems.first?.reason.contains(
          "granted consent on chat-eu, but a twin account (its id in another Unicode form; "
            + "see csar consent twins) has not") == true, "\(problems)")
    }
    #expect(try count(db, "SELECT count(*) FROM flagged_item") == 0)
  }
}
