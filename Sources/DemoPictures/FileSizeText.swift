// How a file's size reads in the output of `csar demo` and `csar bench`.

import Foundation

/// A file size as text: KiB below a mebibyte, MiB from there, one decimal.
public enum FileSizeText {
  /// `bytes` as "12.3 KiB" or "4.5 MiB".
  public static func of(_ bytes: Int) -> String {
    if bytes >= 1 << 20 {
      return String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
    }
    return String(format: "%.1f KiB", Double(bytes) / 1024)
  }
}
