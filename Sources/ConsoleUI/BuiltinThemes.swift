/// The themes shipped in `themes/`, embedded so the binary works from anywhere.
/// A test checks that these texts equal the files, so the two cannot drift apart.
enum BuiltinThemes {
  /// Name and TOML text of each built-in theme.
  static let sources: [(name: String, toml: String)] = [
    (
      "default",
      #"""
# csar default theme: calm colours for dark backgrounds (`light` is its twin for light ones).
# Colours: "default", a name (black, red, green, yellow, blue, magenta, cyan, white,
# bright-black … bright-white), an xterm-256 index (0-255) or "#rrggbb".
# Attributes: bold, dim, underline, reverse, italic.
# Nothing is conveyed by colour alone: markers and words carry every state.
name = "default"

[styles]
text = { fg = "default", bg = "default" }
muted = { fg = "#8a8a8a" }
title = { fg = "#87afd7", attrs = ["bold"] }
header = { fg = "#afafaf", attrs = ["underline"] }
selection = { fg = "#ffffff", bg = "#304a63", attrs = ["bold"] }
status-bar = { fg = "#d0d0d0", bg = "#262626" }
status-key = { fg = "#87afd7", bg = "#262626", attrs = ["bold"] }
tab-active = { fg = "#ffffff", bg = "#304a63", attrs = ["bold"] }
tab-inactive = { fg = "#9e9e9e", bg = "#262626" }
danger = { fg = "#ff5f5f", attrs = ["bold"] }
warning = { fg = "#ffaf5f" }
success = { fg = "#87af87" }
accent = { fg = "#d7af87" }
border = { fg = "#585858" }
modal = { fg = "#e4e4e4", bg = "#303030" }
input = { fg = "#ffffff", bg = "#3a3a3a" }
"""#
    ),
    (
      "light",
      #"""
# csar light theme: the default theme's calm colours for light backgrounds, chosen at start
# when the terminal says its background is light (and no theme was given).
# Colours: "default", a name (black, red, green, yellow, blue, magenta, cyan, white,
# bright-black … bright-white), an xterm-256 index (0-255) or "#rrggbb".
# Attributes: bold, dim, underline, reverse, italic.
# Nothing is conveyed by colour alone: markers and words carry every state.
# Colours are chosen to stay dark on a light background at 8 colours too (blue, not cyan).
name = "light"

[styles]
text = { fg = "default", bg = "default" }
muted = { fg = "#5f5f5f" }
title = { fg = "#1c3f94", attrs = ["bold"] }
header = { fg = "#3a3a3a", attrs = ["underline"] }
selection = { fg = "#ffffff", bg = "#1c3f94", attrs = ["bold"] }
status-bar = { fg = "#262626", bg = "#d0d0d0" }
status-key = { fg = "#1c3f94", bg = "#d0d0d0", attrs = ["bold"] }
tab-active = { fg = "#ffffff", bg = "#1c3f94", attrs = ["bold"] }
tab-inactive = { fg = "#3a3a3a", bg = "#d0d0d0" }
danger = { fg = "#af0000", attrs = ["bold"] }
warning = { fg = "#875f00" }
success = { fg = "#005f00" }
accent = { fg = "#5f00af" }
border = { fg = "#6c6c6c" }
modal = { fg = "#1c1c1c", bg = "#e4e4e4" }
input = { fg = "#000000", bg = "#eeeeee" }
"""#
    ),
    (
      "high-contrast",
      #"""
# csar high-contrast theme: pure black and white with bright accents, for glare and low vision.
name = "high-contrast"

[styles]
text = { fg = "bright-white", bg = "black" }
muted = { fg = "white", bg = "black" }
title = { fg = "bright-yellow", bg = "black", attrs = ["bold"] }
header = { fg = "bright-white", bg = "black", attrs = ["bold", "underline"] }
selection = { fg = "black", bg = "bright-yellow", attrs = ["bold"] }
status-bar = { fg = "black", bg = "bright-white" }
status-key = { fg = "black", bg = "bright-white", attrs = ["bold", "underline"] }
tab-active = { fg = "black", bg = "bright-yellow", attrs = ["bold"] }
tab-inactive = { fg = "black", bg = "bright-white" }
danger = { fg = "bright-red", bg = "black", attrs = ["bold", "underline"] }
warning = { fg = "bright-yellow", bg = "black", attrs = ["bold"] }
success = { fg = "bright-green", bg = "black" }
accent = { fg = "bright-cyan", bg = "black", attrs = ["bold"] }
border = { fg = "bright-white", bg = "black" }
modal = { fg = "bright-white", bg = "blue" }
input = { fg = "black", bg = "bright-white" }
"""#
    ),
    (
      "mono",
      #"""
# csar monochrome theme: attributes only; used automatically when NO_COLOR is set or the
# terminal has no colours.
name = "mono"

[styles]
text = {}
muted = { attrs = ["dim"] }
title = { attrs = ["bold"] }
header = { attrs = ["underline"] }
selection = { attrs = ["reverse"] }
status-bar = { attrs = ["reverse"] }
status-key = { attrs = ["reverse", "bold"] }
tab-active = { attrs = ["bold", "underline"] }
tab-inactive = { attrs = ["reverse"] }
danger = { attrs = ["bold", "underline"] }
warning = { attrs = ["bold"] }
success = {}
accent = { attrs = ["bold"] }
border = { attrs = ["dim"] }
modal = { attrs = ["reverse"] }
input = { attrs = ["underline"] }
"""#
    ),
  ]
}
