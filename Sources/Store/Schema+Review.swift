// MARK: - v2-review: decisions that can be undone, reveals, legal holds, retention

extension Schema {
  /// Review, reporting and retention:
  ///
  /// - `review_decision` remembers what a decision changed (previous state and decision time,
  ///   the report it created, the item it paired with as a second hit) so that the operator
  ///   can undo it for a short while; `undone_at` marks an undone decision (rows are kept).
  /// - `report` gains the time the user notification fell due (a manifestly unfounded case)
  ///   and the time the user was notified,
  ///   the reveal time and the purge time.
  /// - `reveal_request` / `reveal_approval`: the four-eyes rule for revealing a case's
  ///   metadata in the clear (a lead other than the requester approves).
  /// - `legal_hold`: an authority asked to keep a case or an item beyond the retention period.
  /// - `review_sequence`: case numbers are never reused, even after an undo removed a report.
  /// - `account_detail`: personal data of an account that goes into reports (IP addresses,
  ///   device ids, names), pseudonymised when sent; removed by the retention purge.
  static let v2Review = """
    ALTER TABLE review_decision ADD COLUMN prev_state TEXT;
    ALTER TABLE review_decision ADD COLUMN prev_decided_at INTEGER;
    ALTER TABLE review_decision ADD COLUMN new_state TEXT;
    ALTER TABLE review_decision ADD COLUMN report_id INTEGER;
    ALTER TABLE review_decision ADD COLUMN paired_item_id INTEGER;
    ALTER TABLE review_decision ADD COLUMN undone_at INTEGER;

    ALTER TABLE report ADD COLUMN notify_due_at INTEGER;
    ALTER TABLE report ADD COLUMN notified_at INTEGER;
    ALTER TABLE report ADD COLUMN revealed_at INTEGER;
    ALTER TABLE report ADD COLUMN purged_at INTEGER;

    -- Second hits: confirmed new material held per account, in decision order.
    CREATE INDEX flagged_item_second_hit
      ON flagged_item(account_id, state, kind, decided_at);
    -- Retention: closed items by decision time.
    CREATE INDEX flagged_item_by_decided ON flagged_item(state, decided_at);

    CREATE TABLE reveal_request (
      report_id INTEGER NOT NULL REFERENCES report(id),
      operator_id INTEGER NOT NULL REFERENCES operator(id),
      requested_at INTEGER NOT NULL,
      PRIMARY KEY (report_id, operator_id)
    ) WITHOUT ROWID;

    CREATE TABLE reveal_approval (
      report_id INTEGER NOT NULL REFERENCES report(id),
      approver_id INTEGER NOT NULL REFERENCES operator(id),
      approved_at INTEGER NOT NULL,
      PRIMARY KEY (report_id, approver_id)
    ) WITHOUT ROWID;

    CREATE TABLE legal_hold (
      id INTEGER PRIMARY KEY,
      entity TEXT NOT NULL CHECK (entity IN ('report', 'flagged_item')),
      entity_id INTEGER NOT NULL,
      reason TEXT NOT NULL DEFAULT '',
      placed_by INTEGER NOT NULL REFERENCES operator(id),
      placed_at INTEGER NOT NULL,
      released_at INTEGER
    );
    CREATE INDEX legal_hold_by_entity ON legal_hold(entity, entity_id, released_at);

    CREATE TABLE account_detail (
      id INTEGER PRIMARY KEY,
      account_id INTEGER NOT NULL REFERENCES account(id),
      field TEXT NOT NULL CHECK (field IN ('ip_address', 'device_id', 'name')),
      value TEXT NOT NULL,
      seen_at INTEGER NOT NULL,
      UNIQUE (account_id, field, value)
    );
    -- Retention: reports by state and last activity.
    CREATE INDEX report_by_purge ON report(purged_at, state);

    CREATE TABLE review_sequence (
      name TEXT PRIMARY KEY,
      next INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO review_sequence(name, next)
      VALUES ('case', (SELECT coalesce(max(id), 0) + 1 FROM report));
    """
}
