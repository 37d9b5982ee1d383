// Pure-Swift pixel filters for previews: greyscale, area-average downscale, Gaussian blur.
//
// For a blurred preview, downscale first and blur the small image: the cost of the blur then
// does not depend on the source size.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - Greyscale

extension RGBImage {
  /// Luma (ITU-R BT.601 weights 0.299, 0.587, 0.114), rounded.
  public func greyscale() -> GreyImage {
    let count = width * height
    let out = [UInt8](unsafeUninitializedCapacity: count) { target, initialised in
      pixels.withUnsafeBufferPointer { src in
        for i in 0..<count {
          let r = UInt32(src[i * 3])
          let g = UInt32(src[i * 3 + 1])
          let b = UInt32(src[i * 3 + 2])
          target[i] = UInt8((299 * r + 587 * g + 114 * b + 500) / 1000)
        }
      }
      initialised = count
    }
    return GreyImage(width: width, height: height, pixels: out)
  }

  /// Area-average resample to `width` x `height` (each output pixel is the mean of the source
  /// pixels its box covers; enlarging repeats pixels).
  public func downscaled(width newWidth: Int, height newHeight: Int) -> RGBImage {
    precondition(newWidth > 0 && newHeight > 0, "target size must be positive")
    let out = PixelOps.areaResample(
      pixels, width: width, height: height, channels: 3, to: newWidth, newHeight)
    return RGBImage(width: newWidth, height: newHeight, pixels: out)
  }

  /// Downscales, keeping the aspect ratio, so that neither side exceeds `maxSide`; returns the
  /// image itself when it already fits.
  public func downscaled(toFit maxSide: Int) -> RGBImage {
    let (w, h) = PixelOps.fit(width: width, height: height, maxSide: maxSide)
    return (w, h) == (width, height) ? self : downscaled(width: w, height: h)
  }

  /// Separable Gaussian blur with standard deviation `sigma` pixels (edges clamp).
  public func blurred(sigma: Double) -> RGBImage {
    guard sigma > 0, width > 0, height > 0 else { return self }
    let out = PixelOps.gaussianBlur(
      pixels, width: width, height: height, channels: 3, sigma: sigma)
    return RGBImage(width: width, height: height, pixels: out)
  }
}

extension GreyImage {
  /// Area-average resample to `width` x `height`.
  public func downscaled(width newWidth: Int, height newHeight: Int) -> GreyImage {
    precondition(newWidth > 0 && newHeight > 0, "target size must be positive")
    let out = PixelOps.areaResample(
      pixels, width: width, height: height, channels: 1, to: newWidth, newHeight)
    return GreyImage(width: newWidth, height: newHeight, pixels: out)
  }

  /// Separable Gaussian blur with standard deviation `sigma` pixels (edges clamp).
  public func blurred(sigma: Double) -> GreyImage {
    guard sigma > 0, width > 0, height > 0 else { return self }
    let out = PixelOps.gaussianBlur(
      pixels, width: width, height: height, channels: 1, sigma: sigma)
    return GreyImage(width: width, height: height, pixels: out)
  }
}

// MARK: - Kernels

enum PixelOps {
  static func fit(width: Int, height: Int, maxSide: Int) -> (Int, Int) {
    guard width > maxSide || height > maxSide, maxSide > 0 else { return (width, height) }
    if width >= height {
      return (maxSide, max(1, (height * maxSide + width / 2) / width))
    }
    return (max(1, (width * maxSide + height / 2) / height), maxSide)
  }

  static func areaResample(
    _ pixels: [UInt8], width: Int, height: Int, channels: Int, to outW: Int, _ outH: Int
  ) -> [UInt8] {
    // Box of output column ox: source columns x0[ox] ..< x1[ox].
    var x0 = [Int](repeating: 0, count: outW)
    var x1 = [Int](repeating: 0, count: outW)
    for ox in 0..<outW {
      let a = ox * width / outW
      x0[ox] = a
      x1[ox] = max(a + 1, (ox + 1) * width / outW)
    }
    var sums = [UInt32](repeating: 0, count: outW * channels)
    let count = outW * outH * channels
    return [UInt8](unsafeUninitializedCapacity: count) { out, initialised in
      pixels.withUnsafeBufferPointer { src in
        sums.withUnsafeMutableBufferPointer { acc in
          x0.withUnsafeBufferPointer { x0 in
            x1.withUnsafeBufferPointer { x1 in
              for oy in 0..<outH {
                let y0 = oy * height / outH
                let y1 = max(y0 + 1, (oy + 1) * height / outH)
                for i in 0..<acc.count { acc[i] = 0 }
                for y in y0..<y1 {
                  let row = y * width * channels
                  if channels == 3 {
                    addRGBRow(src.baseAddress! + row, x0: x0, x1: x1, into: acc)
                  } else {
                    for ox in 0..<outW {
                      for c in 0..<channels {
                        var s: UInt32 = 0
                        var p = row + x0[ox] * channels + c
                        let end = row + x1[ox] * channels
                        while p < end {
                          s &+= UInt32(src[p])
                          p += channels
                        }
                        acc[ox * channels + c] &+= s
                      }
                    }
                  }
                }
                let rows = UInt32(y1 - y0)
                let base = oy * outW * channels
                for ox in 0..<outW {
                  let n = UInt32(x1[ox] - x0[ox]) * rows
                  for c in 0..<channels {
                    let i = ox * channels + c
                    out[base + i] = UInt8((acc[i] + n / 2) / n)
                  }
                }
              }
            }
          }
        }
      }
      initialised = count
    }
  }

  /// Adds one RGB row's boxes (source columns `x0[ox] ..< x1[ox]`) to the sums of output
  /// columns `ox`.
  @inline(__always)
  static func addRGBRow(
    _ row: UnsafePointer<UInt8>, x0: UnsafeBufferPointer<Int>, x1: UnsafeBufferPointer<Int>,
    into acc: UnsafeMutableBufferPointer<UInt32>
  ) {
    for ox in 0..<x0.count {
      var r: UInt32 = 0
      var g: UInt32 = 0
      var b: UInt32 = 0
      var p = x0[ox] * 3
      let end = x1[ox] * 3
      while p < end {
        r &+= UInt32(row[p])
        g &+= UInt32(row[p + 1])
        b &+= UInt32(row[p + 2])
        p += 3
      }
      acc[ox * 3] &+= r
      acc[ox * 3 + 1] &+= g
      acc[ox * 3 + 2] &+= b
    }
  }

  static func gaussianKernel(sigma: Double) -> [Float] {
    let radius = max(1, Int((3 * sigma).rounded(.up)))
    var weights = [Float](repeating: 0, count: 2 * radius + 1)
    var total: Double = 0
    for i in -radius...radius {
      let w = exp(-Double(i * i) / (2 * sigma * sigma))
      weights[i + radius] = Float(w)
      total += w
    }
    return weights.map { $0 / Float(total) }
  }

  static func gaussianBlur(
    _ pixels: [UInt8], width: Int, height: Int, channels: Int, sigma: Double
  ) -> [UInt8] {
    let kernel = gaussianKernel(sigma: sigma)
    let radius = kernel.count / 2
    let rowLength = width * channels
    var temp = [Float](repeating: 0, count: pixels.count)
    // Horizontal pass: bytes -> floats.
    pixels.withUnsafeBufferPointer { src in
      temp.withUnsafeMutableBufferPointer { tmp in
        kernel.withUnsafeBufferPointer { k in
          for y in 0..<height {
            let row = y * rowLength
            for x in 0..<width {
              for c in 0..<channels {
                var s: Float = 0
                for t in 0..<k.count {
                  let sx = min(max(x + t - radius, 0), width - 1)
                  s += k[t] * Float(src[row + sx * channels + c])
                }
                tmp[row + x * channels + c] = s
              }
            }
          }
        }
      }
    }
    // Vertical pass: floats -> rounded bytes.
    return [UInt8](unsafeUninitializedCapacity: pixels.count) { out, initialised in
      temp.withUnsafeBufferPointer { tmp in
        kernel.withUnsafeBufferPointer { k in
          for y in 0..<height {
            for i in 0..<rowLength {
              var s: Float = 0
              for t in 0..<k.count {
                let sy = min(max(y + t - radius, 0), height - 1)
                s += k[t] * tmp[sy * rowLength + i]
              }
              out[y * rowLength + i] = UInt8(min(255, max(0, s + 0.5)))
            }
          }
        }
      }
      initialised = pixels.count
    }
  }
}
