// Frame selection, container sniffing and the vPDQ matching rule, without decoding.

import Detection
import Testing
import Video

@Suite struct VPDQRuleTests {
  @Test func frameModFollowsUpstream() {
    #expect(VideoHasher.frameMod(secondsPerHash: 1, frameRate: 25) == 25)
    #expect(VideoHasher.frameMod(secondsPerHash: 1, frameRate: 30000.0 / 1001) == 29)
    #expect(VideoHasher.frameMod(secondsPerHash: 0, frameRate: 30) == 1)
    #expect(VideoHasher.frameMod(secondsPerHash: 1, frameRate: 0.5) == 1)
    #expect(VideoHasher.frameMod(secondsPerHash: 2.5, frameRate: 24) == 60)
    #expect(VideoHasher.frameMod(secondsPerHash: .infinity, frameRate: 24) == 1)
  }

  @Test func containersAreRecognisedAndStillImagesAreNot() {
    func ftyp(_ brand: String) -> [UInt8] {
      [0, 0, 0, 0x18] + Array("ftyp\(brand)".utf8) + [0, 0, 0, 0]
    }
    #expect(VideoContainer.sniff(ftyp("isom")) == .mp4)
    #expect(VideoContainer.sniff(ftyp("qt  ")) == .mp4)
    #expect(VideoContainer.sniff(ftyp("heic")) == nil)
    #expect(VideoContainer.sniff(ftyp("avif")) == nil)
    #expect(VideoContainer.sniff([0x1A, 0x45, 0xDF, 0xA3, 1, 2]) == .matroska)
    #expect(VideoContainer.sniff(Array("RIFF\0\0\0\0AVI LIST".utf8)) == .avi)
    #expect(VideoContainer.sniff(Array("RIFF\0\0\0\0WEBPVP8 ".utf8)) == nil)
    #expect(VideoContainer.sniff([0x89, 0x50, 0x4E, 0x47]) == nil)
  }

  static func feature(_ frame: Int, _ hex: String, quality: Int = 100) -> VPDQFeature {
    VPDQFeature(frame: frame, quality: quality, hash: PDQHash(hex: hex)!, timestamp: 0)
  }

  static let a = String(repeating: "0", count: 64)
  static let b = String(repeating: "f", count: 64)
  static let c = String(repeating: "0", count: 56) + "ffffffff"  // 32 bits from a
  static let d = String(repeating: "0", count: 56) + "7fffffff"  // 31 bits from a

  @Test func similarityCountsUniqueTrustedFramesBothWays() {
    let query = [Self.feature(0, Self.a), Self.feature(1, Self.a), Self.feature(2, Self.b)]
    let target = [Self.feature(0, Self.d)]
    let s = VPDQ.similarity(query: query, target: target)
    // Unique query frames: a, b; a is within 31 of d, b is not.
    #expect(s.queryPercent == 50)
    #expect(s.comparedPercent == 100)
    #expect(!s.matches(queryThreshold: 80, comparedThreshold: 0))
    #expect(s.matches(queryThreshold: 50, comparedThreshold: 0))
    // 32 bits is one too many.
    #expect(VPDQ.similarity(query: query, target: [Self.feature(0, Self.c)]).comparedPercent == 0)
  }

  @Test func lowQualityFramesAreLeftOut() {
    let query = [Self.feature(0, Self.a), Self.feature(1, Self.b, quality: 49)]
    let s = VPDQ.similarity(query: query, target: [Self.feature(0, Self.a)])
    #expect(s.queryPercent == 100)
    let none = VPDQ.similarity(query: [Self.feature(0, Self.a, quality: 10)], target: query)
    #expect(none == VPDQSimilarity(queryPercent: 0, comparedPercent: 0))
  }
}
