import Compliance
import Foundation
import Store
import Terminal

// MARK: - Export, verdicts and the four-eyes reveal

extension ReportsScreen {
  /// `x`: asks for the outbox folder (the configured one to start with), then writes every
  /// ready report pseudonymised and marks it sent, as `csar report export` does.
  func exportPrompt(_ context: ConsoleContext) -> ScreenResponse {
    guard let reporting = context.reporting else { return .status(Self.noReporting) }
    guard readyCount > 0 else {
      return .status(.info("No report is ready to export (each is exported once)"))
    }
    let count = readyCount
    let prompt = Prompt(
      label: "Export \(count) ready report\(count == 1 ? "" : "s") to folder ",
      initial: reporting.outbox
    ) { [weak self] text in
      let folder = text.trimmingCharacters(in: .whitespaces)
      guard !folder.isEmpty else { return .error("Give the outbox folder (Esc cancels)") }
      do {
        let written = try context.database.exportReadyReports(
          to: try Outbox(directory: folder), provider: reporting.provider, key: reporting.key,
          by: context.operatorName)
        try? self?.reload(context)
        let cases = written.prefix(3).map(\.caseRef).joined(separator: ", ")
        let more = written.count > 3 ? ", …" : ""
        return .info(
          "Exported \(written.count) report\(written.count == 1 ? "" : "s") to \(folder)"
            + (written.isEmpty ? "" : ": \(cases)\(more)"))
      } catch {
        return .error("Not exported: \(error)")
      }
    }
    return .overlay(.prompt(prompt))
  }

  /// `v`: asks for a verdict file and imports it all or nothing, as `csar report verdict`.
  func verdictPrompt(_ context: ConsoleContext) -> ScreenResponse {
    let prompt = Prompt(label: "Verdict file (JSON Lines or CSV) ") { [weak self] text in
      let path = text.trimmingCharacters(in: .whitespaces)
      guard !path.isEmpty else { return .error("Give the verdict file's path (Esc cancels)") }
      guard let data = FileManager.default.contents(atPath: path) else {
        return .error("\(path): cannot read the verdict file")
      }
      let bytes = [UInt8](data)
      do {
        let summary = try context.database.importVerdicts(
          bytes, format: ConsentImportFormat.detect(path: path, bytes: bytes),
          file: (path as NSString).lastPathComponent, by: context.operatorName)
        try? self?.reload(context)
        return .info(Self.describe(summary))
      } catch let error as VerdictImportError {
        let first = error.issues.first.map { " · line \($0.line): \($0.reason)" } ?? ""
        return .error(
          "\(error.file): \(error.issues.count) problem(s), nothing imported\(first)")
      } catch {
        return .error("Not imported: \(error)")
      }
    }
    return .overlay(.prompt(prompt))
  }

  /// `3 verdicts recorded, 1 already known · founded (reveal needs four eyes): CSAR-… ·
  /// closed, notify the user: CSAR-…`
  static func describe(_ summary: VerdictImportSummary) -> String {
    var text = "\(summary.applied) verdict(s) recorded, \(summary.unchanged) already known"
    if !summary.founded.isEmpty {
      text += " · founded, may be revealed (four eyes): "
        + summary.founded.joined(separator: ", ")
    }
    if !summary.closed.isEmpty {
      text += " · closed, notify the user: " + summary.closed.joined(separator: ", ")
    }
    return text
  }

  static let noReporting = StatusMessage.error(
    "Writing reports needs the provider key: open the console with csar (config provider_key)")

  /// `r`, `a`, `o`, `u` on the selected report: a confirmation naming what will be recorded;
  /// the Store enforces the rules (state, lead role, four eyes by OS account) and its refusal
  /// stays in the dialog.
  func followUpDialog(_ action: Action, context: ConsoleContext) -> ScreenResponse {
    guard pane == .reports, let report = selectedReport else {
      return .status(.error("Select a report first (Tab moves to the reports)"))
    }
    let database = context.database
    let name = context.operatorName
    let ref = report.caseRef
    let state = "\(ref) · \(report.state.rawValue) · \(report.kind.label)"
    let requested = ((try? database.reportFollowUp(reportId: report.id))?.requests ?? [])
      .map(\.operatorName)
    let dialog: Confirmation
    switch action {
    case .requestReveal:
      dialog = Confirmation(
        title: "Request the reveal of \(ref)",
        lines: [
          "Case     \(state)",
          "The metadata of a founded case can be revealed in the clear once a lead logged in"
            + " as another OS account approves. Recorded in the audit log as \(name).",
        ], reasonRequired: false
      ) { _ in
        try database.requestReveal(caseRef: ref, by: name)
        return .info("\(ref): reveal requested by \(name); a lead of another account approves")
      }
    case .approveReveal:
      let who = requested.isEmpty ? "nobody yet" : requested.joined(separator: ", ")
      dialog = Confirmation(
        title: "Approve the reveal of \(ref)",
        lines: [
          "Case          \(state)", "Requested by  \(who)",
          "Four eyes: you approve as \(name), a lead bound to another OS account than every"
            + " requester. Recorded in the audit log.",
        ], reasonRequired: false
      ) { _ in
        try database.approveReveal(caseRef: ref, by: name)
        return .info("\(ref): reveal approved by \(name)")
      }
    case .reveal:
      guard let reporting = context.reporting else { return .status(Self.noReporting) }
      dialog = Confirmation(
        title: "Reveal \(ref)",
        lines: [
          "Case     \(state)",
          "Writes \(ref)-reveal.json with the account data in the clear to"
            + " \(reporting.outbox). Only after a lead of another OS account approved."
            + " Recorded in the audit log with the file's SHA-256.",
        ], reasonRequired: false
      ) { _ in
        let written = try database.reveal(
          caseRef: ref, to: try Outbox(directory: reporting.outbox),
          provider: reporting.provider, key: reporting.key, by: name)
        return .info("\(ref): revealed to \(written.path)")
      }
    default:
      dialog = Confirmation(
        title: "The user of \(ref) was notified",
        lines: [
          "Case     \(state)",
          "Records that the user of this case (closed as manifestly unfounded) was told."
            + " Recorded in the audit log as \(name).",
        ], reasonRequired: false
      ) { _ in
        try database.markUserNotified(caseRef: ref, by: name)
        return .info("\(ref): user notification recorded by \(name)")
      }
    }
    return .overlay(.confirm(dialog))
  }
}
