import Testing

@testable import Compliance

/// Answers of a large messaging service open to children (HIGH by score).
let highAnswers: [String: Answer] = [
  "users": .number(25_000_000), "child_access": .choice("yes"),
  "service_type": .choice("messaging"),
  "realtime": .choices(["direct_messages", "group_chats", "video_calls"]),
  "e2ee": .choice("yes"), "anonymous_use": .choice("pseudonymous"), "vpn_tor": .choice("yes"),
  "p2p": .choice("no"), "crypto_payments": .choice("no"), "saving_content": .choice("yes"),
  "clear_rules": .choice("yes"), "reporting_tools": .choice("yes"),
  "age_assurance": .choice("self_declaration"), "parental_controls": .choice("yes"),
  "law_enforcement": .choice("yes"), "behavioural_signals": .choice("yes"),
  "public_private": .choice("mainly_private"), "report_history": .choice("few"),
]

/// Answers of a small adults-only forum (LOW).
let lowAnswers: [String: Answer] = [
  "users": .number(5_000), "child_access": .choice("no_enforced"),
  "service_type": .choice("forum"), "realtime": .choices([]),
  "e2ee": .choice("no"), "anonymous_use": .choice("pseudonymous"), "vpn_tor": .choice("no"),
  "p2p": .choice("no"), "crypto_payments": .choice("no"), "saving_content": .choice("yes"),
  "clear_rules": .choice("yes"), "reporting_tools": .choice("yes"),
  "age_assurance": .choice("verification"), "parental_controls": .choice("no"),
  "law_enforcement": .choice("yes"), "behavioural_signals": .choice("yes"),
  "public_private": .choice("mainly_public"), "report_history": .choice("none"),
]

func with(_ base: [String: Answer], _ changes: [String: Answer]) -> [String: Answer] {
  base.merging(changes) { $1 }
}

@Suite struct ScoringTests {
  let q = try! BuiltinQuestionnaire.load()

  @Test func highByScore() throws {
    let result = try q.score(highAnswers)
    #expect(result.category == .high)
    #expect(result.scoreCategory == .high)
    #expect(result.floorsApplied.map(\.id) == ["children_direct_contact"])
    #expect(result.total >= 60)
    // Sections sum to the total; each within its share.
    let sum = result.sections.map(\.contribution).reduce(0, +)
    #expect(abs(sum - result.total) < 0.06)
    #expect(result.sections.allSatisfy { $0.contribution <= $0.maxContribution + 1e-9 })
    // Size: 4 of 4 points → the full 15.
    #expect(result.sections.first?.contribution == 15)
  }

  @Test func lowByScore() throws {
    let result = try q.score(lowAnswers)
    #expect(result.category == .low)
    #expect(result.floorsApplied.isEmpty)
    #expect(result.total < 35)
  }

  @Test func mediumByScore() throws {
    let answers = with(
      lowAnswers,
      [
        "users": .number(2_000_000), "child_access": .choice("no_by_terms"),
        "service_type": .choice("social_network"), "realtime": .choices(["group_chats"]),
        "report_history": .choice("few"), "age_assurance": .choice("none"),
      ])
    let result = try q.score(answers)
    #expect(result.scoreCategory == .medium)
    #expect(result.category == .medium)
  }

  @Test func floorRaisesLowToHigh() throws {
    let answers = with(
      lowAnswers, ["child_access": .choice("yes"), "realtime": .choices(["livestreaming"])])
    let result = try q.score(answers)
    #expect(result.scoreCategory == .low)
    #expect(result.category == .high)
    #expect(result.floorsApplied.map(\.id) == ["children_livestreaming"])
    let explanation = result.explanation(thresholds: q.thresholds)
    #expect(explanation.last?.hasPrefix("Floor children_livestreaming: raised to HIGH") == true)
  }

  @Test func floorRaisesLowToMedium() throws {
    let result = try q.score(with(lowAnswers, ["report_history": .choice("many")]))
    #expect(result.scoreCategory == .low)
    #expect(result.category == .medium)
  }

  @Test func reasonsLargestFirstTiesInQuestionnaireOrder() throws {
    let result = try q.score(highAnswers)
    let contributions = result.reasons.map(\.contribution)
    #expect(contributions == contributions.sorted(by: >))
    #expect(result.reasons.first?.question == "child_access")  // 4/5 of 20 = 16
    #expect(result.reasons[1].question == "users")  // 4/4 of 15 = 15
    // Reasons only for answers that gave points.
    #expect(!result.reasons.contains { $0.question == "p2p" })
    // vpn_tor and anonymous_use both give 2 of 26 in architecture: questionnaire order.
    let ids = result.reasons.map(\.question)
    #expect(ids.firstIndex(of: "anonymous_use")! < ids.firstIndex(of: "vpn_tor")!)
  }

  @Test func deterministic() throws {
    #expect(try q.score(highAnswers) == (try q.score(highAnswers)))
  }

  @Test func missingAndInvalidAnswersNameTheQuestion() throws {
    var missing = highAnswers
    missing["e2ee"] = nil
    #expect(throws: AnswerError(question: "e2ee", message: "not answered")) {
      try q.score(missing)
    }
    #expect(throws: AnswerError.self) { try q.score(with(highAnswers, ["e2ee": .choice("maybe")])) }
    do {
      _ = try q.score(with(highAnswers, ["users": .number(-5)]))
      Issue.record("expected an error")
    } catch {
      #expect(error.question == "users")
    }
    do {
      _ = try q.score(with(highAnswers, ["colour": .choice("red")]))
      Issue.record("expected an error")
    } catch {
      #expect(error.description == "colour: no such question in csar-2024@1")
    }
  }

  @Test func numericBands() throws {
    let users = try #require(q.question("users"))
    #expect(users.band(for: 0)?.id == "under_10k")
    #expect(users.band(for: 9_999)?.id == "under_10k")
    #expect(users.band(for: 10_000)?.id == "10k_100k")
    #expect(users.band(for: 10_000_000)?.id == "over_10m")
  }

  @Test func answersFileTOMLAndJSON() throws {
    let toml = """
      users = 25_000_000
      child_access = "yes"
      realtime = ["direct_messages"]
      e2ee = true
      """
    let answers = try q.parseAnswers(toml, file: "a.toml")
    #expect(answers["e2ee"] == .choice("yes"))
    #expect(answers["users"] == .number(25_000_000))
    let json = "{\n  \"users\": 100,\n  \"realtime\": [],\n  \"e2ee\": \"no\"\n}"
    #expect(try q.parseAnswers(json, file: "a.json")["realtime"] == .choices([]))
    do {
      _ = try q.parseAnswers("users = 5\ne2ee = \"maybe\"\ncolour = \"red\"\n", file: "a.toml")
      Issue.record("expected problems")
    } catch {
      #expect(error.problems.map(\.description) == [
        "a.toml:2: e2ee: \"maybe\" is not an answer; expected one of yes, no",
        "a.toml:3: colour: no such question in csar-2024@1",
      ])
    }
    do {
      _ = try q.parseAnswers("{\n\"users\": \"many\"\n}", file: "a.json")
      Issue.record("expected problems")
    } catch {
      #expect(error.description == "a.json:2: users: expected a number, found a string")
    }
  }

  @Test func hugeNumbersAreReportedNotFatal() throws {
    #expect(ScoreResult.format(1e300) == "1e+300")
    #expect(ScoreResult.format(-.infinity) == "-inf")
    #expect(ScoreResult.format(12.34) == "12.3")
    #expect(throws: FileProblems.self) {
      try q.parseAnswers("users = -1e300\n", file: "answers.toml")
    }
  }
}
