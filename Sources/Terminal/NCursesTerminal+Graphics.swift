import CNCurses

// MARK: - Pictures through the graphics protocol

extension NCursesTerminal {
  /// Asks the terminal (see ``GraphicsDetection``) and waits at most 500 ms for its answer
  /// (every terminal answers the device-attributes request at once; only a passthrough with
  /// no terminal behind it stays silent); no answer, or a tmux without passthrough, gets
  /// text cells only. Its background colour is asked for in every case. Whatever of the
  /// answer arrives after the wait is swallowed by ``KeyDecoder`` when keys are read, never
  /// taken for keys.
  static func askTerminal() -> (graphics: GraphicsSupport, backgroundIsLight: Bool?) {
    var environment: [String: String] = [:]
    for name in ["TMUX", "STY", "CSAR_GRAPHICS"] {
      if let value = getenv(name) { environment[name] = String(cString: value) }
    }
    var passthrough: String?
    if !(environment["TMUX"] ?? "").isEmpty {
      var buffer = [CChar](repeating: 0, count: 32)
      csar_tmux_passthrough(&buffer, buffer.count)
      passthrough = String(
        decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    let plan = GraphicsDetection.plan(environment: environment, tmuxPassthrough: passthrough)
    write(
      plan.ask ? GraphicsDetection.query : GraphicsDetection.backgroundOnlyQuery,
      throughTmux: plan.throughTmux)
    var reply = GraphicsDetection.Reply()
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: .milliseconds(500))
    var buffer = [UInt8](repeating: 0, count: 256)
    while !reply.isComplete, clock.now < deadline {
      let left = clock.now.duration(to: deadline).components
      let milliseconds = Int32(left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000)
      let count = csar_term_read(&buffer, buffer.count, max(1, milliseconds))
      if count > 0 { reply.append(Array(buffer.prefix(Int(count)))) }
    }
    guard plan.ask else {
      let cells = GraphicsSupport(
        graphicsProtocol: nil, cellPixels: windowCellPixels(), throughTmux: false)
      return (cells, reply.backgroundIsLight)
    }
    let graphics = reply.support(
      throughTmux: plan.throughTmux, windowCellPixels: windowCellPixels())
    return (graphics, reply.backgroundIsLight)
  }

  /// The pixel size of one cell from the tty's window size, when the terminal fills it in.
  static func windowCellPixels() -> (width: Int, height: Int)? {
    var width: Int32 = 0
    var height: Int32 = 0
    guard csar_term_cell_pixels(&width, &height) == 1 else { return nil }
    return (Int(width), Int(height))
  }

  static func write(_ bytes: [UInt8], throughTmux: Bool) {
    let out = throughTmux ? GraphicsDetection.wrapForTmux(bytes) : bytes
    out.withUnsafeBufferPointer { csar_term_write($0.baseAddress, $0.count) }
  }

  /// Shows `wanted` over the cells just drawn, when it differs from what is shown: kitty
  /// replaces its images by id; sixel needs the cells repainted first (its pixels stay until
  /// text is written over them). The cursor is saved and restored around each picture, so
  /// curses keeps knowing where it is.
  func drawGraphics(_ wanted: [ScreenGraphic]) {
    guard wanted != shownGraphics else { return }
    let tmux = graphics.throughTmux
    switch graphics.graphicsProtocol {
    case .kitty:
      clearGraphics()
      for (index, graphic) in wanted.enumerated() {
        Self.write(
          Array("\u{1B}7\u{1B}[\(graphic.y + 1);\(graphic.x + 1)H".utf8), throughTmux: false)
        Self.write(KittyEncoder.encode(graphic, id: index + 1), throughTmux: tmux)
        Self.write(Array("\u{1B}8".utf8), throughTmux: false)
      }
    case .sixel:
      guard let cell = graphics.cellPixels else { return }
      if !shownGraphics.isEmpty {
        redrawwin(csar_stdscr())
        wnoutrefresh(csar_stdscr())
        doupdate()
      }
      for graphic in wanted {
        let width = graphic.columns * cell.width
        let height = graphic.rows * cell.height
        let pixels = graphic.resampled(width: width, height: height)
        Self.write(
          Array("\u{1B}7\u{1B}[\(graphic.y + 1);\(graphic.x + 1)H".utf8), throughTmux: false)
        Self.write(
          SixelEncoder.encode(width: width, height: height, pixels: pixels), throughTmux: tmux)
        Self.write(Array("\u{1B}8".utf8), throughTmux: false)
      }
    case nil:
      return
    }
    shownGraphics = wanted
  }

  /// Takes kitty pictures off the screen (sixel pixels go when curses repaints the cells).
  func clearGraphics() {
    guard graphics.graphicsProtocol == .kitty, !shownGraphics.isEmpty else { return }
    for index in shownGraphics.indices {
      Self.write(KittyEncoder.delete(id: index + 1), throughTmux: graphics.throughTmux)
    }
    shownGraphics = []
  }
}
