// MARK: - v4-bank-curation: bank versions, per-bank settings, drop-folder checkpoints

extension Schema {
  /// Curated banks:
  ///
  /// - `bank_version`: one row per change of a bank's list (import, removal, retraction,
  ///   rename, deletion), numbered 1, 2, ... per bank, with what it added and removed, the
  ///   total after it, and its source (file name and format). Rows outlive a deleted bank
  ///   (no foreign key): review items point at them as evidence. Existing banks get a
  ///   `baseline` version 1 with their current counts.
  /// - `bank.current_version_id`: the version matches are recorded against.
  /// - `bank.on_match`: `review` (a match waits in the review queue) or `report` (a match is
  ///   confirmed and reported at once).
  /// - `flagged_item.bank_version_id`: the bank version that matched.
  /// - `bank_sync_file`: files of a drop folder already taken (`csar bank sync`), by folder,
  ///   name, size and SHA-256, so each is imported once.
  static let v4BankCuration = """
    CREATE TABLE bank_version (
      id INTEGER PRIMARY KEY,
      bank_id INTEGER NOT NULL,
      bank_name TEXT NOT NULL,
      version INTEGER NOT NULL CHECK (version >= 1),
      change TEXT NOT NULL
        CHECK (change IN ('baseline', 'import', 'remove', 'retract', 'rename', 'delete')),
      added INTEGER NOT NULL DEFAULT 0 CHECK (added >= 0),
      removed INTEGER NOT NULL DEFAULT 0 CHECK (removed >= 0),
      total INTEGER NOT NULL CHECK (total >= 0),
      source_file TEXT,
      source_format TEXT,
      operator TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      UNIQUE (bank_id, version)
    );

    ALTER TABLE bank ADD COLUMN current_version_id INTEGER;
    ALTER TABLE bank ADD COLUMN on_match TEXT NOT NULL DEFAULT 'review'
      CHECK (on_match IN ('review', 'report'));

    ALTER TABLE flagged_item ADD COLUMN bank_version_id INTEGER;

    INSERT INTO bank_version (bank_id, bank_name, version, change, added, removed, total,
      operator, created_at)
    SELECT b.id, b.name, 1, 'baseline',
      (SELECT count(*) FROM bank_hash h WHERE h.bank_id = b.id), 0,
      (SELECT count(*) FROM bank_hash h WHERE h.bank_id = b.id),
      'csar', CAST(strftime('%s', 'now') AS INTEGER)
    FROM bank b ORDER BY b.id;
    UPDATE bank SET current_version_id =
      (SELECT v.id FROM bank_version v WHERE v.bank_id = bank.id AND v.version = 1);

    CREATE TABLE bank_sync_file (
      folder TEXT NOT NULL,
      name TEXT NOT NULL,
      size INTEGER NOT NULL,
      sha256 TEXT NOT NULL,
      target TEXT NOT NULL,
      version_id INTEGER,
      taken_at INTEGER NOT NULL,
      PRIMARY KEY (folder, name, size, sha256)
    ) WITHOUT ROWID;
    """
}
