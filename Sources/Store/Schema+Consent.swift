// MARK: - Migration for consent imports

extension Schema {
  /// Tables and indexes for consent imports. Not released yet: edit freely until the first release,
  /// then never again.
  static let v2Consent = """
    SELECT 1;
    """
}
