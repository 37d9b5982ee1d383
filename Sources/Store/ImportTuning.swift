import GRDB

// MARK: - The writing connection's settings during a large import

/// SQLite settings of the writing connection while a large import runs (consent events,
/// bank hashes, known videos, a long removal or retraction list), restored after it.
///
/// None of them changes what is durable or when: every batch still commits (and syncs) on
/// its own. They only change where SQLite keeps its scratch copies and how often it copies
/// the write-ahead log back into the database file.
struct ImportTuning: Equatable {
  /// `cache_size` (negative: KiB).
  var cacheSize: Int
  /// `temp_store` (0 default, 1 file, 2 memory).
  var tempStore: Int
  /// `wal_autocheckpoint` (pages; 0: off).
  var walAutocheckpoint: Int

  /// What a consent import runs with:
  /// - a 256 MB page cache: a batch dirties index pages all over (random pseudonyms, event
  ///   ids); with SQLite's default 2 MB they spill to the WAL mid-transaction;
  /// - statement journals in memory: each multi-row insert keeps the prior content of the
  ///   pages it touches until it finishes (to undo itself alone on a constraint error). With
  ///   a file temp store that journal spills past 64 KB into a temp file: for 1M consent
  ///   events, 1.6 GB written and thrown away. It only ever holds one statement's pages;
  /// - a checkpoint every 16,384 pages (64 MB of WAL) instead of 1,000: each batch rewrites
  ///   many of the same index pages (the pseudonym index; a bank's hash index at its end),
  ///   so checkpointing after every batch copies the same pages into the database again and
  ///   again. Measured with another connection writing every 50 ms (`bench consent`,
  ///   import under writes): with 1,000 pages its writes waited as long (up to 1.6 s, against
  ///   1.2-2.5 s) and the import took 36.9 s instead of 13.9 s. The waits came from SQLite's
  ///   busy timeout, not from checkpoints (see ``AppDatabase/lockRetryMicroseconds``).
  static let forImport = ImportTuning(
    cacheSize: -262_144, tempStore: 2, walAutocheckpoint: 16_384)

  /// For hash banks (imports, removals, retractions, known videos): statement journals in
  /// memory, with the 64 MB cache and the usual checkpoint every 1,000 pages they ran with
  /// before. An import writes its hashes in index order, so it dirties the pages at the end
  /// of each index, and a retraction touches each page once: the larger cache only cost
  /// memory there (a 1M-hash import peaked at 530 MB instead of 412 MB, a retraction of
  /// 100,000 at 309 MB instead of 160 MB, at the same CPU). A bank import runs in short
  /// batches so that consoles can write between them; with a checkpoint every 64 MB of log,
  /// a colleague's write waited up to 0.4-0.9 s behind one (`bench bank`'s "import under
  /// writes", three runs; 56-130 ms with the usual interval, for 0.5 s more import).
  /// Measured again once a waiting write retried every millisecond (three alternating
  /// runs, quiet, 1M hashes): every 64 MB, 5.63-5.98 s an import and a colleague's write
  /// waited median 12-18 ms, max 43-55 ms; every 1,000 pages, 5.80-6.15 s and median
  /// 2.4-6.5 ms, max 13-45 ms. The usual interval stays.
  static let forBanks = ImportTuning(
    cacheSize: -65_536, tempStore: forImport.tempStore, walAutocheckpoint: 1_000)

  /// Consent imports of fewer events (a service request's, usually) run with the connection
  /// as it is: changing and restoring its settings, and the checkpoint after, would cost
  /// them more than they save.
  static let minimumEvents = 1_000

  /// Bank imports, removals and retractions of more hashes than this run tuned.
  static let minimumHashes = 10_000

  /// The connection's current settings.
  static func current(_ db: Database) throws -> ImportTuning {
    ImportTuning(
      cacheSize: try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000,
      tempStore: try Int.fetchOne(db, sql: "PRAGMA temp_store") ?? 0,
      walAutocheckpoint: try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") ?? 1000)
  }

  func apply(_ db: Database) throws {
    try db.execute(
      sql: """
        PRAGMA cache_size = \(cacheSize); PRAGMA temp_store = \(tempStore);
        PRAGMA wal_autocheckpoint = \(walAutocheckpoint)
        """)
  }
}

extension AppDatabase {
  /// Runs `body` (an import's batches, or one long transaction) with `tuning` on the writing
  /// connection when `large`, then restores its
  /// settings and copies what the log still holds into the database file (as the usual
  /// checkpoint after a commit would have), also when `body` throws or is stopped.
  func withImportTuning<T>(
    _ tuning: ImportTuning = .forImport, large: Bool, _ body: () throws -> T
  ) throws -> T {
    guard large else { return try body() }
    let previous = try writer.writeWithoutTransaction { db -> ImportTuning in
      let old = try ImportTuning.current(db)
      try tuning.apply(db)
      return old
    }
    defer {
      try? writer.writeWithoutTransaction { db in
        try previous.apply(db)
        if hasFile { try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
      }
    }
    return try body()
  }
}
