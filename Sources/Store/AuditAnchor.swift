import Foundation
import GRDB

// MARK: - The anchor outside the database

/// The audit log's head recorded outside the database, beside the key
/// (`<key folder>/anchors/<database id>.anchor`): the number of events and the newest event's
/// MAC, MACed with the audit key. Written after each audited commit, so a log cut at the end
/// (rows deleted and `sqlite_sequence` fixed) no longer reaches its anchor. A database ahead
/// of its anchor (a crash between commit and anchor, a concurrent writer) is fine as long as
/// the anchored event is still in the chain; behind it or diverging from it is not.
///
/// The anchor also names the database file it was written for (device, inode and path), as a
/// copy of the file holds the same database id: a copy answers to an anchor of its own
/// (`<database id>.copy-<device>-<inode>.anchor`), so neither moves the other's anchor. A
/// file put at the path the anchor names (a restore, a swap) answers to the database's
/// anchor, and takes it over only when its log reaches it.
struct AuditAnchor: Equatable {
  var databaseId: String
  /// How many events the log had (the newest event's id).
  var count: Int64
  /// The MAC of event `count`.
  var head: String
  /// The database file it was written for (nil: an anchor from before files were named, or
  /// a database without a file).
  var file: DatabaseFile? = nil
  /// The event at which this anchor was first written, when that was not the log's start:
  /// a copy's own anchor, written at the copy's first change, or the database's own written
  /// anew where there was none to check (deleted, or not one csar could trust) after the log
  /// had events (nil: an anchor written with the log's first events, or reanchored by an
  /// admin, or a copy's written before anchors recorded it). Events before it were never
  /// checked against this anchor: only the keyed chain vouches for them.
  var since: Int64? = nil

  static let format = "csar-audit-anchor 2"
  /// Anchors that record ``since``.
  static let formatWithSince = "csar-audit-anchor 3"
  /// Anchors written before they named their database file.
  static let formatWithoutFile = "csar-audit-anchor 1"

  /// The anchor file of `databaseId` in `folder`.
  static func path(folder: String, databaseId: String) -> String {
    folder + "/" + databaseId + ".anchor"
  }

  /// The anchor of a copy of `databaseId`'s file: the file at `file` while the file its
  /// database's anchor names is still in place.
  static func copyPath(folder: String, databaseId: String, file: DatabaseFile) -> String {
    folder + "/" + databaseId + ".copy-\(file.device)-\(file.inode).anchor"
  }

  private func signed(_ key: AuditKey) -> String {
    guard let file else {
      return key.mac(Data("csar audit anchor v1\n\(databaseId)\n\(count)\n\(head)".utf8))
    }
    let fields = [databaseId, "\(count)", head, "\(file.device) \(file.inode)", file.path]
    guard let since else {
      return key.mac(Data(("csar audit anchor v2\n" + fields.joined(separator: "\n")).utf8))
    }
    let all = fields + ["\(since)"]
    return key.mac(Data(("csar audit anchor v3\n" + all.joined(separator: "\n")).utf8))
  }

  /// The file's text.
  func text(key: AuditKey) -> String {
    guard let file else {
      return """
        \(Self.formatWithoutFile)
        database \(databaseId)
        events \(count)
        head \(head)
        mac \(signed(key))

        """
    }
    let since = since.map { "since \($0)\n" } ?? ""
    return """
      \(since.isEmpty ? Self.format : Self.formatWithSince)
      database \(databaseId)
      events \(count)
      head \(head)
      file \(file.device) \(file.inode)
      path \(file.path)
      \(since)mac \(signed(key))

      """
  }

  /// Reads an anchor back; the reason when the file is not one, or not for this database, or
  /// its MAC does not verify under `key`.
  static func parse(_ text: String, databaseId: String, key: AuditKey) -> Result<
    AuditAnchor, AnchorProblem
  > {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    let formats = [format, formatWithSince, formatWithoutFile]
    guard let first = lines.first, formats.contains(first) else {
      return .failure(.malformed("not an anchor file"))
    }
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
    var anchor = AuditAnchor(databaseId: id, count: count, head: head)
    if first != formatWithoutFile {
      let numbers = fields["file"]?.split(separator: " ").compactMap { UInt64($0) } ?? []
      guard numbers.count == 2, let path = fields["path"] else {
        return .failure(.malformed("the database file is not named"))
      }
      anchor.file = DatabaseFile(device: numbers[0], inode: numbers[1], path: path)
    }
    if first == formatWithSince {
      guard let since = fields["since"].flatMap({ Int64($0) }), since > 0 else {
        return .failure(.malformed("the event it was first written at is not a number"))
      }
      anchor.since = since
    }
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

  /// The anchor at `file` (of `databaseId`, in its `folder`), read as csar reads its private
  /// files: never through a symlink, never blocking (`O_NONBLOCK`, and a FIFO or device is
  /// refused before any read), refused when another account owns it or others may write it
  /// or its folder.
  static func read(file: String, folder: String, databaseId: String, key: AuditKey) -> Result<
    AuditAnchor, AnchorProblem
  > {
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

  /// The anchor the database file `file` answers to, and where it is: the database's own
  /// when it names this file, or the path it names now holds this file (it took the
  /// original's place: its log must reach the anchor); otherwise `file` is a copy (or was
  /// moved to another file system, leaving nothing at that path) and answers to an anchor of
  /// its own.
  static func locate(
    folder: String, databaseId: String, key: AuditKey, file: DatabaseFile?
  ) -> AnchorPlace {
    let own = path(folder: folder, databaseId: databaseId)
    let anchor = read(file: own, folder: folder, databaseId: databaseId, key: key)
    if case .success(let original) = anchor, let named = original.file, let file,
      !named.isSameFile(as: file),
      DatabaseFile.of(path: named.path)?.isSameFile(as: file) != true
    {
      let copy = copyPath(folder: folder, databaseId: databaseId, file: file)
      return AnchorPlace(
        path: copy, anchor: read(file: copy, folder: folder, databaseId: databaseId, key: key),
        original: original)
    }
    return AnchorPlace(path: own, anchor: anchor, original: nil)
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

  /// Writes the anchor atomically (a private temporary file, then rename) to `file`, its
  /// folder created private when missing. Refused, as its reading would be, when the folder is not
  /// one csar may trust (others may write to it, another account's), or when a symlink,
  /// FIFO or anything but a regular file is at the anchor's path (never followed, never
  /// opened, never replaced).
  func write(to file: String, key: AuditKey) throws(PrivateFileError) {
    let folder = PrivateFiles.folder(of: file)
    try PrivateFiles.makeFolder(folder, what: "audit anchor folder")
    try PrivateFiles.checkFolder(folder, what: "audit anchor folder")
    try PrivateFiles.writeAtomically(text(key: key), to: file)
  }
}

// MARK: - Anchoring and checking

extension AppDatabase {
  /// Writes the anchor for the head `(id, link)` of the change just committed, whose first
  /// event is `changeStart`. A failure is not thrown:
  /// the write it follows has committed, and the database is the truth (a database ahead of
  /// its anchor verifies; verification says how far the anchor lags). It is told to
  /// ``anchorWrites`` instead, whose handler makes it visible where it happened.
  ///
  /// The anchor there is kept, and the failure told, when the log no longer reaches it (events
  /// cut, the file replaced by an older or another one) or it cannot be used (forged,
  /// damaged): written over, it would take that log as genuine. A copy of the database file
  /// opened while its original is in place writes an anchor of its own (``AnchorPlace``).
  func anchor(head: (id: Int64, link: AuditLink), changeStart: Int64) {
    guard let auditKey, let folder = auditKey.anchorFolder else { return }
    let file = DatabaseFile.of(path: path)
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
    let place = AuditAnchor.locate(
      folder: folder, databaseId: databaseId, key: auditKey, file: file)
    var record = AuditAnchor(
      databaseId: databaseId, count: head.id, head: head.link.mac, file: file)
    func kept(_ reason: String) {
      anchorWrites.failed(
        AnchorWriteFailure(path: place.path, events: head.id, cause: .kept(reason: reason)))
    }
    switch place.anchor {
    case .failure(.missing), .failure(.refused):
      // Written. The write refuses again what is not a regular file or lies in a folder
      // others can write to; a file others could write, or another account's, is replaced
      // by a private one (its content could not be trusted anyway). A copy's first anchor
      // records the event it starts at: verify says that the events before it were never
      // checked against it. So does the database's own anchor written anew after the log had
      // events: it used to be written as if it had always been there, and `audit verify`,
      // which says a missing anchor may hide events cut from the end, passed again after the
      // next change.
      if place.original != nil || changeStart > 1 { record.since = head.id }
    case .failure(let problem):
      return kept("it cannot be used: \(problem)")
    case .success(let anchored):
      do {
        if let reason = try read({ try Self.unreached(anchored, in: $0) }) {
          return kept(reason)
        }
      } catch {
        return kept("the log could not be read to check it: \(error)")
      }
      record.since = anchored.since
      if anchored.count >= head.id {
        // Another writer anchored a later event already: only the file it names changes.
        guard anchored.file != file else { return anchorWrites.succeeded() }
        record.count = anchored.count
        record.head = anchored.head
      }
    }
    do throws(PrivateFileError) {
      try record.write(to: place.path, key: auditKey)
      anchorWrites.succeeded()
    } catch {
      anchorWrites.failed(AnchorWriteFailure(path: place.path, events: head.id, error: error))
    }
  }

  /// Why the log in `db` does not reach `anchor` (its event is gone: cut; or has another MAC:
  /// the log diverges), or nil when it holds the anchored event.
  static func unreached(_ anchor: AuditAnchor, in db: Database) throws -> String? {
    guard anchor.count > 0 else { return nil }
    let row = try Row.fetchOne(
      db,
      sql: """
        SELECT (SELECT mac FROM audit_event WHERE id = ?) AS mac,
          (SELECT max(id) FROM audit_event) AS count
        """, arguments: [anchor.count])
    let count: Int64 = row?["count"] ?? 0
    if anchor.count > count {
      return "the log ends at event \(count) but its anchor records \(anchor.count) events: "
        + "events \(count + 1)–\(anchor.count) were cut"
    }
    if row?["mac"] != anchor.head {
      return "the log diverges from its anchor at event \(anchor.count)"
    }
    return nil
  }

  /// Checks an intact keyed chain of `count` events against the anchor at `place` (as read
  /// before the snapshot `db` began; nil without an anchor folder): missing (with events),
  /// forged, ahead of the log (events cut at the end) or diverging is broken. A copy without
  /// an anchor of its own yet is checked against its original's.
  static func checkAnchor(_ db: Database, place: AnchorPlace?, count: Int) throws
    -> AuditVerification
  {
    guard let place else { return .ok(count: count) }
    let file = place.path
    switch place.anchor {
    case .failure(.missing):
      if count == 0 { return .ok(count: count) }
      if let original = place.original {
        guard let reason = try unreached(original, in: db) else { return .ok(count: count) }
        let of = original.file.map { " of the database file \($0.path)" } ?? ""
        return .broken(
          eventId: nil,
          reason: "this file is a copy\(of) and has no anchor of its own yet (\(file)); "
            + "checked against its original's anchor, \(reason) (an older copy, or cut)")
      }
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
      if let reason = try unreached(anchor, in: db) {
        return .broken(
          eventId: anchor.count > Int64(count) ? Int64(count) + 1 : anchor.count,
          reason: reason + " (a database restored from an older backup on purpose: an admin "
            + "accepts its log with `csar audit reanchor`)")
      }
      return .ok(count: count)
    }
  }
}
