// MARK: - Migration for questionnaires, assessments, measures and orders (risk categorisation)

extension Schema {
  /// Tables and indexes for questionnaires, assessments, measures and orders (risk
  /// categorisation). Not released yet: edit freely until the first release, then never again.
  ///
  /// - `assessment.current_question`: where the wizard stands in a draft, so it resumes there.
  /// - One draft per service at most (a partial unique index).
  /// - `order_need_flag`: the provider's recorded decisions to flag (or withdraw the flag of)
  ///   a possible need for a detection order, each with its reason; the newest one counts.
  static let v2Assessments = """
    ALTER TABLE assessment ADD COLUMN current_question TEXT;
    CREATE UNIQUE INDEX assessment_one_draft ON assessment(service_id) WHERE status = 'draft';

    CREATE TABLE order_need_flag (
      id INTEGER PRIMARY KEY,
      service_id INTEGER NOT NULL REFERENCES service(id),
      flagged INTEGER NOT NULL CHECK (flagged IN (0, 1)),
      reason TEXT NOT NULL,
      decided_at INTEGER NOT NULL,
      operator_id INTEGER REFERENCES operator(id)
    );
    CREATE INDEX order_need_flag_by_service ON order_need_flag(service_id, decided_at, id);
    """
}
