#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Postgres

/// Production execution: releasing work orders, dispatching their operations, running them
/// through their states, and the quantities reported. Every change that the ERP must hear
/// about is written to the outbox in the same transaction.
///
/// Refusals are `ProductionRuleError`s, in words an operator can act on; the web app turns
/// them into 409 or 422 pages.
public final class ProductionService: Sendable {
    let pool: PGPool
    let clock: @Sendable () -> Date

    public init(pool: PGPool, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.clock = clock
    }

    /// An operation as the floor sees it.
    public struct OperationStatus: Sendable, Equatable {
        public var id: Int64
        public var workOrder: String
        public var sequence: Int
        public var name: String
        public var state: OperationState
        public var machine: String?
        public var good: Double
        public var scrap: Double
        public var rework: Double
    }

    // MARK: Release and dispatch

    /// Releases a planned order to the floor: its operations are copied from its routing (if
    /// the ERP did not bring them), each with the routing's machine and ideal cycle time.
    @discardableResult
    public func release(workOrder number: String, by actor: String = "system") throws -> [OperationStatus] {
        try pool.transaction { db in
            guard let (orderID, state) = try db.query("SELECT id, state FROM work_order WHERE number = \(number) FOR UPDATE")
                .decode((Int64, String).self).first
            else { throw ProductionRuleError(.notFound, "there is no work order \(number)") }
            guard state == WorkOrderState.planned.rawValue else {
                throw ProductionRuleError(.invalidTransition, "work order \(number) is \(state), not planned; it cannot be released again")
            }
            let operations = try release(orderID: orderID, number: number, db)
            try AuditTrail.record(
                "work_order.released", entity: "work_order", id: number, actor: actor, at: clock(), before: #"{"state": "planned"}"#,
                after: #"{"state": "released"}"#, db)
            return operations
        }
    }

    /// Releases a planned order locked by the caller.
    func release(orderID: Int64, number: String, _ db: PGConnection) throws -> [OperationStatus] {
        try db.execute("""
            INSERT INTO work_order_operation (work_order_id, routing_operation_id, sequence, name, machine_id, ideal_cycle_seconds)
            SELECT wo.id, ro.id, ro.sequence, ro.name, ro.machine_id, ro.ideal_cycle_seconds
            FROM work_order wo JOIN routing_operation ro ON ro.routing_id = wo.routing_id
            WHERE wo.id = \(orderID)
              AND NOT EXISTS (SELECT 1 FROM work_order_operation x WHERE x.work_order_id = wo.id)
            """)
        guard try db.query("SELECT 1 FROM work_order_operation WHERE work_order_id = \(orderID)").rowCount > 0 else {
            throw ProductionRuleError(.notFound, "work order \(number) has no operations and no routing to take them from")
        }
        try db.execute("""
            UPDATE work_order SET state = 'released', released_at = \(clock()), updated_at = now() WHERE id = \(orderID)
            """)
        return try operations(workOrderID: orderID, db)
    }

    /// Assigns an operation to a machine (by code, within the order's site) and, optionally,
    /// an operator. A running operation cannot move to another machine.
    public func dispatch(operationID: Int64, machine: String, operator username: String? = nil, by actor: String = "system") throws {
        try pool.transaction { db in
            let operation = try lockOperation(operationID, db)
            guard operation.state == .queued || operation.state == .paused || operation.machineID == nil else {
                throw ProductionRuleError(.invalidTransition, "an operation that is \(operation.state.rawValue) cannot move to another machine")
            }
            guard let machineID = try db.query("""
                SELECT m.id FROM machine m JOIN work_order wo ON wo.site_id = m.site_id
                JOIN work_order_operation o ON o.work_order_id = wo.id
                WHERE o.id = \(operationID) AND m.code = \(machine) AND m.active
                """).decode(Int64.self).first
            else { throw ProductionRuleError(.notFound, "there is no active machine \(machine) at the order's site") }
            var operatorID: Int64?
            if let username {
                operatorID = try userID(username, db)
            }
            let before = try AuditTrail.snapshot("work_order_operation", id: operationID, db)
            try db.execute("""
                UPDATE work_order_operation SET machine_id = \(machineID), operator_id = coalesce(\(operatorID), operator_id), updated_at = now()
                WHERE id = \(operationID)
                """)
            try AuditTrail.record(
                "operation.dispatched", entity: "work_order_operation", id: String(operationID), actor: actor, at: clock(), before: before,
                after: try AuditTrail.snapshot("work_order_operation", id: operationID, db), db)
        }
    }

    // MARK: State changes

    /// Applies `action` to an operation, checking the rules of `OperationStateMachine` against
    /// the order's state and the machine's other operations. Completing an operation books the
    /// labor of the operators signed in at its machine and queues the ERP messages; completing
    /// the order's last one completes the order.
    @discardableResult
    public func perform(_ action: OperationAction, operationID: Int64, by username: String? = nil) throws -> OperationState {
        try pool.transaction { db in try perform(action, operationID: operationID, by: username, at: clock(), db) }
    }

    /// `perform` inside the caller's transaction (a quality hold pauses a running operation).
    func perform(_ action: OperationAction, operationID: Int64, by username: String?, at now: Date, _ db: PGConnection) throws -> OperationState {
        do {
            let operation = try lockOperation(operationID, db)
            // Lock the machine row so two operators starting two operations at once are serialised.
            var occupancy = OperationStateMachine.MachineOccupancy()
            if let machineID = operation.machineID {
                let parallel = try db.query("SELECT parallel_operations FROM machine WHERE id = \(machineID) FOR UPDATE").decode(Bool.self)
                occupancy.allowsParallel = parallel.first ?? false
                occupancy.busyWith = try db.query("""
                    SELECT wo.number || ' operation ' || o.sequence FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id
                    WHERE o.machine_id = \(machineID) AND o.state IN ('setup', 'running') AND o.id <> \(operationID)
                    ORDER BY o.started_at
                    """).decode(String.self)
            }
            let target = try OperationStateMachine.next(
                operation.state, action, order: operation.orderState, hasMachine: operation.machineID != nil, machine: occupancy)
            let userID = try username.map { try self.userID($0, db) }
            try QualityGate.check(operationID: operationID, target: target, userID: userID, username: username, at: now, db)

            try db.execute("UPDATE operation_activity SET ended_at = \(now) WHERE operation_id = \(operationID) AND ended_at IS NULL")
            if target != .complete, let machineID = operation.machineID {
                try db.execute("""
                    INSERT INTO operation_activity (operation_id, machine_id, state, started_at, user_id)
                    VALUES (\(operationID), \(machineID), \(target.rawValue), \(now), \(userID))
                    """)
            }
            try db.execute("""
                UPDATE work_order_operation SET state = \(target.rawValue), updated_at = now(),
                    started_at = coalesce(started_at, \(target == .complete ? nil : now)),
                    ended_at = \(target == .complete ? now : nil),
                    operator_id = coalesce(\(userID), operator_id)
                WHERE id = \(operationID)
                """)
            if operation.orderState == .released {
                try db.execute("UPDATE work_order SET state = 'in_progress', updated_at = now() WHERE id = \(operation.workOrderID)")
            }
            if target == .complete {
                try completed(operation, by: userID, at: now, db)
            }
            try AuditTrail.record(
                "operation.\(action.rawValue)", entity: "work_order_operation", id: String(operationID), actor: username ?? "system", at: now,
                before: #"{"state": "\#(operation.state.rawValue)"}"#, after: #"{"state": "\#(target.rawValue)"}"#, db)
            return target
        }
    }

    // MARK: Quantities

    /// What a report did: stored, or recognised as a resubmission of the same form.
    public enum ReportOutcome: Sendable, Equatable {
        case recorded(id: Int64)
        case duplicate(id: Int64)
    }

    /// Records good, scrap or rework parts at an operation that has started. Scrap and rework
    /// need an active reason code of their kind. `requestKey` (the form's token) makes a
    /// resubmission after a lost answer harmless.
    @discardableResult
    public func report(
        operationID: Int64, _ kind: QuantityKind, quantity: Double, reason: String? = nil, note: String? = nil,
        photo: Upload? = nil, by username: String? = nil, requestKey: String? = nil
    ) throws -> ReportOutcome {
        try pool.transaction { db in
            try report(
                operationID: operationID, kind, quantity: quantity, reason: reason, note: note, photo: photo, by: username, at: clock(),
                requestKey: requestKey, db)
        }
    }

    /// `report` inside the caller's transaction (a nonconformance's disposition reports its scrap).
    func report(
        operationID: Int64, _ kind: QuantityKind, quantity: Double, reason: String?, note: String?, photo: Upload? = nil, by username: String?,
        at now: Date, requestKey: String?, _ db: PGConnection
    ) throws -> ReportOutcome {
        do {
            if let requestKey, let id = try db.query("SELECT id FROM production_report WHERE request_key = \(requestKey)").decode(Int64.self).first {
                return .duplicate(id: id)
            }
            guard quantity > 0, quantity.isFinite else {
                throw ProductionRuleError(.badQuantity, "a quantity must be a positive number, not \(quantity)")
            }
            let operation = try lockOperation(operationID, db)
            guard operation.state != .queued else {
                throw ProductionRuleError(.invalidTransition, "the operation has not started; start or set it up before reporting parts")
            }
            if kind != .good {
                guard let reason, !reason.isEmpty else {
                    throw ProductionRuleError(.reasonRequired, "\(kind.rawValue) needs a reason code")
                }
                guard try db.query("SELECT 1 FROM reason_code WHERE kind = \(kind.rawValue) AND code = \(reason) AND active").rowCount > 0 else {
                    throw ProductionRuleError(.reasonRequired, "\(reason) is not an active \(kind.rawValue) reason code")
                }
            }
            let userID = try username.map { try self.userID($0, db) }
            let attachmentID = try photo.map { try Attachments.store($0, by: userID, at: now, db).id }
            let id = try db.query("""
                INSERT INTO production_report (operation_id, kind, quantity, reason_kind, reason_code, note, user_id, reported_at, request_key, attachment_id)
                VALUES (\(operationID), \(kind.rawValue), \(quantity), \(kind == .good ? nil : kind.rawValue), \(kind == .good ? nil : reason),
                        \(note), \(userID), \(now), \(requestKey), \(attachmentID))
                RETURNING id
                """).decode(Int64.self)[0]
            try AuditTrail.record(
                "production.reported", entity: "production_report", id: String(id), actor: username ?? "system", at: now,
                after: try AuditTrail.snapshot("production_report", id: id, db), db)
            try db.execute("""
                UPDATE work_order_operation SET quantity_\(unsafeRaw: kind.rawValue) = quantity_\(unsafeRaw: kind.rawValue) + \(quantity),
                    updated_at = now() WHERE id = \(operationID)
                """)
            if kind == .scrap, let reason {
                try Outbox.enqueue(
                    .scrap(ScrapLine(operation: operation.reference, quantity: quantity, reason: reason, reportedAt: now)),
                    key: "scrap:\(id)", stream: operation.stream, db)
            }
            return .recorded(id: id)
        }
    }

    /// The operations of one work order, in sequence.
    public func operations(workOrder number: String) throws -> [OperationStatus] {
        try pool.transaction { db in
            guard let id = try db.query("SELECT id FROM work_order WHERE number = \(number)").decode(Int64.self).first else {
                throw ProductionRuleError(.notFound, "there is no work order \(number)")
            }
            return try operations(workOrderID: id, db)
        }
    }

    func operations(workOrderID: Int64, _ db: PGConnection) throws -> [OperationStatus] {
        try db.query("""
            SELECT o.id, wo.number, o.sequence, o.name, o.state, m.code, o.quantity_good::float8, o.quantity_scrap::float8, o.quantity_rework::float8
            FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id LEFT JOIN machine m ON m.id = o.machine_id
            WHERE o.work_order_id = \(workOrderID) ORDER BY o.sequence
            """).decode((Int64, String, Int, String, String, String?, Double, Double, Double).self).map {
            OperationStatus(
                id: $0.0, workOrder: $0.1, sequence: $0.2, name: $0.3, state: OperationState(rawValue: $0.4) ?? .queued, machine: $0.5,
                good: $0.6, scrap: $0.7, rework: $0.8)
        }
    }
}

/// The three kinds of reported parts.
public enum QuantityKind: String, Sendable, CaseIterable, Codable {
    case good
    case scrap
    case rework
}
