import Foundation
import Synchronization
import Testing

@testable import Moderation
@testable import Store

/// `csar bank sync` reports each file and stops between files on Ctrl-C; a re-run takes the
/// files left.
@Suite("Drop-folder sync: progress and stopping")
struct DropFolderStopTests {
  /// Records the files done and asks to stop after `stopAfter` of them.
  final class Observer: LongRunObserver {
    let done = Mutex<[Int]>([])
    let stopAfter: Int
    init(stopAfter: Int) { self.stopAfter = stopAfter }
    func committed(_ done: Int, of total: Int?) { self.done.withLock { $0.append(done) } }
    var stopRequested: Bool { done.withLock { $0.count >= stopAfter } }
  }

  @Test func aSyncStopsBetweenFilesAndARerunTakesTheRest() throws {
    let db = try moderationDatabase()
    let scratch = try Scratch()
    defer { scratch.remove() }
    for day in 1...3 {
      let hashes = [day, day + 10].map { "pdq,\(DropFolderTests.pdq($0))\n" }.joined()
      try scratch.write("2026-12-0\(day).csv", hashes)
    }
    let observer = Observer(stopAfter: 1)
    let stopped = #expect(throws: LongRunStopped.self) {
      try DropFolder.sync(
        folder: scratch.path, target: .bank("feed"), database: db, by: "mod",
        observer: observer)
    }
    #expect(stopped?.task == "bank sync" && stopped?.committed == 1 && stopped?.total == 3)
    #expect(observer.done.withLock { $0 } == [1])
    #expect(try db.bankVersions(name: "feed").map(\.source.file) == ["2026-12-01.csv"])
    let rest = try DropFolder.sync(
      folder: scratch.path, target: .bank("feed"), database: db, by: "mod")
    #expect(rest.taken.map(\.name) == ["2026-12-02.csv", "2026-12-03.csv"])
    #expect(rest.alreadyTaken == ["2026-12-01.csv"])
    #expect(try db.hashBank(name: "feed").total == 6)
  }
}
