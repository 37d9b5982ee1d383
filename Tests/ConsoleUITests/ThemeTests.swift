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

  // MARK: - Contrast

  /// A colour's RGB as xterm shows it (``ColorApproximation/components(of:)``);
  /// `fallback` for the terminal's own.
  static func rgb(_ color: TerminalColor, default fallback: (Double, Double, Double))
    -> (Double, Double, Double)
  {
    guard color != .default else { return fallback }
    let (r, g, b) = ColorApproximation.components(of: color)
    return (Double(r), Double(g), Double(b))
  }

  /// WCAG's contrast ratio of two sRGB colours (1 to 21).
  static func contrast(_ a: (Double, Double, Double), _ b: (Double, Double, Double)) -> Double {
    func luminance(_ c: (Double, Double, Double)) -> Double {
      func linear(_ v: Double) -> Double {
        let s = v / 255
        return s <= 0.04045 ? s / 12.92 : pow((s + 0.055) / 1.055, 2.4)
      }
      return 0.2126 * linear(c.0) + 0.7152 * linear(c.1) + 0.0722 * linear(c.2)
    }
    let (x, y) = (luminance(a), luminance(b))
    return (max(x, y) + 0.05) / (min(x, y) + 0.05)
  }

  /// The theme the console picks for a terminal's background is readable on it: every role
  /// that carries words has a contrast of at least 4.5 (WCAG AA) against its background (the
  /// terminal's own where the role leaves it); with xterm's 8 colours, whose red on near-black
  /// is 2.9 whatever a theme asks, at least 2.5 (light blue on white, 1.6, fails). Before, a
  /// light background got the default theme, drawn for dark ones: headers and panel titles
  /// in light grey on white (2.1).
  @Test(arguments: [
    (255.0, 255.0, 255.0), (253.0, 246.0, 227.0), (0.0, 0.0, 0.0), (28.0, 28.0, 28.0),
  ], [ColorDepth.trueColor, .color256, .color8])
  func theThemeForABackgroundIsReadableOnIt(
    background: (red: Double, green: Double, blue: Double), depth: ColorDepth
  ) throws {
    let (red, green, blue) = background
    let background = (red, green, blue)
    // As the terminal would answer it.
    var reply = GraphicsDetection.Reply()
    let hex = [red, green, blue].map { String(format: "%02x", Int($0)) }.joined(separator: "/")
    reply.append(Array("\u{1B}]11;rgb:\(hex)\u{7}".utf8))
    let isLight = try #require(reply.backgroundIsLight as Bool?)
    let theme = try Theme.load(nameOrPath: Theme.nameFor(backgroundIsLight: isLight))
    let ink: (Double, Double, Double) = isLight ? (0, 0, 0) : (229, 229, 229)
    let least = depth == .color8 ? 2.5 : 4.5
    for role in ThemeRole.allCases where role != .border {
      let style = ColorApproximation.approximate(theme[role], depth: depth)
      let fg = Self.rgb(style.foreground, default: ink)
      let bg = Self.rgb(style.background, default: background)
      let ratio = Self.contrast(fg, bg)
      #expect(
        ratio >= least, "\(theme.name) at \(depth): \(role.rawValue) \(fg) on \(bg): \(ratio)")
    }
  }
}
