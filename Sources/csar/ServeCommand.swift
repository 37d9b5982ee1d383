// `csar serve`: the upload gate as an HTTP service (options only; the service is `Service`).

import ArgumentParser
import Foundation
import Service
import Store

/// Runs the service until SIGTERM / SIGINT.
struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Serve the upload gate, hash lookups, consent and flags over HTTP.",
    discussion: """
      Every request needs `Authorization: Bearer TOKEN`, the token being the content of the \
      token file (created on first start with mode 0600 as service.token beside the \
      provider key; refused when others can read it). Listens on 127.0.0.1:8480 by default: \
      put TLS in front with a reverse proxy. Routes: GET /v1/health, POST /v1/lookup, \
      POST /v1/scan?account=ID&service=CODE (raw bytes), POST /v1/scan/url, \
      POST /v1/consent/events, GET /v1/consent/{account}, POST /v1/flags, GET /metrics, \
      GET /openapi.json (the full description). Logs are JSON lines on stderr, with account \
      pseudonyms only. Bank changes made by any process are served within about a second.
      """)

  @OptionGroup var options: ModerationOptions

  @Option(name: .long, help: "HOST:PORT to listen on (port 0 picks a free port).")
  var listen: String?

  @Option(name: .long, help: "Listen on this Unix domain socket instead of TCP.")
  var socket: String?

  @Option(name: .long, help: "The bearer token file (default: beside the provider key).")
  var tokenFile: String?

  @Option(name: .long, help: "Largest request body in bytes.")
  var maxBody = 32 << 20

  @Option(name: .long, help: "Seconds one request may take before it is answered 503.")
  var timeout = 10.0

  @Option(name: .long, help: "Seconds a kept-alive connection may stay idle before it is closed.")
  var idleTimeout = 60.0

  @Option(
    name: .long,
    help: """
      Seconds a request head may take to arrive whole; past it the connection is answered \
      408 and closed (a body has --timeout).
      """)
  var headTimeout = 10.0

  @Option(
    name: .long,
    help: """
      Most client connections open at once; past it a newcomer takes the place of the \
      connection idle the longest, or is answered 503 and closed when none is idle \
      (default: the open-file limit less 256, at most 10,000).
      """)
  var maxConnections: Int?

  @Option(name: .long, help: "Threads doing the blocking work (default: cores, at least 2).")
  var workers: Int?

  @Option(name: .long, help: "Requests that may wait for a worker before 503s.")
  var queue = 256

  @Option(
    name: .long, help: "Folder for uploads that matched (default: uploads/ in the media root).")
  var uploads: String?

  @Flag(
    name: .long,
    help: "Log every successful lookup too (by default only failed ones; /metrics counts all).")
  var logLookups = false

  func validate() throws {
    if listen != nil, socket != nil { throw ValidationError("give --listen or --socket") }
    if maxBody < 1 { throw ValidationError("--max-body must be at least 1") }
    let durations = [
      ("--timeout", timeout), ("--idle-timeout", idleTimeout), ("--head-timeout", headTimeout),
    ]
    // A day at most: an infinite or huge number of seconds is no time the service can keep.
    for (option, seconds) in durations where !(seconds > 0 && seconds <= 86_400) {
      throw ValidationError("\(option) must be above 0 and at most 86400 seconds (a day)")
    }
    if let maxConnections, maxConnections < 1 {
      throw ValidationError("--max-connections must be at least 1")
    }
  }

  func run() async throws {
    let setup = try ReportSetup(db: options.db)
    let database = setup.database
    let operatorName = try setup.operatorName(options.operator)
    let key = try setup.providerKey()
    try database.checkAuditKeyForWrites()
    let token: ServiceToken
    do {
      token = try ServiceToken.loadOrCreate(
        path: tokenFile ?? ServiceToken.defaultPath(keyPath: key.path))
    } catch {
      throw RiskCommandError(error.description)
    }
    var settings = ServiceSettings(mediaRoots: setup.risk.mediaRoots, uploadsFolder: uploads)
    do {
      if let listen { settings.listen = try .init(parsing: listen) }
    } catch {
      throw ValidationError(error.description)
    }
    if let socket { settings.listen = .unixSocket(socket) }
    settings.maxBodyBytes = maxBody
    settings.requestTimeout = .milliseconds(Int64(timeout * 1000))
    settings.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
    settings.headTimeout = .milliseconds(Int64(headTimeout * 1000))
    settings.maxConnections = maxConnections
    if let workers { settings.workers = max(1, workers) }
    settings.queueCapacity = max(0, queue)
    settings.videoLimits = setup.risk.configuration.video.limits
    settings.frameLimits = setup.risk.configuration.video.frameLimits
    settings.logLookups = logLookups
    let server = CSARServer(
      database: database, token: token, key: key, operatorName: operatorName,
      settings: settings, logger: CSARServer.makeLogger { Output.error($0) })
    let tokenPath = token.path
    try await server.run { address in
      let url = address.hasPrefix("unix:") ? address : "http://" + address
      Output.line("csar serve: listening on \(url) (token in \(tokenPath))")
      fflush(nil)
    }
  }
}
