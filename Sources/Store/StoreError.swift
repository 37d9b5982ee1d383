import Compliance

/// A failure of the store that an operator or a script can act on; `description` says what and
/// where (file path, table, column, id).
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file exists but is not an SQLite database (or is encrypted, or truncated).
  case notADatabase(path: String)
  /// A file or folder csar refuses to use (others could read or write it) or could not
  /// create privately.
  case unsafeFile(PrivateFileError)
  /// The folder for the database could not be created.
  case cannotCreateDirectory(path: String, reason: String)
  /// The database could not be opened or migrated.
  case cannotOpen(path: String, reason: String)
  /// The database was written by a newer csar whose migrations this build does not know.
  case newerSchema(path: String, unknownMigrations: [String])
  /// An operator write recorded no audit event; it was rolled back.
  case unauditedWrite(operatorName: String)
  /// No operator of that name is registered.
  case unknownOperator(name: String)
  /// A row that a write refers to does not exist.
  case notFound(entity: String, id: String)
  /// A value that must be unique already exists.
  case duplicate(entity: String, field: String, value: String)
  /// A value passed to a write is not acceptable.
  case invalidValue(field: String, value: String, reason: String)

  public var description: String {
    switch self {
    case .notADatabase(let path):
      return "\(path): not an SQLite database (or the file is damaged)"
    case .unsafeFile(let error):
      return error.description
    case .cannotCreateDirectory(let path, let reason):
      return "\(path): cannot create the database folder: \(reason)"
    case .cannotOpen(let path, let reason):
      return "\(path): cannot open the database: \(reason)"
    case .newerSchema(let path, let unknown):
      return "\(path): written by a newer csar (unknown migrations: "
        + "\(unknown.joined(separator: ", "))); upgrade csar to open it"
    case .unauditedWrite(let name):
      return "write by \(name) recorded no audit event and was rolled back"
    case .unknownOperator(let name):
      return "operator \"\(name)\" is not registered"
    case .notFound(let entity, let id):
      return "\(entity) \(id) does not exist"
    case .duplicate(let entity, let field, let value):
      return "\(entity) with \(field) \"\(value)\" already exists"
    case .invalidValue(let field, let value, let reason):
      return "\(field): \"\(value)\" is not valid: \(reason)"
    }
  }
}
