import Compliance
import GRDB

// MARK: - The next item a reviewer can take

extension AppDatabase {
  /// Who may see escalated items: every role above reviewer.
  public static func handlesEscalations(_ role: OperatorRole) -> Bool { role != .reviewer }

  /// The role stored for an operator, or nil for an unknown name.
  public func operatorRole(name: String) throws -> OperatorRole? {
    try read { db in try Self.operatorRow(db, name: name)?.role }
  }

  /// The first item in queue order (priority, then age) that `operatorName` can open now:
  /// it matches `filter`, nobody else holds a live claim on it, it is not in `excluding`
  /// (what the operator skipped or passed on this session), and it is escalated only when
  /// the operator is a lead, who gets escalated items first. Scans at most `scanLimit` rows,
  /// so a queue whose top is all held by colleagues costs a bounded read.
  public func nextFreeItem(
    filter: QueueFilter, for operatorName: String, excluding: Set<Int64> = [],
    scanLimit: Int = 2000
  ) throws -> QueueItem? {
    try read { db in
      guard let me = try Self.operatorRow(db, name: operatorName) else {
        throw StoreError.unknownOperator(name: operatorName)
      }
      let now = clock()
      let escalated: Set<FlagState> = [.escalated]
      var passes = [filter.states.subtracting(escalated)]
      if Self.handlesEscalations(me.role) {
        passes.insert(filter.states.intersection(escalated), at: 0)
      }
      for states in passes where !states.isEmpty {
        var pass = filter
        pass.states = states
        var cursor: QueueCursor?
        var scanned = 0
        while scanned < scanLimit {
          let page = try Self.queuePage(db, filter: pass, cursor: cursor, forward: true, 100)
          for item in page where !excluding.contains(item.id) {
            let heldByOther =
              item.claimedBy != nil && item.claimedBy != me.name
              && (item.claimExpiresAt ?? 0) > now
            if !heldByOther { return item }
          }
          guard page.count == 100, let last = page.last else { break }
          cursor = last.cursor
          scanned += page.count
        }
      }
      return nil
    }
  }
}

// MARK: - Changes by others

extension AppDatabase {
  /// SQLite's `PRAGMA data_version` on the writer connection: it changes whenever another
  /// connection (another console, a command, an import) committed, and never for this one's
  /// own writes. Cheap enough to poll once a second.
  public func dataVersion() throws -> Int {
    try writer.writeWithoutTransaction { db in
      try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0
    }
  }
}
