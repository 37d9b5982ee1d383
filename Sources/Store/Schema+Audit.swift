// MARK: - v3: the keyed audit chain

extension Schema {
  /// Each audit event gets `mac`: HMAC-SHA-256 under the audit key (derived from the provider
  /// key, never stored here) of the previous event's MAC and the event's canonical fields.
  /// Events written before this migration have none until the first open with the key re-keys
  /// the chain (``AppDatabase/open(path:clock:auditKey:)``).
  ///
  /// `prev_hash` and `hash` stay and are still filled: the unkeyed SHA-256 chain costs little,
  /// lets anyone without the key check the log for accidental damage, and keeps the released
  /// schema (both are NOT NULL). It proves nothing against someone who can write the file: the
  /// MAC chain and the anchor outside the database do.
  ///
  /// `audit_chain` holds one row: the database's random identity (bound into the first MAC,
  /// so a chain cannot be moved to another database, and naming the anchor file) and a check
  /// value of the key the chain was keyed with (NULL until then).
  static let v3AuditKeyed = """
    ALTER TABLE audit_event ADD COLUMN mac TEXT;
    CREATE TABLE audit_chain (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      database_id TEXT NOT NULL,
      key_check TEXT
    );
    INSERT INTO audit_chain (id, database_id) VALUES (1, lower(hex(randomblob(16))));
    """
}
