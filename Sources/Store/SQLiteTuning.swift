// SQLite settings that hold for the whole process.

import CSQLiteTuning

/// Process-wide SQLite settings, applied once before the first database is opened.
public enum SQLiteTuning {
  /// Turns SQLite's memory statistics off: csar never reads them, and keeping them makes
  /// every SQLite allocation take one process-wide lock, on which threads reading through
  /// their own connections (the service's event loops) wait for each other. True when
  /// applied; false once SQLite has been used in the process (then nothing changes).
  @discardableResult
  public static func prepareForThreads() -> Bool {
    csar_sqlite_disable_memory_statistics() == 0
  }
}
