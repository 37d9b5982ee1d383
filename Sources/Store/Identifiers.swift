import Foundation

// MARK: - One spelling per identifier

/// Identifiers from outside (account ids, consent and classifier event ids, terms versions)
/// in one Unicode form. Swift compares strings by canonical equivalence, SQLite by bytes: an
/// id imported in NFD (`e` + U+0301) and looked up or imported again in NFC (`é`) would be one
/// id inside a file and two in the database. Every id is stored and looked up in NFC.
public enum Identifier {
  /// `text` in Unicode Normalization Form C (ASCII is returned as it is).
  public static func normalized(_ text: String) -> String {
    if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
    return text.precomposedStringWithCanonicalMapping
  }
}
