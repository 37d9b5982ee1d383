// The indexed vPDQ matcher gives the brute-force rule's shares, and hash files parse.

import Detection
import Foundation
import Testing

@Suite struct VPDQIndexTests {
  struct Random {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func hash() -> PDQHash { PDQHash(words: SIMD4(next(), next(), next(), next())) }
    /// `hash` with `bits` random bits flipped.
    mutating func near(_ hash: PDQHash, bits: Int) -> PDQHash {
      var h = hash
      for _ in 0..<bits { h.words[Int(next() % 4)] ^= 1 << (next() % 64) }
      return h
    }
  }

  @Test func indexAgreesWithTheBruteForceRule() {
    var random = Random(state: 5)
    var videos: [(id: Int, features: [VPDQFeature])] = []
    for id in 0..<300 {
      let frames = (0..<(5 + Int(random.next() % 20))).map { f in
        VPDQFeature(
          frame: f, quality: Int(random.next() % 101), hash: random.hash(), timestamp: Double(f))
      }
      videos.append((id * 7, frames))
    }
    // Queries: copies of bank videos with noise, partial clips, and unrelated videos.
    var queries: [[VPDQFeature]] = []
    for v in stride(from: 0, to: 300, by: 10) {
      let source = videos[v].features
      queries.append(source.prefix(source.count / 2 + 1).map {
        VPDQFeature(
          frame: $0.frame, quality: 90, hash: random.near($0.hash, bits: Int(random.next() % 40)),
          timestamp: $0.timestamp)
      } + [VPDQFeature(frame: 99, quality: 80, hash: random.hash(), timestamp: 99)])
    }
    let index = VPDQIndex(videos: videos)
    var matched = 0
    for query in queries {
      let found = Dictionary(uniqueKeysWithValues: index.query(query).map { ($0.id, $0) })
      for (id, features) in videos {
        let brute = VPDQ.similarity(query: query, target: features)
        let indexed = found[id]?.similarity ?? VPDQSimilarity(queryPercent: 0, comparedPercent: 0)
        #expect(indexed == brute, "video \(id)")
        if brute.queryPercent > 0 { matched += 1 }
      }
    }
    // Not vacuous: most queries share frames with their source (some sources have no
    // trusted frame at all).
    #expect(matched > queries.count / 2)
  }

  @Test func sampleHashesAndThreatExchangeSignalsParse() throws {
    let hex = "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c"
    let sample = try VPDQ.parseSampleHashes("0,100,\(hex),0.000\n1,49,\(hex),0.033\n\n")
    #expect(sample.map(\.frame) == [0, 1])
    #expect(sample[1].quality == 49 && sample[1].timestamp == 0.033)
    #expect(sample[0].hash.hex == hex)
    #expect(throws: VPDQParseError(line: 2, reason: "quality must be 0-100")) {
      try VPDQ.parseSampleHashes("0,100,\(hex),0\n1,101,\(hex),0\n")
    }
    #expect(throws: VPDQParseError.self) { try VPDQ.parseSampleHashes("0,100,abc,0\n") }
    let signal = try VPDQ.parseThreatExchange("[\"\(hex),100,0.0\", \"\(hex),80,1.0\"]")
    #expect(signal.map(\.frame) == [0, 1])
    #expect(signal[1].quality == 80 && signal[1].timestamp == 1)
    #expect(throws: VPDQParseError(line: 2, reason: "expected a string \"hex,quality,timestamp\"")) {
      try VPDQ.parseThreatExchange("[\"\(hex),100,0.0\", 7]")
    }
    #expect(throws: VPDQParseError.self) { try VPDQ.parseThreatExchange("{}") }
  }
}
