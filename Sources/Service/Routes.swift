// The routes of `csar serve`, each a thin layer over Moderation and Store.

import Compliance
import Foundation
import Hummingbird
import Logging
import Moderation
import NIOPosix
import Store

/// One route: method and path as the OpenAPI document writes it (`{account}`).
public struct RouteEntry: Hashable, Sendable {
  /// `GET`, `POST`.
  public var method: String
  /// `/v1/consent/{account}`.
  public var path: String
}

/// The handlers, over one database, its live bank index and the work pool.
final class Routes: Sendable {
  let database: AppDatabase
  let banks: LiveBankMatcher
  let pool: WorkPool
  let metrics: ServiceMetrics
  let settings: ServiceSettings
  let operatorName: String
  let uploads: UploadStore
  let openAPI: [UInt8]
  /// The key the access log pseudonymises account ids with.
  let logKey: ProviderKey
  /// Review items and blocked-upload events of concurrent requests, grouped.
  let groupCommit: GroupCommit
  /// The banks' known videos, shared by every request's gate (loaded at the first video).
  let videoBanks: LiveVideoBankMatcher
  /// Each thread's own connection for the bank entries of inline lookups' hits (see
  /// ``BankEntryReader``); a database in memory has none, and the shared pool reads them.
  let entryReaders = ThreadSpecificVariable<BankEntryReader>()

  init(
    database: AppDatabase, banks: LiveBankMatcher, pool: WorkPool, metrics: ServiceMetrics,
    settings: ServiceSettings, operatorName: String, openAPI: [UInt8], logKey: ProviderKey
  ) {
    self.logKey = logKey
    self.groupCommit = GroupCommit(database: database, operatorName: operatorName)
    self.videoBanks = LiveVideoBankMatcher(database: database)
    self.database = database
    self.banks = banks
    self.pool = pool
    self.metrics = metrics
    self.settings = settings
    self.operatorName = operatorName
    self.uploads = UploadStore(folder: settings.uploadsFolder)
    self.openAPI = openAPI
  }

  // MARK: - Registration

  /// Adds every route to `router`; returns them (the OpenAPI test checks the list).
  @discardableResult
  func register(on router: Router<ServiceContext>) -> [RouteEntry] {
    var entries: [RouteEntry] = []
    func add(
      _ method: HTTPRequest.Method, _ path: String,
      _ handler: @escaping @Sendable (Request, ServiceContext) async throws -> Response
    ) {
      router.on(RouterPath(path), method: method, use: handler)
      entries.append(RouteEntry(method: method.rawValue, path: path))
    }
    add(.get, "/v1/health") { _, _ in try await self.health() }
    add(.post, "/v1/lookup") { request, context in try await self.lookup(request, context) }
    add(.post, "/v1/scan") { request, context in try await self.scan(request, context) }
    add(.post, "/v1/scan/url") { request, context in try await self.scanURL(request, context) }
    add(.post, "/v1/consent/events") { request, _ in try await self.consentEvents(request) }
    add(.get, "/v1/consent/{account}") { _, context in try await self.consent(context) }
    add(.post, "/v1/flags") { request, _ in try await self.flags(request) }
    add(.get, "/metrics") { _, context in await self.metricsText(context.logger) }
    add(.get, "/openapi.json") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.openAPI)))
    }
    return entries
  }

  var deadline: ContinuousClock.Instant { .now + settings.requestTimeout }

  // MARK: - Health and metrics

  func health() async throws -> Response {
    let generation = banks.currentGeneration
    let age = Int(Date().timeIntervalSince(generation.builtAt))
    return JSONResponse.make(
      OrderedJSON.object([
        ("status", "ok"), ("banks", .int(Int64(generation.banks))),
        ("hashes", .int(Int64(generation.hashes))), ("index_age_s", .int(Int64(age))),
      ]))
  }

  func metricsText(_ logger: Logger) async -> Response {
    await metrics.readAnchorState(of: database, logger)
    let generation = banks.currentGeneration
    metrics.indexAge.set(Date().timeIntervalSince(generation.builtAt))
    metrics.queueDepth.set(Double(pool.depth))
    return Response(
      status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
      body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
  }

  // MARK: - Lookup

  /// A lookup of at most this many PDQ hashes (and no digests) is answered on the event
  /// loop: the in-memory index (tens of microseconds a hash), then, for its few hits, their
  /// bank entries by primary key (``inlineHits``). A digest, a larger lookup or one with
  /// more hits goes through the work pool, so a lookup that reads much never holds a loop.
  static let inlineLookups = 4
  /// Most index hits a lookup answered on the event loop may have.
  static let inlineHits = 16

  /// The results of `queries` when the calling thread (an event loop) may answer them at
  /// once; nil when they need a worker (see ``inlineLookups``).
  func inlineLookup(_ queries: [HashQuery], matcher: BankMatcher) throws
    -> [HashLookupResult]?
  {
    guard queries.count <= Self.inlineLookups, queries.allSatisfy({ $0.type == .pdq })
    else { return nil }
    let hits = matcher.indexHits(queries)
    guard hits.reduce(0, { $0 + ($1?.count ?? 0) }) <= Self.inlineHits else { return nil }
    return try matcher.lookup(queries, hits: hits, entries: entryReader())
  }

  /// The calling thread's ``BankEntryReader``, opened at its first use.
  func entryReader() -> BankEntryReader? {
    if let reader = entryReaders.currentValue { return reader }
    guard database.hasFile, let reader = try? BankEntryReader(database: database) else {
      return nil
    }
    entryReaders.currentValue = reader
    return reader
  }

  func lookup(_ request: Request, _ context: ServiceContext) async throws -> Response {
    let deadline = deadline
    try RequestInput.requireJSON(request)
    let bytes = try await RequestInput.bytes(
      request, limit: settings.maxBodyBytes, until: deadline)
    guard !bytes.isEmpty else { throw APIError.badRequest("body", "the body is empty") }
    let queries = try LookupBody.queries(bytes, limit: settings.maxLookupHashes)
    let matcher = banks.current
    let results: [HashLookupResult]
    if let answered = try inlineLookup(queries, matcher: matcher) {
      results = answered
    } else {
      results = try await pool.run(.read, until: deadline) { try matcher.lookup(queries) }
    }
    countMatches(results)
    return Response(
      status: .ok, headers: [.contentType: "application/json"],
      body: ResponseBody(byteBuffer: Self.lookupReply(results)))
  }

  /// Counts the bank entries a lookup matched.
  func countMatches(_ results: [HashLookupResult]) {
    let matched = results.reduce(0) { $0 + $1.matches.count }
    if matched > 0 { metrics.lookupMatches.increment(by: Int64(matched)) }
  }

  /// `{"results":[...]}` and a newline, one result a query, in order.
  ///
  /// A result without matches, what nearly every lookup answers, is written straight into
  /// the bytes: its type is a known type's name and its value checked lowercase hex, so
  /// there is nothing to escape, and the bytes are those of its ``HashLookupResult/jsonLine``
  /// (a test holds them equal). A result with matches is its `jsonLine`.
  static func lookupReply(_ results: [HashLookupResult]) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.reserveCapacity(16 + results.count * 100)
    buffer.writeStaticString("{\"results\":[")
    var matched: [UInt8] = []
    for (index, result) in results.enumerated() {
      if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
      guard result.matches.isEmpty else {
        matched.removeAll(keepingCapacity: true)
        result.writeJSON(to: &matched)
        buffer.writeBytes(matched)
        continue
      }
      buffer.writeStaticString("{\"type\":\"")
      buffer.writeString(result.query.type.rawValue)
      buffer.writeStaticString("\",\"value\":\"")
      buffer.writeString(result.query.value)
      buffer.writeStaticString("\",\"matches\":[]}")
    }
    buffer.writeStaticString("]}\n")
    return buffer
  }

  // MARK: - Scans

  /// A gate for one request (cheap: the bank index is shared); made on the worker thread.
  func gate(dihedral: Bool) -> @Sendable () -> UploadGate {
    let (database, operatorName, maxPixels) = (database, operatorName, settings.maxPixels)
    let (matcher, groupCommit, videoBanks) = (banks.current, groupCommit, videoBanks)
    let (videoLimits, frameLimits) = (settings.videoLimits, settings.frameLimits)
    return {
      UploadGate(
        database: database, operatorName: operatorName, dihedral: dihedral,
        maxPixels: maxPixels, videoLimits: videoLimits, frameLimits: frameLimits,
        matcher: matcher, groupCommit: groupCommit, videoBanks: videoBanks)
    }
  }

  /// Consent first: an unknown service is a 400 naming `service`.
  func admit(
    account: String, service: String, until deadline: ContinuousClock.Instant
  ) async throws -> ScanAdmission {
    let gate = gate(dihedral: false)
    do {
      return try await pool.run(.write, until: deadline) {
        try gate().admit(account: account, service: service)
      }
    } catch StoreError.notFound(let entity, let id) where entity == "service" {
      throw APIError.badRequest("service", "unknown service \"\(DisplayText.clean(id))\"")
    }
  }

  /// Content types `/v1/scan` accepts (the format itself is recognised from the bytes).
  static let imageTypes: Set<String> = [
    "application/octet-stream", "image/png", "image/jpeg", "image/jpg", "image/pjpeg",
    "image/webp", "image/gif", "image/bmp", "image/x-bmp", "image/x-ms-bmp", "image/tiff",
    "image/heic", "image/heif", "image/avif",
  ]

  /// Video content types `/v1/scan` accepts (the container is recognised from the bytes).
  static let videoTypes: Set<String> = [
    "video/mp4", "video/quicktime", "video/x-m4v", "video/3gpp", "video/webm",
    "video/x-matroska", "video/x-msvideo", "video/x-flv", "video/mp2t", "video/mpeg",
  ]

  /// Every content type `/v1/scan` accepts.
  static var uploadTypes: Set<String> { imageTypes.union(videoTypes) }

  func scan(_ request: Request, _ context: ServiceContext) async throws -> Response {
    let deadline = deadline
    let account = try RequestInput.query(request, "account")
    let service = try RequestInput.query(request, "service")
    let dihedral = ["1", "true", "yes"].contains(
      request.uri.queryParameters.get("dihedral")?.lowercased() ?? "")
    let name = request.uri.queryParameters.get("name") ?? "upload"
    if let type = RequestInput.mediaType(request), !Self.uploadTypes.contains(type) {
      throw APIError(
        status: .unsupportedMediaType,
        message: "send the upload's bytes as application/octet-stream or an image or video "
          + "type (" + Self.uploadTypes.filter { $0 != "application/octet-stream" }.sorted()
            .joined(separator: ", ") + "), not \(type)", field: "Content-Type")
    }
    try RequestInput.checkLength(request, limit: settings.maxBodyBytes)
    let gate = gate(dihedral: dihedral)
    let outcome: ScanOutcome
    switch try await admit(account: account, service: service, until: deadline) {
    case .blocked(let subject):
      // The upload's bytes are not read.
      outcome = .blocked(input: name, isURL: false, subject: subject)
    case .granted(let subject):
      let bytes = try await RequestInput.bytes(
        request, limit: settings.maxBodyBytes, until: deadline)
      guard !bytes.isEmpty else { throw APIError.badRequest("body", "the upload is empty") }
      let uploads = uploads
      outcome = try await pool.run(.write, until: deadline) {
        gate().scan(bytes: bytes, input: name, subject: subject, keep: uploads.keep)
      }
    }
    return reply(outcome, kind: "file", context: context)
  }

  func scanURL(_ request: Request, _ context: ServiceContext) async throws -> Response {
    let deadline = deadline
    let body = try await RequestInput.json(request, limit: settings.maxBodyBytes, until: deadline)
    guard let object = body as? [String: Any] else {
      throw APIError.badRequest("body", "the body must be {\"account\",\"service\",\"url\"}")
    }
    let account = try RequestInput.string(object, "account")
    let service = try RequestInput.string(object, "service")
    let url = try RequestInput.string(object, "url")
    context.notes.set("account", AccessLogMiddleware.pseudonym(account, key: logKey))
    let gate = gate(dihedral: false)
    let outcome: ScanOutcome
    switch try await admit(account: account, service: service, until: deadline) {
    case .blocked(let subject):
      outcome = .blocked(input: url, isURL: true, subject: subject)
    case .granted(let subject):
      outcome = try await pool.run(.write, until: deadline) {
        gate().scan(url: url, subject: subject)
      }
    }
    return reply(outcome, kind: "url", context: context)
  }

  func reply(_ outcome: ScanOutcome, kind: String, context: ServiceContext) -> Response {
    metrics.countScan(outcome.decision.code, kind: kind)
    context.notes.set("decision", outcome.decision.code)
    return JSONResponse.make(outcome.jsonLine)
  }

  // MARK: - Consent and flags

  func consentEvents(_ request: Request) async throws -> Response {
    let deadline = deadline
    let events = try RequestInput.array(
      try await RequestInput.json(request, limit: settings.maxBodyBytes, until: deadline))
    let bytes = Array(RequestInput.jsonLines(events).utf8)
    let database = database
    // One request, one transaction: its accepted events are committed together, so a crash
    // never leaves part of an unanswered request (the file import commits in batches).
    let options = ConsentImportOptions(
      skipInvalid: true, batchSize: Int.max, operatorName: operatorName)
    let report = try await pool.run(.write, until: deadline) {
      try database.importConsent(
        bytes: bytes, fileName: "request", format: .jsonl, options: options)
    }
    return JSONResponse.make(
      OrderedJSON.object([
        ("accepted", .int(Int64(report.accepted))),
        ("duplicates", .int(Int64(report.duplicates))),
        ("rejected", .array(report.rejected.map { Self.rejected(line: $0.line, $0.reason) })),
      ]))
  }

  static func rejected(line: Int, _ reason: String) -> JSONValue {
    ["index": .int(Int64(line - 1)), "reason": .string(reason)]
  }

  func consent(_ context: ServiceContext) async throws -> Response {
    let deadline = deadline
    let account = try RequestInput.pathParameter(context, "account")
    let database = database
    let document = try await pool.run(.read, until: deadline) {
      try ConsentDocument.json(database: database, account: account)
    }
    guard let document else {
      throw APIError(status: .notFound, message: "no such account", field: "account")
    }
    return JSONResponse.make(document.description)
  }

  func flags(_ request: Request) async throws -> Response {
    let deadline = deadline
    var asked = Imports.defaultFlagThreshold
    if let text = request.uri.queryParameters.get("threshold") {
      guard let value = Double(text), (0...1).contains(value) else {
        throw APIError.badRequest("threshold", "threshold must be a score in 0...1")
      }
      asked = value
    }
    let events = try RequestInput.array(
      try await RequestInput.json(request, limit: settings.maxBodyBytes, until: deadline))
    guard !events.isEmpty else { throw APIError.badRequest("body", "no events in the array") }
    let file = FlagsFile.parse(RequestInput.jsonLines(events), file: "request")
    let (database, operatorName, threshold) = (database, operatorName, asked)
    let roots = settings.mediaRoots
    let outcome = try await pool.run(.write, until: deadline) {
      () throws -> (FlagImportSummary?, [LineProblem]) in
      do {
        let done = try Imports.flags(
          file, name: "request", skipInvalid: true, threshold: threshold, database: database,
          mediaRoots: roots, by: operatorName)
        return (done.summary, done.problems)
      } catch ModerationError.invalidLines(_, let problems) {
        return (nil, problems)
      }
    }
    let summary = outcome.0
    return JSONResponse.make(
      OrderedJSON.object([
        ("queued", .int(Int64(summary?.queued.count ?? 0))),
        ("items", .array((summary?.queued ?? []).map { .int($0) })),
        ("below_threshold", .int(Int64(summary?.belowThreshold ?? 0))),
        ("already_imported", .int(Int64(summary?.alreadyImported ?? 0))),
        ("rejected", .array(outcome.1.map { Self.rejected(line: $0.line, $0.reason) })),
      ]))
  }
}
