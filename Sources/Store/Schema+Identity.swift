// MARK: - v3-identity: operators bound to OS accounts

extension Schema {
  /// Operators become OS accounts:
  ///
  /// - `uid`: the OS account (effective uid) the operator name is bound to. Rows that existed
  ///   before this migration stay unbound (NULL): nobody can act as them until an admin binds
  ///   them with `csar operator add NAME --role ROLE` (NAME must then be an OS login). Nothing
  ///   already stored changes: names, roles, and every row that refers to an operator stay.
  /// - `disabled_at`: when an admin disabled the operator (NULL: enabled).
  /// - A bound name is never rebound to another uid, never renamed and never deleted, so the
  ///   audit log (which records names) can always be mapped to OS accounts. Triggers enforce
  ///   this for edits made outside csar too.
  static let v3Identity = """
    ALTER TABLE operator ADD COLUMN uid INTEGER CHECK (uid IS NULL OR uid >= 0);
    ALTER TABLE operator ADD COLUMN disabled_at INTEGER;
    CREATE INDEX operator_by_uid ON operator(uid);
    CREATE TRIGGER operator_uid_bound_once BEFORE UPDATE OF uid ON operator
      WHEN OLD.uid IS NOT NULL AND NEW.uid IS NOT OLD.uid
    BEGIN
      SELECT RAISE(ABORT, 'operator names are never rebound to another uid');
    END;
    CREATE TRIGGER operator_name_fixed BEFORE UPDATE OF name ON operator
      WHEN NEW.name IS NOT OLD.name
    BEGIN
      SELECT RAISE(ABORT, 'operator names are never renamed');
    END;
    CREATE TRIGGER operator_no_delete BEFORE DELETE ON operator BEGIN
      SELECT RAISE(ABORT, 'operators are never deleted: disable them instead');
    END;
    """
}
