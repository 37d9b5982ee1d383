import Foundation
import Terminal
import Testing

@testable import ConsoleUI

@Suite("Themes")
struct ThemeTests {
  static var themesFolder: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("themes")
  }

  @Test(arguments: Theme.builtinNames)
  func builtinThemesEqualTheShippedFiles(name: String) throws {
    let file = Self.themesFolder.appendingPathComponent("\(name).toml")
    let text = try String(contentsOf: file, encoding: .utf8)
    let embedded = try #require(BuiltinThemes.sources.first { $0.name == name })
    #expect(embedded.toml + "\n" == text, "Sources/ConsoleUI/BuiltinThemes.swift is stale")
    let theme = try Theme.load(nameOrPath: file.path)
    #expect(theme.name == name)
  }

  @Test(arguments: Theme.builtinNames)
  func everyRoleIsStyled(name: String) throws {
    let theme = try Theme.load(nameOrPath: name)
    let file = Self.themesFolder.appendingPathComponent("\(name).toml")
    let text = try String(contentsOf: file, encoding: .utf8)
    for role in ThemeRole.allCases {
      #expect(text.contains("\n\(role.rawValue) = "), "\(name) leaves out \(role.rawValue)")
    }
    #expect(theme[.selection] != theme[.text])
  }

  @Test func monochromeUsesNoColour() throws {
    let theme = Theme.monochrome
    for role in ThemeRole.allCases {
      #expect(theme[role].foreground == .default)
      #expect(theme[role].background == .default)
    }
    #expect(theme[.selection].attributes.contains(.reverse))
  }

  @Test(arguments: [
    ("name = \"x\"\n[styles]\ntext = { fg = \"purple\" }\n", "styles.text.fg"),
    ("name = \"x\"\n[styles]\ntxt = {}\n", "styles.txt"),
    ("name = \"x\"\n[styles]\ntext = { attrs = [\"blink\"] }\n", "styles.text.attrs"),
    ("name = \"x\"\n[styles]\ntext = { fg = 300 }\n", "styles.text.fg"),
    ("name = \"x\"\n[styles]\ntext = { fg = \"#12345\" }\n", "styles.text.fg"),
    ("name = \"x\"\n[styles]\ntext = { colour = \"red\" }\n", "styles.text.colour"),
    ("[styles]\n", "name"),
    ("name = \"x\"\ncolours = 1\n[styles]\n", "colours"),
  ])
  func badThemesNameTheFileAndKey(text: String, key: String) {
    do {
      _ = try ThemeParser.parse(text, file: "my.toml")
      Issue.record("expected an error for \(key)")
    } catch {
      #expect(error.file == "my.toml")
      #expect(error.key == key)
      #expect(error.description.hasPrefix("my.toml: \(key): "))
    }
  }

  @Test func syntaxErrorsGiveTheLine() {
    do {
      _ = try ThemeParser.parse("name = \"x\"\n[styles\n", file: "bad.toml")
      Issue.record("expected an error")
    } catch {
      #expect(error.description.hasPrefix("bad.toml:2: "))
    }
  }

  @Test func unknownThemeNameListsTheBuiltins() {
    #expect(throws: ThemeError.self) { try Theme.load(nameOrPath: "solarised") }
    do {
      _ = try Theme.load(nameOrPath: "/nonexistent/dir/x.toml")
      Issue.record("expected an error")
    } catch {
      #expect(error.description.contains("/nonexistent/dir/x.toml"))
    }
  }
}
