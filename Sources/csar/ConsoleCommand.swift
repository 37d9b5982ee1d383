import ArgumentParser
import Terminal

/// `csar` / `csar console`: opens the console (a demo database on the first start only).
struct ConsoleCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "console",
    abstract: "Open the console (the default when no subcommand is given).",
    discussion: """
      On the first start (no --db, no configured database, and nothing at the default path) \
      a demo database is created there first, so `csar` on a fresh machine opens on realistic \
      synthetic data. A database named with --db or in the config must exist: a missing one \
      is refused, never created (make one with `csar init` or `csar demo`).
      """
  )

  @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
  var db: String?

  @Option(name: .long, help: "Theme: default, high-contrast, mono, or a path to a .toml file.")
  var theme: String?

  @Option(name: .long, help: CallerIdentity.optionHelp)
  var `operator`: String?

  @Option(name: .long, help: "Colour depth: truecolor, 256, 16, 8 or mono (default: detect).")
  var color: ColorDepth?

  @Option(name: .long, help: "Evaluate deadlines as of this day (YYYY-MM-DD).")
  var today: String?

  @Option(name: .long, help: "Config file (default: $XDG_CONFIG_HOME/csar/config.toml).")
  var config: String?

  @Option(name: .long, help: "Questionnaire file for the wizard (default: the shipped one).")
  var questionnaire: String?

  func run() throws {
    try ConsoleLauncher(
      databasePath: db, theme: theme, operatorName: `operator`, today: today,
      colorDepth: color, configPath: config, questionnairePath: questionnaire
    ).run()
  }
}
