import Compliance
import Foundation
import GRDB
import Testing

@testable import Store

/// Operators are OS accounts: the one resolver of who is calling, binding, roles, admin
/// commands and the four-eyes rule by uid.
@Suite("Operator identity")
struct IdentityTests {
  /// The account running the tests, and a second real account (nobody).
  static let me = OSAccount.withUid(OSAccount.effectiveUid)!
  static let other = OSAccount.withUid(65534) ?? OSAccount(name: "nobody", uid: 65534)

  /// An in-memory database whose first admin is the account running the tests.
  static func database() throws -> AppDatabase {
    let db = try AppDatabase.inMemory(clock: { fixedNow })
    try db.ensureFirstAdmin(creatorUid: me.uid)
    return db
  }

  // MARK: - Resolving the caller

  @Test func theCreatorIsTheFirstAdminAndActsUnderTheLoginName() throws {
    let db = try AppDatabase.inMemory(clock: { fixedNow })
    let acting = try db.actingOperator(requested: nil, uid: Self.me.uid)
    #expect(acting.name == Self.me.name && acting.uid == Self.me.uid && acting.role == .admin)
    // Only once: a second caller does not become admin.
    #expect(throws: IdentityError.notAnOperator(account: Self.other)) {
      try db.actingOperator(requested: nil, uid: Self.other.uid)
    }
    let operators = try db.operators()
    #expect(operators.map(\.name) == [Self.me.name])
    let actions = try db.writer.read {
      try String.fetchAll($0, sql: "SELECT action || ':' || operator FROM audit_event")
    }
    #expect(actions == ["operator.create:\(Self.me.name)"])
  }

  @Test func aRequestedNameMustBeBoundToTheCallersUid() throws {
    let db = try Self.database()
    try db.ensureOperator(name: "bahar", role: .lead, uid: Self.other.uid)
    try db.ensureOperator(name: "alice", role: .reviewer)  // unbound
    try db.ensureOperator(name: "alias", role: .reviewer, uid: Self.me.uid)
    #expect(throws: IdentityError.boundToAnotherAccount(name: "bahar", caller: Self.me)) {
      try db.actingOperator(requested: "bahar", uid: Self.me.uid)
    }
    #expect(throws: IdentityError.unbound(name: "alice")) {
      try db.actingOperator(requested: "alice", uid: Self.me.uid)
    }
    #expect(throws: IdentityError.unknownOperator(name: "zed", caller: Self.me)) {
      try db.actingOperator(requested: "zed", uid: Self.me.uid)
    }
    #expect(try db.actingOperator(requested: "alias", uid: Self.me.uid).name == "alias")
    #expect(try db.actingOperator(requested: " ", uid: Self.me.uid).name == Self.me.name)
    // The account that bahar belongs to can act as bahar.
    let bahar = try db.actingOperator(requested: "bahar", uid: Self.other.uid)
    #expect(bahar.role == .lead && bahar.uid == Self.other.uid)
    // Refusals name the admin command that fixes them.
    let message = IdentityError.notAnOperator(account: Self.other).description
    #expect(message.contains("csar operator add \(Self.other.name) --role reviewer"))
  }

  @Test func unknownAccountsAreNotRegisteredSilently() throws {
    let db = try Self.database()
    #expect(throws: IdentityError.self) {
      try db.actingOperator(requested: nil, uid: Self.other.uid)
    }
    #expect(throws: IdentityError.self) {
      try db.actingOperator(requested: "newcomer", uid: Self.other.uid)
    }
    #expect(try db.operators().map(\.name) == [Self.me.name])
  }

  // MARK: - Administration

  @Test func adminAddsBindsAndDisablesOperatorsAudited() throws {
    let db = try Self.database()
    let admin = Self.me.name
    try db.ensureOperator(name: "legacy", role: .lead)  // made before binding existed
    let (added, change) = try db.addOperator(
      name: Self.other.name, uid: Self.other.uid, role: .lead, by: admin)
    #expect(change == .created && added.uid == Self.other.uid && added.role == .lead)
    #expect(
      try db.addOperator(name: Self.other.name, uid: Self.other.uid, role: .lead, by: admin)
        .change == .unchanged)
    #expect(try db.addOperator(name: "legacy", uid: 4242, role: .reviewer, by: admin).change
      == .bound)
    // Names are never rebound, not even by an admin, not even with sqlite3.
    #expect(throws: IdentityError.rebind(name: "legacy", boundUid: 4242, uid: 4343)) {
      try db.addOperator(name: "legacy", uid: 4343, role: .reviewer, by: admin)
    }
    #expect(throws: DatabaseError.self) {
      try db.writer.write { try $0.execute(sql: "UPDATE operator SET uid = 1 WHERE uid = 4242") }
    }
    #expect(throws: DatabaseError.self) {
      try db.writer.write { try $0.execute(sql: "DELETE FROM operator WHERE uid = 4242") }
    }
    // A lead is no admin.
    #expect(throws: IdentityError.notAnAdmin(name: Self.other.name)) {
      try db.addOperator(name: "x", uid: 7, role: .admin, by: Self.other.name)
    }
    #expect(throws: IdentityError.notAnAdmin(name: Self.other.name)) {
      try db.listOperators(by: Self.other.name)
    }
    // Disabled: the resolver and the store's writes refuse it.
    try db.disableOperator(name: Self.other.name, by: admin)
    #expect(throws: IdentityError.disabled(name: Self.other.name)) {
      try db.actingOperator(requested: nil, uid: Self.other.uid)
    }
    #expect(throws: IdentityError.disabled(name: Self.other.name)) {
      try db.createService(code: "x", name: "X", kind: .other, by: Self.other.name)
    }
    // Every audited write, also those that name no operator row (banks, URL lists).
    #expect(throws: IdentityError.disabled(name: Self.other.name)) {
      try db.audited(by: Self.other.name) { _, audit in
        try audit.record(action: "preview.unblur", entity: "flagged_item", entityId: "1")
      }
    }
    #expect(throws: IdentityError.lastAdmin(name: admin)) {
      try db.disableOperator(name: admin, by: admin)
    }
    let listed = try db.listOperators(by: admin)
    #expect(listed.map(\.name).sorted() == [admin, "legacy", Self.other.name].sorted())
    #expect(listed.first { $0.name == Self.other.name }?.isEnabled == false)
    // Enabled again by an admin.
    #expect(
      try db.addOperator(name: Self.other.name, uid: Self.other.uid, role: .lead, by: admin)
        .change == .updated)
    #expect(try db.actingOperator(requested: nil, uid: Self.other.uid).role == .lead)
    let actions = try db.writer.read {
      try String.fetchAll(
        $0, sql: "SELECT action FROM audit_event WHERE entity = 'operator' ORDER BY id")
    }
    #expect(
      actions == [
        "operator.create", "operator.create", "operator.create", "operator.bind",
        "operator.disable", "operator.list", "operator.update",
      ])
    #expect(try db.verifyAuditChain() == .ok(count: actions.count))
  }

  @Test func addingALoginLooksUpItsUid() throws {
    let db = try Self.database()
    let (row, _) = try db.addOperator(login: Self.other.name, role: .reviewer, by: Self.me.name)
    #expect(row.uid == Self.other.uid)
    #expect(throws: IdentityError.unknownLogin("no-such-login-csar")) {
      try db.addOperator(login: "no-such-login-csar", role: .reviewer, by: Self.me.name)
    }
    // A bound name that is no login (as in the demo) keeps its uid; its role can change.
    try db.ensureOperator(name: "demo-lead", role: .reviewer, uid: Self.me.uid)
    let (changed, change) = try db.addOperator(
      login: "demo-lead", role: .lead, by: Self.me.name)
    #expect(change == .updated && changed.uid == Self.me.uid && changed.role == .lead)
  }

  // MARK: - Operators agree with the audit log

  @Test func operatorRowsEditedOutsideCsarDisagreeWithTheAuditLog() throws {
    let db = try Self.database()
    try db.addOperator(name: "lead", uid: 4001, role: .lead, by: Self.me.name)
    try db.addOperator(name: "rev", uid: 4002, role: .reviewer, by: Self.me.name)
    try db.disableOperator(name: "rev", by: Self.me.name)
    #expect(try db.operatorAuditMismatches().isEmpty)
    #expect(try sharedDemo.operatorAuditMismatches().isEmpty)
    // With sqlite3: a reviewer made admin, a disabled one enabled, a binding swapped (after
    // dropping the trigger), and a row inserted.
    try db.writer.write { db in
      try db.execute(
        sql: """
          UPDATE operator SET role = 'admin' WHERE name = 'lead';
          UPDATE operator SET disabled_at = NULL WHERE name = 'rev';
          DROP TRIGGER operator_uid_bound_once;
          UPDATE operator SET uid = 4003 WHERE name = 'lead';
          INSERT INTO operator (name, role, created_at, uid) VALUES ('mallory', 'lead', 0, 4004);
          """)
    }
    let problems = try db.operatorAuditMismatches().map(\.description)
    #expect(
      problems == [
        "operator \"lead\" (id 2): role is admin, the audit log says lead; "
          + "uid is 4003, the audit log says 4001",
        "operator \"rev\" (id 3): state is enabled, the audit log says disabled",
        "operator \"mallory\" (id 4): no audit event made it",
      ])
  }

  // MARK: - Databases made before operators were bound

  @Test func existingOperatorsStayUnboundUntilAnAdminBindsThem() throws {
    let folder = try TempFolder()
    defer { folder.cleanUp() }
    let path = folder.file("old.sqlite")
    do {
      let queue = try DatabaseQueue(path: path)
      try Schema.migrator.migrate(queue, upTo: "v2-review")
      try queue.write { db in
        try db.execute(
          sql: """
            INSERT INTO operator (name, role, created_at) VALUES
              ('alice', 'reviewer', 1), ('bahar', 'lead', 2), (?, 'reviewer', 3)
            """, arguments: [Self.me.name])
      }
    }
    chmod(path, 0o600)
    let db = try AppDatabase.open(path: path, auditKey: folder.auditKey)
    let before = try db.operators()
    #expect(before.count == 3 && before.allSatisfy { $0.uid == nil && $0.isEnabled })
    #expect(before.first { $0.name == "bahar" }?.role == .lead)
    // The owner of the file (who made it) becomes its admin on first use.
    let acting = try db.actingOperator(requested: nil, uid: Self.me.uid)
    #expect(acting.name == Self.me.name && acting.role == .admin)
    #expect(throws: IdentityError.unbound(name: "bahar")) {
      try db.actingOperator(requested: "bahar", uid: Self.me.uid)
    }
    let after = try db.operators()
    #expect(after.filter { $0.uid != nil }.map(\.name) == [Self.me.name])
  }

  // MARK: - Four eyes are two OS accounts

  @Test func approvalBySameAccountIsRefusedWhateverTheNames() throws {
    let (db, refs, folder) = try ReportTests.exported(1)
    defer { folder.cleanUp() }
    let ref = refs[0]
    let verdict = "{\"case_ref\":\"\(ref)\",\"verdict\":\"not_manifestly_unfounded\"}"
    try db.importVerdicts(Array(verdict.utf8), format: .jsonl, file: "v", by: "alice")
    // alice's account also holds a lead name: still one person.
    try db.ensureOperator(name: "alice-lead", role: .lead, uid: aliceUid)
    try db.ensureOperator(name: "admin2", role: .admin, uid: 1004)
    try db.ensureOperator(name: "old-lead", role: .lead)
    try db.requestReveal(caseRef: ref, by: "alice")
    #expect(
      throws: ReportError.sameAccount(
        caseRef: ref, operatorName: "alice-lead", requester: "alice", uid: aliceUid)
    ) { try db.approveReveal(caseRef: ref, by: "alice-lead") }
    #expect(throws: IdentityError.unbound(name: "old-lead")) {
      try db.approveReveal(caseRef: ref, by: "old-lead")
    }
    let outbox = try Outbox(directory: folder.file("reveal"))
    #expect(throws: ReportError.awaitingApproval(caseRef: ref)) {
      try db.reveal(caseRef: ref, to: outbox, provider: "P", key: ReportTests.key, by: "alice")
    }
    // An admin of another account approves; the approval does not count for a reveal by
    // another name of the approver's own account.
    try db.approveReveal(caseRef: ref, by: "admin2")
    try db.ensureOperator(name: "admin2-alt", role: .reviewer, uid: 1004)
    #expect(throws: ReportError.awaitingApproval(caseRef: ref)) {
      try db.reveal(
        caseRef: ref, to: outbox, provider: "P", key: ReportTests.key, by: "admin2-alt")
    }
    let written = try db.reveal(
      caseRef: ref, to: outbox, provider: "P", key: ReportTests.key, by: "alice")
    #expect(FileManager.default.fileExists(atPath: written.path))
  }

  @Test func aRequestByAnUnboundOperatorCannotBeApproved() throws {
    let (db, refs, folder) = try ReportTests.exported(1)
    defer { folder.cleanUp() }
    let ref = refs[0]
    let verdict = "{\"case_ref\":\"\(ref)\",\"verdict\":\"not_manifestly_unfounded\"}"
    try db.importVerdicts(Array(verdict.utf8), format: .jsonl, file: "v", by: "alice")
    try db.ensureOperator(name: "ghost", role: .reviewer)
    try db.requestReveal(caseRef: ref, by: "ghost")
    #expect(throws: ReportError.requesterUnbound(caseRef: ref, requester: "ghost")) {
      try db.approveReveal(caseRef: ref, by: "bahar")
    }
  }
}
