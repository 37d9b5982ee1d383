import Compliance
import Foundation
import GRDB

// MARK: - The EU Centre's answers

/// One answer read from a verdict file.
public struct VerdictLine: Hashable, Sendable {
  /// 1-based line in the file.
  public var line: Int
  public var caseRef: String
  public var verdict: ReportVerdict
}

/// A verdict file that was refused as a whole: every line that was wrong, in file order.
public struct VerdictImportError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file name used in messages.
  public var file: String
  /// The problems, each with its 1-based line.
  public var issues: [ConsentImportIssue]

  public var description: String {
    (["\(file): \(issues.count) problem(s); nothing was imported"]
      + issues.map { "\(file):\($0.line): \($0.reason)" }).joined(separator: "\n")
  }
}

/// What a verdict import did.
public struct VerdictImportSummary: Hashable, Sendable {
  /// Reports that got their verdict now.
  public var applied: Int
  /// Lines that repeated a verdict the report already had (a re-run of the same file).
  public var unchanged: Int
  /// Case references of manifestly unfounded reports closed now (the user may be informed).
  public var closed: [String]
  /// Case references that may now be revealed (four eyes).
  public var founded: [String]
}

/// Parses verdict files: JSON Lines `{"case_ref": "CSAR-2026-100001", "verdict":
/// "not_manifestly_unfounded"}` or CSV with a header naming `case_ref` and `verdict`. Blank
/// lines are skipped; other columns or keys are ignored.
public enum VerdictFileParser {
  /// Every well-formed line and every problem, in file order.
  public static func parse(_ bytes: [UInt8], format: ConsentImportFormat)
    -> (lines: [VerdictLine], issues: [ConsentImportIssue])
  {
    var lines: [VerdictLine] = []
    var issues: [ConsentImportIssue] = []
    var header: [String: Int]?
    var fields: [String?] = []
    var object: [String: FlatJSONValue] = [:]
    if let problem = ConsentImportParser.encodingProblem(bytes) {
      return ([], [ConsentImportIssue(line: 1, reason: problem)])
    }
    ConsentImportParser.forEachLine(bytes) { line, slice in
      let lookup: (String) -> String?
      switch format {
      case .csv:
        fields.removeAll(keepingCapacity: true)
        if let problem = ConsentImportParser.splitCSV(slice, into: &fields) {
          issues.append(ConsentImportIssue(line: line, reason: problem))
          return true
        }
        guard let columns = header else {
          var map: [String: Int] = [:]
          for (index, name) in fields.enumerated() {
            map[(name ?? "").trimmingSpaces().lowercased()] = index
          }
          let missing = ["case_ref", "verdict"].filter { map[$0] == nil }
          if !missing.isEmpty {
            issues.append(
              ConsentImportIssue(
                line: line,
                reason: "header: missing column(s) \(missing.joined(separator: ", ")); "
                  + "expected case_ref,verdict"))
          }
          header = map
          return missing.isEmpty
        }
        let row = fields
        lookup = { name in columns[name].flatMap { $0 < row.count ? row[$0] : nil } }
      case .jsonl:
        object.removeAll(keepingCapacity: true)
        if let problem = FlatJSON.parseObject(slice, into: &object) {
          issues.append(ConsentImportIssue(line: line, reason: "bad JSON: \(problem)"))
          return true
        }
        let values = object
        lookup = { name in values[name]?.text }
      }
      let caseRef = lookup("case_ref")?.trimmingSpaces() ?? ""
      let verdictText = lookup("verdict")?.trimmingSpaces() ?? ""
      guard !caseRef.isEmpty else {
        issues.append(ConsentImportIssue(line: line, reason: "case_ref: missing"))
        return true
      }
      guard let verdict = ReportVerdict(rawValue: verdictText) else {
        issues.append(
          ConsentImportIssue(
            line: line,
            reason: "verdict: \"\(ConsentImportParser.printable(verdictText))\" is not "
              + "not_manifestly_unfounded or manifestly_unfounded"))
        return true
      }
      lines.append(VerdictLine(line: line, caseRef: caseRef, verdict: verdict))
      return true
    }
    if format == .csv, header == nil {
      issues.append(ConsentImportIssue(line: 1, reason: "the file has no header line"))
    }
    return (lines, issues)
  }
}

extension AppDatabase {
  /// Imports the EU Centre's verdicts from a file's bytes, all or nothing: any bad line, unknown
  /// case reference, report not yet sent, report whose state disagrees with its audit trail
  /// (changed outside csar) or contradicting verdict refuses the whole file with every
  /// problem and its line (``VerdictImportError``). Otherwise, in one transaction:
  /// `not_manifestly_unfounded` → `founded` (may be revealed, four eyes);
  /// `manifestly_unfounded` → `closed` with the user notification due now. A line repeating a
  /// verdict the report already has changes nothing, so a file can be imported twice.
  /// Audited ("report.verdict" per report).
  @discardableResult
  public func importVerdicts(
    _ bytes: [UInt8], format: ConsentImportFormat, file: String, by operatorName: String
  ) throws -> VerdictImportSummary {
    let (lines, parseIssues) = VerdictFileParser.parse(bytes, format: format)
    var issues = parseIssues
    let summary = try audited(by: operatorName) { db, audit -> VerdictImportSummary in
      _ = try Self.operatorId(db, name: operatorName)
      var summary = VerdictImportSummary(applied: 0, unchanged: 0, closed: [], founded: [])
      var seen: [String: VerdictLine] = [:]
      var changes: [(id: Int64, line: VerdictLine)] = []
      for line in lines {
        if let earlier = seen[line.caseRef] {
          if earlier.verdict != line.verdict {
            issues.append(
              ConsentImportIssue(
                line: line.line,
                reason: "\(line.caseRef): contradicts line \(earlier.line) "
                  + "(\(earlier.verdict.rawValue))"))
          } else {
            summary.unchanged += 1
          }
          continue
        }
        seen[line.caseRef] = line
        guard
          let row = try Row.fetchOne(
            db.cachedStatement(
              sql: "SELECT id, state, verdict, purged_at FROM report WHERE case_ref = ?"),
            arguments: [line.caseRef])
        else {
          issues.append(
            ConsentImportIssue(
              line: line.line,
              reason: "case_ref: no report \"\(ConsentImportParser.printable(line.caseRef))\""))
          continue
        }
        if let mismatch = try Self.reportMismatches(db, ids: [row["id"]]).first {
          issues.append(
            ConsentImportIssue(
              line: line.line, reason: ReportError.disagreesWithAudit(mismatch).description))
          continue
        }
        let state = try row.code(ReportState.self, "state", table: "report")
        let existing = try row.optionalCode(ReportVerdict.self, "verdict", table: "report")
        if let existing {
          if existing == line.verdict {
            summary.unchanged += 1
          } else {
            issues.append(
              ConsentImportIssue(
                line: line.line,
                reason: "\(line.caseRef): already has the verdict \(existing.rawValue)"))
          }
          continue
        }
        guard state == .sent, row["purged_at"] as Int64? == nil else {
          issues.append(
            ConsentImportIssue(
              line: line.line,
              reason: "\(line.caseRef): is \(state.rawValue); a verdict needs a sent report"))
          continue
        }
        changes.append((row["id"], line))
      }
      guard issues.isEmpty else { return summary }
      for (id, line) in changes {
        let founded = line.verdict == .notManifestlyUnfounded
        let newState: ReportState = founded ? .founded : .closed
        try db.execute(
          sql: """
            UPDATE report SET state = ?, verdict = ?, verdict_at = ?, notify_due_at = ?
            WHERE id = ?
            """,
          arguments: [
            newState.rawValue, line.verdict.rawValue, audit.at, founded ? nil : audit.at, id,
          ])
        try audit.record(
          action: "report.verdict", entity: "report", entityId: String(id),
          before: ["case": .string(line.caseRef), "state": "sent"],
          after: [
            "state": .string(newState.rawValue), "verdict": .string(line.verdict.rawValue),
            "file": .string(file), "line": .int(Int64(line.line)),
            "notify_user": .bool(!founded),
          ])
        summary.applied += 1
        if founded { summary.founded.append(line.caseRef) } else {
          summary.closed.append(line.caseRef)
        }
      }
      return summary
    }
    guard issues.isEmpty else {
      throw VerdictImportError(file: file, issues: issues.sorted { $0.line < $1.line })
    }
    return summary
  }
}
