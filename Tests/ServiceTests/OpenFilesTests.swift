// The open-file limit under the service's connections.

import Foundation
import Testing

@testable import Service

@Suite("Service: the open-file limit and the connection limit drawn from it")
struct OpenFilesTests {
  /// A soft limit below the hard one is raised to it (a service started from a shell or a
  /// unit with the common soft 1,024 would otherwise stop accepting at about a thousand
  /// connections).
  @Test func theSoftLimitIsRaisedToTheHardOne() throws {
    var limits = rlimit()
    try #require(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0)
    let original = limits
    defer {
      var restore = original
      setrlimit(Int32(RLIMIT_NOFILE.rawValue), &restore)
    }
    try #require(limits.rlim_max > 64, "the hard limit is too low to lower the soft one")
    var lowered = limits
    lowered.rlim_cur = limits.rlim_max - 1
    try #require(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered) == 0)

    let raised = OpenFiles.raiseToHardLimit()

    var after = rlimit()
    try #require(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &after) == 0)
    #expect(after.rlim_cur == limits.rlim_max)
    let hard = Int(exactly: limits.rlim_max) ?? Int.max
    #expect(raised == hard)
  }

  /// The default connection limit keeps a reserve of descriptors for the service's files,
  /// never falls below 16 and never exceeds 10,000.
  @Test func theDefaultConnectionLimitKeepsAReserve() {
    #expect(OpenFiles.defaultConnectionLimit(openFiles: 1_024) == 1_024 - OpenFiles.reserve)
    #expect(OpenFiles.defaultConnectionLimit(openFiles: 100) == 16)
    #expect(OpenFiles.defaultConnectionLimit(openFiles: 1 << 20) == 10_000)
    #expect(OpenFiles.defaultConnectionLimit(openFiles: nil) == 1_000)
  }
}
