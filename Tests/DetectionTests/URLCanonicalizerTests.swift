import Detection
import Testing

@Suite("Safe Browsing URL canonicalisation")
struct URLCanonicalizerTests {
  /// The canonicalisation examples of Google's Safe Browsing v4 "URLs and Hashing" page.
  static let googleExamples: [(String, String)] = [
    ("http://host/%25%32%35", "http://host/%25"),
    ("http://host/%25%32%35%25%32%35", "http://host/%25%25"),
    ("http://host/%2525252525252525", "http://host/%25"),
    ("http://host/asdf%25%32%35asd", "http://host/asdf%25asd"),
    ("http://host/%%%25%32%35asd%%", "http://host/%25%25%25asd%25%25"),
    ("http://www.google.com/", "http://www.google.com/"),
    (
      "http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62"
        + "%61%79%2E%63%6F%6D/",
      "http://168.188.99.26/.secure/www.ebay.com/"
    ),
    (
      "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-"
        + "xplmvalidateinfoswqpcmlx=hgplmcx/",
      "http://195.127.0.11/uploads/%20%20%20%20/.verify/.eBaysecure=updateuserdataxplimnbqmn-"
        + "xplmvalidateinfoswqpcmlx=hgplmcx/"
    ),
    (
      "http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%2529"
        + "44_55%252B",
      "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+"
    ),
    ("http://3279880203/blah", "http://195.127.0.11/blah"),
    ("http://www.google.com/blah/..", "http://www.google.com/"),
    ("www.google.com/", "http://www.google.com/"),
    ("www.google.com", "http://www.google.com/"),
    ("http://www.evil.com/blah#frag", "http://www.evil.com/blah"),
    ("http://www.GOOgle.com/", "http://www.google.com/"),
    ("http://www.google.com.../", "http://www.google.com/"),
    ("http://www.google.com/foo\tbar\rbaz\n2", "http://www.google.com/foobarbaz2"),
    ("http://www.google.com/q?", "http://www.google.com/q?"),
    ("http://www.google.com/q?r?", "http://www.google.com/q?r?"),
    ("http://www.google.com/q?r?s", "http://www.google.com/q?r?s"),
    ("http://evil.com/foo#bar#baz", "http://evil.com/foo"),
    ("http://evil.com/foo;", "http://evil.com/foo;"),
    ("http://evil.com/foo?bar;", "http://evil.com/foo?bar;"),
    ("http://notrailingslash.com", "http://notrailingslash.com/"),
    ("http://www.gotaport.com:1234/", "http://www.gotaport.com/"),
    ("  http://www.google.com/  ", "http://www.google.com/"),
    ("http:// leadingspace.com/", "http://%20leadingspace.com/"),
    ("http://%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("%20leadingspace.com/", "http://%20leadingspace.com/"),
    ("https://www.securesite.com/", "https://www.securesite.com/"),
    ("http://host.com/ab%23cd", "http://host.com/ab%23cd"),
    ("http://host.com//twoslashes?more//slashes", "http://host.com/twoslashes?more//slashes"),
  ]

  @Test func googleExamplesCanonicalise() throws {
    for (input, expected) in Self.googleExamples {
      #expect(try URLCanonicalizer.canonicalize(input) == expected, "\(input)")
    }
    // "http://\x01\x80.com/" from the same page, as raw bytes.
    let raw = Array("http://".utf8) + [0x01, 0x80] + Array(".com/".utf8)
    #expect(try URLCanonicalizer.canonicalize(bytes: raw) == "http://%01%80.com/")
  }

  @Test func moreCases() throws {
    let cases: [(String, String)] = [
      ("http://host.com/path?query%3Awith%3Acolons", "http://host.com/path?query:with:colons"),
      ("HTTP://User:pw@Example.COM:8080/a/./b/../c", "http://example.com/a/c"),
      ("http://0x7f.1/", "http://127.0.0.1/"),
      ("http://0177.0.0.01/x", "http://127.0.0.1/x"),
      ("http://10.1.256/", "http://10.1.1.0/"),
      ("http://1.2.3.4.5/", "http://1.2.3.4.5/"),
      ("http://256.1.1.1/", "http://256.1.1.1/"),
      ("http://a..b...c/", "http://a.b.c/"),
      ("http://x.com/%E2%82%AC", "http://x.com/%E2%82%AC"),
      ("http://x.com/a/b/.", "http://x.com/a/b/"),
    ]
    for (input, expected) in cases {
      #expect(try URLCanonicalizer.canonicalize(input) == expected, "\(input)")
    }
    #expect(throws: URLCanonicalizationError.self) { try URLCanonicalizer.canonicalize("") }
    #expect(throws: URLCanonicalizationError.self) {
      try URLCanonicalizer.canonicalize("http:///path")
    }
  }

  @Test func lookupExpressions() throws {
    #expect(
      try URLCanonicalizer.lookupExpressions("http://a.b.c/1/2.html?param=1") == [
        "a.b.c/1/2.html?param=1", "a.b.c/1/2.html", "a.b.c/", "a.b.c/1/",
        "b.c/1/2.html?param=1", "b.c/1/2.html", "b.c/", "b.c/1/",
      ])
    #expect(
      try URLCanonicalizer.lookupExpressions("http://a.b.c.d.e.f.g/1.html") == [
        "a.b.c.d.e.f.g/1.html", "a.b.c.d.e.f.g/", "c.d.e.f.g/1.html", "c.d.e.f.g/",
        "d.e.f.g/1.html", "d.e.f.g/", "e.f.g/1.html", "e.f.g/", "f.g/1.html", "f.g/",
      ])
    #expect(try URLCanonicalizer.lookupExpressions("http://1.2.3.4/1/") == ["1.2.3.4/1/",
                                                                           "1.2.3.4/"])
    let many = try URLCanonicalizer.lookupExpressions("http://h.com/a/b/c/d/e/f.html?q")
    #expect(many.count == 6)
    #expect(many == ["h.com/a/b/c/d/e/f.html?q", "h.com/a/b/c/d/e/f.html", "h.com/",
                     "h.com/a/", "h.com/a/b/", "h.com/a/b/c/"])
  }
}
