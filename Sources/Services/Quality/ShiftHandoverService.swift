#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import JSON
import Markdown
import Postgres

/// Shift handover: a summary of the shift generated from the floor's records (OEE, the top
/// downtime reasons, scrap, open holds, SPC alarms), the outgoing supervisor's Markdown notes
/// and checklist, signed off by the outgoing supervisor and then by a different incoming one.
public final class ShiftHandoverService: Sendable {
    let pool: PGPool
    let clock: @Sendable () -> Date

    public init(pool: PGPool, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.clock = clock
    }

    /// One line of the checklist.
    public struct CheckItem: Sendable, Equatable, Codable {
        public var item: String
        public var done: Bool
        public init(item: String, done: Bool) {
            self.item = item
            self.done = done
        }
    }

    /// A handover as shown.
    public struct Handover: Sendable, Equatable {
        public var id: Int64
        public var shift: String
        public var start: Date
        public var end: Date
        /// The generated summary, as JSON (see `summary`).
        public var summary: JSONValue
        public var notesHTML: String
        public var checklist: [CheckItem]
        public var signatures: [Signature]
    }

    /// Prepares (or re-prepares, while unsigned) the handover of the shift of `site` running at
    /// `at` (default now): the summary is generated from the records of the shift so far.
    @discardableResult
    public func prepare(site: String, at moment: Date? = nil, notes: String, checklist: [CheckItem], by username: String) throws -> Int64 {
        let now = clock()
        let at = moment ?? now
        guard let shift = try ProductionService(pool: pool, clock: clock).shift(site: site, at: at) else {
            throw ProductionRuleError(.notFound, "no shift of \(site) runs at \(at.ISO8601Format())")
        }
        let start = Date(timeIntervalSince1970: shift.start)
        let end = Date(timeIntervalSince1970: shift.end)
        let summary = try summary(site: site, from: start, to: min(end, now))
        return try pool.transaction { db in
            let userID = try Lookup.userID(username, db)
            let siteID = try db.query("SELECT id FROM site WHERE code = \(site)").decode(Int64.self)[0]
            let checklistJSON = String(decoding: try JSONEncoder().encode(checklist), as: UTF8.self)
            if let existing = try db.query("SELECT id FROM shift_handover WHERE site_id = \(siteID) AND shift_start = \(start) FOR UPDATE")
                .decode(Int64.self).first {
                guard try db.query("SELECT 1 FROM e_signature WHERE entity = 'shift_handover' AND entity_id = \(String(existing))").rowCount == 0 else {
                    throw ProductionRuleError(.invalidTransition, "the handover of this shift is signed; it cannot change")
                }
                let before = try AuditTrail.snapshot("shift_handover", id: existing, db)
                try db.execute("""
                    UPDATE shift_handover SET summary = \(String(decoding: summary.encoded(), as: UTF8.self))::jsonb, notes = \(notes),
                        checklist = \(checklistJSON)::jsonb WHERE id = \(existing)
                    """)
                try AuditTrail.record("handover.prepared", entity: "shift_handover", id: String(existing), actor: username, at: now, before: before,
                                      after: try AuditTrail.snapshot("shift_handover", id: existing, db), db)
                return existing
            }
            let id = try db.query("""
                INSERT INTO shift_handover (site_id, shift_name, shift_start, shift_end, summary, notes, checklist, created_by, created_at)
                VALUES (\(siteID), \(shift.name), \(start), \(end), \(String(decoding: summary.encoded(), as: UTF8.self))::jsonb, \(notes),
                        \(checklistJSON)::jsonb, \(userID), \(now))
                RETURNING id
                """).decode(Int64.self)[0]
            try AuditTrail.record("handover.prepared", entity: "shift_handover", id: String(id), actor: username, at: now,
                                  after: try AuditTrail.snapshot("shift_handover", id: id, db), db)
            return id
        }
    }

    /// The summary of `site` over `[from, to)`: `oee` (the site's availability, performance,
    /// quality and OEE, time-weighted over its machines), `downtime` (the five longest
    /// unplanned-stop reasons, in seconds), `scrap` (quantity by reason code), `open_holds`,
    /// and `spc_alarms` (raised in the shift, and how many are still unacknowledged).
    public func summary(site: String, from: Date, to: Date) throws -> JSONValue {
        let machines = try PlantReadService(pool: pool, clock: clock).oee(site: site, from: from, to: to)
        let all = OEECalculator.Result.combining(machines.compactMap(\.result))
        func ratio(_ value: Double, _ defined: Bool) -> JSONValue { defined ? .number(value) : .null }
        let oee: JSONValue = [
            "availability": ratio(all.availability, all.plannedProductionSeconds > 0), "performance": ratio(all.performance, all.runSeconds > 0),
            "quality": ratio(all.quality, all.totalCount > 0), "oee": ratio(all.oee, all.plannedProductionSeconds > 0),
            "good": JSONValue(all.goodCount), "total": JSONValue(all.totalCount),
        ]
        return try pool.withConnection { db in
            let downtime = try db.query("""
                SELECT coalesce(i.reason, '(no reason given)'),
                       sum(extract(epoch FROM least(coalesce(i.ended_at, \(to)), \(to)) - greatest(i.started_at, \(from))))::float8 AS seconds
                FROM machine_state_interval i JOIN machine m ON m.id = i.machine_id JOIN site s ON s.id = m.site_id
                WHERE s.code = \(site) AND i.state = 'unplanned_stop' AND i.started_at < \(to) AND coalesce(i.ended_at, \(to)) > \(from)
                GROUP BY 1 ORDER BY seconds DESC, 1 LIMIT 5
                """).decode((String, Double).self).map { ["reason": .string($0.0), "seconds": .number($0.1)] as JSONValue }
            let scrap = try db.query("""
                SELECT r.reason_code, sum(r.quantity)::float8 FROM production_report r
                JOIN work_order_operation o ON o.id = r.operation_id JOIN work_order wo ON wo.id = o.work_order_id JOIN site s ON s.id = wo.site_id
                WHERE s.code = \(site) AND r.kind = 'scrap' AND r.reported_at >= \(from) AND r.reported_at < \(to)
                GROUP BY 1 ORDER BY 2 DESC, 1
                """).decode((String, Double).self).map { ["reason": .string($0.0), "quantity": .number($0.1)] as JSONValue }
            let holds = try db.query("""
                SELECT h.id, coalesce(wo.number || ' operation ' || o.sequence, 'lot ' || l.code), h.reason
                FROM quality_hold h LEFT JOIN work_order_operation o ON o.id = h.operation_id LEFT JOIN work_order wo ON wo.id = o.work_order_id
                LEFT JOIN lot l ON l.id = h.lot_id
                WHERE h.released_at IS NULL AND h.opened_at < \(to) AND (wo.site_id IS NULL OR wo.site_id = (SELECT id FROM site WHERE code = \(site)))
                ORDER BY h.id
                """).decode((Int64, String, String).self).map { ["id": JSONValue($0.0), "subject": .string($0.1), "reason": .string($0.2)] as JSONValue }
            let alarms = try db.query("""
                SELECT count(*), count(*) FILTER (WHERE a.acknowledged_at IS NULL) FROM spc_alarm a
                LEFT JOIN machine m ON m.id = a.machine_id LEFT JOIN site s ON s.id = m.site_id
                WHERE (s.code = \(site) OR m.id IS NULL) AND a.raised_at >= \(from) AND a.raised_at < \(to)
                """).decode((Int64, Int64).self)[0]
            return [
                "from": JSONValue(from as Date?), "to": JSONValue(to as Date?), "oee": oee, "downtime": .array(downtime), "scrap": .array(scrap),
                "open_holds": .array(holds), "spc_alarms": ["raised": JSONValue(alarms.0), "unacknowledged": JSONValue(alarms.1)],
            ]
        }
    }

    /// Signs the handover: first the outgoing supervisor ('performed'), then a different
    /// incoming supervisor ('reviewed'). Both need the supervisor role.
    public func signOff(_ id: Int64, signature: SignatureRequest) throws {
        let now = clock()
        let signer = try Signatures.authenticate(signature, at: now, pool)
        try pool.transaction { db in
            guard try db.query("SELECT 1 FROM shift_handover WHERE id = \(id) FOR UPDATE").rowCount == 1 else {
                throw ProductionRuleError(.notFound, "there is no shift handover \(id)")
            }
            let signers = try db.query("""
                SELECT signer_id FROM e_signature WHERE entity = 'shift_handover' AND entity_id = \(String(id)) ORDER BY id
                """).decode(Int64.self)
            let expected: SignatureMeaning = signers.isEmpty ? .performed : .reviewed
            guard signers.count < 2 else { throw ProductionRuleError(.invalidTransition, "the handover has both its signatures") }
            guard signature.meaning == expected else {
                throw ProductionRuleError(
                    .invalidInput,
                    signers.isEmpty ? "the outgoing supervisor signs first, as 'performed'" : "the incoming supervisor signs second, as 'reviewed'")
            }
            try Signatures.sign(
                signer, signature,
                rule: SignerRule(roles: ["supervisor"], excluded: signers, exclusion: "the incoming supervisor must be someone other than the outgoing one"),
                table: "shift_handover", id: id, at: now, db)
        }
    }

    /// The site's latest handovers, newest first: id, shift, start, and how many signatures.
    public func latest(site: String, limit: Int = 20) throws -> [(id: Int64, shift: String, start: Date, signatures: Int)] {
        try pool.withConnection { db in
            try db.query("""
                SELECT h.id, h.shift_name, h.shift_start,
                       (SELECT count(*) FROM e_signature e WHERE e.entity = 'shift_handover' AND e.entity_id = h.id::text)::int
                FROM shift_handover h JOIN site s ON s.id = h.site_id WHERE s.code = \(site) ORDER BY h.shift_start DESC LIMIT \(limit)
                """).decode((Int64, String, Date, Int).self).map { (id: $0.0, shift: $0.1, start: $0.2, signatures: $0.3) }
        }
    }

    /// A handover with its summary, rendered notes and signatures.
    public func handover(_ id: Int64) throws -> Handover {
        try pool.withConnection { db in
            guard let row = try db.query("""
                SELECT shift_name, shift_start, shift_end, summary::text, notes, checklist::text FROM shift_handover WHERE id = \(id)
                """).decode((String, Date, Date, String, String, String).self).first
            else { throw ProductionRuleError(.notFound, "there is no shift handover \(id)") }
            return Handover(
                id: id, shift: row.0, start: row.1, end: row.2, summary: try JSONValue.parse(Data(row.3.utf8)),
                notesHTML: Markdown.html(from: row.4), checklist: try JSONDecoder().decode([CheckItem].self, from: Data(row.5.utf8)),
                signatures: try Signatures.signatures(table: "shift_handover", id: id, db))
        }
    }
}
