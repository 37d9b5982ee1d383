import GRDB

// MARK: - Is this a demo database?

extension AppDatabase {
  /// Whether the database is a demo (synthetic data made by ``DemoGenerator``): it holds the
  /// demo's methodology, which nothing else writes. The console marks such a database DEMO on
  /// every screen, so nobody mistakes it for the provider's real records.
  public func isDemo() throws -> Bool {
    try read { db in
      try Bool.fetchOne(
        db, sql: "SELECT 1 FROM questionnaire_version WHERE id = ?",
        arguments: [DemoCatalog.questionnaireId]) ?? false
    }
  }
}
