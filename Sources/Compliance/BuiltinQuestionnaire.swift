// MARK: - The shipped questionnaire, embedded

/// `data/questionnaires/csar-2024.toml`, embedded so the binary works from any directory.
/// A test checks that this text equals the file, so the two cannot drift apart.
public enum BuiltinQuestionnaire {
  /// File name of the shipped questionnaire (for messages).
  public static let fileName = "csar-2024.toml"

  /// The TOML text of the shipped questionnaire.
  public static let text = #"""
# CSAR risk categorisation questionnaire, built from the parameters publicly reported for the
# 2024 Council approach (Presidency paper of May 2024; parameters in WK 3036/2024 REV 3).
#
# IMPORTANT: the official weights and thresholds are not public. The points, section weights,
# thresholds and floors below are a transparent, PROVIDER-REVIEWABLE DEFAULT, not the official
# annex. Review them, change them in a copy with a new id, and every assessment records which
# version it used.
#
# Scoring: each section's points are divided by the most it can give, multiplied by the
# section's share of the total weight, and summed to a total of 0-100. HIGH from
# thresholds.high, MEDIUM from thresholds.medium, LOW below. A floor rule whose conditions all
# hold puts the service at least in its category, whatever the score.

id = "csar-2024@1"
title = "CSAR risk categorisation 2024 (Council approach parameters)"
note = "Weights are a provider-reviewable default, not the official annex."

[thresholds]
high = 60
medium = 35

# MARK: size

[sections.size]
title = "Size of the service"
weight = 15

[sections.size.questions.users]
kind = "numeric"
unit = "users"
text = "Average monthly active users in the EU"
help = """
Count the users of this service (or part of a service) in the EU over the last 12 months, \
as for the DSA user figures. Larger services expose more children to more potential abusers."""
bands = [
  { id = "under_10k", label = "fewer than 10,000", min = 0, points = 0 },
  { id = "10k_100k", label = "10,000 to 100,000", min = 10_000, points = 1 },
  { id = "100k_1m", label = "100,000 to 1 million", min = 100_000, points = 2 },
  { id = "1m_10m", label = "1 to 10 million", min = 1_000_000, points = 3 },
  { id = "over_10m", label = "10 million or more", min = 10_000_000, points = 4 },
]

# MARK: children

[sections.children]
title = "Access by children"
weight = 20

[sections.children.questions.child_access]
kind = "single"
text = "Can children (under 18) access the service?"
help = """
"Enforced" means an age check that children cannot pass by ticking a box. A service aimed \
at children or popular with them is most at risk."""
answers.no_enforced = { label = "No, adults only and enforced by age assurance", points = 0 }
answers.no_by_terms = { label = "No by the terms, but not enforced", points = 2 }
answers.yes = { label = "Yes, children may use it", points = 4 }
answers.targeted = { label = "Yes, it is aimed at or popular with children", points = 5 }

# MARK: type

[sections.type]
title = "Type of service"
weight = 10

[sections.type.questions.service_type]
kind = "single"
text = "What type of service is it (its main function)?"
help = """
Choose the main function. Services built around contact between users rank higher than \
services where users mostly consume content."""
answers.messaging = { label = "Interpersonal messaging", points = 5 }
answers.livestreaming = { label = "Livestreaming", points = 5 }
answers.social_network = { label = "Social network", points = 4 }
answers.gaming = { label = "Online game with chat", points = 4 }
answers.dating = { label = "Dating", points = 3 }
answers.hosting = { label = "File or image hosting", points = 3 }
answers.forum = { label = "Forum or community board", points = 3 }
answers.marketplace = { label = "Marketplace", points = 2 }
answers.search = { label = "Search engine", points = 1 }
answers.other = { label = "Other", points = 2 }

# MARK: architecture

[sections.architecture]
title = "Core architecture"
weight = 25

[sections.architecture.questions.realtime]
kind = "multiple"
text = "Which real-time direct communication features does it have?"
help = """
Select every feature users have; select none if there is none. Real-time direct contact \
(messaging, livestreaming) is where the paper places the highest risk."""
answers.direct_messages = { label = "Direct messages between users", points = 4 }
answers.group_chats = { label = "Group chats", points = 2 }
answers.livestreaming = { label = "Livestreaming", points = 4 }
answers.video_calls = { label = "Voice or video calls", points = 3 }

[sections.architecture.questions.e2ee]
kind = "yes_no"
text = "Is communication end-to-end encrypted?"
help = """
Yes if the provider cannot read the content in transit for some or all conversations. \
A detection order can still cover E2EE services through detection before transmission."""
answers.yes = { points = 3 }
answers.no = { points = 0 }

[sections.architecture.questions.anonymous_use]
kind = "single"
text = "How do users identify themselves?"
help = "Anonymous use without an account makes abuse cheaper and harder to follow up."
answers.verified = { label = "Verified identity (e.g. phone number checked)", points = 0 }
answers.pseudonymous = { label = "Account with a free pseudonym", points = 2 }
answers.no_account = { label = "No account needed", points = 3 }

[sections.architecture.questions.vpn_tor]
kind = "yes_no"
text = "Can it be used through VPN/Tor or from other jurisdictions without limits?"
help = "Yes if VPN and Tor exit nodes are not restricted and use is not geo-limited."
answers.yes = { points = 2 }
answers.no = { points = 0 }

[sections.architecture.questions.p2p]
kind = "yes_no"
text = "Can users share files peer to peer (not through the provider's servers)?"
help = "Peer-to-peer transfers bypass upload moderation."
answers.yes = { points = 2 }
answers.no = { points = 0 }

[sections.architecture.questions.crypto_payments]
kind = "yes_no"
text = "Can users pay each other or the service in cryptocurrency?"
help = "Untraceable payments are reported as a risk factor for commercial abuse."
answers.yes = { points = 2 }
answers.no = { points = 0 }

[sections.architecture.questions.saving_content]
kind = "yes_no"
text = "Can users save others' content or take screenshots freely?"
help = "No if saving is blocked and screenshots are detected or prevented."
answers.yes = { points = 1 }
answers.no = { points = 0 }

# MARK: policies

[sections.policies]
title = "Policies and safety by design"
weight = 15

[sections.policies.questions.clear_rules]
kind = "yes_no"
text = "Are the rules against child sexual abuse clear and easy to find?"
help = "Yes if the terms state them plainly and users find them within two clicks."
answers.yes = { points = 0 }
answers.no = { points = 2 }

[sections.policies.questions.reporting_tools]
kind = "yes_no"
text = "Can users report content and accounts easily from where they see them?"
help = "Yes if a report button is on every message, profile and piece of content."
answers.yes = { points = 0 }
answers.no = { points = 3 }

[sections.policies.questions.age_assurance]
kind = "single"
text = "Which age assurance is used?"
help = "The strongest method applied to all users of the service."
answers.verification = { label = "Age verification", points = 0 }
answers.estimation = { label = "Age estimation", points = 1 }
answers.self_declaration = { label = "Self-declaration only", points = 2 }
answers.none = { label = "None", points = 3 }

[sections.policies.questions.parental_controls]
kind = "yes_no"
text = "Are parental controls available?"
help = "Yes if parents can limit contacts, features or time for a child's account."
answers.yes = { points = 0 }
answers.no = { points = 1 }

[sections.policies.questions.law_enforcement]
kind = "yes_no"
text = "Can the provider share data with law enforcement when lawfully asked?"
help = "Yes if a process and the technical means exist to preserve and hand over data."
answers.yes = { points = 0 }
answers.no = { points = 2 }

[sections.policies.questions.behavioural_signals]
kind = "yes_no"
text = "Does the provider collect behavioural signals to spot abuse patterns?"
help = "E.g. adults contacting many unrelated minors, mass friend requests, fast deletions."
answers.yes = { points = 0 }
answers.no = { points = 1 }

# MARK: communication

[sections.communication]
title = "Public or private communication"
weight = 5

[sections.communication.questions.public_private]
kind = "single"
text = "Is communication mainly public or private?"
help = "Private, one-to-one communication is less visible to other users and moderators."
answers.mainly_public = { label = "Mainly public", points = 1 }
answers.mixed = { label = "Both", points = 2 }
answers.mainly_private = { label = "Mainly private", points = 3 }

# MARK: tendencies

[sections.tendencies]
title = "User tendencies"
weight = 10

[sections.tendencies.questions.report_history]
kind = "single"
text = "How many CSA reports did the service have in the last 12 months?"
help = "Reports to the EU Centre, NCMEC or authorities, and confirmed user reports."
answers.none = { label = "None", points = 0 }
answers.few = { label = "A few (under 10)", points = 2 }
answers.many = { label = "Many (10 or more)", points = 4 }

# MARK: floors

[[floors]]
id = "children_livestreaming"
at_least = "high"
reason = "Children can access a service with livestreaming."
when = [
  { question = "child_access", answers = ["yes", "targeted"] },
  { question = "realtime", answers = ["livestreaming"] },
]

[[floors]]
id = "children_direct_contact"
at_least = "medium"
reason = "Children can access a service where strangers can message them directly."
when = [
  { question = "child_access", answers = ["yes", "targeted"] },
  { question = "realtime", answers = ["direct_messages", "video_calls"] },
]

[[floors]]
id = "report_history"
at_least = "medium"
reason = "Ten or more CSA reports in the last 12 months."
when = [{ question = "report_history", answers = ["many"] }]
"""#

  /// The shipped questionnaire, parsed (it is tested to load without problems).
  public static func load() throws(FileProblems) -> Questionnaire {
    try Questionnaire.parse(text + "\n", file: fileName)
  }
}
