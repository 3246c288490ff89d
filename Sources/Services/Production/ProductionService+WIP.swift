#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Postgres

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
