import Imaging
import Terminal
import Testing

@testable import ConsoleUI

@Suite("Preview through a graphics protocol")
struct PreviewGraphicsTests {
  /// A benign synthetic picture: a diagonal colour gradient with a bright disc.
  static func picture(width: Int = 400, height: Int = 300) -> RGBImage {
    var pixels: [UInt8] = []
    for y in 0..<height {
      for x in 0..<width {
        let dx = x - width / 3
        let dy = y - height / 2
        let disc = dx * dx + dy * dy < (height / 4) * (height / 4)
        pixels +=
          disc
          ? [250, 240, 200]
          : [
            UInt8(x * 255 / width), UInt8(y * 255 / height),
            UInt8((x + y) * 127 / (width + height)),
          ]
      }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }

  /// The graphics picture, brought down to the cells' resolution, is the cells' picture:
  /// the same fit, blur and greyscale at every level (sigma relative to the picture's size).
  @Test(arguments: [0, 1, 2, 3, 4], [false, true])
  func blurredTheSameWayAsTheCells(level: Int, colour: Bool) {
    let source = Self.picture()
    let fitted = PreviewRenderer.fit(source, columns: 40, rows: 12)
    let blur = BlurLevel(level)
    let cells = PreviewRenderer.filter(fitted, blur: blur, colour: colour)
    let graphic = ItemPreview.graphicImage(source, fitted: fitted, blur: blur, colour: colour)
    #expect(graphic.width >= fitted.width * (level == 0 ? 8 : 2), "more detail than the cells")
    #expect(
      graphic.width * fitted.height == graphic.height * fitted.width
        || abs(
          Double(graphic.width) / Double(graphic.height) - Double(fitted.width)
            / Double(fitted.height)) < 0.05
    )
    let down = graphic.downscaled(width: fitted.width, height: fitted.height)
    var total = 0
    for index in cells.pixels.indices {
      total += abs(Int(cells.pixels[index]) - Int(down.pixels[index]))
    }
    let mean = Double(total) / Double(cells.pixels.count)
    #expect(mean < (level == 0 ? 14 : 8), "mean difference \(mean) at blur \(level)")
    if !colour {
      for i in stride(from: 0, to: graphic.pixels.count, by: 3) {
        #expect(
          graphic.pixels[i] == graphic.pixels[i + 1]
            && graphic.pixels[i + 1] == graphic.pixels[i + 2])
      }
    }
  }

  @Test func anOpenItemAsksForItsPictureOverItsCellsUnlessADialogIsOpen() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice", depth: .color256)
    console.context.graphics = .kitty
    console.press(.enter)
    let screen = console.render(width: 120, height: 40)
    let graphic = try #require(screen.graphics.first)
    #expect(screen.graphics.count == 1)
    // Exactly the preview's cells: picture cells inside, none beside.
    for y in graphic.y..<(graphic.y + graphic.rows) {
      for x in graphic.x..<(graphic.x + graphic.columns) {
        #expect(screen[x, y].style.isImage, "cell \(x),\(y)")
      }
      #expect(!screen[graphic.x - 1, y].style.isImage)
      #expect(!screen[graphic.x + graphic.columns, y].style.isImage)
    }
    console.press(.character("?"))
    #expect(console.render(width: 120, height: 40).graphics.isEmpty, "the help covers it")
    console.press(.escape)
    console.context.graphics = nil
    #expect(console.render(width: 120, height: 40).graphics.isEmpty, "no protocol: cells only")
  }
}
