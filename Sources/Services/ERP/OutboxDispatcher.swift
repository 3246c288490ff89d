#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Postgres

/// Sends the outbox to the ERP, one entry per transaction.
///
/// Several nodes may run it at once: each takes the oldest due entry with
/// `FOR UPDATE SKIP LOCKED`, so no entry is sent by two nodes, and an entry waits while an
/// earlier entry of its stream (its work order) is pending or dead, so the ERP hears about an
/// order's operations before its completion. A failure is retried with exponential backoff
/// (`baseDelay` × 2^(failure−1), at most `maxDelay`); after `maxAttempts` refusals or
/// unreadable answers the entry is dead and stays in the ledger until someone replays it.
///
/// An ERP that cannot be reached is an outage, not a fault of the entry: such attempts are
/// logged in the ledger but never count towards `maxAttempts`, and their backoff stops at
/// `outageMaxDelay`, so everything goes soon after the ERP is back, however long it was away.
public final class OutboxDispatcher: Sendable {
    let pool: PGPool
    let connector: any ERPConnector
    let node: String
    let maxAttempts: Int
    let baseDelay: Double
    let maxDelay: Double
    let outageMaxDelay: Double
    let logger: Logger

    public init(
        pool: PGPool, connector: any ERPConnector, node: String, maxAttempts: Int = 8, baseDelay: Double = 2, maxDelay: Double = 600,
        outageMaxDelay: Double = 30, logger: Logger = Logger(label: "mes.erp.outbox")
    ) {
        self.pool = pool
        self.connector = connector
        self.node = node
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.outageMaxDelay = outageMaxDelay
        self.logger = logger
    }

    public struct Report: Sendable, Equatable {
        public var sent: Int
        public var skipped: Int
        public var retried: Int
        public var dead: Int

        public init(sent: Int = 0, skipped: Int = 0, retried: Int = 0, dead: Int = 0) {
            self.sent = sent
            self.skipped = skipped
            self.retried = retried
            self.dead = dead
        }

        /// Adds another pass's counts to these.
        public mutating func add(_ other: Report) {
            sent += other.sent
            skipped += other.skipped
            retried += other.retried
            dead += other.dead
        }
    }

    /// Sends due entries until none is left or `limit` were tried.
    @discardableResult
    public func runOnce(limit: Int = 500) throws -> Report {
        var report = Report()
        for _ in 0..<limit {
            guard let outcome = try sendNext() else { break }
            switch outcome {
            case "sent": report.sent += 1
            case "skipped": report.skipped += 1
            case "dead": report.dead += 1
            default: report.retried += 1
            }
        }
        return report
    }

    /// The seconds to wait after failure number `attempt` (1-based).
    public func delay(afterAttempt attempt: Int) -> Double {
        min(maxDelay, baseDelay * Double(1 << min(max(0, attempt - 1), 30)))
    }

    /// The seconds to wait after attempt number `attempt` found the ERP unreachable.
    public func delay(afterOutageAttempt attempt: Int) -> Double {
        min(outageMaxDelay, delay(afterAttempt: attempt))
    }

    /// Takes one due entry, pushes it and records the outcome; nil when nothing is due.
    private func sendNext() throws -> String? {
        try pool.transaction { db in
            guard let (id, key, kind, payload, attempts) = try db.query("""
                SELECT o.id, o.idempotency_key, o.kind, o.payload::text, o.attempts FROM erp_outbox o
                WHERE o.state = 'pending' AND o.next_attempt_at <= now()
                  AND NOT EXISTS (SELECT 1 FROM erp_outbox e WHERE e.stream = o.stream AND e.id < o.id AND e.state IN ('pending', 'dead'))
                ORDER BY o.next_attempt_at, o.id
                LIMIT 1 FOR UPDATE SKIP LOCKED
                """).decode((Int64, String, String, String, Int).self).first
            else { return nil }
            let started = Date()
            let attempt = attempts + 1
            var outcome = "retry"
            var detail = ""
            do {
                let message = try OutboxMessage.decode(kind: kind, payload: payload)
                let receipt = try connector.push(message, idempotencyKey: key)
                detail = receipt.answer
                outcome = receipt.skipped ? "skipped" : "sent"
                try db.execute("""
                    UPDATE erp_outbox SET state = \(outcome), attempts = \(attempt), sent_at = now(), erp_answer = \(detail), last_error = NULL
                    WHERE id = \(id)
                    """)
            } catch {
                detail = String(describing: error)
                let wait: Double
                if (error as? ERPError)?.kind == .unreachable {
                    wait = delay(afterOutageAttempt: attempt)
                } else {
                    // Refusals and unreadable answers so far, this one included; outages do not
                    // count (their ledger detail is the ERPError's description, "unreachable: …").
                    let failures = try db.query("""
                        SELECT count(*)::int + 1 FROM erp_outbox_attempt
                        WHERE outbox_id = \(id) AND outcome <> 'sent' AND outcome <> 'skipped' AND detail NOT LIKE \(ERPError.Kind.unreachable.rawValue + ":%")
                        """).decode(Int.self).first ?? 1
                    outcome = failures >= maxAttempts ? "dead" : "retry"
                    wait = delay(afterAttempt: failures)
                }
                try db.execute("""
                    UPDATE erp_outbox SET state = \(outcome == "dead" ? "dead" : "pending"), attempts = \(attempt), last_error = \(detail),
                        next_attempt_at = now() + make_interval(secs => \(wait))
                    WHERE id = \(id)
                    """)
                logger.warning("ERP push failed", metadata: ["key": "\(key)", "attempt": "\(attempt)", "outcome": "\(outcome)", "error": "\(detail)"])
            }
            try db.execute("""
                INSERT INTO erp_outbox_attempt (outbox_id, attempt, started_at, finished_at, outcome, detail, node)
                SELECT \(id), coalesce(max(attempt), 0) + 1, \(started), now(), \(outcome), \(detail), \(node)
                FROM erp_outbox_attempt WHERE outbox_id = \(id)
                """)
            return outcome
        }
    }
}
