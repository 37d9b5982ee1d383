import GRDB

// MARK: - Events of a file already recorded, 256 event ids a query

extension ConsentImportPlan {
  /// Whether an event id of the file is already recorded, and with what.
  enum Recorded: UInt8 {
    /// Not recorded.
    case absent
    /// Recorded with the same account, service, state and time: a duplicate.
    case same
    /// Recorded with other content: rejected (see ``conflict(_:)``).
    case different
  }

  /// Event ids looked up per query.
  static let recordedLookupGroup = 256

  /// What the database holds under the event id of each record `indices` names (in the same
  /// order): one query per ``recordedLookupGroup`` ids, instead of one per event (a
  /// re-import of a million events is a million look-ups otherwise). An id repeated in
  /// `indices` is answered for each.
  static func recorded(
    _ db: Database, records: [ConsentImportRecord], indices: [Int32]
  ) throws -> [Recorded] {
    var result = [Recorded](repeating: .absent, count: indices.count)
    var start = 0
    while start < indices.count {
      let end = min(start + recordedLookupGroup, indices.count)
      let statement = try BulkStatement(
        db, sql: recordedSQL(ids: end - start), cached: end - start == recordedLookupGroup)
      for k in start..<end {
        statement.bind(Int32(k - start + 1), records[Int(indices[k])].eventId)
      }
      try statement.execute { row in
        let k = start + Int(row.int64(0))
        let record = records[Int(indices[k])]
        let same =
          row.text(1, equals: record.account) && row.text(2, equals: record.service)
          && row.text(3, equals: record.state.rawValue) && row.int64(4) == record.occurredAt
        result[k] = same ? .same : .different
      }
      start = end
    }
    return result
  }

  /// The stored events of `ids` event ids, bound in order, each row led by the id's position
  /// (from 0): account, service code, state, time.
  static func recordedSQL(ids: Int) -> String {
    let wanted = (0..<ids).map { "(\($0), ?)" }.joined(separator: ", ")
    return """
      WITH wanted (k, event_id) AS (VALUES \(wanted))
      SELECT w.k, a.external_id, s.code, e.state, e.occurred_at
      FROM wanted w JOIN consent_event e ON e.event_id = w.event_id
      JOIN account a ON a.id = e.account_id JOIN service s ON s.id = e.service_id
      """
  }

  /// The issue of an event id already recorded with other content.
  static func conflict(_ record: ConsentImportRecord) -> ConsentImportIssue {
    ConsentImportIssue(
      line: record.line,
      reason: "event_id \(record.eventId) is already recorded with different content")
  }
}
