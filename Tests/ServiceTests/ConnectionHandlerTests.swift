// What the pipeline's own answers say: the `Date` header, the `Connection: close` option,
// and the lookup reply's bytes.

import Foundation
import Testing

@testable import Moderation
@testable import Service

@Suite("Service: the connection handler's headers")
struct ConnectionHandlerTests {
  @Test func theDateHeaderIsAnIMFFixdateInGMT() {
    #expect(HTTPDateHeader.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    #expect(HTTPDateHeader.format(1_796_024_707) == "Mon, 30 Nov 2026 07:45:07 GMT")
    let now = HTTPDateHeader().current()
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
    let parsed = formatter.date(from: now)
    #expect(parsed.map { abs($0.timeIntervalSinceNow) < 5 } == true, "\(now)")
  }

  @Test func theFieldsALookupIsDecidedOnAreKnownInAnyCase() {
    typealias Name = LookupFastPath.HeaderName
    #expect(Name("AUTHORIZATION") == .authorization)
    #expect(Name("Content-Type") == .contentType)
    #expect(Name("content-LENGTH") == .contentLength)
    #expect(Name("Expect") == .expect)
    #expect(Name("connection") == .connection)
    for other in ["x-authorization", "authorizatio", "content_type", "content-typ\u{E9}", ""] {
      #expect(Name(other) == nil, "\(other)")
    }
  }

  @Test func closeIsFoundAmongTheConnectionOptionsInAnyCase() {
    #expect(ServiceConnectionHandler.saysClose("close"))
    #expect(ServiceConnectionHandler.saysClose("Keep-Alive, Close"))
    #expect(!ServiceConnectionHandler.saysClose("keep-alive"))
    #expect(!ServiceConnectionHandler.saysClose("closed"))
  }

  /// The reply writes a result without matches straight into its bytes: they are those of
  /// its `jsonLine`, as is a result with matches (a label with a quote, a newline and an
  /// accent), in order.
  @Test func theLookupReplyIsEachResultsJSONLineInOrder() throws {
    let pdq = try HashQuery(type: "PDQ", value: String(repeating: "Ab", count: 32), field: "")
    let md5 = try HashQuery(type: "md5", value: String(repeating: "0", count: 32), field: "")
    let match = KnownMatch(
      bank: "known \"list\"", type: .pdq, distance: 3, label: "é\n<x>", sourceId: "s-1")
    let results = [
      HashLookupResult(query: pdq, matches: []),
      HashLookupResult(query: pdq, matches: [match]),
      HashLookupResult(query: md5, matches: []),
    ]
    for count in 0...results.count {
      let part = Array(results.prefix(count))
      let expected =
        "{\"results\":[" + part.map(\.jsonLine).joined(separator: ",") + "]}\n"
      #expect(String(buffer: Routes.lookupReply(part)) == expected)
    }
  }
}
