import Foundation
import Testing

/// Hostile media paths on the real binary: FIFOs, paths outside the media roots, files
/// replaced after scanning.
@Suite("Media end to end", .serialized)
struct MediaEndToEndTests {
  typealias Fixture = DetectionCommandsEndToEndTests.Fixture

  /// A FIFO in the demo's media folder (nothing ever writes to it).
  func fifo(_ f: Fixture, _ name: String = "fifo.png") throws -> String {
    let path = f.directory + "/media/" + name
    #expect(mkfifo(path, 0o600) == 0)
    return path
  }

  @Test func hashAndScanRefuseAFIFOAtOnce() throws {
    let f = try Fixture()
    let fifo = try fifo(f)
    let hashed = try CsarBinary.run(["hash", fifo], timeout: 60)
    #expect(hashed.status == 1, "\(hashed.err)")
    #expect(hashed.err.contains("\(fifo): not a regular file (a FIFO)"), "\(hashed.err)")
    let scanned = try CsarBinary.run(["scan", "--json", "--db", f.database, fifo], timeout: 60)
    #expect(scanned.status == 1, "\(scanned.err)")
    #expect(scanned.out.contains("not a regular file (a FIFO)"), "\(scanned.out)")
  }

  @Test func theConsoleShowsAPlaceholderForAFIFOAndQuits() throws {
    let f = try Fixture()
    _ = try fifo(f)
    _ = try f.sql("UPDATE flagged_item SET media_path = 'media/fifo.png'")
    let claims = "SELECT count(*) FROM flagged_item WHERE claimed_by IS NOT NULL"
    let claimedBefore = try f.sql(claims)
    let session = try TmuxSession(width: 120, height: 40, directory: f.directory)
    try session.type("\(try CsarBinary.path) --db \(f.database); echo \"EXIT=$?\"")
    try session.send("Enter")
    try session.waitFor("Re-categorisation deadlines", timeout: 60)
    try session.send("3")
    try session.waitFor("Review queue ·", timeout: 30)
    try session.send("Enter")
    try session.waitFor("not a regular file", timeout: 30)
    try session.send("Escape")
    try session.send("q")
    try session.waitFor("EXIT=0", timeout: 30)
    // Quitting gave the item back: no claim is left behind.
    #expect(try f.sql(claims) == claimedBefore)
  }

  @Test func flagsNamingFilesOutsideTheMediaRootsAreBadLines() throws {
    let f = try Fixture()
    let (account, service) = try f.account("granted")
    let who = #""account":"\#(account)","service":"\#(service)","model":"nm","score":0.9"#
    let file = try f.write(
      "flags.jsonl",
      """
      {\(who),"media":"/etc/shadow"}
      {\(who),"media":"\(f.database)"}
      {\(who),"media":"media/2.png"}
      """)
    let refused = try f.csar("flags", "import", file)
    #expect(refused.status != 0)
    let roots = "(\(f.directory)/media)"
    let first = "\(file):1: media path \"/etc/shadow\" is outside the media roots \(roots)"
    #expect(refused.err.contains(first), "\(refused.err)")
    #expect(refused.err.contains("\(file):2: media path \"\(f.database)\" is outside"))
    #expect(!refused.err.contains("\(file):3:"))
    let imported = try f.csar("flags", "import", file, "--skip-invalid")
    #expect(imported.status == 0, "\(imported.err)")
    let recorded = try f.sql(
      "SELECT sha256 FROM flagged_item WHERE media_path = 'media/2.png' ORDER BY id DESC LIMIT 1")
    let hashed = try CsarBinary.run(["hash", "--json", f.media(2)])
    #expect(f.json(hashed.out).first?["sha256"] as? String == recorded)
  }

  @Test func hashingAVeryLargePNGStaysUnder256MB() throws {
    // 7000 x 7000 (49 megapixels, under the 100-megapixel limit), 1-bit grey, a 6 MB file:
    // decoded whole as RGB plus the float luma of PDQ it took over 480 MB.
    let f = try Fixture()
    let path = f.directory + "/media/large.png"
    try Data(LargePNG.stripes(side: 7000)).write(to: URL(fileURLWithPath: path))
    let run = try Subprocess.measured([try CsarBinary.path, "hash", "--json", path], timeout: 600)
    #expect(run.status == 0, "\(run.err)")
    #expect(run.out.contains("\"width\":7000"), "\(run.out)")
    #expect(run.peakBytes < 256 * 1_000_000, "peak \(run.peakBytes / 1_000_000) MB")
    let scan = try Subprocess.measured(
      [try CsarBinary.path, "scan", "--db", f.database, path], timeout: 600,
      overrides: ["XDG_CONFIG_HOME": CsarBinary.configHome])
    #expect(scan.out.contains("\tallowed\t"), "\(scan.out)\(scan.err)")
    #expect(scan.peakBytes < 256 * 1_000_000, "scan peak \(scan.peakBytes / 1_000_000) MB")
  }
}

/// A large PNG written by hand (this test target links no image library): 1-bit grey
/// stripes, stored (uncompressed) deflate blocks.
enum LargePNG {
  static func stripes(side: Int) -> [UInt8] {
    let rowBytes = 1 + (side + 7) / 8
    var raw: [UInt8] = []
    raw.reserveCapacity(rowBytes * side)
    for y in 0..<side {
      raw.append(0)
      for x in 0..<(rowBytes - 1) { raw.append(((x + y / 64) & 8) == 0 ? 0xF0 : 0x0F) }
    }
    var zlib: [UInt8] = [0x78, 0x01]
    var offset = 0
    while offset < raw.count {
      let n = min(65_535, raw.count - offset)
      let last: UInt8 = offset + n == raw.count ? 1 : 0
      zlib += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
      zlib += raw[offset..<(offset + n)]
      offset += n
    }
    var a: UInt32 = 1
    var b: UInt32 = 0
    for byte in raw {
      a = (a + UInt32(byte)) % 65_521
      b = (b + a) % 65_521
    }
    zlib += bigEndian(b << 16 | a)
    let header = bigEndian(UInt32(side)) + bigEndian(UInt32(side)) + [1, 0, 0, 0, 0]
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
      + chunk("IDAT", zlib) + chunk("IEND", [])
  }

  static func bigEndian(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
  }

  static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in body {
      crc ^= UInt32(byte)
      for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return bigEndian(UInt32(data.count)) + body + bigEndian(~crc)
  }
}
