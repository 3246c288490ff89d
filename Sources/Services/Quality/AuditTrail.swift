#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Digest
import Postgres

/// The audit trail: who did what to which record, when and why, with the record's content
/// before and after, in the append-only, hash-chained table `audit_log`.
///
/// Services write a record in the same transaction as the change it describes. The database
/// numbers and chains it (`audit_log_chain()` in Migrations/0010_quality.sql); `verify`
/// recomputes every hash on its own, so a record changed, removed or slipped in afterwards
/// (by someone able to bypass the append-only triggers) is found and named.
public enum AuditTrail {
    /// One record as stored.
    public struct Record: Sendable, Equatable {
        public var seq: Int64
        public var at: Date
        public var actor: String
        public var action: String
        public var entity: String
        public var entityID: String
        public var reason: String?
        /// The record's content before and after the change, as JSON.
        public var before: String?
        public var after: String?
        public var hash: String
    }

    /// Writes one record inside the caller's transaction.
    static func record(
        _ action: String, entity: String, id: String, actor: String, at: Date, reason: String? = nil, before: String? = nil, after: String? = nil,
        _ db: PGConnection
    ) throws {
        try db.execute("""
            INSERT INTO audit_log (at, actor, action, entity, entity_id, reason, before, after)
            VALUES (\(at), \(actor), \(action), \(entity), \(id), \(reason), \(before)::jsonb, \(after)::jsonb)
            """)
    }

    /// A row's content as JSON text, for a record's `before` and `after`.
    static func snapshot(_ table: String, id: Int64, _ db: PGConnection) throws -> String? {
        try db.query("SELECT to_jsonb(t)::text FROM \(identifier: table) t WHERE id = \(id)").decode(String.self).first
    }

    /// The records about one entity, oldest first.
    public static func records(entity: String, id: String, _ pool: PGPool) throws -> [Record] {
        try pool.withConnection { db in
            try db.query("""
                SELECT seq, at, actor, action, entity, entity_id, reason, before::text, after::text, hash
                FROM audit_log WHERE entity = \(entity) AND entity_id = \(id) ORDER BY seq
                """).decode((Int64, Date, String, String, String, String, String?, String?, String?, String).self).map {
                Record(seq: $0.0, at: $0.1, actor: $0.2, action: $0.3, entity: $0.4, entityID: $0.5, reason: $0.6, before: $0.7, after: $0.8, hash: $0.9)
            }
        }
    }

    // MARK: Verification

    /// What a verification found.
    public struct Verification: Sendable, Equatable {
        /// Records read.
        public var checked = 0
        /// The last record: its number and hash. Kept somewhere else (printed in a shift report,
        /// sent to another system), it is an anchor a later `verify` can be given, which finds
        /// records removed from the end of the trail.
        public var head: (seq: Int64, hash: String)?
        /// Each problem, in words that say where.
        public var problems: [String] = []

        public var intact: Bool { problems.isEmpty }

        public static func == (a: Verification, b: Verification) -> Bool {
            a.checked == b.checked && a.head?.seq == b.head?.seq && a.head?.hash == b.head?.hash && a.problems == b.problems
        }
    }

    /// The genesis record's previous hash.
    static let zeroHash = String(repeating: "0", count: 64)

    /// Reads the whole trail in order, recomputing each record's hash from its content and the
    /// previous record's hash. `anchors` are (seq, hash) pairs recorded earlier: each must
    /// still be there, unchanged.
    public static func verify(_ pool: PGPool, anchors: [(seq: Int64, hash: String)] = [], pageSize: Int = 10_000) throws -> Verification {
        var result = Verification()
        var expectedSeq: Int64 = 1
        var previousHash = zeroHash
        var seen: [Int64: String] = [:]
        let wanted = Set(anchors.map(\.seq))
        var after: Int64 = 0
        while true {
            let page = try pool.withConnection { db in
                try db.query("""
                    SELECT seq, seq::text AS seq_text, (extract(epoch FROM at) * 1000000)::bigint::text, actor, action, entity, entity_id,
                           reason, before::text, after::text, previous_hash, hash
                    FROM audit_log WHERE seq > \(after) ORDER BY seq LIMIT \(pageSize)
                    """).decode((Int64, String, String, String, String, String, String, String?, String?, String?, String, String).self)
            }
            for row in page {
                let seq = row.0
                if seq != expectedSeq {
                    let missing = expectedSeq == seq - 1 ? "record \(expectedSeq) is" : "records \(expectedSeq) to \(seq - 1) are"
                    result.problems.append("\(missing) missing: the trail jumps from \(expectedSeq - 1) to \(seq)")
                } else if row.10 != previousHash {
                    result.problems.append("record \(seq) does not follow record \(seq - 1): it names a previous hash the trail does not have")
                }
                let computed = hex(SHA256.hash(canonical([row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9, row.10]).utf8))
                if computed != row.11 {
                    result.problems.append("record \(seq) (\(row.4) on \(row.5) \(row.6)) was changed after it was written: its content does not match its hash")
                }
                if wanted.contains(seq) { seen[seq] = row.11 }
                previousHash = row.11
                expectedSeq = seq + 1
                result.checked += 1
                result.head = (seq, row.11)
            }
            guard page.count == pageSize, let last = page.last else { break }
            after = last.0
        }
        for anchor in anchors {
            if let hash = seen[anchor.seq] {
                if hash != anchor.hash.lowercased() {
                    result.problems.append("record \(anchor.seq) is not the one anchored: its hash is \(hash), the anchor says \(anchor.hash)")
                }
            } else {
                result.problems.append("the anchored record \(anchor.seq) is gone: the trail ends at \(result.head?.seq ?? 0)")
            }
        }
        return result
    }

    /// The text a record's hash is taken over, as `audit_log_canonical()` builds it: each field
    /// as its length in bytes, ':' and the field, or '~' for NULL.
    static func canonical(_ fields: [String?]) -> String {
        var text = ""
        for field in fields {
            if let field { text += "\(field.utf8.count):\(field)" } else { text += "~" }
        }
        return text
    }
}

extension AuditTrail {
    /// The newest records first, optionally of one actor.
    public static func latest(limit: Int = 100, actor: String? = nil, _ pool: PGPool) throws -> [Record] {
        try pool.withConnection { db in
            try db.query("""
                SELECT seq, at, actor, action, entity, entity_id, reason, before::text, after::text, hash
                FROM audit_log WHERE \(actor)::text IS NULL OR actor = \(actor) ORDER BY seq DESC LIMIT \(limit)
                """).decode((Int64, Date, String, String, String, String, String?, String?, String?, String).self).map {
                Record(seq: $0.0, at: $0.1, actor: $0.2, action: $0.3, entity: $0.4, entityID: $0.5, reason: $0.6, before: $0.7, after: $0.8, hash: $0.9)
            }
        }
    }
}
