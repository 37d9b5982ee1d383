// MARK: - Migration for hash banks, URL lists and scanning

extension Schema {
  /// Tables and indexes for hash banks, URL lists and scanning. Not released yet: edit freely
  /// until the first release, then never again.
  ///
  /// - `bank` / `bank_hash`: imported hash lists; `hash` is lowercase hex (64 digits for
  ///   `pdq` and `sha256`, 32 for `md5`); one hash appears once per bank and type. Imports
  ///   insert in (type, hash) order, so the unique index grows at its end.
  /// - `url_list` / `url_entry`: Safe Browsing host-suffix/path-prefix expressions
  ///   (`evil.example/`, `a.b.c/1/2.html`), looked up by exact expression.
  /// - `flag_import`: classifier events already imported (their external id), so re-importing
  ///   a file queues nothing twice.
  static let v2Detection = """
    CREATE TABLE bank (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      enabled INTEGER NOT NULL DEFAULT 1,
      pdq_threshold INTEGER NOT NULL DEFAULT 31 CHECK (pdq_threshold BETWEEN 0 AND 256),
      created_at INTEGER NOT NULL
    );

    CREATE TABLE bank_hash (
      id INTEGER PRIMARY KEY,
      bank_id INTEGER NOT NULL REFERENCES bank(id),
      type TEXT NOT NULL CHECK (type IN ('pdq', 'md5', 'sha256')),
      hash TEXT NOT NULL,
      label TEXT,
      source_id TEXT,
      -- Also the index of exact lookups of a digest across banks.
      UNIQUE (type, hash, bank_id)
    );
    -- Counts per bank, and a bank's PDQ hashes for the matcher.
    CREATE INDEX bank_hash_by_bank ON bank_hash(bank_id, type);

    CREATE TABLE url_list (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      enabled INTEGER NOT NULL DEFAULT 1,
      created_at INTEGER NOT NULL
    );

    CREATE TABLE url_entry (
      id INTEGER PRIMARY KEY,
      list_id INTEGER NOT NULL REFERENCES url_list(id),
      expression TEXT NOT NULL,
      label TEXT,
      UNIQUE (list_id, expression)
    );
    CREATE INDEX url_entry_by_expression ON url_entry(expression);

    CREATE TABLE flag_import (
      external_ref TEXT PRIMARY KEY,
      item_id INTEGER REFERENCES flagged_item(id),
      imported_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    """
}
