#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Postgres

/// What an electronic signature means (21 CFR 11.50(a)(3)): shown with the printed name and
/// the time wherever the signed record is shown.
public enum SignatureMeaning: String, Sendable, CaseIterable, Codable {
    case approved
    case reviewed
    case performed
    case verified
}

/// A signature as the signer gives it: who, their password again (re-authentication at
/// signing, 21 CFR 11.200(a)(1)), what it means and, optionally, why.
public struct SignatureRequest: Sendable {
    public var username: String
    public var password: String
    public var meaning: SignatureMeaning
    public var reason: String?

    public init(username: String, password: String, meaning: SignatureMeaning, reason: String? = nil) {
        self.username = username
        self.password = password
        self.meaning = meaning
        self.reason = reason
    }
}

/// A signature as stored and shown on its record.
public struct Signature: Sendable, Equatable {
    public var id: Int64
    public var signer: String
    public var signerName: String
    public var meaning: SignatureMeaning
    public var reason: String?
    public var signedAt: Date
    /// SHA-256 of the record's content as signed.
    public var recordHash: String
    /// Whether the record still has that content.
    public var recordUnchanged: Bool
}

/// Who may sign a record: one of `roles`, and none of `excluded` (the author of a work
/// instruction, the operator an override is for, the person who found a nonconformance).
struct SignerRule {
    var roles: Set<String>
    var excluded: [Int64] = []
    /// Why the excluded users may not sign, for the refusal.
    var exclusion = "the signer must not be the person whose work is signed"
}

/// Electronic signatures: re-authentication (with `Credentials`' lockout), signer rules, the
/// record's hash, and an audit record for each signature and each refused attempt.
enum Signatures {
    typealias Signer = Credentials.Person

    /// Checks the signer's password (21 CFR 11.200(a)(1)) before the change it signs.
    static func authenticate(_ request: SignatureRequest, at now: Date, _ pool: PGPool) throws -> Signer {
        try Credentials.verify(.username(request.username), secret: request.password, purpose: "signature", at: now, pool)
    }

    /// Signs a record inside the caller's transaction, after its change: checks the rule,
    /// hashes the record's content (the row as JSON without `excluding`), stores the signature
    /// and audits it.
    @discardableResult
    static func sign(
        _ signer: Signer, _ request: SignatureRequest, rule: SignerRule, table: String, id: Int64, excluding: [String] = [], at now: Date,
        _ db: PGConnection
    ) throws -> Int64 {
        guard !signer.roles.isDisjoint(with: rule.roles) else {
            throw ProductionRuleError(
                .signerNotAllowed, "\(signer.username) cannot sign this: it needs the role \(rule.roles.sorted().joined(separator: " or "))")
        }
        guard !rule.excluded.contains(signer.id) else {
            throw ProductionRuleError(.signerNotAllowed, "\(signer.username) cannot sign this: \(rule.exclusion)")
        }
        let hash = try recordHash(table: table, id: id, excluding: excluding, db)
        let signatureID = try db.query("""
            INSERT INTO e_signature (signer_id, signer_name, meaning, entity, entity_id, record_hash, reason, signed_at)
            VALUES (\(signer.id), \(signer.displayName), \(request.meaning.rawValue), \(table), \(String(id)), \(hash), \(request.reason), \(now))
            RETURNING id
            """).decode(Int64.self)[0]
        try AuditTrail.record(
            "signature.applied", entity: table, id: String(id), actor: signer.username, at: now, reason: request.reason,
            after: #"{"signature": \#(signatureID), "meaning": "\#(request.meaning.rawValue)", "record_hash": "\#(hash)"}"#, db)
        return signatureID
    }

    /// SHA-256 (hex) of a row's content as JSON, without the columns in `excluding`.
    static func recordHash(table: String, id: Int64, excluding: [String], _ db: PGConnection) throws -> String {
        guard let hash = try db.query("""
            SELECT encode(sha256(convert_to((to_jsonb(t) - string_to_array(\(excluding.joined(separator: ",")), ','))::text, 'UTF8')), 'hex')
            FROM \(identifier: table) t WHERE id = \(id)
            """).decode(String.self).first
        else { throw ProductionRuleError(.notFound, "there is no \(table) \(id) to sign") }
        return hash
    }

    /// The signatures on a record, oldest first, each checked against the record's content now.
    static func signatures(table: String, id: Int64, excluding: [String] = [], _ db: PGConnection) throws -> [Signature] {
        let current = try? recordHash(table: table, id: id, excluding: excluding, db)
        return try db.query("""
            SELECT s.id, u.username, s.signer_name, s.meaning, s.reason, s.signed_at, s.record_hash
            FROM e_signature s JOIN app_user u ON u.id = s.signer_id
            WHERE s.entity = \(table) AND s.entity_id = \(String(id)) ORDER BY s.id
            """).decode((Int64, String, String, String, String?, Date, String).self).map { row in
            Signature(
                id: row.0, signer: row.1, signerName: row.2, meaning: SignatureMeaning(rawValue: row.3) ?? .approved, reason: row.4, signedAt: row.5,
                recordHash: row.6, recordUnchanged: current.map { $0 == row.6 } ?? false)
        }
    }
}
