// Media inputs are regular files: a FIFO, device, folder or symbolic link is refused at
// once, never waited on (a FIFO used to block `hash`, `scan` and the console forever).

import Detection
import Foundation
import Imaging
import Testing

/// Runs `body` on its own thread; nil when it has not finished within `seconds` (the thread
/// is left blocked: the test fails instead of hanging the suite).
func finishing<T: Sendable>(
  within seconds: Double, _ body: @escaping @Sendable () -> T
) -> T? {
  let box = ResultBox<T>()
  let done = DispatchSemaphore(value: 0)
  Thread {
    box.value = body()
    done.signal()
  }.start()
  return done.wait(timeout: .now() + seconds) == .success ? box.value : nil
}

/// Carries a result out of the thread of ``finishing(within:_:)``.
final class ResultBox<T>: @unchecked Sendable { var value: T? }

@Suite("Media files")
struct MediaFileTests {
  /// What reading `path` as media says: "ok", or the error's kind and description.
  static func readOutcome(_ path: String) -> String {
    do {
      _ = try MediaHasher.hash(path: path)
      return "ok"
    } catch {
      return "\(error.kind): \(error.description)"
    }
  }

  @Test func aFIFOIsRefusedWithoutWaitingForAWriter() throws {
    let dir = try Fixtures.temporaryDirectory()
    let fifo = dir + "/upload.png"
    #expect(mkfifo(fifo, 0o600) == 0)
    let outcome = finishing(within: 20) { Self.readOutcome(fifo) }
    #expect(outcome == "notRegularFile: \(fifo): not a regular file (a FIFO)")
    let decoded = finishing(within: 20) { () -> String in
      do {
        _ = try ImageDecoder.decode(path: fifo)
        return "ok"
      } catch { return "\(error)" }
    }
    #expect(decoded?.contains("not a regular file") == true)
  }

  @Test func foldersDevicesAndLinksAreRefused() throws {
    let dir = try Fixtures.temporaryDirectory()
    let picture = dir + "/a.png"
    try ImageEncoder.writePNG(Fixtures.scene(), to: picture)
    #expect(Self.readOutcome(picture) == "ok")
    try FileManager.default.createSymbolicLink(
      atPath: dir + "/link.png", withDestinationPath: picture)
    #expect(Self.readOutcome(dir + "/link.png").hasPrefix("notRegularFile: "))
    #expect(Self.readOutcome(dir + "/link.png").contains("symbolic link"))
    #expect(Self.readOutcome(dir) == "notRegularFile: \(dir): not a regular file (a directory)")
    let device = finishing(within: 20) { Self.readOutcome("/dev/zero") }
    #expect(device == "notRegularFile: /dev/zero: not a regular file (a character device)")
  }
}
