#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import JSON
import Postgres

/// The outbox table: messages for the ERP written with the floor event, and the ledger of
/// what was sent.
public enum Outbox {
    /// Queues `message` inside the caller's transaction. The same key twice is one message
    /// (a replayed floor event does not queue a second one).
    static func enqueue(_ message: OutboxMessage, key: String, stream: String, _ db: PGConnection) throws {
        try db.execute("""
            INSERT INTO erp_outbox (idempotency_key, stream, kind, payload)
            VALUES (\(key), \(stream), \(message.kind), \(try message.encodedPayload())::jsonb)
            ON CONFLICT (idempotency_key) DO NOTHING
            """)
    }

    /// One row of the ledger.
    public struct Entry: Sendable, Equatable {
        public var id: Int64
        public var key: String
        public var stream: String
        public var kind: String
        public var state: String
        public var attempts: Int
        public var lastError: String?
        public var erpAnswer: String?
        public var createdAt: Date
        public var sentAt: Date?
        /// The message as sent (JSON).
        public var payload: String

        /// The entry as the ledger API and `mes outbox list` show it: snake_case keys, RFC 3339
        /// times, null for what is not there yet, the payload as JSON.
        public var json: JSONValue {
            [
                "id": JSONValue(id), "key": .string(key), "stream": .string(stream), "kind": .string(kind), "state": .string(state),
                "attempts": JSONValue(attempts), "created_at": JSONValue(createdAt), "sent_at": JSONValue(sentAt), "erp_answer": JSONValue(erpAnswer),
                "last_error": JSONValue(lastError), "payload": (try? JSONValue.parse(Data(payload.utf8))) ?? .string(payload),
            ]
        }
    }

    /// The newest entries first, optionally only those in `state` (pending, sent, dead).
    public static func ledger(state: String? = nil, limit: Int = 100, _ pool: PGPool) throws -> [Entry] {
        try pool.withConnection { db in
            try db.query("""
                SELECT id, idempotency_key, stream, kind, state, attempts, last_error, erp_answer, created_at, sent_at, payload::text
                FROM erp_outbox WHERE \(state)::text IS NULL OR state = \(state)
                ORDER BY id DESC LIMIT \(limit)
                """).decode((Int64, String, String, String, String, Int, String?, String?, Date, Date?, String).self).map {
                Entry(
                    id: $0.0, key: $0.1, stream: $0.2, kind: $0.3, state: $0.4, attempts: $0.5, lastError: $0.6, erpAnswer: $0.7,
                    createdAt: $0.8, sentAt: $0.9, payload: $0.10)
            }
        }
    }

    /// Puts a dead entry back in the queue with its attempts reset (a person decided the
    /// cause is fixed); the earlier attempts stay in the ledger. Returns false when the entry
    /// is not dead.
    @discardableResult
    public static func replay(id: Int64, _ pool: PGPool) throws -> Bool {
        try pool.transaction { db in
            try db.execute("""
                UPDATE erp_outbox SET state = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL
                WHERE id = \(id) AND state = 'dead'
                """) == 1
        }
    }
}
