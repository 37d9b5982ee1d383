// Where the benchmarks' output goes: through the writer the executable hands in.

/// The writer of every line the benchmarks print. The executable binds its one writer (csar's
/// `Output`, which sanitises all it writes: paths, reference tools' output, errors) around a
/// benchmark run; nothing in this module writes to the terminal by itself, and without a
/// writer its lines go nowhere.
public enum BenchOutput {
  /// Writes `text` followed by `terminator`.
  public typealias Writer = @Sendable (_ text: String, _ terminator: String) -> Void

  @TaskLocal static var writer: Writer = { _, _ in }

  /// Runs `body` with the benchmarks' output going to `writer`.
  public static func writing<R>(to writer: @escaping Writer, _ body: () throws -> R) rethrows
    -> R
  {
    try $writer.withValue(writer, operation: body)
  }
}

/// `Swift.print` for this module, through ``BenchOutput``'s writer.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
  BenchOutput.writer(items.map { String(describing: $0) }.joined(separator: separator), terminator)
}
