import Foundation
import Compliance
import Store
import Terminal

// MARK: - Measures checklist keys (Services screen)

extension ServicesScreen {
  /// What a key does while the measures checklist has the focus.
  enum MeasureAction: Sendable { case down, up, status, owner, due, back }

  static let measureKeys = KeyTable<MeasureAction>(
    "Measures checklist",
    [
      KeyBinding([.character("j"), .down], .down, "Next measure"),
      KeyBinding([.character("k"), .up], .up, "Previous measure"),
      KeyBinding(
        [.character(" ")], .status, "Next status: planned → in progress → done"),
      KeyBinding([.character("o")], .owner, "Set the owner", hint: true),
      KeyBinding([.character("d")], .due, "Set the due date", hint: true),
      KeyBinding([.escape], .back, "Back to the services"),
    ])

  func handleMeasures(_ key: Key, context: ConsoleContext) -> ScreenResponse {
    guard let action = Self.measureKeys.action(for: key) else { return .unhandled }
    guard let panel, let at = measureCursor, at < panel.detail.measures.count else {
      measureCursor = nil
      return .handled
    }
    let measure = panel.detail.measures[at]
    let count = panel.detail.measures.count
    switch action {
    case .down: measureCursor = min(at + 1, count - 1)
    case .up: measureCursor = max(at - 1, 0)
    case .back: measureCursor = nil
    case .status:
      let next: MeasureStatus =
        switch measure.status {
        case .planned: .inProgress
        case .inProgress: .done
        case .done: .planned
        }
      if measure.status == .done {
        return reopen(measure, context: context)
      }
      return write(context, "\(measure.title): \(next.label)") {
        _ = try context.database.setMeasureStatus(
          id: measure.id, to: next, by: context.operatorName)
      }
    case .owner:
      let prompt = Prompt(label: "Owner of \(measure.code): ", initial: measure.owner) {
        [weak self] text in
        self?.write(context, "Owner of \(measure.title): \(text.isEmpty ? "none" : text)") {
          _ = try context.database.updateMeasure(
            id: measure.id, owner: text, due: measure.dueOn, by: context.operatorName)
        }.status
      }
      return .overlay(.prompt(prompt))
    case .due:
      let prompt = Prompt(
        label: "Due date of \(measure.code) (YYYY-MM-DD): ",
        initial: measure.dueOn?.description ?? ""
      ) { [weak self] text in
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let due: CalendarDate?
        do {
          due = trimmed.isEmpty ? nil : try CalendarDate(parsing: trimmed, field: "due date")
        } catch {
          return .error("Not saved: \(error)")
        }
        return self?.write(context, "Due date of \(measure.title): \(due?.description ?? "none")") {
          _ = try context.database.updateMeasure(
            id: measure.id, owner: measure.owner, due: due, by: context.operatorName)
        }.status
      }
      return .overlay(.prompt(prompt))
    }
    return .handled
  }

  /// A done measure is set back to planned only after the operator confirms: one stray space
  /// would otherwise undo recorded work.
  private func reopen(_ measure: MeasureRow, context: ConsoleContext) -> ScreenResponse {
    let database = context.database
    let name = context.operatorName
    let dialog = Confirmation(
      title: "Reopen a done measure?",
      lines: [
        "\(measure.code) \(measure.title) is done. Enter sets it back to planned (audited);"
          + " Esc keeps it done."
      ], reasonRequired: false
    ) { [weak self] _ in
      _ = try database.setMeasureStatus(id: measure.id, to: .planned, by: name)
      try self?.reload(context)
      return .info("Saved: \(measure.title): \(MeasureStatus.planned.label)")
    }
    return .overlay(.confirm(dialog))
  }

  /// Runs an audited write, then re-reads the screen; a status either way.
  private func write(
    _ context: ConsoleContext, _ done: String, _ change: () throws -> Void
  ) -> ScreenResponse {
    do {
      try change()
      try reload(context)
      return .status(.info("Saved: \(done)"))
    } catch {
      return .status(.error("Not saved: \(error)"))
    }
  }
}

extension ScreenResponse {
  /// The status message of a response, if it carries one.
  var status: StatusMessage? {
    if case .status(let message) = self { return message }
    return nil
  }
}
