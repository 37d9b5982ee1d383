// `csar url canonicalize URL...`: Safe Browsing canonical forms of URLs.

import ArgumentParser
import Detection

/// URL list tools.
struct URLCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "url",
    abstract: "Canonicalise URLs as Google Safe Browsing v4 does.",
    subcommands: [Canonicalize.self]
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
          print(DetectText.sanitise(canonical.description))
          if expressions {
            for expression in canonical.lookupExpressions {
              print("  " + DetectText.sanitise(expression))
            }
          }
        } catch {
          failed = true
          DetectText.printError("csar url canonicalize: \(DetectText.sanitise(error.description))")
        }
      }
      if failed { throw ExitCode(1) }
    }
  }
}
