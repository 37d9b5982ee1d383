import Foundation
import GRDB

// MARK: - The anchor outside the database

/// The audit log's head recorded outside the database, beside the key
/// (`<key folder>/anchors/<database id>.anchor`): the number of events and the newest event's
/// MAC, MACed with the audit key. Written after each audited commit, so a log cut at the end
/// (rows deleted and `sqlite_sequence` fixed) no longer reaches its anchor. A database ahead
/// of its anchor (a crash between commit and anchor, a concurrent writer) is fine as long as
/// the anchored event is still in the chain; behind it or diverging from it is not.
struct AuditAnchor: Equatable {
  var databaseId: String
  /// How many events the log had (the newest event's id).
  var count: Int64
  /// The MAC of event `count`.
  var head: String

  static let format = "csar-audit-anchor 1"

  /// The anchor file of `databaseId` in `folder`.
  static func path(folder: String, databaseId: String) -> String {
    folder + "/" + databaseId + ".anchor"
  }

  private func signed(_ key: AuditKey) -> String {
    key.mac(Data("csar audit anchor v1\n\(databaseId)\n\(count)\n\(head)".utf8))
  }

  /// The file's text.
  func text(key: AuditKey) -> String {
    """
    \(Self.format)
    database \(databaseId)
    events \(count)
    head \(head)
    mac \(signed(key))

    """
  }

  /// Reads an anchor back; the reason when the file is not one, or not for this database, or
  /// its MAC does not verify under `key`.
  static func parse(_ text: String, databaseId: String, key: AuditKey) -> Result<
    AuditAnchor, AnchorProblem
  > {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    guard lines.first == format else { return .failure(.malformed("not an anchor file")) }
    var fields: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let space = line.firstIndex(of: " ") else {
        return .failure(.malformed("a line without a value"))
      }
      fields[String(line[..<space])] = String(line[line.index(after: space)...])
    }
    guard let id = fields["database"], let countText = fields["events"],
      let count = Int64(countText), count >= 0, let head = fields["head"],
      let mac = fields["mac"]
    else { return .failure(.malformed("a field is missing or not a number")) }
    let anchor = AuditAnchor(databaseId: id, count: count, head: head)
    guard anchor.signed(key) == mac else { return .failure(.forged) }
    guard id == databaseId else { return .failure(.otherDatabase(id)) }
    return .success(anchor)
  }

  /// Why an anchor file cannot be used.
  enum AnchorProblem: Error, Equatable, CustomStringConvertible {
    case missing
    /// The file or its folder is not one csar may trust or read (a FIFO, device or symlink,
    /// another account's, open to others), checked as csar checks its private files.
    case refused(PrivateFileError)
    case malformed(String)
    case forged
    case otherDatabase(String)

    var description: String {
      switch self {
      case .missing: "it is missing"
      case .refused(let error): "\(error)\(Self.removalAdvice(error))"
      case .malformed(let reason): "it is damaged: \(reason)"
      case .forged: "its MAC does not verify (written without the audit key)"
      case .otherDatabase(let id): "it belongs to database \(id)"
      }
    }

    /// Whether the description names the file (a refusal does).
    var namesThePath: Bool {
      if case .refused = self { true } else { false }
    }

    /// What to do about something that is not a regular file (the other refusals name their
    /// `chmod` or `chown`).
    static func removalAdvice(_ error: PrivateFileError) -> String {
      switch error {
      case .symlink, .notARegularFile:
        ". csar writes its anchors itself, as private regular files: find out who put this "
          + "there, then remove it (`rm \(PrivateFiles.shellWord(error.path))`); the next "
          + "audited change writes a new anchor"
      default: ""
      }
    }
  }

  /// The largest anchor file read (a real one is about 250 bytes).
  static let sizeLimit = 4096

  /// The anchor of `databaseId` under `folder`, read as csar reads its private files: never
  /// through a symlink, never blocking (`O_NONBLOCK`, and a FIFO or device is refused before
  /// any read), refused when another account owns it or others may write it or its folder.
  static func read(folder: String, databaseId: String, key: AuditKey) -> Result<
    AuditAnchor, AnchorProblem
  > {
    let file = path(folder: folder, databaseId: databaseId)
    let bytes: [UInt8]?
    do {
      try PrivateFiles.checkFolder(folder, what: "audit anchor folder")
      bytes = try readFile(file)
    } catch {
      return .failure(.refused(error))
    }
    guard let bytes else { return .failure(.missing) }
    return parse(String(decoding: bytes, as: UTF8.self), databaseId: databaseId, key: key)
  }

  /// The bytes of the anchor file at `file` (nil when there is none); team members write
  /// anchors in a team folder, so the group may write them there.
  private static func readFile(_ file: String) throws(PrivateFileError) -> [UInt8]? {
    try PrivateFiles.readPrivate(
      file, what: "audit anchor", groupMayWrite: true, limit: sizeLimit)
  }

  /// How many anchor files in `folder` carry a MAC made with `key` (of any database): once a
  /// key anchors a database, unkeyed logs are no longer keyed automatically with it. Files
  /// csar would refuse to read as an anchor are not counted.
  static func count(folder: String?, key: AuditKey) -> Int {
    guard let folder,
      let names = try? FileManager.default.contentsOfDirectory(atPath: folder)
    else { return 0 }
    return names.filter { name in
      guard name.hasSuffix(".anchor"), let bytes = try? readFile(folder + "/" + name)
      else { return false }
      switch parse(String(decoding: bytes, as: UTF8.self), databaseId: "", key: key) {
      case .success, .failure(.otherDatabase): return true
      default: return false
      }
    }.count
  }

  /// Writes the anchor atomically (a private temporary file, then rename) into `folder`,
  /// created private when missing. Refused, as its reading would be, when the folder is not
  /// one csar may trust (others may write to it, another account's), or when a symlink,
  /// FIFO or anything but a regular file is at the anchor's path (never followed, never
  /// opened, never replaced).
  func write(folder: String, key: AuditKey) throws(PrivateFileError) {
    try PrivateFiles.makeFolder(folder, what: "audit anchor folder")
    try PrivateFiles.checkFolder(folder, what: "audit anchor folder")
    try PrivateFiles.writeAtomically(
      text(key: key), to: Self.path(folder: folder, databaseId: databaseId))
  }
}

// MARK: - Anchoring and checking

extension AppDatabase {
  /// Writes the anchor for the head `(id, link)` just committed. A failure is not thrown:
  /// the write it follows has committed, and the database is the truth (a database ahead of
  /// its anchor verifies; verification says how far the anchor lags). It is told to
  /// ``anchorWrites`` instead, whose handler makes it visible where it happened.
  func anchor(head: (id: Int64, link: AuditLink)) {
    guard let auditKey, let folder = auditKey.anchorFolder else { return }
    let databaseId: String
    do {
      databaseId = try read { try AuditChain.identity($0).databaseId }
    } catch {
      anchorWrites.failed(
        AnchorWriteFailure(
          path: folder, events: head.id,
          error: .io(path: path, action: "read the database id", reason: "\(error)")))
      return
    }
    let file = AuditAnchor.path(folder: folder, databaseId: databaseId)
    do throws(PrivateFileError) {
      try AuditAnchor(databaseId: databaseId, count: head.id, head: head.link.mac)
        .write(folder: folder, key: auditKey)
      anchorWrites.succeeded()
    } catch {
      anchorWrites.failed(AnchorWriteFailure(path: file, events: head.id, error: error))
    }
  }

  /// Checks an intact keyed chain of `count` events against its `anchor` (as read from
  /// `folder` before the snapshot `db` began; nil without an anchor folder): missing (with
  /// events), forged, ahead of the log (events cut at the end) or diverging is broken.
  static func checkAnchor(
    _ db: Database, anchor: Result<AuditAnchor, AuditAnchor.AnchorProblem>?, folder: String?,
    databaseId: String, count: Int
  ) throws -> AuditVerification {
    guard let anchor, let folder else { return .ok(count: count) }
    let file = AuditAnchor.path(folder: folder, databaseId: databaseId)
    switch anchor {
    case .failure(.missing):
      if count == 0 { return .ok(count: count) }
      return .broken(
        eventId: nil,
        reason: "no anchor at \(file): the end of the log cannot be checked (if it was "
          + "deleted, events at the end may have been cut)")
    case .failure(let problem) where problem.namesThePath:
      // The refusal names the file itself.
      return .broken(eventId: nil, reason: "the anchor cannot be used: \(problem)")
    case .failure(let problem):
      return .broken(eventId: nil, reason: "the anchor \(file) cannot be used: \(problem)")
    case .success(let anchor):
      if anchor.count > Int64(count) {
        return .broken(
          eventId: Int64(count) + 1,
          reason: "the log ends at event \(count) but its anchor records \(anchor.count) "
            + "events: events \(count + 1)–\(anchor.count) were cut")
      }
      if anchor.count > 0 {
        let mac = try String.fetchOne(
          db, sql: "SELECT mac FROM audit_event WHERE id = ?", arguments: [anchor.count])
        if mac != anchor.head {
          return .broken(
            eventId: anchor.count,
            reason: "the log diverges from its anchor at event \(anchor.count)")
        }
      }
      return .ok(count: count)
    }
  }
}
