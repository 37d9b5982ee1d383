// Matching a URL against the enabled URL lists.

import Detection
import Store

/// A URL in canonical form and the list entries it hit.
public struct URLListMatch: Hashable, Sendable {
  /// The canonical URL (Safe Browsing v4).
  public var canonical: CanonicalURL
  /// Hits of enabled lists, most specific expression first.
  public var hits: [URLListHit]
}

/// Looks URLs up in the enabled URL lists as Safe Browsing does: the canonical URL's
/// host-suffix / path-prefix expressions against the lists' stored expressions.
public enum URLListMatcher {
  /// The canonical form of `url` and its hits; throws ``URLCanonicalizationError`` for text
  /// that is not a URL.
  public static func match(_ url: String, in database: AppDatabase) throws -> URLListMatch {
    let canonical = try URLCanonicalizer.parse(url)
    let hits = try database.urlListHits(expressions: canonical.lookupExpressions)
    return URLListMatch(canonical: canonical, hits: hits)
  }
}
