import GRDB

// MARK: - Migrations

/// The schema, as a list of migrations. A released migration is never edited: changes go in a
/// new one ("v2", "v3", ...) appended to `migrator`.
enum Schema {
  static var migrator: DatabaseMigrator {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1") { db in
      try db.execute(sql: v1)
    }
    // Each capability owns its migration (in its own Schema+….swift file), in this order.
    migrator.registerMigration("v2-assessments") { db in
      try db.execute(sql: v2Assessments)
    }
    migrator.registerMigration("v2-detection") { db in
      try db.execute(sql: v2Detection)
    }
    migrator.registerMigration("v2-consent") { db in
      try db.execute(sql: v2Consent)
    }
    migrator.registerMigration("v2-review") { db in try db.execute(sql: v2Review) }
    migrator.registerMigration("v3-identity") { db in try db.execute(sql: v3Identity) }
    migrator.registerMigration("v3-audit-keyed") { db in try db.execute(sql: v3AuditKeyed) }
    migrator.registerMigration("v4-bank-sha1") { db in try v4BankSHA1(db) }
    migrator.registerMigration("v4-video-banks") { db in try db.execute(sql: v4VideoBanks) }
    migrator.registerMigration("v4-bank-curation") { db in try db.execute(sql: v4BankCuration) }
    migrator.registerMigration("v5-bank-staged-imports") { db in
      try db.execute(sql: v5BankStagedImports)
    }
    migrator.registerMigration("v6-nfc-ids") { db in try v6NFCIds(db) }
    migrator.registerMigration("v7-twins") { db in try db.execute(sql: v7Twins) }
    return migrator
  }

  // MARK: - v1: the first schema

  /// Timestamps are INTEGER Unix seconds (UTC); days are TEXT `YYYY-MM-DD`; codes are the
  /// raw values of the Compliance enums.
  ///
  /// `flag_tally`, `consent_tally` and `tally` are counters kept by triggers, so the dashboard
  /// never counts a million rows; the triggers also run for edits made outside csar.
  static let v1 = """
    CREATE TABLE operator (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      role TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );

    CREATE TABLE service (
      id INTEGER PRIMARY KEY,
      code TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL,
      kind TEXT NOT NULL,
      description TEXT NOT NULL DEFAULT '',
      created_at INTEGER NOT NULL
    );

    CREATE TABLE questionnaire_version (
      id TEXT PRIMARY KEY,
      title TEXT NOT NULL,
      checksum TEXT NOT NULL,
      loaded_at INTEGER NOT NULL
    );

    CREATE TABLE assessment (
      id INTEGER PRIMARY KEY,
      service_id INTEGER NOT NULL REFERENCES service(id),
      questionnaire_id TEXT NOT NULL REFERENCES questionnaire_version(id),
      status TEXT NOT NULL,
      started_at INTEGER NOT NULL,
      completed_on TEXT,
      category TEXT,
      total_score REAL,
      answers_json TEXT NOT NULL DEFAULT '{}',
      breakdown_json TEXT NOT NULL DEFAULT '{}',
      operator_id INTEGER REFERENCES operator(id)
    );
    CREATE INDEX assessment_by_service
      ON assessment(service_id, status, completed_on, id);

    CREATE TABLE mitigation_measure (
      id INTEGER PRIMARY KEY,
      service_id INTEGER NOT NULL REFERENCES service(id),
      code TEXT NOT NULL,
      title TEXT NOT NULL,
      requirement TEXT NOT NULL,
      owner TEXT NOT NULL DEFAULT '',
      status TEXT NOT NULL,
      due_on TEXT,
      UNIQUE (service_id, code)
    );

    CREATE TABLE detection_order (
      id INTEGER PRIMARY KEY,
      service_id INTEGER NOT NULL REFERENCES service(id),
      authority TEXT NOT NULL,
      reference TEXT NOT NULL,
      starts_on TEXT NOT NULL,
      ends_on TEXT NOT NULL,
      scope TEXT NOT NULL,
      e2ee INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX detection_order_by_service ON detection_order(service_id, ends_on);
    CREATE INDEX detection_order_by_end ON detection_order(ends_on);

    CREATE TABLE account (
      id INTEGER PRIMARY KEY,
      external_id TEXT NOT NULL UNIQUE,
      pseudonym TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL
    );

    CREATE TABLE consent_event (
      event_id TEXT PRIMARY KEY,
      account_id INTEGER NOT NULL REFERENCES account(id),
      service_id INTEGER NOT NULL REFERENCES service(id),
      state TEXT NOT NULL,
      occurred_at INTEGER NOT NULL,
      source TEXT NOT NULL,
      terms_version TEXT NOT NULL,
      operator_id INTEGER REFERENCES operator(id),
      reason TEXT
    );
    CREATE INDEX consent_event_by_account ON consent_event(account_id, occurred_at);
    CREATE INDEX consent_event_by_service_state
      ON consent_event(service_id, state, occurred_at);

    CREATE TABLE consent_current (
      account_id INTEGER NOT NULL REFERENCES account(id),
      service_id INTEGER NOT NULL REFERENCES service(id),
      state TEXT NOT NULL,
      updated_at INTEGER NOT NULL,
      PRIMARY KEY (account_id, service_id)
    ) WITHOUT ROWID;

    CREATE TABLE flagged_item (
      id INTEGER PRIMARY KEY,
      kind TEXT NOT NULL,
      state TEXT NOT NULL,
      priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
      service_id INTEGER NOT NULL REFERENCES service(id),
      account_id INTEGER REFERENCES account(id),
      media_path TEXT,
      url TEXT,
      sha256 TEXT,
      md5 TEXT,
      pdq TEXT,
      bank TEXT,
      label TEXT,
      distance INTEGER,
      model TEXT,
      score REAL,
      created_at INTEGER NOT NULL,
      claimed_by INTEGER REFERENCES operator(id),
      claim_expires_at INTEGER,
      decided_at INTEGER
    );
    -- Queue order is (priority, created_at, id); the rowid ends every index. A service
    -- filter reads one range per (state, kind); kind and service_id trail the bank index so
    -- that combined filters are checked without reading the table.
    CREATE INDEX flagged_item_queue ON flagged_item(state, priority, created_at);
    CREATE INDEX flagged_item_queue_kind
      ON flagged_item(state, kind, priority, created_at);
    CREATE INDEX flagged_item_queue_service
      ON flagged_item(state, service_id, kind, priority, created_at);
    CREATE INDEX flagged_item_queue_bank
      ON flagged_item(state, bank, priority, created_at, kind, service_id);
    CREATE INDEX flagged_item_by_account ON flagged_item(account_id, created_at);

    CREATE TABLE review_decision (
      id INTEGER PRIMARY KEY,
      item_id INTEGER NOT NULL REFERENCES flagged_item(id),
      operator_id INTEGER NOT NULL REFERENCES operator(id),
      decision TEXT NOT NULL,
      note TEXT NOT NULL DEFAULT '',
      decided_at INTEGER NOT NULL
    );
    CREATE INDEX review_decision_by_item ON review_decision(item_id, decided_at);
    CREATE INDEX review_decision_by_operator ON review_decision(operator_id, decided_at);

    CREATE TABLE report (
      id INTEGER PRIMARY KEY,
      case_ref TEXT NOT NULL UNIQUE,
      state TEXT NOT NULL,
      kind TEXT NOT NULL,
      account_id INTEGER REFERENCES account(id),
      created_at INTEGER NOT NULL,
      sent_at INTEGER,
      verdict TEXT,
      verdict_at INTEGER,
      payload_json TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX report_by_state ON report(state, created_at);
    CREATE INDEX report_by_account ON report(account_id, created_at);

    -- The items a report covers (two hits of new material make one report).
    CREATE TABLE report_item (
      report_id INTEGER NOT NULL REFERENCES report(id),
      item_id INTEGER NOT NULL REFERENCES flagged_item(id),
      PRIMARY KEY (report_id, item_id)
    ) WITHOUT ROWID;
    CREATE INDEX report_item_by_item ON report_item(item_id);

    CREATE TABLE audit_event (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      operator TEXT NOT NULL,
      action TEXT NOT NULL,
      entity TEXT NOT NULL,
      entity_id TEXT NOT NULL,
      details_json TEXT NOT NULL,
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL
    );
    CREATE INDEX audit_event_by_action ON audit_event(action, id);
    CREATE INDEX audit_event_by_entity ON audit_event(entity, entity_id, id);
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event BEGIN
      SELECT RAISE(ABORT, 'audit_event is append-only: rows cannot be updated');
    END;
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event BEGIN
      SELECT RAISE(ABORT, 'audit_event is append-only: rows cannot be deleted');
    END;

    -- MARK: counters kept by triggers

    CREATE TABLE tally (
      name TEXT PRIMARY KEY,
      n INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO tally(name, n) VALUES ('account', 0);
    CREATE TRIGGER account_tally_insert AFTER INSERT ON account BEGIN
      UPDATE tally SET n = n + 1 WHERE name = 'account';
    END;
    CREATE TRIGGER account_tally_delete AFTER DELETE ON account BEGIN
      UPDATE tally SET n = n - 1 WHERE name = 'account';
    END;

    CREATE TABLE flag_tally (
      service_id INTEGER NOT NULL,
      kind TEXT NOT NULL,
      state TEXT NOT NULL,
      n INTEGER NOT NULL,
      PRIMARY KEY (service_id, kind, state)
    ) WITHOUT ROWID;
    CREATE TRIGGER flagged_item_tally_insert AFTER INSERT ON flagged_item BEGIN
      INSERT INTO flag_tally(service_id, kind, state, n)
        VALUES (NEW.service_id, NEW.kind, NEW.state, 1)
        ON CONFLICT (service_id, kind, state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER flagged_item_tally_delete AFTER DELETE ON flagged_item BEGIN
      UPDATE flag_tally SET n = n - 1
        WHERE service_id = OLD.service_id AND kind = OLD.kind AND state = OLD.state;
    END;
    CREATE TRIGGER flagged_item_tally_update
      AFTER UPDATE OF service_id, kind, state ON flagged_item
      WHEN OLD.service_id IS NOT NEW.service_id OR OLD.kind IS NOT NEW.kind
        OR OLD.state IS NOT NEW.state
    BEGIN
      UPDATE flag_tally SET n = n - 1
        WHERE service_id = OLD.service_id AND kind = OLD.kind AND state = OLD.state;
      INSERT INTO flag_tally(service_id, kind, state, n)
        VALUES (NEW.service_id, NEW.kind, NEW.state, 1)
        ON CONFLICT (service_id, kind, state) DO UPDATE SET n = n + 1;
    END;

    -- Consent events per service, UTC month (YYYY-MM) and state: "withdrawals this month".
    CREATE TABLE consent_month_tally (
      service_id INTEGER NOT NULL,
      month TEXT NOT NULL,
      state TEXT NOT NULL,
      n INTEGER NOT NULL,
      PRIMARY KEY (service_id, month, state)
    ) WITHOUT ROWID;
    CREATE TRIGGER consent_event_tally_insert AFTER INSERT ON consent_event BEGIN
      INSERT INTO consent_month_tally(service_id, month, state, n)
        VALUES (NEW.service_id, strftime('%Y-%m', NEW.occurred_at, 'unixepoch'), NEW.state, 1)
        ON CONFLICT (service_id, month, state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER consent_event_tally_delete AFTER DELETE ON consent_event BEGIN
      UPDATE consent_month_tally SET n = n - 1
        WHERE service_id = OLD.service_id
          AND month = strftime('%Y-%m', OLD.occurred_at, 'unixepoch') AND state = OLD.state;
    END;
    CREATE TRIGGER consent_event_tally_update
      AFTER UPDATE OF service_id, occurred_at, state ON consent_event
    BEGIN
      UPDATE consent_month_tally SET n = n - 1
        WHERE service_id = OLD.service_id
          AND month = strftime('%Y-%m', OLD.occurred_at, 'unixepoch') AND state = OLD.state;
      INSERT INTO consent_month_tally(service_id, month, state, n)
        VALUES (NEW.service_id, strftime('%Y-%m', NEW.occurred_at, 'unixepoch'), NEW.state, 1)
        ON CONFLICT (service_id, month, state) DO UPDATE SET n = n + 1;
    END;

    CREATE TABLE consent_tally (
      service_id INTEGER NOT NULL,
      state TEXT NOT NULL,
      n INTEGER NOT NULL,
      PRIMARY KEY (service_id, state)
    ) WITHOUT ROWID;
    CREATE TRIGGER consent_current_tally_insert AFTER INSERT ON consent_current BEGIN
      INSERT INTO consent_tally(service_id, state, n) VALUES (NEW.service_id, NEW.state, 1)
        ON CONFLICT (service_id, state) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER consent_current_tally_delete AFTER DELETE ON consent_current BEGIN
      UPDATE consent_tally SET n = n - 1
        WHERE service_id = OLD.service_id AND state = OLD.state;
    END;
    CREATE TRIGGER consent_current_tally_update
      AFTER UPDATE OF service_id, state ON consent_current
      WHEN OLD.service_id IS NOT NEW.service_id OR OLD.state IS NOT NEW.state
    BEGIN
      UPDATE consent_tally SET n = n - 1
        WHERE service_id = OLD.service_id AND state = OLD.state;
      INSERT INTO consent_tally(service_id, state, n) VALUES (NEW.service_id, NEW.state, 1)
        ON CONFLICT (service_id, state) DO UPDATE SET n = n + 1;
    END;
    """
}
