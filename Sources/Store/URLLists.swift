import Foundation
import GRDB

// MARK: - URL list values

/// One expression to import into a URL list: a Safe Browsing host-suffix/path-prefix
/// expression such as `evil.example/` or `a.b.c/1/2.html` (computed by the caller).
public struct URLListEntry: Hashable, Sendable {
  /// The expression, without scheme.
  public var expression: String
  /// What the list says about it (optional).
  public var label: String?

  /// Creates an entry.
  public init(expression: String, label: String? = nil) {
    self.expression = expression
    self.label = label
  }
}

/// A URL list with its size.
public struct URLListRow: Hashable, Sendable {
  /// Row id.
  public var id: Int64
  /// Unique name.
  public var name: String
  /// Whether scans match against it.
  public var enabled: Bool
  /// Unix seconds.
  public var createdAt: Int64
  /// Number of expressions.
  public var count: Int
}

/// What a URL list import did.
public struct URLListImportSummary: Hashable, Sendable {
  /// The list imported into.
  public var list: String
  /// Whether the import created the list.
  public var created: Bool
  /// Expressions added.
  public var added: Int
  /// Expressions the list already held.
  public var alreadyPresent: Int
  /// Bad lines left out.
  public var skipped: Int
}

/// An expression of an enabled list that a URL's lookups hit.
public struct URLListHit: Hashable, Sendable {
  /// The list's name.
  public var list: String
  /// The matching expression.
  public var expression: String
  /// The entry's label, if any.
  public var label: String?
}

// MARK: - Writes and reads

extension AppDatabase {
  /// Imports expressions into URL list `name` (created, enabled, when missing) in one
  /// transaction; expressions already present are counted, not duplicated. Audited as
  /// `url_list.import` when it changed something.
  @discardableResult
  public func importURLList(
    name: String, entries: [URLListEntry], skipped: Int = 0, by operatorName: String
  ) throws -> URLListImportSummary {
    try Self.checkListName(name, field: "URL list name")
    return try audited(by: operatorName) { db, audit in
      let (listId, created) = try Self.findOrCreateList(
        db, .urlList, name: name, at: audit.at)
      let insert = try db.cachedStatement(
        sql: "INSERT OR IGNORE INTO url_entry (list_id, expression, label) VALUES (?, ?, ?)")
      var added = 0
      for entry in entries {
        insert.setUncheckedArguments([listId, entry.expression, entry.label])
        try insert.execute()
        added += db.changesCount
      }
      let summary = URLListImportSummary(
        list: name, created: created, added: added, alreadyPresent: entries.count - added,
        skipped: skipped)
      guard created || added > 0 else { return summary }
      try audit.record(
        action: "url_list.import", entity: "url_list", entityId: String(listId),
        after: [
          "name": .string(name), "created": .bool(created), "added": .int(Int64(added)),
          "already_present": .int(Int64(summary.alreadyPresent)),
          "skipped_lines": .int(Int64(skipped)),
        ])
      return summary
    }
  }

  /// Enables or disables a URL list. No event when nothing changes.
  public func setURLListEnabled(name: String, enabled: Bool, by operatorName: String) throws {
    try audited(by: operatorName) { db, audit in
      guard
        let row = try Row.fetchOne(
          db, sql: "SELECT id, enabled FROM url_list WHERE name = ?", arguments: [name])
      else { throw StoreError.notFound(entity: "URL list", id: name) }
      let id: Int64 = row[0]
      let was: Bool = row[1]
      guard was != enabled else { return }
      try db.execute(
        sql: "UPDATE url_list SET enabled = ? WHERE id = ?", arguments: [enabled, id])
      try audit.record(
        action: enabled ? "url_list.enable" : "url_list.disable", entity: "url_list",
        entityId: String(id), before: ["enabled": .bool(was)], after: ["enabled": .bool(enabled)])
    }
  }

  /// Every URL list by name, with its size.
  public func urlLists() throws -> [URLListRow] {
    try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT l.id, l.name, l.enabled, l.created_at,
            (SELECT count(*) FROM url_entry e WHERE e.list_id = l.id)
          FROM url_list l ORDER BY l.name
          """
      ).map {
        URLListRow(id: $0[0], name: $0[1], enabled: $0[2], createdAt: $0[3], count: $0[4])
      }
    }
  }

  /// Entries of enabled lists whose expression is one of `expressions`, in the order of
  /// `expressions` (most specific first when they come from a URL's lookups), then by list.
  public func urlListHits(expressions: [String]) throws -> [URLListHit] {
    guard !expressions.isEmpty else { return [] }
    return try read { db in
      var hits: [URLListHit] = []
      let statement = try db.cachedStatement(
        sql: """
          SELECT l.name, e.expression, e.label FROM url_entry e
          JOIN url_list l ON l.id = e.list_id
          WHERE e.expression = ? AND l.enabled = 1 ORDER BY l.name
          """)
      for expression in expressions {
        for row in try Row.fetchAll(statement, arguments: [expression]) {
          hits.append(URLListHit(list: row[0], expression: row[1], label: row[2]))
        }
      }
      return hits
    }
  }
}
