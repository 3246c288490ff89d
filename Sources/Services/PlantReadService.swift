#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Postgres

/// Read models of the plant for the API and the pages: each machine's live state and its OEE
/// over a window, computed from the stored intervals and counts by `Domain.OEECalculator`.
public final class PlantReadService: Sendable {
    let pool: PGPool
    let clock: @Sendable () -> Date

    public init(pool: PGPool, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.clock = clock
    }

    /// One stretch of a machine's time line.
    public struct TimelineEntry: Sendable, Equatable {
        public var id: Int64
        public var start: Date
        /// nil while it lasts.
        public var end: Date?
        public var state: String
        public var reason: String?
    }

    /// A machine's name, by site and code (active or not).
    public func machineName(site: String, machine: String) throws -> String {
        try pool.withConnection { db in try Self.machine(site: site, code: machine, db).name }
    }

    /// A machine's id and name; not found is a `ProductionRuleError`.
    private static func machine(site: String, code: String, _ db: PGConnection) throws -> (id: Int64, name: String) {
        guard let row = try db.query("""
            SELECT m.id, m.name FROM machine m JOIN site s ON s.id = m.site_id WHERE s.code = \(site) AND m.code = \(code)
            """).decode((Int64, String).self).first
        else { throw ProductionRuleError(.notFound, "there is no machine \(code) at site \(site)") }
        return row
    }

    /// A machine's state intervals overlapping `[from, to)`, in order.
    public func timeline(site: String, machine: String, from: Date, to: Date) throws -> [TimelineEntry] {
        try pool.withConnection { db in
            let machineID = try Self.machine(site: site, code: machine, db).id
            return try db.query("""
                SELECT id, started_at, ended_at, state, reason FROM machine_state_interval
                WHERE machine_id = \(machineID) AND started_at < \(to) AND coalesce(ended_at, \(to)) > \(from) ORDER BY started_at
                """).decode((Int64, Date, Date?, String, String?).self).map {
                TimelineEntry(id: $0.0, start: $0.1, end: $0.2, state: $0.3, reason: $0.4)
            }
        }
    }

    /// A message that could not be used, and why.
    public struct DeadLetterView: Sendable, Equatable {
        public var id: Int64
        public var receivedAt: Date
        public var source: String
        public var topic: String
        /// The payload as text (bytes that are not UTF-8 shown as replacement characters), cut at 500 bytes.
        public var payload: String
        public var payloadBytes: Int
        public var reason: String
    }

    /// The newest dead letters first.
    public func deadLetters(limit: Int = 200) throws -> [DeadLetterView] {
        try pool.withConnection { db in
            try db.query("""
                SELECT id, received_at, source, topic, substring(payload FROM 1 FOR 500), octet_length(payload), reason
                FROM dead_letter ORDER BY id DESC LIMIT \(limit)
                """).decode((Int64, Date, String, String, [UInt8], Int, String).self).map {
                DeadLetterView(id: $0.0, receivedAt: $0.1, source: $0.2, topic: $0.3, payload: String(decoding: $0.4, as: UTF8.self), payloadBytes: $0.5, reason: $0.6)
            }
        }
    }

    /// The state intervals of the machines `ids` (comma-separated) overlapping `[from, to)`,
    /// whole, by machine.
    static func intervals(_ ids: String, from: Date, to end: Date, _ db: PGConnection) throws -> [Int64: [StateInterval]] {
        var intervals: [Int64: [StateInterval]] = [:]
        for row in try db.query("""
            SELECT machine_id, extract(epoch FROM started_at)::float8, extract(epoch FROM coalesce(ended_at, \(end)))::float8, state, reason
            FROM machine_state_interval WHERE machine_id = ANY (string_to_array(\(ids), ',')::bigint[])
              AND started_at < \(end) AND coalesce(ended_at, \(end)) > \(from) AND coalesce(ended_at, \(end)) > started_at
            ORDER BY machine_id, started_at
            """).decode((Int64, Double, Double, String, String?).self) {
            if let state = MachineState(rawValue: row.3) { intervals[row.0, default: []].append(StateInterval(start: row.1, end: row.2, state: state, reason: row.4)) }
        }
        return intervals
    }

    /// The site's OEE over `[from, to)` rolled up by part or operator (or work order): each
    /// machine's time cut where the operation on it changed (its setup, running and paused
    /// activity), as `OEERollup` does. Counts need their times and an ideal cycle on that
    /// machine; parts without one are left out.
    public func rollup(site: String, from: Date, to: Date, by dimensions: [RollupDimension]) throws -> (total: OEECalculator.Result, rows: [OEERollup.Row]) {
        let end = min(to, clock())
        guard end > from else { throw ProductionRuleError(.invalidInput, "the window must end after it starts, and start before now") }
        return try pool.withConnection { db in
            let machines = try db.query("""
                SELECT m.id, m.code, coalesce(l.code, '') FROM machine m JOIN site s ON s.id = m.site_id LEFT JOIN line l ON l.id = m.line_id
                WHERE s.code = \(site) AND m.active ORDER BY m.code
                """).decode((Int64, String, String).self)
            let ids = machines.map { String($0.0) }.joined(separator: ",")
            let intervals = try Self.intervals(ids, from: from, to: end, db)
            var counts: [Int64: [TimedPartCount]] = [:]
            for row in try db.query("""
                SELECT c.machine_id, extract(epoch FROM c.counted_at)::float8, coalesce(c.part, ''),
                       (SELECT min(ro.ideal_cycle_seconds)::float8 FROM routing_operation ro JOIN routing r ON r.id = ro.routing_id
                        JOIN part p ON p.id = r.part_id WHERE ro.machine_id = c.machine_id AND p.code = c.part),
                       coalesce(sum(quantity) FILTER (WHERE counter = 'total'), 0)::int8, coalesce(sum(quantity) FILTER (WHERE counter = 'good'), 0)::int8,
                       coalesce(sum(quantity) FILTER (WHERE counter = 'reject'), 0)::int8, count(*) FILTER (WHERE counter_reset)::int8
                FROM production_count c WHERE c.machine_id = ANY (string_to_array(\(ids), ',')::bigint[]) AND c.counted_at > \(from) AND c.counted_at <= \(end)
                GROUP BY c.machine_id, c.counted_at, c.part ORDER BY 1, 2
                """).decode((Int64, Double, String, Double?, Int64, Int64, Int64, Int64).self) {
                guard let ideal = row.3 else { continue }
                let total = row.4 > 0 ? row.4 : row.5 + row.6
                counts[row.0, default: []].append(TimedPartCount(
                    time: row.1, count: PartCount(part: row.2, idealCycleSeconds: ideal, total: Int(total), reject: Int(min(row.6, total)), counterResets: Int(row.7))))
            }
            var contexts: [Int64: [ProductionContext]] = [:]
            for row in try db.query("""
                SELECT a.machine_id, extract(epoch FROM a.started_at)::float8, extract(epoch FROM coalesce(a.ended_at, \(end)))::float8, p.code, u.username, wo.number
                FROM operation_activity a JOIN work_order_operation o ON o.id = a.operation_id JOIN work_order wo ON wo.id = o.work_order_id
                JOIN part p ON p.id = wo.part_id LEFT JOIN app_user u ON u.id = a.user_id
                WHERE a.machine_id = ANY (string_to_array(\(ids), ',')::bigint[]) AND a.started_at < \(end) AND coalesce(a.ended_at, \(end)) > \(from)
                  AND coalesce(a.ended_at, \(end)) > a.started_at
                ORDER BY 1, 2
                """).decode((Int64, Double, Double, String, String?, String).self) {
                contexts[row.0, default: []].append(ProductionContext(start: row.1, end: row.2, part: row.3, operatorID: row.4, workOrder: row.5))
            }
            let records = machines.map { MachineRecord(
                machine: $0.1, line: $0.2, intervals: intervals[$0.0] ?? [], counts: counts[$0.0] ?? [], contexts: contexts[$0.0] ?? []) }
            do {
                return try OEERollup().compute(windowStart: from.timeIntervalSince1970, windowEnd: end.timeIntervalSince1970, machines: records, by: dimensions)
            } catch {
                throw ProductionRuleError(.invalidInput, "the roll-up cannot be computed: \(error)")
            }
        }
    }

    /// The plant's sites: code, name and IANA time zone.
    public func sites() throws -> [(code: String, name: String, timeZone: String)] {
        try pool.withConnection { db in
            try db.query("SELECT code, name, time_zone FROM site ORDER BY code").decode((String, String, String).self)
                .map { (code: $0.0, name: $0.1, timeZone: $0.2) }
        }
    }

    /// Parts reported at the site's operations in `[from, to)`: good, scrap and rework.
    public func reported(site: String, from: Date, to: Date) throws -> (good: Double, scrap: Double, rework: Double) {
        try pool.withConnection { db in
            let row = try db.query("""
                SELECT coalesce(sum(r.quantity) FILTER (WHERE r.kind = 'good'), 0)::float8, coalesce(sum(r.quantity) FILTER (WHERE r.kind = 'scrap'), 0)::float8,
                       coalesce(sum(r.quantity) FILTER (WHERE r.kind = 'rework'), 0)::float8
                FROM production_report r JOIN work_order_operation o ON o.id = r.operation_id JOIN work_order wo ON wo.id = o.work_order_id
                JOIN site s ON s.id = wo.site_id WHERE s.code = \(site) AND r.reported_at >= \(from) AND r.reported_at < \(to)
                """).decode((Double, Double, Double).self)[0]
            return (row.0, row.1, row.2)
        }
    }

    public struct MachineLiveState: Sendable, Equatable {
        public var machine: String
        public var name: String
        public var line: String?
        /// running, idle, unplanned_stop, setup, planned_stop or offline; nil before any data.
        public var state: String?
        public var reason: String?
        public var since: Date?
    }

    public func machineStates(site: String) throws -> [MachineLiveState] {
        try pool.withConnection { db in
            guard try db.query("SELECT 1 FROM site WHERE code = \(site)").rowCount > 0 else {
                throw ProductionRuleError(.notFound, "there is no site \(site)")
            }
            return try db.query("""
                SELECT m.code, m.name, l.code, st.state, st.reason, st.since FROM machine m JOIN site s ON s.id = m.site_id
                LEFT JOIN line l ON l.id = m.line_id LEFT JOIN machine_status st ON st.machine_id = m.id
                WHERE s.code = \(site) AND m.active ORDER BY m.code
                """).decode((String, String, String?, String?, String?, Date?).self).map {
                MachineLiveState(machine: $0.0, name: $0.1, line: $0.2, state: $0.3, reason: $0.4, since: $0.5)
            }
        }
    }

    /// One machine's OEE over the window, or why it has none.
    public struct MachineOEE: Sendable, Equatable {
        public var machine: String
        public var result: OEECalculator.Result?
        /// Set when the stored data could not be computed (overlapping intervals).
        public var error: String?
        /// Parts counted on the machine that no routing gives an ideal cycle time for there:
        /// left out of performance, listed so nobody trusts a number blindly.
        public var partsWithoutIdealCycle: [String]
    }

    /// OEE of every active machine of `site` (or only of `machine`) over `[from, to)`; the part of the window after
    /// now is left out.
    public func oee(site: String, from: Date, to: Date, machine only: String? = nil) throws -> [MachineOEE] {
        let end = min(to, clock())
        guard end > from else { throw ProductionRuleError(.invalidInput, "the window must end after it starts, and start before now") }
        return try pool.withConnection { db in
            let machines = try db.query("""
                SELECT m.id, m.code FROM machine m JOIN site s ON s.id = m.site_id
                WHERE s.code = \(site) AND m.active AND (\(only)::text IS NULL OR m.code = \(only)) ORDER BY m.code
                """).decode((Int64, String).self)
            let siteExists = try db.query("SELECT 1 FROM site WHERE code = \(site)").rowCount > 0
            guard siteExists else {
                throw ProductionRuleError(.notFound, "there is no site \(site)")
            }
            // Three queries for the whole site, however many machines: whole intervals (the
            // calculator clips them, and judges small stops by their whole length) and counts
            // by part with the part's ideal cycle on that machine.
            let ids = machines.map { String($0.0) }.joined(separator: ",")
            let intervals = try Self.intervals(ids, from: from, to: end, db)
            var counted: [Int64: [(String, Double?, Int64, Int64, Int64, Int64)]] = [:]
            for row in try db.query("""
                SELECT c.machine_id, coalesce(c.part, ''),
                       (SELECT min(ro.ideal_cycle_seconds)::float8 FROM routing_operation ro JOIN routing r ON r.id = ro.routing_id
                        JOIN part p ON p.id = r.part_id WHERE ro.machine_id = c.machine_id AND p.code = c.part),
                       coalesce(sum(quantity) FILTER (WHERE counter = 'total'), 0)::int8,
                       coalesce(sum(quantity) FILTER (WHERE counter = 'good'), 0)::int8,
                       coalesce(sum(quantity) FILTER (WHERE counter = 'reject'), 0)::int8,
                       count(*) FILTER (WHERE counter_reset)::int8
                FROM production_count c WHERE c.machine_id = ANY (string_to_array(\(ids), ',')::bigint[])
                  AND c.counted_at >= \(from) AND c.counted_at < \(end)
                GROUP BY c.machine_id, c.part ORDER BY 1, 2
                """).decode((Int64, String, Double?, Int64, Int64, Int64, Int64).self) {
                counted[row.0, default: []].append((row.1, row.2, row.3, row.4, row.5, row.6))
            }
            var results: [MachineOEE] = []
            for (id, code) in machines {
                var counts: [PartCount] = []
                var missing: [String] = []
                for (part, ideal, total, good, reject, resets) in counted[id] ?? [] {
                    guard let ideal else {
                        missing.append(part.isEmpty ? "(no part)" : part)
                        continue
                    }
                    let all = total > 0 ? total : good + reject
                    counts.append(PartCount(part: part, idealCycleSeconds: ideal, total: Int(all), reject: Int(min(reject, all)), counterResets: Int(resets)))
                }
                do {
                    let result = try OEECalculator().compute(
                        windowStart: from.timeIntervalSince1970, windowEnd: end.timeIntervalSince1970, intervals: intervals[id] ?? [], counts: counts)
                    results.append(MachineOEE(machine: code, result: result, error: nil, partsWithoutIdealCycle: missing))
                } catch {
                    results.append(MachineOEE(machine: code, result: nil, error: String(describing: error), partsWithoutIdealCycle: missing))
                }
            }
            return results
        }
    }
}
