// MARK: - v5-bank-staged-imports: large bank imports written in short batches

extension Schema {
  /// A large bank import is written in many short transactions, so that consoles and other
  /// commands can write between them; its rows stay invisible until its last transaction:
  ///
  /// - `bank_import`: one row per import that added hashes (or is still adding them): its
  ///   bank, source, who, when it started and finished, the hashes it staged per type, its
  ///   batches and runs (a re-run of an interrupted import is a second run of the same
  ///   import). The id is never reused (`AUTOINCREMENT`): rows point at it for good.
  /// - `bank.pending_import_id`: the import still writing into the bank (at most one; a
  ///   re-run of an interrupted import takes it over). NULL once it finished.
  /// - `bank_hash.import_id`: the import that staged the row (NULL: imported before this
  ///   migration). A row is part of its bank unless its `import_id` is the bank's
  ///   `pending_import_id`: the import's last transaction clears that column, which makes all
  ///   of its rows visible at once (see `AppDatabase.visibleHash`).
  static let v5BankStagedImports = """
    CREATE TABLE bank_import (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      bank_id INTEGER NOT NULL,
      source_file TEXT,
      source_format TEXT,
      operator TEXT NOT NULL,
      started_at INTEGER NOT NULL,
      finished_at INTEGER,
      created_bank INTEGER NOT NULL DEFAULT 0,
      staged_pdq INTEGER NOT NULL DEFAULT 0 CHECK (staged_pdq >= 0),
      staged_md5 INTEGER NOT NULL DEFAULT 0 CHECK (staged_md5 >= 0),
      staged_sha256 INTEGER NOT NULL DEFAULT 0 CHECK (staged_sha256 >= 0),
      staged_sha1 INTEGER NOT NULL DEFAULT 0 CHECK (staged_sha1 >= 0),
      batches INTEGER NOT NULL DEFAULT 0,
      runs INTEGER NOT NULL DEFAULT 1,
      version_id INTEGER
    );

    ALTER TABLE bank ADD COLUMN pending_import_id INTEGER;
    ALTER TABLE bank_hash ADD COLUMN import_id INTEGER;
    """
}
