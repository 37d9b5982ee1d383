// `csar serve`: the service that runs the upload gate for a provider's platform.

import Foundation
import Hummingbird
import HummingbirdCore
import Imaging
import Logging
import Moderation
import NIOCore
import NIOPosix
import ServiceLifecycle
import Store
import Synchronization

/// The HTTP service over one database: routes, middleware, the live bank index, the work
/// pool, and a graceful shutdown on SIGTERM / SIGINT (in-flight requests are answered first).
public struct CSARServer: Sendable {
  let database: AppDatabase
  let token: ServiceToken
  let key: ProviderKey
  let operatorName: String
  let settings: ServiceSettings
  let logger: Logger

  /// A server; nothing runs until ``run(onListening:)``.
  public init(
    database: AppDatabase, token: ServiceToken, key: ProviderKey, operatorName: String,
    settings: ServiceSettings, logger: Logger
  ) {
    self.database = database
    self.token = token
    self.key = key
    self.operatorName = operatorName
    self.settings = settings
    self.logger = logger
  }

  /// The `Server` header of every answer.
  static let serverName = "csar"

  /// Makes the service's event loops (NIO's shared group, which Hummingbird serves on) Swift
  /// concurrency's global executor, so a request's handler runs on the thread that read the
  /// request instead of hopping to the cooperative pool and back (two thread switches, and
  /// a good share of a lookup's CPU). Blocking work still goes to ``WorkPool``'s threads.
  /// Call once, first thing, before any task runs; false when it could not be installed
  /// (the service then works as before).
  @discardableResult
  public static func runConcurrencyOnEventLoops() -> Bool {
    NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
  }

  /// A logger of JSON lines, each handed to `write` (which adds the newline).
  public static func makeLogger(
    level: Logger.Level = .info, write: @escaping @Sendable (String) -> Void
  ) -> Logger {
    var logger = Logger(label: "csar.serve") { label in
      JSONLogHandler(label: label, write: write)
    }
    logger.logLevel = level
    return logger
  }

  /// The OpenAPI document shipped with the service.
  public static func openAPIDocument() throws -> [UInt8] {
    guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
      throw ServiceSettingsError(field: "openapi.json", reason: "missing from the bundle")
    }
    return Array(try Data(contentsOf: url))
  }

  /// The routes the service answers (method and documented path), without starting it.
  public static func routeTable(database: AppDatabase) throws -> [RouteEntry] {
    let router = Router(context: ServiceContext.self)
    let settings = ServiceSettings(mediaRoots: MediaRoots(databasePath: database.path))
    let routes = Routes(
      database: database, banks: try LiveBankMatcher(database: database),
      pool: WorkPool(threads: 1, queueCapacity: 0), metrics: ServiceMetrics(),
      settings: settings, operatorName: "system", openAPI: [],
      logKey: ProviderKey(bytes: Array(repeating: 0, count: 32)))
    return routes.register(on: router)
  }

  /// Loads the banks, listens, and serves until SIGTERM or SIGINT; `onListening` gets the
  /// address actually bound (the port chosen for port 0).
  public func run(onListening: @escaping @Sendable (String) -> Void = { _ in }) async throws {
    let metrics = ServiceMetrics()
    metrics.watchAnchorWrites(of: database, logger)
    let started = ContinuousClock.now
    let banks = try LiveBankMatcher(database: database)
    metrics.indexBuilt(banks.currentGeneration, since: started, "bank index loaded", logger)
    Self.prepareForQueries(banks, logger: logger)
    let pool = WorkPool(threads: settings.workers, queueCapacity: settings.queueCapacity)
    pool.start()
    let routes = Routes(
      database: database, banks: banks, pool: pool, metrics: metrics, settings: settings,
      operatorName: operatorName, openAPI: try Self.openAPIDocument(), logKey: key)
    let router = Router(context: ServiceContext.self)
    router.add(
      middleware: AccessLogMiddleware(
        logger: logger, key: key, quietRoutes: settings.logLookups ? [] : ["/v1/lookup"]))
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: BearerAuthMiddleware(token: token))
    routes.register(on: router)

    let address: BindAddress
    let previousUmask = Mutex<mode_t?>(nil)
    switch settings.listen {
    case .tcp(let host, let port): address = .hostname(host, port: port)
    case .unixSocket(let path):
      try UnixSocket.prepare(path)
      // The socket is created under the umask: make that the final mode (0600, or 0660 in
      // a team folder, whose setgid gives it the group), so it is never open to others.
      let mode = FileSharing.of(folder: PrivateFiles.folder(of: path)).fileMode
      previousUmask.withLock { $0 = umask(~mode & 0o777) }
      address = .unixDomainSocket(path: path)
    }
    let logger = logger
    let listen = settings.listen
    defer { if case .unixSocket(let path) = listen { UnixSocket.remove(path) } }
    let openFiles = OpenFiles.raiseToHardLimit()
    let gate = ConnectionGate(
      limit: settings.maxConnections ?? OpenFiles.defaultConnectionLimit(openFiles: openFiles),
      metrics: metrics, logger: logger)
    logger.info(
      "connections",
      metadata: [
        "max": .stringConvertible(gate.limit),
        "open_files": .string(openFiles.map(String.init) ?? "unknown"),
      ])
    // The idle timeout is the connection handler's (see ServiceHTTP1Channel).
    let http1 = HTTP1Channel.Configuration(idleTimeout: nil)
    // Lookups are answered in the pipeline (see LookupFastPath.swift) unless each is to be
    // logged: the access log is the router's.
    let fastPath =
      settings.logLookups
      ? nil : LookupFastPath(routes: routes, token: token, serverName: Self.serverName)
    let app = Application(
      router: router,
      server: HTTPServerBuilder { responder in
        ServiceHTTP1Channel(
          http1: HTTP1Channel(responder: responder, configuration: http1), fastPath: fastPath,
          idleTimeout: TimeAmount(settings.idleTimeout),
          headTimeout: TimeAmount(settings.headTimeout), gate: gate)
      },
      configuration: .init(address: address, serverName: Self.serverName),
      onServerRunning: { channel in
        let bound: String
        switch listen {
        case .tcp(let host, _):
          let port = channel.localAddress?.port ?? 0
          bound = ServiceSettings.Listen.tcp(host: host, port: port).description
        case .unixSocket(let path):
          previousUmask.withLock { if let old = $0 { umask(old) } }
          do {
            try UnixSocket.secure(path)
          } catch {
            logger.error("socket", metadata: ["error": .string("\(error)")])
          }
          bound = listen.description
        }
        logger.info("listening", metadata: ["address": .string(bound)])
        onListening(bound)
      },
      logger: logger)
    let refresher = BankRefresher(
      banks: banks, interval: settings.refreshInterval, metrics: metrics, logger: logger)
    let group = ServiceGroup(
      configuration: .init(
        services: [
          .init(service: app),
          .init(service: refresher, successTerminationBehavior: .ignore),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
    try await pool.shutdown()
    logger.info("stopped")
  }
}

extension CSARServer {
  /// Prepares the current index for queries on a thread of their own (see
  /// `PDQIndex.prepareForQueries()`): lookups are answered meanwhile, and faster once it
  /// is done.
  static func prepareForQueries(_ banks: LiveBankMatcher, logger: Logger) {
    let index = banks.current.index
    Thread.detachNewThread {
      let started = ContinuousClock.now
      index.prepareForQueries()
      guard index.isPreparedForQueries else { return }
      logger.info(
        "bank index prepared for queries",
        metadata: [
          "ms": .string(
            AccessLogMiddleware.twoDecimals(AccessLogMiddleware.milliseconds(since: started)))
        ])
    }
  }
}

/// Polls the banks' stamp and swaps in a rebuilt index when they changed (it is prepared
/// for queries after the swap: the new banks are served at once).
struct BankRefresher: Service {
  let banks: LiveBankMatcher
  let interval: Duration
  let metrics: ServiceMetrics
  let logger: Logger

  func run() async throws {
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
      try? await Task.sleep(for: interval)
      let started = ContinuousClock.now
      do {
        let banks = banks
        let swapped = try await withCheckedThrowingContinuation { continuation in
          // Building reads millions of rows: a thread of its own, off the event loops.
          Thread.detachNewThread {
            continuation.resume(with: Result { try banks.refresh() })
          }
        }
        if swapped {
          metrics.indexBuilt(
            banks.currentGeneration, since: started, "bank index rebuilt", logger)
          CSARServer.prepareForQueries(banks, logger: logger)
        }
      } catch {
        logger.error("bank index refresh failed", metadata: ["error": "\(error)"])
      }
    }
  }
}
