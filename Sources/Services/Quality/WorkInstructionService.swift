#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Markdown
import Postgres

/// Work instructions: versioned Markdown per part and operation, rendered with libcmark (raw
/// HTML never passes). A version is written as a draft and released by a signature (quality
/// or admin, not its author); releasing it supersedes the version before.
///
/// Pictures are attachments, referenced as `![alt](attachment:<sha256>)`; they are checked
/// to exist when the draft is saved and rendered as `/attachments/<sha256>`.
public final class WorkInstructionService: Sendable {
    let pool: PGPool
    let clock: @Sendable () -> Date

    public init(pool: PGPool, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.clock = clock
    }

    /// Stores a picture for instructions; returns its hash for the Markdown.
    public func upload(_ upload: Upload, by username: String) throws -> String {
        try pool.transaction { db in
            let userID = try Lookup.userID(username, db)
            return try Attachments.store(upload, by: userID, at: clock(), db).sha256
        }
    }

    /// Saves a draft: a new version after the newest, or the open draft rewritten (by its author).
    @discardableResult
    public func saveDraft(part: String, operation sequence: Int, title: String, body: String, by username: String) throws -> (id: Int64, version: Int) {
        guard !title.trimmedIsEmpty else { throw ProductionRuleError(.invalidInput, "a work instruction needs a title") }
        return try pool.transaction { db in
            let now = clock()
            let partID = try Lookup.partID(part, db)
            let userID = try Lookup.userID(username, db)
            for hash in Self.attachmentReferences(in: body) {
                guard try db.query("SELECT 1 FROM attachment WHERE sha256 = \(hash)").rowCount > 0 else {
                    throw ProductionRuleError(.invalidInput, "the picture attachment:\(hash) has not been uploaded")
                }
            }
            // Serialise drafts of one instruction.
            try db.execute("SELECT pg_advisory_xact_lock(hashtext('work_instruction'), hashtext(\(part) || '/' || \(sequence)))")
            if let draft = try db.query("""
                SELECT id, version, author_id FROM work_instruction WHERE part_id = \(partID) AND operation_sequence = \(sequence) AND state = 'draft'
                """).decode((Int64, Int, Int64).self).first {
                guard draft.2 == userID else {
                    throw ProductionRuleError(.invalidTransition, "version \(draft.1) is another author's open draft; it must be released first")
                }
                let before = try AuditTrail.snapshot("work_instruction", id: draft.0, db)
                try db.execute("UPDATE work_instruction SET title = \(title), body = \(body) WHERE id = \(draft.0)")
                try AuditTrail.record("instruction.draft_changed", entity: "work_instruction", id: String(draft.0), actor: username, at: now,
                                      before: before, after: try AuditTrail.snapshot("work_instruction", id: draft.0, db), db)
                return (draft.0, draft.1)
            }
            let version = try db.query("""
                SELECT coalesce(max(version), 0) + 1 FROM work_instruction WHERE part_id = \(partID) AND operation_sequence = \(sequence)
                """).decode(Int.self)[0]
            let id = try db.query("""
                INSERT INTO work_instruction (part_id, operation_sequence, version, title, body, author_id, created_at)
                VALUES (\(partID), \(sequence), \(version), \(title), \(body), \(userID), \(now)) RETURNING id
                """).decode(Int64.self)[0]
            try AuditTrail.record("instruction.drafted", entity: "work_instruction", id: String(id), actor: username, at: now,
                                  after: try AuditTrail.snapshot("work_instruction", id: id, db), db)
            return (id, version)
        }
    }

    /// Columns a release changes, left out of the signed content.
    static let lifecycle = ["state", "released_at"]

    /// Releases a draft with the releaser's signature.
    public func release(_ id: Int64, signature: SignatureRequest) throws {
        let now = clock()
        let signer = try Signatures.authenticate(signature, at: now, pool)
        try pool.transaction { db in
            guard let draft = try db.query("SELECT state, author_id, part_id, operation_sequence FROM work_instruction WHERE id = \(id) FOR UPDATE")
                .decode((String, Int64, Int64, Int).self).first
            else { throw ProductionRuleError(.notFound, "there is no work instruction \(id)") }
            guard draft.0 == "draft" else { throw ProductionRuleError(.invalidTransition, "work instruction \(id) is \(draft.0), not a draft") }
            try db.execute("""
                UPDATE work_instruction SET state = 'superseded'
                WHERE part_id = \(draft.2) AND operation_sequence = \(draft.3) AND state = 'released'
                """)
            try db.execute("UPDATE work_instruction SET state = 'released', released_at = \(now) WHERE id = \(id)")
            try Signatures.sign(
                signer, signature,
                rule: SignerRule(roles: ["quality", "admin"], excluded: [draft.1], exclusion: "the author of an instruction cannot release it"),
                table: "work_instruction", id: id, excluding: Self.lifecycle, at: now, db)
            try AuditTrail.record("instruction.released", entity: "work_instruction", id: String(id), actor: signer.username, at: now,
                                  reason: signature.reason, db)
        }
    }

    /// A version of an instruction as the authoring page lists it.
    public struct Version: Sendable, Equatable {
        public var id: Int64
        public var part: String
        public var operation: Int
        public var version: Int
        public var title: String
        public var body: String
        public var state: String
        public var author: String
        public var createdAt: Date
    }

    /// Every version, newest first (by part and operation).
    public func versions(limit: Int = 300) throws -> [Version] {
        try pool.withConnection { db in
            try db.query("""
                SELECT w.id, p.code, w.operation_sequence, w.version, w.title, w.body, w.state, u.username, w.created_at
                FROM work_instruction w JOIN part p ON p.id = w.part_id JOIN app_user u ON u.id = w.author_id
                ORDER BY p.code, w.operation_sequence, w.version DESC LIMIT \(limit)
                """).decode((Int64, String, Int, Int, String, String, String, String, Date).self).map {
                Version(id: $0.0, part: $0.1, operation: $0.2, version: $0.3, title: $0.4, body: $0.5, state: $0.6, author: $0.7, createdAt: $0.8)
            }
        }
    }

    /// An instruction as the operator reads it.
    public struct Rendered: Sendable, Equatable {
        public var id: Int64
        public var version: Int
        public var title: String
        /// The body as an HTML fragment.
        public var html: String
        public var releasedAt: Date
        public var signatures: [Signature]
    }

    /// The released instruction for an operation, or nil when there is none.
    public func current(operationID: Int64) throws -> Rendered? {
        try pool.withConnection { db in
            guard let row = try db.query("""
                SELECT w.id, w.version, w.title, w.body, w.released_at FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id
                JOIN work_instruction w ON w.part_id = wo.part_id AND w.operation_sequence = o.sequence AND w.state = 'released'
                WHERE o.id = \(operationID)
                """).decode((Int64, Int, String, String, Date).self).first
            else { return nil }
            return Rendered(
                id: row.0, version: row.1, title: row.2, html: Self.render(row.3), releasedAt: row.4,
                signatures: try Signatures.signatures(table: "work_instruction", id: row.0, excluding: Self.lifecycle, db))
        }
    }

    /// Markdown to HTML, with `attachment:<hash>` pictures pointed at the attachment route.
    public static func render(_ markdown: String) -> String {
        Markdown.html(from: markdown.replacing("](attachment:", with: "](/attachments/"))
    }

    /// The Markdown for an uploaded picture: its file name as the alternative text, with the
    /// characters that could end the text or start markup left out (a file called
    /// `x](http://elsewhere) ![y` must not turn into a picture from another server).
    public static func pictureReference(sha256: String, fileName: String?) -> String {
        let unsafe: Set<Character> = ["[", "]", "(", ")", "\\", "<", ">"]
        let kept = (fileName ?? "").filter { !unsafe.contains($0) && !$0.isNewline && !($0.asciiValue.map { $0 < 0x20 } ?? false) }
        let text = kept.trimmingWhitespace().prefix(120)
        return "![\(text.isEmpty ? "picture" : String(text))](attachment:\(sha256))"
    }

    /// The hashes a body's pictures refer to.
    static func attachmentReferences(in body: String) -> [String] {
        var hashes: [String] = []
        var rest = body[...]
        while let range = rest.firstRange(of: "](attachment:") {
            let hash = rest[range.upperBound...].prefix { $0.isHexDigit }
            hashes.append(hash.lowercased())
            rest = rest[range.upperBound...]
        }
        return hashes
    }
}
