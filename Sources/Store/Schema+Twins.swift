import GRDB

// MARK: - v7-twins: when each migration ran, and accounts kept apart by v6-nfc-ids

extension Schema {
  /// - `migration_time`: when each migration ran on this database (Unix seconds), written by
  ///   ``AppDatabase`` right after the migrations of an open. Migrations that ran before
  ///   this one have no row (their time was never recorded), except those that run in the
  ///   same open as it: a database from before `v6-nfc-ids` records when that migration
  ///   kept its twin accounts.
  /// - `id_respelling_kept_account`: finds the accounts `v6-nfc-ids` kept as stored by the
  ///   NFC spelling another account holds (their twin), so an account's twins are two index
  ///   look-ups (see ``AppDatabase/twins(ofAccount:)``).
  static let v7Twins = """
    CREATE TABLE migration_time (
      identifier TEXT NOT NULL PRIMARY KEY,
      applied_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX id_respelling_kept_account ON id_respelling(normalized)
      WHERE kind = 'account' AND kept = 1;
    """

  /// Records `identifiers` (migrations this open found pending) as applied at `time`, those
  /// that did run (another process may have run them first: its time stays).
  static func recordMigrationTimes(
    _ identifiers: [String], at time: Int64, in writer: any DatabaseWriter
  ) throws {
    try writer.write { db in
      let record = try db.makeStatement(
        sql: """
          INSERT OR IGNORE INTO migration_time (identifier, applied_at)
          SELECT identifier, ? FROM grdb_migrations WHERE identifier = ?
          """)
      for identifier in identifiers {
        try record.execute(arguments: [time, identifier])
      }
    }
  }
}
