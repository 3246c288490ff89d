#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import JSON
import Postgres

/// Operator qualifications: what each operation requires, who holds what until when, and the
/// supervisor's signed override for one operator at one operation.
public final class QualificationService: Sendable {
    let pool: PGPool
    let clock: @Sendable () -> Date

    public init(pool: PGPool, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.clock = clock
    }

    /// Defines (or renames) a qualification.
    public func define(_ code: String, description: String, by actor: String) throws {
        try pool.transaction { db in
            try db.execute("""
                INSERT INTO qualification (code, description) VALUES (\(code), \(description))
                ON CONFLICT (code) DO UPDATE SET description = EXCLUDED.description
                """)
            try AuditTrail.record(
                "qualification.defined", entity: "qualification", id: code, actor: actor, at: clock(), after: #"{"description": \#(jsonString(description))}"#, db)
        }
    }

    /// Makes operation `sequence` of `part` require `qualification`.
    public func require(_ qualification: String, part: String, operation sequence: Int, by actor: String) throws {
        try pool.transaction { db in
            let partID = try Lookup.partID(part, db)
            try Lookup.ensureQualification(qualification, db)
            try db.execute("""
                INSERT INTO operation_qualification (part_id, operation_sequence, qualification_code)
                VALUES (\(partID), \(sequence), \(qualification)) ON CONFLICT DO NOTHING
                """)
            try AuditTrail.record(
                "qualification.required", entity: "part", id: part, actor: actor, at: clock(),
                after: #"{"operation": \#(sequence), "qualification": \#(jsonString(qualification))}"#, db)
        }
    }

    /// Grants `qualification` to `username` from now until `expiresAt` (a renewal is a new grant).
    public func grant(_ qualification: String, to username: String, until expiresAt: Date, by actor: String) throws {
        try pool.transaction { db in
            let now = clock()
            guard expiresAt > now else { throw ProductionRuleError(.invalidInput, "a qualification must expire after it is granted") }
            try Lookup.ensureQualification(qualification, db)
            let userID = try Lookup.userID(username, db)
            let grantorID = try? Lookup.userID(actor, db)
            let id = try db.query("""
                INSERT INTO user_qualification (user_id, qualification_code, valid_from, expires_at, granted_by)
                VALUES (\(userID), \(qualification), \(now), \(expiresAt), \(grantorID)) RETURNING id
                """).decode(Int64.self)[0]
            try AuditTrail.record(
                "qualification.granted", entity: "user_qualification", id: String(id), actor: actor, at: now,
                after: try AuditTrail.snapshot("user_qualification", id: id, db), db)
        }
    }

    /// The qualifications `username` lacks for an operation now, each with why ("expired on …"
    /// or "not held"); empty when they may run it.
    public func missing(operationID: Int64, username: String) throws -> [String] {
        try pool.withConnection { db in
            try Self.missing(operationID: operationID, userID: try Lookup.userID(username, db), at: clock(), db).map(\.explanation)
        }
    }

    /// A supervisor lets `operatorName` run the operation without the qualifications they lack,
    /// with a reason and a signature (role supervisor, not the operator themselves).
    @discardableResult
    public func override(operationID: Int64, operator operatorName: String, reason: String, signature: SignatureRequest) throws -> Int64 {
        let now = clock()
        guard !reason.trimmedIsEmpty else { throw ProductionRuleError(.reasonRequired, "an override needs a reason") }
        let signer = try Signatures.authenticate(signature, at: now, pool)
        return try pool.transaction { db in
            let operatorID = try Lookup.userID(operatorName, db)
            let missing = try Self.missing(operationID: operationID, userID: operatorID, at: now, db)
            guard !missing.isEmpty else {
                throw ProductionRuleError(.invalidInput, "\(operatorName) holds every qualification this operation needs; there is nothing to override")
            }
            let id = try db.query("""
                INSERT INTO qualification_override (operation_id, operator_id, missing, reason, created_at)
                VALUES (\(operationID), \(operatorID), string_to_array(\(missing.map(\.code).joined(separator: ",")), ','), \(reason), \(now))
                ON CONFLICT (operation_id, operator_id) DO NOTHING RETURNING id
                """).decode(Int64.self)
            guard let id = id.first else {
                throw ProductionRuleError(.invalidInput, "\(operatorName) already has an override for this operation")
            }
            try Signatures.sign(
                signer, signature,
                rule: SignerRule(roles: ["supervisor"], excluded: [operatorID], exclusion: "an operator cannot override their own qualification"),
                table: "qualification_override", id: id, at: now, db)
            try AuditTrail.record(
                "qualification.overridden", entity: "work_order_operation", id: String(operationID), actor: signer.username, at: now, reason: reason,
                after: try AuditTrail.snapshot("qualification_override", id: id, db), db)
            return id
        }
    }

    /// Everything the qualifications page shows.
    public struct Overview: Sendable {
        public var qualifications: [(code: String, description: String)]
        public var requirements: [(part: String, operation: Int, qualification: String)]
        public var grants: [(username: String, qualification: String, from: Date, expires: Date)]
    }

    public func overview() throws -> Overview {
        try pool.withConnection { db in
            Overview(
                qualifications: try db.query("SELECT code, description FROM qualification ORDER BY code").decode((String, String).self)
                    .map { (code: $0.0, description: $0.1) },
                requirements: try db.query("""
                    SELECT p.code, q.operation_sequence, q.qualification_code FROM operation_qualification q JOIN part p ON p.id = q.part_id ORDER BY 1, 2, 3
                    """).decode((String, Int, String).self).map { (part: $0.0, operation: $0.1, qualification: $0.2) },
                grants: try db.query("""
                    SELECT u.username, g.qualification_code, g.valid_from, g.expires_at FROM user_qualification g JOIN app_user u ON u.id = g.user_id
                    ORDER BY u.username, g.qualification_code, g.expires_at DESC
                    """).decode((String, String, Date, Date).self).map { (username: $0.0, qualification: $0.1, from: $0.2, expires: $0.3) })
        }
    }

    struct Missing {
        var code: String
        var expired: Date?
        var explanation: String { expired.map { "\(code) (expired \($0.ISO8601Format()))" } ?? "\(code) (not held)" }
    }

    /// The operation's required qualifications that `userID` does not hold at `now`.
    static func missing(operationID: Int64, userID: Int64, at now: Date, _ db: PGConnection) throws -> [Missing] {
        try db.query("""
            SELECT q.qualification_code,
                   (SELECT max(expires_at) FROM user_qualification u WHERE u.user_id = \(userID) AND u.qualification_code = q.qualification_code)
            FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id
            JOIN operation_qualification q ON q.part_id = wo.part_id AND q.operation_sequence = o.sequence
            WHERE o.id = \(operationID) AND NOT EXISTS (
                SELECT 1 FROM user_qualification u WHERE u.user_id = \(userID) AND u.qualification_code = q.qualification_code
                  AND u.valid_from <= \(now) AND u.expires_at > \(now))
            ORDER BY q.qualification_code
            """).decode((String, Date?).self).map { Missing(code: $0.0, expired: $0.1) }
    }
}

/// Lookups the services share, refusing with `notFound` in words.
enum Lookup {
    static func partID(_ code: String, _ db: PGConnection) throws -> Int64 {
        guard let id = try db.query("SELECT id FROM part WHERE code = \(code)").decode(Int64.self).first else {
            throw ProductionRuleError(.notFound, "there is no part \(code)")
        }
        return id
    }

    static func userID(_ username: String, _ db: PGConnection, includeInactive: Bool = false) throws -> Int64 {
        guard let id = try db.query("""
            SELECT id FROM app_user WHERE lower(username) = lower(\(username)) AND (active OR \(includeInactive))
            """).decode(Int64.self).first else {
            throw ProductionRuleError(.notFound, "there is no active user \(username)")
        }
        return id
    }

    static func ensureQualification(_ code: String, _ db: PGConnection) throws {
        guard try db.query("SELECT 1 FROM qualification WHERE code = \(code)").rowCount > 0 else {
            throw ProductionRuleError(.notFound, "there is no qualification \(code)")
        }
    }
}

/// The quality rules an operation's start, resumption or completion must pass, checked by
/// `ProductionService.perform` in its transaction.
enum QualityGate {
    static func check(operationID: Int64, target: OperationState, userID: Int64?, username: String?, at now: Date, _ db: PGConnection) throws {
        guard target != .paused && target != .queued else { return }
        if let hold = try db.query("""
            SELECT reason FROM quality_hold WHERE operation_id = \(operationID) AND released_at IS NULL ORDER BY id LIMIT 1
            """).decode(String.self).first {
            throw ProductionRuleError(.onHold, "the operation is on hold (\(hold)); quality must release it first")
        }
        guard target != .complete else { return }
        let required = try db.query("""
            SELECT q.qualification_code FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id
            JOIN operation_qualification q ON q.part_id = wo.part_id AND q.operation_sequence = o.sequence
            WHERE o.id = \(operationID) ORDER BY 1
            """).decode(String.self)
        guard !required.isEmpty else { return }
        guard let userID, let username else {
            throw ProductionRuleError(
                .notQualified, "this operation needs \(required.joined(separator: ", ")); sign in so the MES can check who runs it")
        }
        let missing = try QualificationService.missing(operationID: operationID, userID: userID, at: now, db)
        guard !missing.isEmpty else { return }
        let overridden = try db.query("""
            SELECT 1 FROM qualification_override WHERE operation_id = \(operationID) AND operator_id = \(userID)
            """).rowCount > 0
        guard !overridden else { return }
        throw ProductionRuleError(
            .notQualified,
            "\(username) lacks \(missing.map(\.explanation).joined(separator: ", ")) for this operation; a supervisor can sign an override")
    }
}

extension String {
    var trimmedIsEmpty: Bool { allSatisfy { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" } }
}

/// `text` as a JSON string literal.
func jsonString(_ text: String) -> String {
    String(decoding: JSONValue.string(text).encoded(), as: UTF8.self)
}
