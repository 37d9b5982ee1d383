// MARK: - Migration for hash banks, URL lists and scanning

extension Schema {
  /// Tables and indexes for hash banks, URL lists and scanning. Not released yet: edit freely until the first release,
  /// then never again.
  static let v2Detection = """
    SELECT 1;
    """
}
