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

  /// Before, the picture was fitted to cells twice as tall as wide whatever their real size:
  /// on 7x17-pixel cells (kitty at a small font) a 400x250 picture showed 23% too tall. Now
  /// the fit takes the cell's pixel size, when the terminal tells it, for the cells and the
  /// graphics picture alike.
  @Test(arguments: [(7, 17), (9, 18), (10, 20), (8, 16), (10, 16), (12, 18)])
  func thePictureKeepsItsAspectOnCellsOfAnyShape(cellWidth: Int, cellHeight: Int) {
    let source = Self.picture(width: 400, height: 250)
    let aspect = PreviewRenderer.halfCellAspect((cellWidth, cellHeight))
    let fitted = PreviewRenderer.fit(source, columns: 100, rows: 30, halfCellAspect: aspect)
    #expect(fitted.width <= 100 && fitted.height <= 60)
    #expect(fitted.width == 100 || fitted.height == 60, "fills the pane one way")
    let onScreen =
      Double(fitted.width * cellWidth) / (Double(fitted.height) * Double(cellHeight) / 2)
    #expect(abs(onScreen / 1.6 - 1) < 0.02, "\(fitted.width)x\(fitted.height): \(onScreen)")
  }

  @Test func theGraphicsPictureCoversCellsOfThePicturesShape() throws {
    let fixture = try ReviewFixture()
    let console = try fixture.console("alice", depth: .color256)
    console.context.graphics = .kitty
    console.context.cellPixels = (7, 17)
    console.press(.enter)
    let graphic = try #require(console.render(width: 120, height: 40).graphics.first)
    // The fixture's pictures are 96x64 (3:2); the rows round to whole cells.
    let wide = Double(graphic.columns * 7)
    #expect(wide / Double((graphic.rows + 1) * 17) <= 1.5, "\(graphic.columns)x\(graphic.rows)")
    #expect(wide / Double(max(1, graphic.rows - 1) * 17) >= 1.5, "\(graphic)")
    #expect(abs(Double(graphic.width) / Double(graphic.height) - 1.5) < 0.02)
  }
}
