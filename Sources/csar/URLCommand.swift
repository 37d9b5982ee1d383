// `csar url canonicalize|import|list|match`: Safe Browsing canonical forms and URL lists.

import ArgumentParser
import Detection
import Moderation
import Store

/// URL list tools.
struct URLCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "url",
    abstract: "Canonicalise URLs as Google Safe Browsing v4 does; import and match URL lists.",
    subcommands: [
      Canonicalize.self, Import.self, List.self, Match.self, Enable.self, Disable.self,
    ]
  )

  /// Prints one canonical URL per argument.
  struct Canonicalize: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print the Safe Browsing canonical form of each URL, one per line.",
      discussion: "With --expressions, also print its host-suffix/path-prefix lookups."
    )

    @Flag(name: .long, help: "Also print the lookup expressions, indented, after each URL.")
    var expressions = false

    @Argument(help: "URLs.")
    var urls: [String]

    mutating func run() throws {
      var failed = false
      for url in urls {
        do {
          let canonical = try URLCanonicalizer.parse(url)
          print(DisplayText.escapingControls(canonical.description))
          if expressions {
            for expression in canonical.lookupExpressions {
              print("  " + DisplayText.escapingControls(expression))
            }
          }
        } catch {
          failed = true
          DetectText.printError(
            "csar url canonicalize: " + DisplayText.escapingControls(error.description))
        }
      }
      if failed { throw ExitCode(1) }
    }
  }

  /// `csar url import NAME FILE`.
  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Import a URL list (created when new).",
      discussion: """
        One URL or host/path expression per line, optionally followed by a tab and a label; \
        blank lines and lines starting with # are ignored. Each is canonicalised as Safe \
        Browsing does and stored as an expression (host/path[?query]): `evil.example/` \
        matches every URL on that host and its subdomains, `evil.example/dir/` every URL \
        under that directory, `evil.example/a.html` that page only. Every bad line is \
        printed as FILE:LINE: reason; a file with any bad line imports nothing unless \
        --skip-invalid. One transaction, one audit event (url_list.import).
        """)

    @Argument(help: "List name (letters, digits, '-', '_', '.').")
    var name: String

    @Argument(help: "Text file, one URL per line.")
    var file: String

    @OptionGroup var options: ImportOptions

    func run() throws {
      let (database, operatorName) = try options.moderation.open(create: true)
      let outcome = try ImportReporting.run("csar url import") {
        try Imports.urlList(
          name: name, path: file, skipInvalid: options.skipInvalid, database: database,
          by: operatorName)
      }
      let s = outcome.summary
      if options.json {
        print(
          OrderedJSON.object([
            ("list", .string(s.list)), ("created", .bool(s.created)),
            ("added", .int(Int64(s.added))), ("already_present", .int(Int64(s.alreadyPresent))),
            ("skipped_lines", .int(Int64(s.skipped))),
          ]))
      } else {
        var text = "URL list \(s.list)\(s.created ? " (new)" : ""): "
          + ImportReporting.plural(s.added, "expression") + " added, "
          + "\(s.alreadyPresent) already present"
        if s.skipped > 0 {
          text += ", " + ImportReporting.plural(s.skipped, "bad line") + " skipped"
        }
        print(text)
      }
    }
  }

  /// `csar url list`.
  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List the URL lists with their state and size.",
      discussion: """
        Plain: NAME<TAB>enabled|disabled<TAB>N expressions. With --json, one object per \
        line: {"name","enabled","expressions","created_at"}.
        """)

    @Flag(name: .long, help: "Print JSON Lines.")
    var json = false

    @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
    var db: String?

    func run() throws {
      let setup = try RiskCommandSetup(db: db, today: nil, createIfMissing: false)
      for list in try setup.database.urlLists() {
        if json {
          print(
            OrderedJSON.object([
              ("name", .string(list.name)), ("enabled", .bool(list.enabled)),
              ("expressions", .int(Int64(list.count))), ("created_at", .int(list.createdAt)),
            ]))
        } else {
          print(
            [list.name, list.enabled ? "enabled" : "disabled",
             ImportReporting.plural(list.count, "expression")].joined(separator: "\t"))
        }
      }
    }
  }

  /// `csar url enable NAME`.
  struct Enable: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Match scans against a URL list again (audited).")

    @Argument(help: "List name.")
    var name: String

    @OptionGroup var options: ModerationOptions

    func run() throws { try URLCommand.setEnabled(name, true, options) }
  }

  /// `csar url disable NAME`.
  struct Disable: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Stop matching scans against a URL list (audited).")

    @Argument(help: "List name.")
    var name: String

    @OptionGroup var options: ModerationOptions

    func run() throws { try URLCommand.setEnabled(name, false, options) }
  }

  /// Enables or disables a URL list and prints its new state.
  static func setEnabled(_ name: String, _ enabled: Bool, _ options: ModerationOptions) throws {
    let (database, operatorName) = try options.open()
    try database.setURLListEnabled(name: name, enabled: enabled, by: operatorName)
    print("\(name)\t\(enabled ? "enabled" : "disabled")")
  }

  /// `csar url match URL...`.
  struct Match: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Look URLs up in the enabled URL lists (nothing is queued or recorded).",
      discussion: """
        Plain: the canonical URL, then one indented line per hit (LIST<TAB>EXPRESSION<TAB>\
        LABEL), or `  no match`. With --json, one object per URL: {"url","canonical",\
        "matches":[{"list","expression","label"}]}, or {"url","error"}. Exits 1 if a URL \
        could not be parsed.
        """)

    @Flag(name: .long, help: "Print JSON Lines.")
    var json = false

    @Option(name: .long, help: "Database file (default: $XDG_DATA_HOME/csar/csar.sqlite).")
    var db: String?

    @Argument(help: "URLs.")
    var urls: [String]

    func run() throws {
      let setup = try RiskCommandSetup(db: db, today: nil, createIfMissing: false)
      var failed = false
      for url in urls {
        do {
          let match = try URLListMatcher.match(url, in: setup.database)
          if json {
            print(
              OrderedJSON.object([
                ("url", .string(url)), ("canonical", .string(match.canonical.description)),
                ("matches", .array(match.hits.map(\.json))),
              ]))
          } else {
            print(DisplayText.escapingControls(match.canonical.description))
            if match.hits.isEmpty { print("  no match") }
            for hit in match.hits { print("  " + ScanCommand.line(hit)) }
          }
        } catch let error as URLCanonicalizationError {
          failed = true
          if json {
            print(OrderedJSON.object([("url", .string(url)), ("error", .string(error.description))]))
          } else {
            DetectText.printError(
              "csar url match: " + DisplayText.escapingControls(error.description))
          }
        }
      }
      if failed { throw ExitCode(1) }
    }
  }
}
