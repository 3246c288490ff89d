#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Postgres
import TimeZones

extension ProductionService {
    /// Work in process per operation at a site, with its age (`Domain.WorkInProcess`).
    ///
    /// Parts reach an operation as the previous operation reports them good, each report a lot
    /// stamped with its time; the operation's own good and scrap use them up oldest first. The
    /// first operation receives the order's whole quantity when it starts. Operations are named
    /// `0010 Turning`, so they sort in routing order.
    public func workInProcess(site: String) throws -> [WIPSummary] {
        try pool.withConnection { db in
            let operations = try db.query("""
                SELECT o.id, wo.number, o.sequence, o.name, o.started_at, wo.quantity_planned::float8,
                       (o.quantity_good + o.quantity_scrap)::float8
                FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id JOIN site s ON s.id = wo.site_id
                WHERE s.code = \(site) AND wo.state IN ('released', 'in_progress')
                ORDER BY wo.number, o.sequence
                """).decode((Int64, String, Int, String, Date?, Double, Double).self)
            let reports = try db.query("""
                SELECT r.operation_id, r.reported_at, r.quantity::float8
                FROM production_report r JOIN work_order_operation o ON o.id = r.operation_id
                JOIN work_order wo ON wo.id = o.work_order_id JOIN site s ON s.id = wo.site_id
                WHERE s.code = \(site) AND wo.state IN ('released', 'in_progress') AND r.kind = 'good'
                ORDER BY r.reported_at, r.id
                """).decode((Int64, Date, Double).self)
            let goodReports = Dictionary(grouping: reports, by: \.0)

            var lots: [WIPLot] = []
            var previous: (order: String, id: Int64)?
            for (id, order, sequence, name, startedAt, planned, processed) in operations {
                let key = String(repeating: "0", count: max(0, 4 - String(sequence).count)) + "\(sequence) \(name)"
                var arrivals: [(Double, Double)] = []
                if let previous, previous.order == order {
                    arrivals = (goodReports[previous.id] ?? []).map { ($0.1.timeIntervalSince1970, $0.2) }
                } else if let startedAt {
                    arrivals = [(startedAt.timeIntervalSince1970, planned)]
                }
                var toConsume = processed
                for (arrivedAt, quantity) in arrivals {
                    let used = min(quantity, toConsume)
                    toConsume -= used
                    if quantity - used > 0 {
                        lots.append(WIPLot(workOrder: order, operation: key, quantity: quantity - used, arrivedAt: arrivedAt))
                    }
                }
                previous = (order, id)
            }
            return try WorkInProcess.summarize(lots, at: clock().timeIntervalSince1970)
        }
    }
}

/// Schedule attainment of one day: what was due that day and how much of it was made in time.
public struct DayAttainment: Sendable, Equatable {
    /// The site-local date, `2026-11-23`.
    public var day: String
    /// Quantity of the orders due that day.
    public var planned: Double
    /// Good parts out of those orders' last operations, reported before the day ended.
    public var produced: Double
    /// produced / planned (`ProductionKPIs.scheduleAttainment`), nil when nothing was due.
    public var attainment: Double?

    public init(day: String, planned: Double, produced: Double, attainment: Double?) {
        self.day = day
        self.planned = planned
        self.produced = produced
        self.attainment = attainment
    }
}

extension ProductionService {
    /// Schedule attainment per site-local day for orders due in `from..<to`. Late output
    /// counts for nothing on the day it was due, which is the point of the measure.
    public func scheduleAttainment(site: String, from: Date, to: Date) throws -> [DayAttainment] {
        try pool.withConnection { db in
            try db.query("""
                WITH due AS (
                    SELECT wo.id, wo.quantity_planned, (wo.due_at AT TIME ZONE s.time_zone)::date AS day, s.time_zone
                    FROM work_order wo JOIN site s ON s.id = wo.site_id
                    WHERE s.code = \(site) AND wo.due_at >= \(from) AND wo.due_at < \(to) AND wo.state <> 'cancelled'
                ), last_operation AS (
                    SELECT DISTINCT ON (work_order_id) id, work_order_id FROM work_order_operation
                    WHERE work_order_id IN (SELECT id FROM due) ORDER BY work_order_id, sequence DESC
                )
                SELECT d.day::text, sum(d.quantity_planned)::float8,
                       coalesce(sum((SELECT sum(r.quantity) FROM production_report r JOIN last_operation l ON l.id = r.operation_id
                                     WHERE l.work_order_id = d.id AND r.kind = 'good'
                                       AND r.reported_at < ((d.day + 1)::timestamp AT TIME ZONE d.time_zone))), 0)::float8
                FROM due d GROUP BY d.day ORDER BY d.day
                """).decode((String, Double, Double).self).map { day, planned, produced in
                DayAttainment(
                    day: day, planned: planned, produced: produced,
                    attainment: try ProductionKPIs.scheduleAttainment(produced: produced, planned: planned))
            }
        }
    }
}

/// Schedule attainment of one shift.
public struct ShiftAttainment: Sendable, Equatable {
    public var shift: String
    /// The site-local day the shift started.
    public var day: String
    public var start: Date
    public var end: Date
    /// Quantity of the orders due in this shift.
    public var planned: Double
    /// Good output of their last operations reported before the shift ended.
    public var produced: Double
    /// nil when nothing was due.
    public var attainment: Double?
}

extension ProductionService {
    /// Schedule attainment per shift of the site's `shift_pattern`s, for the shifts that
    /// overlap `from..<to`. An order is the shift's that it is due in; one due between shifts
    /// (a weekend, a night without a shift) is the last shift's that ended before it, whose
    /// job it was to finish it. Output reported after that shift ended does not count.
    public func shiftAttainment(site: String, from: Date, to: Date) throws -> [ShiftAttainment] {
        try pool.withConnection { db in
            let (siteID, calendar) = try Self.shiftCalendar(site: site, db)
            let shifts: [ShiftInstance]
            do {
                shifts = try calendar.shifts(from: from.timeIntervalSince1970, to: to.timeIntervalSince1970)
            } catch {
                throw ProductionRuleError(.invalidInput, String(describing: error))
            }
            let orders = try db.query("""
                SELECT wo.id, extract(epoch FROM wo.due_at)::float8, wo.quantity_planned::float8 FROM work_order wo
                WHERE wo.site_id = \(siteID) AND wo.due_at >= \(from) AND wo.due_at < \(to) AND wo.state <> 'cancelled'
                """).decode((Int64, Double, Double).self)
            let reports = try db.query("""
                SELECT l.work_order_id, extract(epoch FROM r.reported_at)::float8, r.quantity::float8
                FROM (SELECT DISTINCT ON (work_order_id) id, work_order_id FROM work_order_operation o
                      WHERE o.work_order_id IN (SELECT id FROM work_order WHERE site_id = \(siteID) AND due_at >= \(from) AND due_at < \(to))
                      ORDER BY work_order_id, sequence DESC) l
                JOIN production_report r ON r.operation_id = l.id AND r.kind = 'good'
                """).decode((Int64, Double, Double).self)
            var output: [Int64: [(Double, Double)]] = [:]
            for (order, time, quantity) in reports { output[order, default: []].append((time, quantity)) }
            var planned = [Double](repeating: 0, count: shifts.count)
            var produced = [Double](repeating: 0, count: shifts.count)
            for (order, due, quantity) in orders {
                let index = shifts.firstIndex { $0.start <= due && due < $0.end } ?? shifts.lastIndex { $0.end <= due }
                guard let index else { continue }
                planned[index] += quantity
                produced[index] += (output[order] ?? []).filter { $0.0 < shifts[index].end }.reduce(0) { $0 + $1.1 }
            }
            return try shifts.indices.map { i in
                ShiftAttainment(
                    shift: shifts[i].name, day: shifts[i].localDate, start: Date(timeIntervalSince1970: shifts[i].start),
                    end: Date(timeIntervalSince1970: shifts[i].end), planned: planned[i], produced: produced[i],
                    attainment: planned[i] > 0 ? try ProductionKPIs.scheduleAttainment(produced: produced[i], planned: planned[i]) : nil)
            }
        }
    }
}

extension ProductionService {
    /// The shift of `site` running at `moment`, or nil between shifts; `notFound` when the site
    /// has no shift patterns.
    public func shift(site: String, at moment: Date) throws -> ShiftInstance? {
        let around = moment.timeIntervalSince1970
        return try shifts(site: site, from: moment.addingTimeInterval(-86_400), to: moment.addingTimeInterval(86_400))
            .first { $0.start <= around && around < $0.end }
    }

    /// The shifts of `site` that overlap `[from, to)`, in order; `notFound` without patterns.
    public func shifts(site: String, from: Date, to: Date) throws -> [ShiftInstance] {
        try pool.withConnection { db in
            let (_, calendar) = try Self.shiftCalendar(site: site, db)
            do {
                return try calendar.shifts(from: from.timeIntervalSince1970, to: to.timeIntervalSince1970)
            } catch {
                throw ProductionRuleError(.invalidInput, String(describing: error))
            }
        }
    }

    /// A site's id and its shift calendar (its `shift_pattern`s in its time zone).
    static func shiftCalendar(site: String, _ db: PGConnection) throws -> (siteID: Int64, calendar: ShiftCalendar) {
        guard let (siteID, zoneName) = try db.query("SELECT id, time_zone FROM site WHERE code = \(site)").decode((Int64, String).self).first else {
            throw ProductionRuleError(.notFound, "there is no site \(site)")
        }
        struct Break: Decodable { var start_minute: Int; var minutes: Int }
        var patterns: [ShiftPattern] = []
        for (name, start, end, weekdays, breaks) in try db.query("""
            SELECT name, start_minute, end_minute, weekdays, breaks::text FROM shift_pattern WHERE site_id = \(siteID) ORDER BY start_minute, name
            """).decode((String, Int, Int, String, String).self) {
            let decoded = (try? JSONDecoder().decode([Break].self, from: Data(breaks.utf8))) ?? []
            patterns.append(ShiftPattern(
                name: name, startMinute: start, endMinute: end, weekdays: Set(weekdays.compactMap { $0.wholeNumberValue }),
                breaks: decoded.map { ShiftPattern.Break(startMinute: $0.start_minute, minutes: $0.minutes) }))
        }
        guard !patterns.isEmpty else { throw ProductionRuleError(.notFound, "site \(site) has no shift patterns") }
        guard let zone = FoundationTimeZone(identifier: zoneName) else {
            throw ProductionRuleError(.invalidInput, "the time zone \(zoneName) of site \(site) is not in this system's zone database")
        }
        return (siteID, ShiftCalendar(patterns: patterns, timeZone: zone))
    }
}

/// An operation waiting at, or running on, a machine: the tablet's list.
public struct MachineQueueItem: Sendable, Equatable {
    public var operationID: Int64
    public var workOrder: String
    public var part: String
    public var sequence: Int
    public var name: String
    public var state: OperationState
    public var planned: Double
    public var good: Double
    public var scrap: Double
    public var onHold: Bool
}

extension ProductionService {
    /// The unfinished operations of released orders dispatched to a machine: those started
    /// first, then by the order's priority, due time and number.
    public func queue(site: String, machine: String) throws -> [MachineQueueItem] {
        try pool.withConnection { db in
            let machineID = try machineID(machine, site: site, db)
            return try db.query("""
                SELECT o.id, wo.number, p.code, o.sequence, o.name, o.state, wo.quantity_planned::float8, o.quantity_good::float8,
                       o.quantity_scrap::float8, EXISTS (SELECT 1 FROM quality_hold h WHERE h.operation_id = o.id AND h.released_at IS NULL)
                FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id JOIN part p ON p.id = wo.part_id
                WHERE o.machine_id = \(machineID) AND o.state <> 'complete' AND wo.state IN ('released', 'in_progress')
                ORDER BY o.state = 'queued', wo.priority DESC, wo.due_at NULLS LAST, wo.number, o.sequence
                LIMIT 50
                """).decode((Int64, String, String, Int, String, String, Double, Double, Double, Bool).self).map {
                MachineQueueItem(
                    operationID: $0.0, workOrder: $0.1, part: $0.2, sequence: $0.3, name: $0.4, state: OperationState(rawValue: $0.5) ?? .queued,
                    planned: $0.6, good: $0.7, scrap: $0.8, onHold: $0.9)
            }
        }
    }

    /// Active reason codes of a kind (scrap or rework), for the report form.
    public func reasonCodes(_ kind: QuantityKind) throws -> [(code: String, description: String)] {
        try pool.withConnection { db in
            try db.query("SELECT code, description FROM reason_code WHERE kind = \(kind.rawValue) AND active ORDER BY code")
                .decode((String, String).self).map { (code: $0.0, description: $0.1) }
        }
    }
}

/// The job a machine is on, for its wall-screen tile.
public struct CurrentJob: Sendable, Equatable {
    public var workOrder: String
    public var sequence: Int
    public var state: OperationState
    public var good: Double
    public var planned: Double
}

extension ProductionService {
    /// Each machine's current operation (running first, then in setup, then paused), by machine code.
    public func currentJobs(site: String) throws -> [String: CurrentJob] {
        try pool.withConnection { db in
            var jobs: [String: CurrentJob] = [:]
            for row in try db.query("""
                SELECT DISTINCT ON (m.id) m.code, wo.number, o.sequence, o.state, o.quantity_good::float8, wo.quantity_planned::float8
                FROM work_order_operation o JOIN machine m ON m.id = o.machine_id JOIN site s ON s.id = m.site_id
                JOIN work_order wo ON wo.id = o.work_order_id
                WHERE s.code = \(site) AND o.state IN ('running', 'setup', 'paused')
                ORDER BY m.id, o.state = 'running' DESC, o.state = 'setup' DESC, o.started_at DESC
                """).decode((String, String, Int, String, Double, Double).self) {
                jobs[row.0] = CurrentJob(workOrder: row.1, sequence: row.2, state: OperationState(rawValue: row.3) ?? .running, good: row.4, planned: row.5)
            }
            return jobs
        }
    }
}

/// One operation on the WIP board: an open work order's operation, its state and how long the
/// parts have waited or worked there.
public struct WIPBoardCell: Sendable, Equatable {
    public var operationID: Int64
    public var workOrder: String
    public var part: String
    public var due: Date?
    public var sequence: Int
    public var name: String
    public var state: OperationState
    public var machine: String?
    public var operatorName: String?
    public var good: Double
    public var planned: Double
    /// Seconds since the operation started, or since the parts reached it (the previous
    /// operation's end, or the order's release).
    public var ageSeconds: Double
}

extension ProductionService {
    /// Every operation of the site's released and started orders, by order then sequence.
    public func wipBoard(site: String) throws -> [WIPBoardCell] {
        try pool.withConnection { db in
            let now = clock()
            return try db.query("""
                SELECT o.id, wo.number, p.code, wo.due_at, o.sequence, o.name, o.state, m.code, u.username, o.quantity_good::float8,
                       wo.quantity_planned::float8,
                       extract(epoch FROM \(now) - coalesce(o.started_at,
                           (SELECT max(x.ended_at) FROM work_order_operation x WHERE x.work_order_id = o.work_order_id AND x.sequence < o.sequence),
                           wo.released_at, wo.created_at))::float8
                FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id JOIN part p ON p.id = wo.part_id JOIN site s ON s.id = wo.site_id
                LEFT JOIN machine m ON m.id = o.machine_id LEFT JOIN app_user u ON u.id = o.operator_id
                WHERE s.code = \(site) AND wo.state IN ('released', 'in_progress')
                ORDER BY wo.due_at NULLS LAST, wo.number, o.sequence LIMIT 2000
                """).decode((Int64, String, String, Date?, Int, String, String, String?, String?, Double, Double, Double).self).map {
                WIPBoardCell(
                    operationID: $0.0, workOrder: $0.1, part: $0.2, due: $0.3, sequence: $0.4, name: $0.5, state: OperationState(rawValue: $0.6) ?? .queued,
                    machine: $0.7, operatorName: $0.8, good: $0.9, planned: $0.10, ageSeconds: max(0, $0.11))
            }
        }
    }

    /// The site's active machines and the people with the operator role, for the dispatch form.
    public func dispatchChoices(site: String) throws -> (machines: [String], operators: [String]) {
        try pool.withConnection { db in
            let machines = try db.query("""
                SELECT m.code FROM machine m JOIN site s ON s.id = m.site_id WHERE s.code = \(site) AND m.active ORDER BY m.code
                """).decode(String.self)
            let operators = try db.query("""
                SELECT u.username FROM app_user u JOIN user_role r ON r.user_id = u.id AND r.role_code = 'operator' WHERE u.active ORDER BY u.username
                """).decode(String.self)
            return (machines, operators)
        }
    }
}
