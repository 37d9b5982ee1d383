import Detection
import Testing

/// Punycode against RFC 3492's sample strings (section 7.1), and Unicode hosts compared in
/// their ASCII form.
@Suite("IDNA and Punycode")
struct IDNATests {
  /// RFC 3492 section 7.1: (A) to (S), as code points, with their Punycode. The RFC writes
  /// some digits in uppercase (mixed-case annotation, optional); encoders write lowercase.
  static let samples: [(String, String)] = [
    ("\u{644}\u{64A}\u{647}\u{645}\u{627}\u{628}\u{62A}\u{643}\u{644}\u{645}\u{648}\u{634}"
      + "\u{639}\u{631}\u{628}\u{64A}\u{61F}", "egbpdaj6bu4bxfgehfvwxn"),
    ("他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"),
    ("他們爲什麽不說中文", "ihqwctvzc91f659drss3x8bo0yb"),
    ("Pročprostěnemluvíčesky", "Proprostnemluvesky-uyb24dma41a"),
    ("למההםפשוטלאמדבריםעברית", "4dbcagdahymbxekheh6e0a7fei0b"),
    ("यहलोगहिन्दीक्योंनहींबोलसकतेहैं", "i1baa7eci9glrd9b2ae1bj0hfcgg6iyaf8o0a1dig0cd"),
    ("なぜみんな日本語を話してくれないのか", "n8jok5ay5dzabd5bym9f0cm5685rrjetr6pdxa"),
    ("세계의모든사람들이한국어를이해한다면얼마나좋을까",
     "989aomsvi5e83db1d2a355cv1e0vak1dwrv93d5xbh15a0dt30a5jpsd879ccm6fea98c"),
    ("почемужеонинеговорятпорусски", "b1abfaaepdrnnbgefbaDotcwatmq2g4l"),
    ("PorquénopuedensimplementehablarenEspañol", "PorqunopuedensimplementehablarenEspaol-fmd56a"),
    ("TạisaohọkhôngthểchỉnóitiếngViệt", "TisaohkhngthchnitingVit-kjcr8268qyxafd2f1b9g"),
    ("3年B組金八先生", "3B-ww4c5e180e575a65lsy2b"),
    ("安室奈美恵-with-SUPER-MONKEYS", "-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n"),
    ("Hello-Another-Way-それぞれの場所", "Hello-Another-Way--fc4qua05auwb3674vfr0b"),
    ("ひとつ屋根の下2", "2-u9tlzr9756bt3uc0v"),
    ("MajiでKoiする5秒前", "MajiKoi5-783gue6qz075azm5e"),
    ("パフィーdeルンバ", "de-jg4avhby1noc0d"),
    ("そのスピードで", "d9juau41awczczp"),
    ("-> $1.00 <-", "-> $1.00 <--"),
  ]

  @Test func rfc3492SampleStrings() {
    for (unicode, punycode) in Self.samples {
      // Basic code points keep their case; the encoded digits are compared without case.
      let encoded = Punycode.encode(unicode)
      #expect(encoded?.lowercased() == punycode.lowercased(), "\(unicode)")
      #expect(Punycode.decode(punycode) == unicode, "\(punycode)")
      #expect(encoded.flatMap(Punycode.decode) == unicode, "\(unicode)")
    }
    #expect(Punycode.decode("a-b!") == nil)
    #expect(Punycode.decode("99999999999") == nil)
  }

  @Test func unicodeHostsMatchTheirPunycodeForm() throws {
    let pairs = [
      ("http://bücher.example/a", "http://xn--bcher-kva.example/a"),
      ("http://BÜCHER.example/a", "http://xn--bcher-kva.example/a"),
      ("http://b%C3%BCcher.example/a", "http://xn--bcher-kva.example/a"),
      ("http://xn--BCHER-kva.example/a", "http://xn--bcher-kva.example/a"),
      ("http://例え。テスト/", "http://xn--r8jz45g.xn--zckzah/"),
      ("http://ｂüｃｈｅｒ．example/", "http://xn--bcher-kva.example/"),
      ("http://bü\u{AD}cher.example/", "http://xn--bcher-kva.example/"),
      ("http://１２７．０．０．１/", "http://127.0.0.1/"),
    ]
    for (input, expected) in pairs {
      #expect(try URLCanonicalizer.canonicalize(input) == expected, "\(input)")
    }
    // Bytes that are not UTF-8 stay escaped, as Safe Browsing's own example says.
    #expect(try URLCanonicalizer.canonicalize(bytes: Array("http://".utf8) + [1, 0x80]
      + Array(".com/".utf8)) == "http://%01%80.com/")
    let listed = try URLCanonicalizer.parse("http://xn--bcher-kva.example/").lookupExpressions
    let upload = try URLCanonicalizer.parse("https://www.bücher.example/x").lookupExpressions
    #expect(upload.contains(listed[0]))
  }
}
