// Twin accounts (one id in NFD and NFC, kept apart) through `csar serve`: the real binary on
// an ephemeral port, driven over real HTTP, answers as `csar scan` and `consent show` do.

import Foundation
import Testing

@Suite("Twin accounts over HTTP end to end", .serialized)
struct TwinsOverHTTPEndToEndTests {
  typealias Twins = TwinsEndToEndTests

  /// `text` percent-encoded byte for byte (no normalisation on the way).
  static func encoded(_ text: String) -> String {
    text.utf8.map { byte in
      let scalar = Unicode.Scalar(byte)
      return byte < 0x80 && (Character(scalar).isLetter || Character(scalar).isNumber)
        ? String(scalar) : String(format: "%%%02X", byte)
    }.joined()
  }

  /// Before, `POST /v1/scan?account=` and `GET /v1/consent/{account}` by the NFD id consulted
  /// the NFC account without a word. Now the spelling given answers, the twins come with
  /// their consent, and the upload's body is read only when both granted.
  @Test func theServiceAnswersForTheSpellingGivenAndWeighsBothTwins() throws {
    let f = try ServiceEndToEndTests.Fixture()
    let item = try f.sql(
      "SELECT id FROM flagged_item WHERE state = 'pending' ORDER BY id LIMIT 1")
    _ = try f.sql(Twins.twinsSQL(item: item))
    let service = try f.sql("SELECT code FROM service ORDER BY code LIMIT 1")
    let server = try f.serve()
    let token = try f.token
    let nfd = Self.encoded(Twins.nfd), nfc = Self.encoded(Twins.nfc)

    // Blocked for the twin's sake, answered without the body (only its length is sent).
    let blocked = try server.request(
      "POST", "/v1/scan?account=\(nfd)&service=\(service)", token: token,
      headers: ["Content-Type": "image/png", "Content-Length": "1000000"], body: [],
      sendBody: false)
    #expect(blocked.status == 200, "\(blocked.text)")
    #expect(blocked.json["decision"] as? String == "blocked", "\(blocked.text)")
    #expect(blocked.json["reason"] as? String == "a twin account has not granted consent")
    #expect(blocked.json["consent"] as? String == "granted", "\(blocked.text)")
    #expect(blocked.json["sha256"] == nil)
    let twins = blocked.json["twins"] as? [[String: Any]] ?? []
    #expect(twins.map { $0["pseudonym"] as? String } == [Twins.nfcPseudonym], "\(blocked.text)")
    #expect(twins.map { $0["consent"] as? String } == ["not_asked"], "\(blocked.text)")
    #expect(
      twins.map { ($0["account"] as? String).map { Array($0.utf8) } } == [Array(Twins.nfc.utf8)])

    // The consent document of the NFD spelling is the NFD account's.
    let document = try server.request("GET", "/v1/consent/\(nfd)", token: token)
    #expect(document.status == 200, "\(document.text)")
    #expect(document.json["pseudonym"] as? String == Twins.nfdPseudonym, "\(document.text)")
    let first = (document.json["services"] as? [[String: Any]])?.first {
      $0["service"] as? String == service
    }
    #expect(first?["state"] as? String == "granted", "\(document.text)")
    #expect(first?["may_share_visual_content_and_urls"] as? Bool == false, "\(document.text)")
    let named = document.json["twins"] as? [[String: Any]] ?? []
    #expect(named.map { $0["pseudonym"] as? String } == [Twins.nfcPseudonym])
    let byNFC = try server.request("GET", "/v1/consent/\(nfc)", token: token)
    #expect(byNFC.json["pseudonym"] as? String == Twins.nfcPseudonym, "\(byNFC.text)")
    // An id is percent-decoded (before, any id outside ASCII was 404); a broken escape is a
    // 400 naming it.
    let broken = try server.request("GET", "/v1/consent/Zo%C3", token: token)
    #expect(broken.status == 400 && broken.json["field"] as? String == "account", "\(broken.text)")

    // The NFC account grants (the event names it in NFD: imports file by NFC).
    let event = """
      [{"event_id":"twin-2","account":"\(Twins.nfd)","service":"\(service)",
        "state":"granted","occurred_at":"2026-11-01T10:00:00Z","source":"app",
        "terms_version":"tos-1"}]
      """
    let recorded = try server.json("POST", "/v1/consent/events", token: token, event)
    #expect(recorded.json["accepted"] as? Int == 1, "\(recorded.text)")

    // Both granted: the body is read (its digest is answered), the twin still named.
    let upload = try f.media(1)
    let scanned = try server.request(
      "POST", "/v1/scan?account=\(nfd)&service=\(service)&name=one.png", token: token,
      headers: ["Content-Type": "image/png"], body: upload)
    #expect(scanned.status == 200, "\(scanned.text)")
    #expect(
      ["allowed", "flagged"].contains(scanned.json["decision"] as? String), "\(scanned.text)")
    let hashed = try CsarBinary.run(["hash", "--json", f.directory + "/media/1.png"])
    let sha256 = (try JSONSerialization.jsonObject(with: Data(hashed.out.utf8))
      as? [String: Any])?["sha256"] as? String
    #expect(sha256 != nil && scanned.json["sha256"] as? String == sha256, "\(scanned.text)")
    let after = scanned.json["twins"] as? [[String: Any]] ?? []
    #expect(after.map { $0["consent"] as? String } == ["granted"], "\(scanned.text)")
    #expect(server.stop() == 0, "\(server.log)")
  }
}
