// The clocks, medians and number formats every benchmark prints its figures with.

import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Monotonic seconds.
func monotonicSeconds() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_MONOTONIC, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

/// Medians, percentiles, memory and CPU readings, and the number formats of the benchmarks'
/// output lines (which `bench all` and the README's tables read back).
public enum BenchFigures {
  /// Median of measured seconds.
  static func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    if s.isEmpty { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }

  /// The value at fraction `p` of the sorted values (0 when there are none).
  static func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
  }

  /// Seconds as milliseconds with three decimals, "1.234 ms".
  static func ms(_ seconds: Double) -> String { format(seconds * 1000, 3) + " ms" }

  /// `value` rounded to `decimals` places, as Swift prints a Double.
  static func format(_ value: Double, _ decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return String(rounded)
  }

  /// CPU time of this process (user + system), in seconds: what a step costs when the
  /// machine is shared with other work.
  static func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
  }

  /// Resident set size in bytes (Linux), 0 when unknown.
  static func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0
    var resident = 0
    guard statm(file, &size, &resident) else { return 0 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
  }

  /// The first two fields of /proc/self/statm (size and resident, in pages).
  private static func statm(
    _ file: UnsafeMutablePointer<FILE>, _ a: inout Int, _ b: inout Int
  ) -> Bool {
    var buffer = [CChar](repeating: 0, count: 256)
    guard fgets(&buffer, 256, file) != nil else { return false }
    let text = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    let fields = String(decoding: text, as: UTF8.self).split(separator: " ")
    guard fields.count >= 2, let x = Int(fields[0]), let y = Int(fields[1]) else { return false }
    a = x
    b = y
    return true
  }

  /// Peak resident memory of this process (VmHWM in /proc/self/status), in bytes; 0 when
  /// unknown.
  static func peakBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
    else { return 0 }
    let kib = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
    return kib * 1024
  }
}
