// The demo's synthetic pictures: what `csar demo` and the first start of `csar` write beside
// the database, and what the benchmarks hash and preview.

import Detection
import Foundation
import Imaging
import Store

// MARK: - Synthetic demo images

/// Writes the benign, synthetic images the demo queue's items point at (`media/0.png` …
/// `media/63.png` beside the database): gradients, rings, stripes, checks and simple
/// landscapes, generated from the item number. Two are deliberately broken — `media/13.png` is
/// truncated and `media/41.png` is missing — so the console's placeholders can be seen.
public enum DemoMedia {
  /// Pictures of the demo queue (`media/0.png` …).
  public static let count = 64
  /// The picture written cut short.
  public static let truncated = 13
  /// The picture never written.
  public static let missing = 41
  /// The one picture of camera size (1600x1004).
  public static let largeIndex = 4

  /// The encoded pictures by media path (`media/N.png`), the truncated one cut short.
  public static func files() throws -> [(name: String, bytes: [UInt8])] {
    try (0..<count).filter { $0 != missing }.map { index in
      var bytes = try ImageEncoder.encodePNG(picture(index))
      if index == truncated { bytes = Array(bytes.prefix(bytes.count / 3)) }
      return ("media/\(index).png", bytes)
    }
  }

  /// SHA-256 of each picture by media path, for the demo items that point at them.
  public static func digests(of files: [(name: String, bytes: [UInt8])]) -> [String: String] {
    Dictionary(uniqueKeysWithValues: files.map { ($0.name, FileDigests.sha256(of: $0.bytes)) })
  }

  /// Writes the images into the `media` folder beside `databasePath`; returns how many.
  @discardableResult
  public static func write(
    _ files: [(name: String, bytes: [UInt8])]? = nil, besideDatabase databasePath: String
  ) throws -> Int {
    let folder = PrivateFiles.folder(of: databasePath)
    let media = folder + "/media"
    let sharing = try PrivateFiles.makeFolder(media, sharing: FileSharing.of(folder: folder))
    for file in try files ?? Self.files() {
      let path = folder + "/" + file.name
      unlink(path)  // --force: replace the picture of the last demo
      try PrivateFiles.writeNewFile(file.bytes, to: path, sharing: sharing)
    }
    return count - 1
  }

  /// One synthetic picture; the pattern and size follow from the index.
  public static func picture(_ index: Int) -> RGBImage {
    // Small pictures (the preview pane is a few dozen cells) keep the first start quick; one
    // camera-sized picture shows what decoding a real upload costs.
    let sizes = [(320, 200), (240, 240), (400, 250), (200, 300), (360, 240)]
    let (width, height) = index == largeIndex ? (1600, 1004) : sizes[index % sizes.count]
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    let hue = Double(index) * 0.61803
    let tint = (
      0.5 + 0.5 * sin(hue * 6.28), 0.5 + 0.5 * sin(hue * 6.28 + 2.1),
      0.5 + 0.5 * sin(hue * 6.28 + 4.2)
    )
    for y in 0..<height {
      for x in 0..<width {
        let u = Double(x) / Double(width)
        let v = Double(y) / Double(height)
        let (r, g, b) = colour(pattern: index % 6, u: u, v: v, hue: hue, tint: tint)
        let offset = (y * width + x) * 3
        pixels[offset] = UInt8(max(0, min(255, r * 255)))
        pixels[offset + 1] = UInt8(max(0, min(255, g * 255)))
        pixels[offset + 2] = UInt8(max(0, min(255, b * 255)))
      }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }

  private static func colour(
    pattern: Int, u: Double, v: Double, hue: Double, tint: (Double, Double, Double)
  ) -> (Double, Double, Double) {
    switch pattern {
    case 0:  // diagonal gradient
      let t = (u + v) / 2
      return (tint.0 * t, tint.1 * (1 - t), tint.2)
    case 1:  // concentric rings
      let d = ((u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5)).squareRoot()
      let ring = 0.5 + 0.5 * sin(d * 60)
      return (ring * tint.0, ring * tint.1, 1 - ring * tint.2)
    case 2:  // stripes
      let stripe = sin((u * 3 + v) * 40) > 0 ? 1.0 : 0.25
      return (stripe * tint.0, stripe * tint.1, stripe * tint.2)
    case 3:  // checks
      let check = (Int(u * 12) + Int(v * 8)) % 2 == 0 ? 0.9 : 0.2
      return (check, check * tint.1, check * tint.2)
    case 4:  // landscape: sky, sun, hills
      let hill = 0.65 + 0.08 * sin(u * 9 + hue)
      if v > hill { return (0.2 * tint.0, 0.55, 0.2) }
      let sun = ((u - 0.75) * (u - 0.75) + (v - 0.25) * (v - 0.25)).squareRoot() < 0.08
      if sun { return (1, 0.9, 0.4) }
      return (0.4 + 0.4 * v, 0.6 + 0.3 * v, 0.95)
    default:  // soft blobs
      let a = sin(u * 7 + hue) * cos(v * 5 - hue)
      return (0.5 + 0.5 * a * tint.0, 0.5 - 0.4 * a, 0.5 + 0.5 * a * tint.2)
    }
  }
}
