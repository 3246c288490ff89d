#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Postgres

/// Operators at machines, labor, and what completing an operation sets off.
extension ProductionService {
    /// Signs an operator in at a machine (a second sign-in at the same machine is a no-op).
    public func signIn(_ username: String, machine: String, site: String) throws {
        try pool.transaction { db in
            let userID = try userID(username, db)
            let machineID = try machineID(machine, site: site, db)
            let now = clock()
            try db.execute("""
                INSERT INTO operator_session (user_id, machine_id, started_at, booked_until)
                VALUES (\(userID), \(machineID), \(now), \(now))
                ON CONFLICT (user_id, machine_id) WHERE ended_at IS NULL DO NOTHING
                """)
        }
    }

    /// Signs an operator out; the labor since the last booking is booked and queued for the
    /// ERP. Returns the seconds booked per operation id.
    @discardableResult
    public func signOut(_ username: String, machine: String, site: String) throws -> [Int64: Double] {
        try pool.transaction { db in
            let userID = try userID(username, db)
            let machineID = try machineID(machine, site: site, db)
            let now = clock()
            guard let sessionID = try db.query("""
                SELECT id FROM operator_session WHERE user_id = \(userID) AND machine_id = \(machineID) AND ended_at IS NULL FOR UPDATE
                """).decode(Int64.self).first
            else { throw ProductionRuleError(.operatorNotSignedIn, "\(username) is not signed in at \(machine)") }
            let booked = try bookLabor(machineID: machineID, until: now, sessionID: sessionID, db)
            try db.execute("UPDATE operator_session SET ended_at = \(now) WHERE id = \(sessionID)")
            return booked
        }
    }

    /// Books, for the open sessions at a machine (or one session), the time since their last
    /// booking during which an operation there was in setup or running, and queues a labor
    /// message per booking.
    func bookLabor(machineID: Int64, until: Date, sessionID: Int64? = nil, _ db: PGConnection) throws -> [Int64: Double] {
        let rows = try db.query("""
            WITH s AS (
                SELECT id, user_id, booked_until FROM operator_session
                WHERE machine_id = \(machineID) AND ended_at IS NULL AND (\(sessionID)::bigint IS NULL OR id = \(sessionID))
                FOR UPDATE
            )
            INSERT INTO labor_booking (operation_id, user_id, started_at, ended_at)
            SELECT a.operation_id, s.user_id, greatest(a.started_at, s.booked_until), least(coalesce(a.ended_at, \(until)), \(until))
            FROM s JOIN operation_activity a ON a.machine_id = \(machineID) AND a.state IN ('setup', 'running')
            WHERE greatest(a.started_at, s.booked_until) < least(coalesce(a.ended_at, \(until)), \(until))
            ON CONFLICT (operation_id, user_id, started_at) DO NOTHING
            RETURNING id, operation_id, user_id, started_at, extract(epoch FROM ended_at - started_at)::float8
            """).decode((Int64, Int64, Int64, Date, Double).self)
        try db.execute("""
            UPDATE operator_session SET booked_until = greatest(booked_until, \(until))
            WHERE machine_id = \(machineID) AND ended_at IS NULL AND (\(sessionID)::bigint IS NULL OR id = \(sessionID))
            """)
        var seconds: [Int64: Double] = [:]
        for (bookingID, operationID, userID, startedAt, duration) in rows {
            seconds[operationID, default: 0] += duration
            let operation = try lockOperation(operationID, db)
            let (username, employee) = try db.query("SELECT username, employee_ref FROM app_user WHERE id = \(userID)")
                .decode((String, String?).self)[0]
            try Outbox.enqueue(
                .labor(LaborLine(operation: operation.reference, username: username, employeeRef: employee, startedAt: startedAt, seconds: duration)),
                key: "labor:\(bookingID)", stream: operation.stream, db)
        }
        return seconds
    }

    /// After an operation's last activity closed: labor, the operation's message, and the
    /// order's completion when this was its last open operation.
    func completed(_ operation: LockedOperation, by userID: Int64?, at now: Date, _ db: PGConnection) throws {
        if let machineID = operation.machineID {
            _ = try bookLabor(machineID: machineID, until: now, db)
        }
        let (run, setup, good, scrap, rework) = try db.query("""
            SELECT coalesce(sum(extract(epoch FROM a.ended_at - a.started_at)) FILTER (WHERE a.state = 'running'), 0)::float8,
                   coalesce(sum(extract(epoch FROM a.ended_at - a.started_at)) FILTER (WHERE a.state = 'setup'), 0)::float8,
                   o.quantity_good::float8, o.quantity_scrap::float8, o.quantity_rework::float8
            FROM work_order_operation o LEFT JOIN operation_activity a ON a.operation_id = o.id
            WHERE o.id = \(operation.id) GROUP BY o.id
            """).decode((Double, Double, Double, Double, Double).self)[0]
        let employee = try userID.flatMap { try db.query("SELECT employee_ref FROM app_user WHERE id = \($0)").decode(String?.self).first ?? nil }
        try Outbox.enqueue(
            .operationDone(OperationDone(
                operation: operation.reference, runSeconds: run, setupSeconds: setup, good: good, scrap: scrap, rework: rework,
                employeeRef: employee, completedAt: now)),
            key: "operation:\(operation.id)", stream: operation.stream, db)

        let open = try db.query("""
            SELECT count(*) FROM work_order_operation WHERE work_order_id = \(operation.workOrderID) AND state <> 'complete'
            """).decode(Int64.self)[0]
        guard open == 0 else { return }
        let (lastGood, totalScrap) = try db.query("""
            SELECT (SELECT quantity_good::float8 FROM work_order_operation WHERE work_order_id = \(operation.workOrderID)
                    ORDER BY sequence DESC LIMIT 1),
                   sum(quantity_scrap)::float8
            FROM work_order_operation WHERE work_order_id = \(operation.workOrderID)
            """).decode((Double, Double).self)[0]
        try db.execute("""
            UPDATE work_order SET state = 'completed', completed_at = \(now), updated_at = now() WHERE id = \(operation.workOrderID)
            """)
        try Outbox.enqueue(
            .orderDone(OrderDone(
                workOrder: operation.workOrder, workOrderRef: operation.workOrderRef, good: lastGood, scrap: totalScrap, completedAt: now)),
            key: "order:\(operation.workOrderID)", stream: operation.stream, db)
    }

    // MARK: Lookups

    /// An operation locked for update, with its order.
    struct LockedOperation {
        var id: Int64
        var workOrderID: Int64
        var workOrder: String
        var workOrderRef: String?
        var orderState: WorkOrderState
        var sequence: Int
        var operationRef: String?
        var state: OperationState
        var machineID: Int64?

        var reference: OperationReference {
            OperationReference(workOrder: workOrder, workOrderRef: workOrderRef, sequence: sequence, operationRef: operationRef)
        }

        /// Messages about one work order reach the ERP in the order they were written.
        var stream: String { "work_order:\(workOrder)" }
    }

    func lockOperation(_ id: Int64, _ db: PGConnection) throws -> LockedOperation {
        guard let row = try db.query("""
            SELECT o.id, wo.id, wo.number, wo.erp_ref, wo.state, o.sequence, o.erp_ref, o.state, o.machine_id
            FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id
            WHERE o.id = \(id) FOR UPDATE OF o
            """).decode((Int64, Int64, String, String?, String, Int, String?, String, Int64?).self).first
        else { throw ProductionRuleError(.notFound, "there is no operation \(id)") }
        return LockedOperation(
            id: row.0, workOrderID: row.1, workOrder: row.2, workOrderRef: row.3, orderState: WorkOrderState(rawValue: row.4) ?? .planned,
            sequence: row.5, operationRef: row.6, state: OperationState(rawValue: row.7) ?? .queued, machineID: row.8)
    }

    func userID(_ username: String, _ db: PGConnection) throws -> Int64 {
        try Lookup.userID(username, db)
    }

    func machineID(_ code: String, site: String, _ db: PGConnection) throws -> Int64 {
        guard let id = try db.query("""
            SELECT m.id FROM machine m JOIN site s ON s.id = m.site_id WHERE s.code = \(site) AND m.code = \(code) AND m.active
            """).decode(Int64.self).first
        else { throw ProductionRuleError(.notFound, "there is no active machine \(code) at site \(site)") }
        return id
    }
}
