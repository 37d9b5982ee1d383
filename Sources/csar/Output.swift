// The one writer of plain output: everything csar prints goes through TextSafety.

import ArgumentParser
import TextSafety

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The one writer of the command line's output, stdout and stderr alike. Every line passes
/// `SafeText.forOutput`: escape sequences, C0/C1 controls, BEL, DEL, bidi controls and invisible
/// format characters from data (names, reasons, ids, file names, error messages quoting them)
/// leave as `\uXXXX` text. JSON lines stay valid and exact (only the spelling of a string
/// changes), so one writer serves `--json` too.
///
/// `print` is shadowed in this module (below), so a `print` written in any command cannot
/// bypass the writer; `CSAR.main` sends ArgumentParser's messages through it as well.
enum Output {
  /// Writes `text` and a newline to stdout.
  static func line(_ text: String) {
    Swift.print(SafeText.forOutput(text))
  }

  /// Writes `text` and a newline to stderr (unbuffered).
  static func error(_ text: String) {
    toStderr(SafeText.forOutput(text + "\n"))
  }

  /// Redraws the progress line of a long command in place on stderr (a terminal): carriage
  /// return, the text, erase to the end of the line. Only `text` comes from data and it is
  /// sanitised; the two controls are the writer's own.
  static func progress(_ text: String) {
    toStderr("\r" + SafeText.forOutput(text) + "\u{1B}[K")
  }

  /// Erases the progress line (the cursor stays at the start of the now empty row).
  static func clearProgress() {
    toStderr("\r\u{1B}[K")
  }

  /// Writes already sanitised text to stderr, all of it (unbuffered).
  private static func toStderr(_ text: String) {
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { buffer in
      var offset = 0
      while offset < buffer.count {
        let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
        if written <= 0 { break }
        offset += written
      }
    }
  }

  /// Prints ArgumentParser's message for `error` (help text to stdout, a failure to stderr)
  /// and exits with its code.
  static func exit(for error: Error, of command: any ParsableCommand.Type) -> Never {
    let code = command.exitCode(for: error)
    let message = command.fullMessage(for: error)
    if !message.isEmpty {
      if code.isSuccess { line(message) } else { Output.error(message) }
    }
    #if canImport(Glibc)
      Glibc.exit(code.rawValue)
    #else
      Darwin.exit(code.rawValue)
    #endif
  }
}

/// `Swift.print` for this module, through ``Output``: so no command can write unsanitised text.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
  let text = items.map { String(describing: $0) }.joined(separator: separator)
  Swift.print(SafeText.forOutput(text), terminator: terminator)
}
