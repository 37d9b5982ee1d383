import Foundation
import Testing

/// `csar bank list` lists what the queue shows: on a demo, every bank a known-match item
/// names (the Review screen's evidence column) is a bank, with its version and source; every
/// URL list a URL item came from is a URL list.
@Suite("bank list and the queue end to end")
struct BankListEndToEndTests {
  @Test func bankListNamesEveryBankTheDemoQueueShows() throws {
    let directory = try CsarBinary.temporaryDirectory()
    let database = directory + "/demo.sqlite"
    let demo = try CsarBinary.run(["demo", "--db", database, "--items", "300"])
    #expect(demo.status == 0, "\(demo.err)")
    func names(_ kind: String) throws -> Set<String> {
      let out = try Subprocess.run(
        ["sqlite3", database, "SELECT DISTINCT bank FROM flagged_item WHERE kind = '\(kind)'"]
      ).out
      return Set(out.split(separator: "\n").map(String.init))
    }
    let shown = try names("known_match")
    #expect(shown.contains("NCMEC") && shown.contains("EU Centre"), "\(shown)")
    let listed = try CsarBinary.run(["bank", "list", "--db", database])
    #expect(listed.status == 0, "\(listed.err)")
    let rows = listed.out.split(separator: "\n").map { $0.split(separator: "\t") }
    #expect(Set(rows.compactMap { $0.first.map(String.init) }) == shown, "\(listed.out)")
    for row in rows {
      #expect(
        row.contains { $0.hasPrefix("v1 import +") }
          && row.contains { $0.hasSuffix("-hashes.csv (csv)") },
        "\(row)")
    }
    let lists = try CsarBinary.run(["url", "list", "--db", database])
    let listNames = Set(lists.out.split(separator: "\n").compactMap {
      $0.split(separator: "\t").first.map(String.init)
    })
    #expect(listNames == (try names("url_match")), "\(lists.out)")
    let verify = try CsarBinary.run(["audit", "verify", "--db", database])
    #expect(verify.status == 0, "\(verify.out)\(verify.err)")
  }
}
