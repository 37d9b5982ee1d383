import Compliance

// MARK: - Fixed material of the demo data

/// The synthetic provider's services, operators, banks and texts. Names mix scripts (accented
/// Latin, Greek, Japanese, Chinese) so the console's width handling shows; one service name
/// carries a terminal escape sequence and one description a bidi override, so the console's
/// sanitising shows too.
enum DemoCatalog {
  /// How a service's assessment history is set up relative to `today`.
  enum Plan {
    case assessed(RiskCategory, DeadlineState)
    case neverAssessed(draft: Bool)
  }

  struct Service {
    let code: String
    let name: String
    let kind: ServiceKind
    let description: String
    let plan: Plan
    /// Share of flagged items on this service.
    let weight: Double
  }

  static let services: [Service] = [
    Service(
      code: "chat-eu", name: "Café Chat", kind: .messaging,
      description: "Messenger for the EU market; end-to-end encrypted one-to-one chats, "
        + "group chats up to 256 members.",
      plan: .assessed(.high, .overdue), weight: 22),
    Service(
      code: "live-jp", name: "ライブ配信 Live", kind: .livestreaming,
      description: "Livestreaming with live comments and tipping (ライブ配信).",
      plan: .assessed(.high, .dueSoon), weight: 12),
    Service(
      code: "social-gr", name: "Παρέα Social", kind: .socialNetwork,
      description: "Photo-first social network; public and friends-only posts.",
      plan: .assessed(.high, .ok), weight: 16),
    Service(
      code: "foto-de", name: "Fotobörse", kind: .hosting,
      description: "Photo hosting and sharing with public albums (Bildergalerie).",
      plan: .assessed(.medium, .ok), weight: 14),
    Service(
      code: "dating-es", name: "Citas Señorío", kind: .dating,
      description: "Dating app, adults only, age assurance at sign-up.",
      plan: .assessed(.medium, .dueSoon), weight: 5),
    Service(
      code: "games-pl", name: "Gry Łódź Arena", kind: .gaming,
      description: "Multiplayer games with in-game voice and text chat.",
      plan: .assessed(.medium, .overdue), weight: 8),
    Service(
      code: "forum-fr", name: "Forum Étudiant", kind: .forum,
      description: "Student forum: études, logement, petites annonces.",
      plan: .assessed(.low, .ok), weight: 4),
    Service(
      code: "market-cz", name: "Tržiště Řemesel", kind: .marketplace,
      description: "Crafts marketplace with listing photos and buyer messages.",
      plan: .assessed(.low, .overdue), weight: 5),
    Service(
      code: "cloud-nl", name: "Wolkkluis Opslag", kind: .hosting,
      description: "Encrypted cloud storage with share links.",
      plan: .assessed(.low, .dueSoon), weight: 7),
    Service(
      code: "search-eu", name: "Sökmotor Ö", kind: .search,
      description: "Web and image search (Bildsuche, bildsök).",
      plan: .neverAssessed(draft: false), weight: 3),
    Service(
      code: "kids-zh", name: "儿童 Kids Club", kind: .messaging,
      description: "Supervised messaging for children under 13 (儿童俱乐部); assessment in "
        + "progress.",
      plan: .neverAssessed(draft: true), weight: 2),
    Service(
      code: "legacy-mail", name: "Legacy \u{1B}[31mred\u{1B}[0m Mail", kind: .other,
      description: "Imported from the old tool: attachment \u{202E}gnp.exe (a bidi override "
        + "and an escape sequence, to show that the console sanitises them).",
      plan: .assessed(.low, .ok), weight: 2),
  ]

  static let operators: [(String, OperatorRole)] = [
    ("alice", .reviewer), ("bahar", .lead), ("chen", .reviewer),
  ]

  /// Questionnaire version used by the demo assessments.
  static let questionnaireId = "demo-2024@1"

  // MARK: - Measures and orders

  static let measures: [(code: String, title: String)] = [
    ("age-assurance", "Age assurance at sign-up"),
    ("report-button", "Report button on every message, profile and image"),
    ("private-default", "Private-by-default profiles for minors"),
    ("parental-controls", "Parental controls and supervised accounts"),
    ("stranger-prompts", "Safety prompts in chats with strangers"),
    ("hash-uploads", "Hash matching of uploads before they are shared"),
    ("moderation-24-7", "Trained moderation staff around the clock"),
  ]

  static let owners = ["alice", "bahar", "Trust & Safety", "Produkt-Team Zürich"]

  // MARK: - Items

  struct Bank {
    let name: String
    let labelPrefix: String
  }

  static let hashBanks: [Bank] = [
    Bank(name: "NCMEC", labelPrefix: "ncmec"),
    Bank(name: "IWF", labelPrefix: "iwf"),
    Bank(name: "EU Centre", labelPrefix: "euc"),
    Bank(name: "in-house", labelPrefix: "ih"),
  ]

  static let urlLists: [Bank] = [
    Bank(name: "IWF URL list", labelPrefix: "iwf-url"),
    Bank(name: "in-house URL list", labelPrefix: "ih-url"),
  ]

  static let models = ["vision-clf 2.3", "vision-clf 3.0"]

  /// Hosts under reserved names (RFC 2606 / 6761): never real sites.
  static let urlHosts = [
    "files.example.com", "img-share.example.net", "cdn.example.org", "paste.example",
    "mirror.test", "dl.host.invalid",
  ]

  /// Number of distinct demo images (`media/0.png` ... `media/63.png`).
  static let mediaCount = 64

  static let decisionNotes = [
    "", "", "", "matches bank entry; same upload seen twice",
    "benign: holiday photo, hash collision", "cartoon, false positive",
    "needs a second opinion", "Zweitmeinung erbeten", "faux positif: capture d'écran",
    "誤検出 (false positive)", "note with \u{1B}[31mred\u{1B}[0m and \u{202E}reversed text",
  ]

  static let supportReasons = [
    "User asked by e-mail to withdraw consent", "Ticket #48213: user wants to share photos",
    "Anfrage per Telefon, Identität geprüft", "Demande écrite de l'utilisateur",
    "ユーザーからの問い合わせ", "ticket with \u{1B}[31mred\u{1B}[0m and \u{202E}reversed text",
  ]
}
