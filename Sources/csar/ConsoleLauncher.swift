import ArgumentParser
import Compliance
import ConsoleUI
import DemoPictures
import Foundation
import Imaging
import Store
import Terminal

// MARK: - Opening the console

/// Everything `csar` needs to open the console, resolved from flags, config and environment.
struct ConsoleLauncher {
  var databasePath: String?
  var theme: String?
  var operatorName: String?
  var today: String?
  var colorDepth: ColorDepth?
  var configPath: String?
  /// Questionnaire for the wizard; nil: the shipped one. Checked before anything is opened.
  var questionnairePath: String?

  func run() throws {
    let methodology = try RiskCommandSetup.questionnaire(path: questionnairePath)
    let environment = ProcessInfo.processInfo.environment
    let configuration = try Configuration.load(
      path: configPath ?? Configuration.defaultPath(environment: environment))
    let path = databasePath ?? configuration.databasePath
      ?? AppDatabase.defaultPath(environment: environment)
    let day: CalendarDate
    if let today {
      day = try CalendarDate(parsing: today, field: "--today")
    } else {
      day = CalendarDate(unixSeconds: AppDatabase.systemClock())
    }
    if !FileManager.default.fileExists(atPath: path) {
      // Only the first start on the default path makes a demo: a path given with --db or in
      // the config that does not exist is a typo, or a database that went missing.
      if databasePath != nil || configuration.databasePath != nil {
        throw RiskCommandError(
          "\(path): no database there (a typo, or a moved file?); nothing was created. "
            + "Make one with `csar init --db \(path)` (empty) or `csar demo --db \(path)` "
            + "(synthetic data)")
      }
      Output.error("csar: no database at \(path) (first start); creating a demo database…")
      // Items record the real SHA-256 of the pictures they point at (previews check it).
      let pictures = try DemoMedia.files()
      try DemoGenerator.ensureDemoDatabase(
        at: path,
        auditKey: DatabaseAccess.auditKey(configuration: configuration, databasePath: path),
        mediaDigests: DemoMedia.digests(of: pictures))
      try DemoMedia.write(pictures, besideDatabase: path)
    }
    let (database, providerKey) = try DatabaseAccess.openWithKey(
      path: path, configuration: configuration)
    let acting = try CallerIdentity.resolve(
      database, flag: operatorName, configuration: configuration, environment: environment)
    // A theme given is read before the terminal is taken over, so its errors print plainly.
    let givenTheme = try (theme ?? configuration.theme).map { try Theme.load(nameOrPath: $0) }
    let terminal = try NCursesTerminal(colorDepthOverride: colorDepth)
    var chosenTheme = try givenTheme
      ?? Theme.load(nameOrPath: Theme.nameFor(backgroundIsLight: terminal.backgroundIsLight))
    if terminal.colorDepth == .monochrome { chosenTheme = Theme.monochrome }
    let context = ConsoleContext(
      database: database, operatorName: acting.name, theme: chosenTheme, today: day,
      dueSoonDays: configuration.dueSoonDays, colorDepth: terminal.colorDepth,
      review: configuration.review, questionnaire: methodology)
    context.mediaRoots = MediaRoots(configured: configuration.mediaRoots, databasePath: path)
    context.videoLimits = configuration.video.previewLimits
    context.frameLimits = configuration.video.frameLimits
    context.graphics = terminal.graphics.graphicsProtocol
    // The Reports screen exports and reveals as `csar report export` / `reveal` do.
    context.reporting = ReportingSettings(
      provider: configuration.provider ?? "unnamed provider", key: providerKey,
      outbox: configuration.outbox ?? PrivateFiles.folder(of: path) + "/outbox")
    // While the terminal is in use the console shows a failed anchor write on its status
    // bar; stderr gets it once the console has closed.
    DatabaseAccess.countAnchorWrites(of: database)
    Console(context: context).run(on: terminal)
    DatabaseAccess.printLastAnchorFailure(of: database)
  }
}

extension ColorDepth: ExpressibleByArgument {}
