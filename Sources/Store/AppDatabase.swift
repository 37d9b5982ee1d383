import Compliance
import Foundation
import GRDB

// MARK: - The database

/// The csar database: one SQLite file (WAL mode) shared by every console and command that
/// points at it. Reads go through typed queries; every operator write goes through
/// ``audited(by:_:)``, which appends a hash-chained audit event in the same transaction.
public final class AppDatabase: Sendable {
  /// The GRDB connection (a `DatabasePool` on files, a `DatabaseQueue` in memory). For Store
  /// extensions and tests; screens use the typed queries.
  public let writer: any DatabaseWriter
  /// Where the database lives (`:memory:` for in-memory databases).
  public let path: String
  /// Whether the database lives in a file (not in memory), so other connections and
  /// files beside it (locks, snapshots) can exist.
  public var hasFile: Bool {
    !path.isEmpty && path != ":memory:" && !path.hasPrefix("file::memory:")
  }
  /// The clock used to timestamp writes, in Unix seconds (tests may pin it).
  public let clock: @Sendable () -> Int64
  /// The key of the audit chain: needed for audited writes and verification; nil opens the
  /// database for reading only.
  public let auditKey: AuditKey?
  /// What became of the audit anchor writes through this database (a failure does not undo
  /// the change it follows; see ``AnchorWrites``).
  public let anchorWrites = AnchorWrites()

  /// How long a write waits for another process's lock before failing.
  public static let busyTimeout: TimeInterval = 5

  /// How often a write waiting for another connection's lock tries again: every millisecond.
  ///
  /// SQLite's own busy timeout sleeps longer and longer between tries (100 ms after the
  /// first 0.3 s), so a write behind an import, whose batches leave the lock free for a few
  /// milliseconds between them, missed gap after gap: a console's write waited up to 2.5 s
  /// behind a 1M-event consent import (`bench consent`, import under writes), 0.4 s when
  /// it tries every millisecond. A try costs a few microseconds.
  public static let lockRetryMicroseconds: UInt32 = 1_000

  /// The busy handler of every connection: sleeps ``lockRetryMicroseconds`` and tries again,
  /// until ``busyTimeout`` has gone by in sleeps (then the write fails, "database is
  /// locked").
  static func retryLock(_ tries: Int) -> Bool {
    guard tries < Int(busyTimeout * 1_000_000) / Int(lockRetryMicroseconds) else {
      return false
    }
    usleep(lockRetryMicroseconds)
    return true
  }

  init(
    writer: any DatabaseWriter, path: String, clock: @escaping @Sendable () -> Int64,
    auditKey: AuditKey?
  ) {
    self.writer = writer
    self.path = path
    self.clock = clock
    self.auditKey = auditKey
  }

  /// The current Unix time in seconds.
  public static let systemClock: @Sendable () -> Int64 = {
    Int64(Date().timeIntervalSince1970.rounded(.down))
  }

  // MARK: - Opening

  /// Opens (creating if needed) the database file at `path`, creating its folder, and migrates
  /// it to the current schema. WAL mode, foreign keys on, a 5 s busy timeout so several
  /// consoles can share one file. A new folder is private (0700) and the database, its -wal
  /// and -shm are 0600 (0660 in a team folder, see ``FileSharing``) whatever the umask; a
  /// database that others can read or write, or a folder they can write to, is refused with
  /// the `chmod` that fixes it. With `auditKey` the audit chain is keyed if it is not yet
  /// (a log from before keyed chains is re-keyed once, if intact: see
  /// ``prepareAuditChain()``); without it the database can only be read.
  public static func open(
    path: String, clock: @escaping @Sendable () -> Int64 = AppDatabase.systemClock,
    auditKey: AuditKey? = nil
  ) throws -> AppDatabase {
    let sharing = try prepareFiles(path: path)
    do {
      let pool = try DatabasePool(path: path, configuration: configuration())
      try protectJournals(path: path, sharing: sharing)
      let db = AppDatabase(writer: pool, path: path, clock: clock, auditKey: auditKey)
      try db.migrate()
      if let head = try db.prepareAuditChain() { db.anchor(head: head, changeStart: head.id) }
      db.nameTheFileInAnOldAnchor()
      return db
    } catch let error as StoreError {
      throw error
    } catch let error as DatabaseError {
      if error.resultCode == .SQLITE_NOTADB {
        throw StoreError.notADatabase(path: path)
      }
      throw StoreError.cannotOpen(path: path, reason: error.message ?? "\(error)")
    } catch {
      throw StoreError.cannotOpen(path: path, reason: Self.reason(error))
    }
  }

  /// The files SQLite keeps beside a database: its -wal and -shm.
  public static func journalPaths(of path: String) -> [String] {
    [path + "-wal", path + "-shm"]
  }

  /// Creates the folder (0700) when missing, checks that others cannot write to it, checks
  /// the database and its journals when present, and creates the database file itself
  /// (exclusively, 0600 or 0660) so SQLite never creates it under the umask; SQLite gives
  /// the -wal and -shm it creates the database file's mode. Returns the folder's sharing.
  static func prepareFiles(path: String) throws(StoreError) -> FileSharing {
    let folder = PrivateFiles.folder(of: path)
    do throws(PrivateFileError) {
      let sharing = try PrivateFiles.makeFolder(folder)
      try PrivateFiles.checkFolder(folder, what: "database folder")
      var tooOpen: [PrivateFileError] = []
      for file in [path] + journalPaths(of: path) {
        do {
          try PrivateFiles.checkFile(file, what: "database")
        } catch .tooOpen(let path, let what, let mode, let fix) {
          tooOpen.append(.tooOpen(path: path, what: what, mode: mode, fix: fix))
        }
      }
      if tooOpen.count == 1 { throw tooOpen[0] }
      if case .tooOpen(_, _, _, let fix) = tooOpen.first {
        throw PrivateFileError.filesTooOpen(paths: tooOpen.map(\.path), fix: fix)
      }
      try PrivateFiles.createEmptyFile(path, sharing: sharing)
      return sharing
    } catch {
      throw .unsafeFile(error)
    }
  }

  /// Gives the -wal and -shm the database's sharing when this account created them under a
  /// looser mode (a database made by an older csar), then checks them.
  static func protectJournals(path: String, sharing: FileSharing) throws(StoreError) {
    for file in journalPaths(of: path) {
      var info = stat()
      guard lstat(file, &info) == 0 else { continue }
      if info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid(),
        info.st_mode & 0o777 & ~sharing.fileMode != 0
      {
        chmod(file, sharing.fileMode)
      }
      do throws(PrivateFileError) {
        try PrivateFiles.checkFile(file, what: "database")
      } catch {
        throw .unsafeFile(error)
      }
    }
  }

  /// A fresh, migrated in-memory database (for tests and previews), its audit chain keyed
  /// with a random key.
  public static func inMemory(
    clock: @escaping @Sendable () -> Int64 = AppDatabase.systemClock
  ) throws -> AppDatabase {
    let queue = try DatabaseQueue(configuration: configuration())
    let db = AppDatabase(writer: queue, path: ":memory:", clock: clock, auditKey: .random())
    try db.migrate()
    try db.prepareAuditChain()
    return db
  }

  /// A single connection for filling a brand-new file fast (demo data): rollback journal in
  /// memory, no fsync. Not for shared use: open the file with ``open(path:clock:auditKey:)``
  /// afterwards, which switches it to WAL.
  static func openForBulkLoad(path: String, auditKey: AuditKey) throws -> AppDatabase {
    _ = try prepareFiles(path: path)
    var config = configuration()
    config.prepareDatabase { db in
      try db.execute(sql: "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF")
    }
    let queue = try DatabaseQueue(path: path, configuration: config)
    let db = AppDatabase(writer: queue, path: path, clock: systemClock, auditKey: auditKey)
    try db.migrate()
    try db.prepareAuditChain()
    return db
  }

  /// `$XDG_DATA_HOME/csar/csar.sqlite`, or `~/.local/share/csar/csar.sqlite` when
  /// `XDG_DATA_HOME` is unset or empty (as the XDG spec says, a relative value is ignored).
  public static func defaultPath(
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> String {
    if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") {
      return data + "/csar/csar.sqlite"
    }
    let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    return home + "/.local/share/csar/csar.sqlite"
  }

  private static func configuration() -> Configuration {
    var config = Configuration()
    config.foreignKeysEnabled = true
    config.busyMode = .callback(retryLock)
    config.label = "csar"
    return config
  }

  private static func reason(_ error: any Error) -> String {
    (error as NSError).localizedDescription
  }

  /// Runs the pending migrations, then records when they ran (``Schema/v7Twins``).
  private func migrate() throws {
    let migrator = Schema.migrator
    let known = Set(migrator.migrations)
    let applied = try writer.read { db in try migrator.appliedIdentifiers(db) }
    if !applied.isSubset(of: known) {
      throw StoreError.newerSchema(
        path: path, unknownMigrations: applied.subtracting(known).sorted())
    }
    let pending = migrator.migrations.filter { !applied.contains($0) }
    guard !pending.isEmpty else { return }
    try migrator.migrate(writer)
    try Schema.recordMigrationTimes(pending, at: clock(), in: writer)
  }

  // MARK: - Plumbing for queries

  /// Runs a read (a snapshot: a concurrent write never shows half-done).
  func read<T>(_ body: (Database) throws -> T) throws -> T {
    try writer.read(body)
  }

  /// Runs a write in one IMMEDIATE transaction: the write lock is taken before the first read,
  /// so what the body reads cannot change before it writes (other processes included).
  func writeImmediate<T>(_ body: (Database) throws -> T) throws -> T {
    try writer.writeWithoutTransaction { db in
      var result: T?
      try db.inTransaction(.immediate) {
        result = try body(db)
        return .commit
      }
      return result!
    }
  }
}
