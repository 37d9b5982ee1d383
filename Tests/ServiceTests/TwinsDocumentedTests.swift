// The OpenAPI document describes what the service answers for an account with twins (one id
// in two Unicode forms): the scan reply's `twins` and its reason, and the consent document's
// twins with their consent.

import Compliance
import Foundation
import GRDB
import Testing

@testable import Moderation
@testable import Service
@testable import Store

@Suite("Service: twin accounts in the OpenAPI document")
struct TwinsDocumentedTests {
  typealias Object = [String: Any]

  static func schemas() throws -> [String: Object] {
    let root = try #require(
      try JSONSerialization.jsonObject(with: Data(try CSARServer.openAPIDocument())) as? Object)
    return try #require((root["components"] as? Object)?["schemas"] as? [String: Object])
  }

  static func properties(_ schema: Object?) -> [String: Object] {
    schema?["properties"] as? [String: Object] ?? [:]
  }

  static func items(_ property: Object?) -> Object? { property?["items"] as? Object }

  /// A database with account 1 in NFD (granted on `chat`) beside account 2 in NFC (refused),
  /// kept apart as `v6-nfc-ids` keeps them.
  static func twins() throws -> AppDatabase {
    let db = try AppDatabase.inMemory()
    try db.ensureOperator(name: "svc", role: .lead)
    try db.createService(code: "chat", name: "Chat", kind: .messaging, by: "svc")
    try db.writer.write { db in
      try db.execute(
        sql: """
          INSERT INTO account (id, external_id, pseudonym, created_at) VALUES
            (1, ?, 'u-000000000001', 0), (2, ?, 'u-000000000002', 0)
          """, arguments: ["Zoe\u{308}", "Zo\u{EB}"])
      try db.execute(
        sql: """
          INSERT INTO id_respelling (kind, stored, normalized, account_id, kept)
          VALUES ('account', ?, ?, 1, 1)
          """, arguments: ["Zoe\u{308}", "Zo\u{EB}"])
    }
    for (account, state) in [(Int64(1), ConsentState.granted), (2, .refused)] {
      _ = try db.recordConsentChange(
        accountId: account, serviceId: 1, to: state, source: .app, termsVersion: "t",
        reason: nil, by: "svc")
    }
    return db
  }

  /// Every key of a reply blocked for a twin's sake is described, its reason among the
  /// documented ones.
  @Test func aScanBlockedForATwinIsDescribed() throws {
    let db = try Self.twins()
    let gate = UploadGate(database: db, operatorName: "svc")
    guard case .blocked(let subject) = try gate.admit(account: "Zoe\u{308}", service: "chat")
    else {
      Issue.record("a twin that refused blocks the upload")
      return
    }
    let outcome = ScanOutcome.blocked(input: "upload", isURL: false, subject: subject)
    let reply = try #require(
      try JSONSerialization.jsonObject(with: Data(outcome.jsonLine.utf8)) as? Object)
    let schema = try Self.schemas()["ScanOutcome"]
    let described = Self.properties(schema)
    #expect(Set(reply.keys).subtracting(described.keys).isEmpty, "\(reply.keys)")
    let reasons = described["reason"]?["enum"] as? [String] ?? []
    #expect(reasons.contains(try #require(reply["reason"] as? String)))
    let twin = try #require((reply["twins"] as? [Object])?.first)
    let twinSchema = Self.items(described["twins"])
    #expect(Set(twin.keys) == Set(Self.properties(twinSchema).keys))
    #expect(Set(twin.keys) == Set(twinSchema?["required"] as? [String] ?? []))
    let states = Self.properties(twinSchema)["consent"]?["enum"] as? [String] ?? []
    #expect(Set(states) == Set(ConsentState.allCases.map(\.rawValue)))
  }

  /// The consent document's services and twins have exactly the described keys.
  @Test func theConsentDocumentOfATwinIsDescribed() throws {
    let db = try Self.twins()
    let document = try #require(try ConsentDocument.json(database: db, account: "Zo\u{EB}"))
    let parsed = try #require(
      try JSONSerialization.jsonObject(with: Data(document.description.utf8)) as? Object)
    let described = Self.properties(try Self.schemas()["ConsentDocument"])
    #expect(Set(parsed.keys) == Set(described.keys))
    let service = try #require((parsed["services"] as? [Object])?.first)
    #expect(Set(service.keys) == Set(Self.properties(Self.items(described["services"])).keys))
    let twin = try #require((parsed["twins"] as? [Object])?.first)
    let twinSchema = Self.items(described["twins"])
    #expect(Set(twin.keys) == Set(Self.properties(twinSchema).keys))
    let twinService = try #require((twin["services"] as? [Object])?.first)
    let twinServiceSchema = Self.items(Self.properties(twinSchema)["services"])
    #expect(Set(twinService.keys) == Set(Self.properties(twinServiceSchema).keys))
  }
}
