import Testing

@testable import Terminal

@Suite("Attributes a terminal cannot show with colour (ncv)")
struct NoColorVideoTests {
  /// TERM=linux: ncv 18 (underline and dim). An underlined coloured row (an unfocused list's
  /// selection) must still stand out: it becomes bold.
  @Test func linuxTurnsUnderlineIntoBold() {
    let linux = NoColorVideo(mask: 18)
    #expect(linux.substitute([.underline]) == [.bold])
    #expect(linux.substitute([.underline, .reverse]) == [.bold, .reverse])
    #expect(linux.substitute([.dim]) == [.dim], "ncurses drops dim; plain is the fallback")
    #expect(linux.substitute([.reverse]) == [.reverse])
  }

  @Test func withBoldForbiddenTooUnderlineBecomesReverse() {
    #expect(NoColorVideo(mask: 2 | 32).substitute([.underline]) == [.reverse])
  }

  @Test func terminalsWithoutTheLimitKeepTheirAttributes() {
    for mask: Int32 in [0, -1, -2] {
      let ncv = NoColorVideo(mask: mask)
      #expect(ncv.substitute([.underline, .dim]) == [.underline, .dim])
    }
  }
}
