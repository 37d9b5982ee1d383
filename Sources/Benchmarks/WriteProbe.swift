// Another connection's audited writes while a long import runs on the same database file.

import Foundation
import Store

/// Two connections to one fresh database file: `importer` for a long import, and a second
/// one (a console deciding, say) that makes an audited write every 50 ms while ``run(_:)``
/// runs. It reports how long each write took (its wait for the lock included) and how many
/// gave up ("database is locked" after the busy timeout). `bench bank` and `bench consent`
/// print its line as "import under writes".
final class WriteProbe: @unchecked Sendable {
  /// The connection the import runs on (operator `bench`, a lead, exists).
  let importer: AppDatabase
  private let console: AppDatabase
  private let lock = NSLock()
  private var waits: [Double] = []
  private var refused = 0
  private var done = false
  private let finished = DispatchSemaphore(value: 0)

  /// Opens both connections to a new file `path` with one audit key (anchors in a folder
  /// beside it), and a one-hash bank `probe` whose threshold the second connection changes.
  init(path: String) throws {
    let key = AuditKey.random(anchorFolder: PrivateFiles.folder(of: path) + "/anchors-probe")
    importer = try AppDatabase.open(path: path, auditKey: key)
    try importer.ensureOperator(name: "bench", role: .lead)
    try importer.importBank(
      name: "probe", entries: [BankHashEntry(type: .md5, hash: String(repeating: "0", count: 32))],
      by: "bench")
    console = try AppDatabase.open(path: path, auditKey: key)
  }

  /// Runs `body` (the import) while the other connection writes; the writes stop when it
  /// returns. The line says what `body` stored (`what`, e.g. "1000000 PDQ hashes stored")
  /// and how long it took.
  func run<T>(_ what: (T) -> String, _ body: () throws -> T) throws -> (T, String) {
    let writer = Thread { [self] in
      var i = 0
      while !lock.withLock({ done }) {
        let t = monotonicSeconds()
        do {
          _ = try console.setBankThreshold(name: "probe", threshold: 20 + i % 2, by: "bench")
          let wait = monotonicSeconds() - t
          lock.withLock { waits.append(wait) }
        } catch {
          lock.withLock { refused += 1 }
        }
        i += 1
        usleep(50_000)
      }
      finished.signal()
    }
    writer.start()
    let t = monotonicSeconds()
    let result: T
    do {
      result = try body()
    } catch {
      stop()
      throw error
    }
    let seconds = monotonicSeconds() - t
    stop()
    let (took, gaveUp) = lock.withLock { (waits, refused) }
    let line =
      "import under writes\t\(what(result)) in \(BenchFigures.format(seconds, 2)) s while "
      + "another connection wrote every 50 ms: \(took.count) writes took median (lock wait "
      + "included) \(BenchFigures.ms(took.isEmpty ? 0 : BenchFigures.median(took))), max "
      + "\(BenchFigures.ms(took.max() ?? 0)), \(gaveUp) refused (database locked)"
    return (result, line)
  }

  private func stop() {
    lock.withLock { done = true }
    finished.wait()
  }
}
