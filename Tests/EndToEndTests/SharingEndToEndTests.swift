import Foundation
import Testing

/// Hash lists in the field's formats through the real binary: an NCMEC-style list with SHA-1
/// matches a file by its SHA-1 (`hash`, `lookup`, `scan`); banks exported in every format import
/// back; and csar -> threatexchange CLI -> csar keeps every hash (skipped when threatexchange
/// cannot be installed).
@Suite("Hash sharing formats end to end", .serialized)
struct SharingEndToEndTests {
  typealias Fixture = DetectionCommandsEndToEndTests.Fixture

  /// `sha1sum FILE`'s digest.
  static func sha1sum(_ path: String) throws -> String {
    String(try Subprocess.run(["sha1sum", path]).out.prefix(40))
  }

  @Test func ncmecSHA1ListMatchesByHashLookupAndScan() throws {
    let f = try Fixture()
    let image = f.media(1)
    let sha1 = try Self.sha1sum(image)
    let hashed = try CsarBinary.run(["hash", "--json", image])
    #expect(f.json(hashed.out).first?["sha1"] as? String == sha1)
    let list = try f.write(
      "ncmec.xml",
      """
      <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
      <queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
        <images count="1">
          <image>
            <member id="42">Example Member</member><id>image1</id>
            <classification>A1</classification>
            <fingerprints><sha1>\(sha1.uppercased())</sha1><pdna>00ff</pdna></fingerprints>
          </image>
        </images>
      </queryResult>
      """)
    let imported = try f.csar("bank", "import", "ncmec", list)
    #expect(imported.status == 0, "\(imported.err)")
    #expect(imported.out.contains("bank ncmec (new): 1 hash added"), "\(imported.out)")
    #expect(imported.out.contains("not imported (no such type in csar): pdna 1"))
    let listed = try f.csar("bank", "list", "--json")
    #expect(f.json(listed.out).first { $0["name"] as? String == "ncmec" }?["sha1"] as? Int == 1)
    let found = try f.csar("lookup", "--json", "sha1:\(sha1)")
    #expect(found.status == 0, "\(found.err)")
    #expect(found.out.contains(#""bank":"ncmec""#) && found.out.contains(#""type":"sha1""#))
    let (account, service) = try f.account("granted")
    let scanned = try f.csar(
      "scan", "--json", "--account", account, "--service", service, image)
    let outcome = f.json(scanned.out).first
    #expect(outcome?["decision"] as? String == "flagged", "\(scanned.out)\(scanned.err)")
    #expect(outcome?["sha1"] as? String == sha1)
    let matches = outcome?["matches"] as? [[String: Any]] ?? []
    #expect(
      matches.contains { $0["type"] as? String == "sha1" && $0["bank"] as? String == "ncmec" })
  }

  @Test func everyExportImportsBackWithTheSameHashes() throws {
    let f = try Fixture()
    let pdq = String(repeating: "a5", count: 32)
    let source = try f.write(
      "bank.csv",
      """
      type,hash,label,source_id,collab
      pdq,\(pdq),"ring, large",S-1,Sample
      md5,\(String(repeating: "0f", count: 16)),,S-2,
      sha256,\(String(repeating: "5a", count: 32)),A1,,
      sha1,\(String(repeating: "1b", count: 20)),,N-1,

      """)
    #expect(try f.csar("bank", "import", "known", source).status == 0)
    let original = try f.csar("bank", "export", "known").out
    #expect(original.contains(#"pdq,\#(pdq),"ring, large",S-1,"{""collab"":""Sample""}""#))
    let leftOut = [
      "te": "AND h.type <> 'sha1'", "stopncii-json": "AND h.type IN ('pdq', 'md5')",
      "ncmec-xml": "AND h.type <> 'sha256'",
    ]
    for format in ["csv", "te-csv", "te", "hma-json", "stopncii-json", "ncmec-xml"] {
      let path = f.directory + "/known." + format
      let exported = try f.csar("bank", "export", "known", "--format", format, "-o", path)
      #expect(exported.status == 0, "\(format): \(exported.err)")
      var mode = stat()
      #expect(stat(path, &mode) == 0 && mode.st_mode & 0o077 == 0, "\(format): private file")
      let back = try f.csar("bank", "import", "back-" + format, path, "--json")
      #expect(back.status == 0, "\(format): \(back.err)")
      let hashes = try f.sql(
        """
        SELECT group_concat(type || ':' || hash, ' ') FROM (SELECT h.type, h.hash FROM bank_hash h
        JOIN bank b ON b.id = h.bank_id WHERE b.name = 'back-\(format)' ORDER BY 1, 2)
        """)
      let expected = try f.sql(
        """
        SELECT group_concat(type || ':' || hash, ' ') FROM (SELECT h.type, h.hash FROM bank_hash h
        JOIN bank b ON b.id = h.bank_id WHERE b.name = 'known'
        \(leftOut[format] ?? "") ORDER BY 1, 2)
        """)
      #expect(hashes == expected, "\(format)")
      if format == "te" { #expect(exported.err.contains("1 sha1 left out")) }
    }
    let again = try f.csar("bank", "export", "back-csv").out
    #expect(again == original, "csv -> csar -> csv is unchanged")
    #expect(try f.sql("SELECT count(*) FROM audit_event WHERE action = 'bank.export'") == "8")
  }

  /// `bank list` shows each bank's version with its counts, who made it and when, where its
  /// hashes came from, every version with --versions, and an import that has not finished.
  @Test func bankListShowsVersionsSourcesAndUnfinishedImports() throws {
    let f = try Fixture()
    let a = String(repeating: "a5", count: 32)
    let b = String(repeating: "3c", count: 32)
    let first = try f.write("day1.csv", "pdq,\(a)\npdq,\(b)\n")
    let second = try f.write(
      "day2.json",
      #"{"hashRecords": [{"signalType": "ImagePDQ", "hashValue": "\#(a)", "#
        + #""hashStatus": "Withdrawn"}]}"#)
    #expect(try f.csar("bank", "import", "shared", first).status == 0)
    let withdrawn = try f.csar("bank", "import", "shared", second)
    #expect(withdrawn.status == 0, "\(withdrawn.err)")
    #expect(withdrawn.out.contains("1 withdrawn hash removed"), "\(withdrawn.out)")
    #expect(withdrawn.out.contains("(v2: +0 -1)"), "\(withdrawn.out)")
    let listed = try f.csar("bank", "list", "--versions")
    #expect(listed.status == 0, "\(listed.err)")
    let all = listed.out.split(separator: "\n").map(String.init)
    let at = try #require(all.firstIndex { $0.hasPrefix("shared\t") }, "\(listed.out)")
    let lines = Array(all[at...].prefix(3))
    #expect(lines.first?.contains("\tv2 import +0 -1 by ") == true, "\(listed.out)")
    #expect(lines.first?.contains("\tfrom day2.json (stopncii-json)") == true)
    #expect(lines.dropFirst().first?.hasPrefix("  v1 import +2 -0 =2 day1.csv (csv) by ") == true)
    #expect(lines.last?.hasPrefix("  v2 import +0 -1 =1 day2.json (stopncii-json) by ") == true)
    func shared(_ out: String) -> [String: Any]? {
      f.json(out).first { $0["name"] as? String == "shared" }
    }
    let json = shared(try f.csar("bank", "list", "--json", "--versions").out)
    #expect(json?["change"] as? String == "import" && json?["removed"] as? Int == 1)
    #expect((json?["versions"] as? [[String: Any]])?.count == 2)
    #expect(json?["pending_import"] is NSNull)

    // An import stopped between batches (its state written here as it would leave it).
    _ = try f.sql(
      """
      INSERT INTO bank_import (id, bank_id, source_file, source_format, operator, started_at,
        staged_pdq, batches) SELECT 99, id, 'big.csv', 'csv', 'ana', 1750000000, 1, 1
        FROM bank WHERE name = 'shared';
      UPDATE bank SET pending_import_id = 99 WHERE name = 'shared';
      INSERT INTO bank_hash (bank_id, type, hash, import_id)
        SELECT id, 'pdq', '\(String(repeating: "5a", count: 32))', 99 FROM bank
        WHERE name = 'shared';
      """)
    let pending = try #require(
      try f.csar("bank", "list").out.split(separator: "\n").first { $0.hasPrefix("shared\t") })
    #expect(pending.contains("\tpdq 1\t"), "staged rows are not counted: \(pending)")
    #expect(
      pending.contains(
        "importing: 1 staged by ana since 2025-06-15T15:06:40Z from big.csv, not yet in the "
          + "bank (run the import again to finish it)"), "\(pending)")
    let pendingJSON = shared(try f.csar("bank", "list", "--json").out)
    #expect((pendingJSON?["pending_import"] as? [String: Any])?["staged"] as? Int == 1)
  }

  /// StopNCII JSON and NCMEC XML exports carry the audit head where their readers skip it:
  /// Python's standard JSON and XML (expat) readers, which know nothing of csar, read the
  /// whole documents and find every record; the head they carry passes
  /// `csar audit verify --expect-head`.
  @Test func stopNCIIAndNCMECExportsCarryTheHeadAndOtherReadersReadThem() throws {
    guard (try? Subprocess.run(["python3", "-c", "import json, xml.etree.ElementTree"]))?
      .status == 0
    else {
      print("skipped: python3 with its json and xml modules is not installed")
      return
    }
    let f = try Fixture()
    let source = try f.write(
      "heads.csv",
      "type,hash,label,source_id\npdq,\(String(repeating: "a5", count: 32)),A1,S-1\n"
        + "md5,\(String(repeating: "0f", count: 16)),,S-2\n")
    #expect(try f.csar("bank", "import", "heads", source).status == 0)
    let json = f.directory + "/heads.json"
    let xml = f.directory + "/heads.xml"
    for (format, path) in [("stopncii-json", json), ("ncmec-xml", xml)] {
      let exported = try f.csar("bank", "export", "heads", "--format", format, "-o", path)
      #expect(exported.status == 0, "\(format): \(exported.err)")
    }
    let script = """
      import json, sys, xml.etree.ElementTree as ET
      reply = json.load(open(sys.argv[1]))
      head = reply["csar_audit_head"]
      print("%d:%s" % (head["events"], head["mac"]))
      print(len(reply["hashRecords"]), reply["count"], reply["hasMoreRecords"])
      parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
      root = ET.parse(sys.argv[2], parser).getroot()
      ns = "{https://hashsharing.ncmec.org/hashsharing/v2}"
      print(root.tag == ns + "queryResult", len(root.findall(".//" + ns + "fingerprints")))
      comment = open(sys.argv[2]).read().split("\\n")[1]
      print(comment)
      """
    let read = try Subprocess.run(["python3", "-c", script, json, xml])
    #expect(read.status == 0, "\(read.err)")
    let lines = read.out.split(separator: "\n").map(String.init)
    try #require(lines.count == 4, "\(read.out)")
    #expect(lines[1] == "2 2 False")
    #expect(lines[2] == "True 2")
    // Each export carries the head of its own moment (the first export is itself an event).
    let xmlHead = try #require(
      lines[3].hasPrefix("<!-- csar audit_head ") && lines[3].hasSuffix(" -->")
        ? String(lines[3].dropFirst(21).dropLast(4)) : nil, "\(lines[3])")
    for head in [lines[0], xmlHead] {
      let verified = try f.csar("audit", "verify", "--expect-head", head)
      #expect(verified.status == 0, "\(head): \(verified.out)\(verified.err)")
    }
  }

  // MARK: - threatexchange

  /// Whether the `threatexchange` CLI runs, installing it from PyPI when pip is there
  /// (`--help`, not `--version`: 1.2.17's `--version` fails looking for its version.txt).
  static let threatExchange: Bool = {
    if (try? Subprocess.run(["threatexchange", "--help"], timeout: 120))?.status == 0 {
      return true
    }
    _ = try? Subprocess.run(
      ["python3", "-m", "pip", "install", "--quiet", "threatexchange"], timeout: 600)
    return (try? Subprocess.run(["threatexchange", "--help"], timeout: 120))?.status == 0
  }()

  @Test func roundTripThroughTheThreatExchangeCLI() throws {
    guard Self.threatExchange else {
      print("skipped: threatexchange is not installed and pip could not install it")
      return
    }
    let f = try Fixture()
    let home = f.directory + "/te-home"
    try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    func te(_ arguments: String...) throws -> (status: Int32, out: String, err: String) {
      try Subprocess.run(["threatexchange"] + arguments, timeout: 300, overrides: ["HOME": home])
    }
    var lines = "type,hash\n"
    for i in 0..<20 {
      let byte = String(format: "%02x", i * 7 + 1)
      lines += "pdq,\(String(repeating: byte, count: 31))a5\n"
      lines += "md5,\(String(repeating: byte, count: 15))0f\n"
    }
    lines += "sha256,\(String(repeating: "5a", count: 32))\n"
    #expect(try f.csar("bank", "import", "mine", try f.write("mine.csv", lines)).status == 0)
    let list = f.directory + "/mine.txt"
    #expect(try f.csar("bank", "export", "mine", "--format", "te", "-o", list).status == 0)
    let configured = try te("config", "collab", "edit", "local_file", "--create",
      "--filename", list, "csar-mine")
    #expect(configured.status == 0, "\(configured.err)")
    let fetched = try te("fetch")
    #expect(fetched.status == 0, "\(fetched.err)")
    let dataset = try te("dataset", "-P", "--csv")
    #expect(dataset.status == 0, "\(dataset.err)")
    #expect(dataset.out.hasPrefix("signal_type,signal_str,collab,category,tags"))
    let back = try f.write("te-dataset.csv", dataset.out)
    let imported = try f.csar("bank", "import", "theirs", back, "--json")
    #expect(imported.status == 0, "\(imported.err)")
    #expect(f.json(imported.out).first?["added"] as? Int == 41)
    // The first line, `# csar audit_head EVENTS:MAC`, was skipped by threatexchange (41
    // hashes came back, no `#` signal); each export carries the head of its own moment.
    func hashLines(_ bank: String) throws -> [Substring] {
      let text = try f.csar("bank", "export", bank, "--format", "te").out
      #expect(text.hasPrefix("# csar audit_head "))
      return text.split(separator: "\n").filter { !$0.hasPrefix("#") }
    }
    let theirs = try hashLines("theirs")
    #expect(try hashLines("mine") == theirs, "csar -> threatexchange -> csar keeps every hash")
    #expect(
      try f.sql(
        "SELECT metadata FROM bank_hash h JOIN bank b ON b.id = h.bank_id "
          + "WHERE b.name = 'theirs' LIMIT 1") == #"{"collab":"csar-mine"}"#)
  }
}
