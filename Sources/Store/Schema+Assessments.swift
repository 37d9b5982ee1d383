// MARK: - Migration for questionnaires, assessments, measures and orders (risk categorisation)

extension Schema {
  /// Tables and indexes for questionnaires, assessments, measures and orders (risk categorisation). Not released yet: edit freely until the first release,
  /// then never again.
  static let v2Assessments = """
    SELECT 1;
    """
}
