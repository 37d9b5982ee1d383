import GRDB

// MARK: - v6-nfc-ids: ids stored before imports spelled them in NFC

extension Schema {
  /// Ids are NFC at the Store boundary (see ``Identifier``), but a database written before
  /// holds some as they came (NFD from a backend that decomposes, say): an import or a look-up
  /// in NFC then missed them, so a re-imported event was taken for a new one and a known
  /// account for a stranger. This migration spells them in NFC:
  ///
  /// - `account.external_id`, `consent_event.event_id` and `flag_import.external_ref`: each
  ///   id that is not NFC is rewritten in NFC when no other row holds that spelling. When one
  ///   does (an account imported once in NFD and again in NFC after the boundary), both rows
  ///   stay as they are: nothing is merged or dropped, since two accounts' consent histories
  ///   cannot be joined by a rule (their events may not replay as one history), and the
  ///   provider may really have two accounts whose ids differ only in form.
  /// - `consent_event.terms_version`: rewritten in NFC (not an id of its own row).
  /// - `id_respelling`: one row per id that was not NFC, with its stored spelling, its NFC
  ///   spelling and whether it was rewritten (`kept` = 1: left as stored, its NFC spelling
  ///   being another row's). For an account, `account_id` names it.
  ///
  /// Reports pseudonymise an account's id as stored before this migration (its
  /// `id_respelling` row), so a pseudonym already sent to the EU Centre stays the one every
  /// later report and reveal of that account carries (a pseudonym is a keyed hash of the
  /// id's bytes). The audit log keeps its events as written (it is append-only); they name
  /// accounts by row id, which does not change.
  static func v6NFCIds(_ db: Database) throws {
    try db.execute(
      sql: """
        CREATE TABLE id_respelling (
          kind TEXT NOT NULL CHECK (kind IN ('account', 'consent_event', 'flag_import')),
          stored TEXT NOT NULL,
          normalized TEXT NOT NULL,
          account_id INTEGER REFERENCES account(id) ON DELETE CASCADE,
          kept INTEGER NOT NULL CHECK (kept IN (0, 1)),
          PRIMARY KEY (kind, stored)
        ) WITHOUT ROWID;
        CREATE UNIQUE INDEX id_respelling_by_account ON id_respelling(account_id)
          WHERE account_id IS NOT NULL;
        """)
    try respell(db, kind: "account", table: "account", column: "external_id", rowKey: "id")
    try respell(
      db, kind: "consent_event", table: "consent_event", column: "event_id", rowKey: nil)
    try respell(
      db, kind: "flag_import", table: "flag_import", column: "external_ref", rowKey: nil)
    let terms = try String.fetchAll(
      db,
      sql: """
        SELECT DISTINCT terms_version FROM consent_event
        WHERE length(CAST(terms_version AS BLOB)) <> length(terms_version)
        """)
    for stored in terms {
      let normalized = Identifier.normalized(stored)
      guard !normalized.utf8.elementsEqual(stored.utf8) else { continue }
      try db.execute(
        sql: "UPDATE consent_event SET terms_version = ? WHERE terms_version = ?",
        arguments: [normalized, stored])
    }
  }

  /// Rewrites the non-NFC values of the unique `column` in NFC where the spelling is free,
  /// recording each in `id_respelling` (see ``v6NFCIds(_:)``). Only values with non-ASCII
  /// characters (more bytes than characters) are read.
  private static func respell(
    _ db: Database, kind: String, table: String, column: String, rowKey: String?
  ) throws {
    let rows = try Row.fetchAll(
      db,
      sql: """
        SELECT \(column) AS value\(rowKey.map { ", \($0) AS row" } ?? "") FROM \(table)
        WHERE length(CAST(\(column) AS BLOB)) <> length(\(column)) ORDER BY \(rowKey ?? column)
        """)
    let taken = try db.makeStatement(sql: "SELECT 1 FROM \(table) WHERE \(column) = ?")
    let rewrite = try db.makeStatement(
      sql: "UPDATE \(table) SET \(column) = ? WHERE \(column) = ?")
    let record = try db.makeStatement(
      sql: """
        INSERT INTO id_respelling (kind, stored, normalized, account_id, kept)
        VALUES (?, ?, ?, ?, ?)
        """)
    for row in rows {
      let stored: String = row["value"]
      let normalized = Identifier.normalized(stored)
      guard !normalized.utf8.elementsEqual(stored.utf8) else { continue }
      let kept = try Bool.fetchOne(taken, arguments: [normalized]) ?? false
      if !kept { try rewrite.execute(arguments: [normalized, stored]) }
      let account: Int64? = rowKey == nil ? nil : row["row"]
      try record.execute(arguments: [kind, stored, normalized, account, kept])
    }
  }
}
