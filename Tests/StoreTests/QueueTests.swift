import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

@Suite("Review queue keyset paging")
struct QueueTests {
  static let filters: [QueueFilter] = [
    QueueFilter(),
    QueueFilter(kind: .knownMatch),
    QueueFilter(serviceId: 1),
    QueueFilter(bank: "IWF"),
    QueueFilter(kind: .newMaterial, serviceId: 2),
    QueueFilter(states: [.dismissed, .confirmed, .pending]),
    QueueFilter(states: Set(FlagState.allCases)),
    QueueFilter(states: [.escalated]),
  ]

  /// The reference answer: OFFSET paging with a plain ORDER BY.
  static func offsetIds(_ db: AppDatabase, _ filter: QueueFilter) throws -> [Int64] {
    let states = AppDatabase.stateList(filter.states)
    var sql = "SELECT id FROM flagged_item WHERE state IN (\(states))"
    var arguments: StatementArguments = []
    if let kind = filter.kind {
      sql += " AND kind = ?"
      arguments += [kind.rawValue]
    }
    if let service = filter.serviceId {
      sql += " AND service_id = ?"
      arguments += [service]
    }
    if let bank = filter.bank {
      sql += " AND bank = ?"
      arguments += [bank]
    }
    sql += " ORDER BY priority, created_at, id"
    return try db.writer.read { try Int64.fetchAll($0, sql: sql, arguments: arguments) }
  }

  @Test(arguments: filters)
  func forwardAndBackwardPagingMatchOffsetPaging(filter: QueueFilter) throws {
    let db = sharedDemo
    let expected = try Self.offsetIds(db, filter)
    #expect(!expected.isEmpty)
    #expect(try db.queueCount(filter: filter) == expected.count)

    let limit = 37
    var pages: [[QueueItem]] = []
    var cursor: QueueCursor?
    while true {
      let page = try db.queuePage(filter: filter, after: cursor, limit: limit)
      if page.isEmpty { break }
      #expect(page.count <= limit)
      pages.append(page)
      cursor = page.last!.cursor
    }
    let forward = pages.flatMap { $0 }
    #expect(forward.map(\.id) == expected)
    // Every page equals the OFFSET page at the same position.
    for (i, page) in pages.enumerated() {
      let slice = expected[(i * limit)..<min(expected.count, (i + 1) * limit)]
      #expect(page.map(\.id) == Array(slice))
    }
    // Backwards from the end, page by page, in display order.
    var backward: [QueueItem] = []
    var before = forward.last!.cursor
    backward.insert(forward.last!, at: 0)
    while true {
      let page = try db.queuePage(filter: filter, before: before, limit: limit)
      if page.isEmpty { break }
      #expect(page.map(\.cursor) == page.map(\.cursor).sorted())
      backward.insert(contentsOf: page, at: 0)
      before = page.first!.cursor
    }
    #expect(backward.map(\.id) == expected)
  }

  @Test func itemsCarryEvidence() throws {
    let db = sharedDemo
    let page = try db.queuePage(filter: QueueFilter(), after: nil, limit: 200)
    #expect(page.first?.priority == 1)
    for item in page {
      #expect(item.state.isOpen)
      #expect(!item.serviceCode.isEmpty && item.accountPseudonym?.hasPrefix("u-") == true)
      switch item.kind {
      case .knownMatch:
        #expect(item.bank != nil && item.label != nil && item.sha256?.count == 64)
        #expect((0...31).contains(item.distance ?? -1))
        #expect(item.mediaPath?.hasPrefix("media/") == true)
      case .newMaterial:
        #expect(item.model != nil && (0.8...0.99).contains(item.score ?? 0))
      case .urlMatch:
        #expect(item.url?.hasPrefix("https://") == true && item.bank != nil)
      }
    }
    let one = try #require(try db.flaggedItem(id: page[0].id))
    #expect(one == page[0])
    #expect(try db.flaggedItem(id: 9_999_999) == nil)
    #expect(try db.banks().contains("NCMEC"))
  }

  @Test func queueQueriesUseIndexes() throws {
    let plans = try sharedDemo.writer.read { db in
      try Row.fetchAll(
        db,
        sql: """
          EXPLAIN QUERY PLAN
          SELECT id FROM flagged_item WHERE state = 'pending' AND kind = 'url_match'
            AND (priority, created_at, id) > (3, 0, 0)
          ORDER BY priority, created_at, id LIMIT 50
          """
      ).map { $0["detail"] as String }
    }
    #expect(plans.contains { $0.contains("flagged_item_queue_kind") })
    #expect(!plans.contains { $0.contains("TEMP B-TREE") })
  }
}
