// Before ArgumentParser: global options before the subcommand, did-you-mean for typos.

import ArgumentParser

/// What `csar` does with its arguments before ArgumentParser parses them:
/// - options every command takes, written before the subcommand (`csar --db X deadlines`),
///   move behind the subcommand's name, where ArgumentParser looks for them;
/// - a word that is not a subcommand where one is expected (`csar reprot list`,
///   `csar report lsit`) is refused with the closest names (did you mean ...?), instead of
///   being read as arguments of the console.
enum CommandLineFixes {
  /// Options that take a value and that (nearly) every command has.
  static let globalOptions: Set<String> = ["--db", "--operator"]

  /// The arguments to parse, or the message for a mistyped subcommand.
  static func fix(_ arguments: [String], root: any ParsableCommand.Type)
    -> Result<[String], UnknownSubcommand>
  {
    var leading: [String] = []
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      if globalOptions.contains(argument), index + 1 < arguments.count {
        leading += arguments[index...index + 1]
        index += 2
      } else if let name = argument.split(separator: "=").first,
        globalOptions.contains(String(name)), argument.contains("=")
      {
        leading.append(argument)
        index += 1
      } else {
        break
      }
    }
    // Walk the subcommand names: `report list`, `bank import`, ...
    var command = root
    var path: [String] = []
    var rest = Array(arguments[index...])
    while let word = rest.first, !word.hasPrefix("-") {
      let children = command.configuration.subcommands
      guard !children.isEmpty else { break }
      if let child = children.first(where: { name(of: $0) == word }) {
        command = child
        path.append(word)
        rest.removeFirst()
        continue
      }
      // Not a subcommand name: the console (the default) takes no words, and a group
      // without a default takes none either.
      if ObjectIdentifier(command) == ObjectIdentifier(root)
        || command.configuration.defaultSubcommand == nil
      {
        let names = children.map(name(of:))
        return .failure(
          UnknownSubcommand(
            word: word, parent: ([name(of: root)] + path).joined(separator: " "),
            suggestions: suggestions(for: word, among: names), names: names))
      }
      break
    }
    if leading.isEmpty || path.isEmpty { return .success(arguments) }
    return .success(path + leading + rest)
  }

  /// The command's name as ArgumentParser matches it (derived from the type's name when the
  /// configuration gives none, e.g. `URLCommand.Import` is `import`).
  static func name(of command: any ParsableCommand.Type) -> String {
    command._commandName
  }

  /// The names within edit distance 2 of `word` (closest first), or that start with it.
  static func suggestions(for word: String, among names: [String]) -> [String] {
    let scored = names.map { ($0, distance(word.lowercased(), $0)) }
      .filter { $0.1 <= 2 || $0.0.hasPrefix(word.lowercased()) && word.count >= 2 }
    return scored.sorted { $0.1 == $1.1 ? $0.0 < $1.0 : $0.1 < $1.1 }.map(\.0)
  }

  /// Levenshtein distance (with adjacent swaps counted as one edit).
  static func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var rows = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { rows[i][0] = i }
    for j in 0...b.count { rows[0][j] = j }
    for i in 1...a.count {
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
          rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
        }
      }
    }
    return rows[a.count][b.count]
  }

  /// A word where a subcommand was expected.
  struct UnknownSubcommand: Error, CustomStringConvertible {
    let word: String
    /// The command it was given to, e.g. `csar report`.
    let parent: String
    let suggestions: [String]
    let names: [String]

    var description: String {
      var text = "\(parent): unknown command \"\(word)\""
      if let first = suggestions.first {
        text += "; did you mean `\(parent) \(first)`?"
        if suggestions.count > 1 {
          text += " (or " + suggestions.dropFirst().map { "`\($0)`" }.joined(separator: ", ")
            + ")"
        }
      } else {
        text += "; commands: " + names.joined(separator: ", ")
      }
      return text + " (see `\(parent) --help`)"
    }
  }
}
