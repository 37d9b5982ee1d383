// What the pipeline's own answers say: the `Date` header and the `Connection: close` option.

import Foundation
import Testing

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

  @Test func closeIsFoundAmongTheConnectionOptionsInAnyCase() {
    #expect(ServiceConnectionHandler.saysClose("close"))
    #expect(ServiceConnectionHandler.saysClose("Keep-Alive, Close"))
    #expect(!ServiceConnectionHandler.saysClose("keep-alive"))
    #expect(!ServiceConnectionHandler.saysClose("closed"))
  }
}
