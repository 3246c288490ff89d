#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Postgres

/// A work order as an ERP without a connector sends it, by the REST API or a CSV file, in the
/// plant's own codes.
public struct WorkOrderInput: Sendable, Equatable, Codable {
    public struct Operation: Sendable, Equatable, Codable {
        public var sequence: Int
        public var name: String
        /// A machine code at the order's site.
        public var machine: String?
        public var idealCycleSeconds: Double?

        public init(sequence: Int, name: String, machine: String? = nil, idealCycleSeconds: Double? = nil) {
            self.sequence = sequence
            self.name = name
            self.machine = machine
            self.idealCycleSeconds = idealCycleSeconds
        }
    }

    public var number: String
    public var part: String
    public var quantity: Double
    public var site: String
    public var reference: String?
    public var plannedStart: Date?
    public var due: Date?
    public var priority: Int?
    /// Release it to the floor now (default: leave it planned).
    public var release: Bool?
    /// Its operations; without them they come from the part's routing.
    public var operations: [Operation]?

    public init(
        number: String, part: String, quantity: Double, site: String, reference: String? = nil, plannedStart: Date? = nil, due: Date? = nil,
        priority: Int? = nil, release: Bool? = nil, operations: [Operation]? = nil
    ) {
        self.number = number
        self.part = part
        self.quantity = quantity
        self.site = site
        self.reference = reference
        self.plannedStart = plannedStart
        self.due = due
        self.priority = priority
        self.release = release
        self.operations = operations
    }
}

/// Work orders from outside: create or update, by number, and release.
extension ProductionService {
    /// Creates the order, or updates it while the floor has not started it. Refusals:
    /// `notFound` (site, part, machine), `invalidInput` (quantity, operations), `orderStarted`.
    @discardableResult
    public func upsert(_ input: WorkOrderInput) throws -> UpsertOutcome {
        try pool.transaction { db in try upsert(input, db) }
    }

    /// Several orders in one transaction: all of them or none. A refusal names the order's
    /// position (1-based) in `inputs`.
    public func upsert(all inputs: [WorkOrderInput]) throws -> [UpsertOutcome] {
        try pool.transaction { db in
            var outcomes: [UpsertOutcome] = []
            for (index, input) in inputs.enumerated() {
                do {
                    outcomes.append(try upsert(input, db))
                } catch let error as ProductionRuleError {
                    throw ProductionRuleError(error.code, "order \(index + 1) (\(input.number)): \(error.message)")
                }
            }
            return outcomes
        }
    }

    func upsert(_ input: WorkOrderInput, _ db: PGConnection) throws -> UpsertOutcome {
        guard !input.number.isEmpty else { throw ProductionRuleError(.invalidInput, "a work order needs a number") }
        guard input.quantity > 0, input.quantity.isFinite, input.quantity < 1e11 else {
            throw ProductionRuleError(.invalidInput, "quantity must be a positive number, not \(input.quantity)")
        }
        if let operations = input.operations {
            let sequences = operations.map(\.sequence)
            guard sequences.allSatisfy({ $0 > 0 }), Set(sequences).count == sequences.count else {
                throw ProductionRuleError(.invalidInput, "operation numbers must be positive and different")
            }
            guard operations.allSatisfy({ !$0.name.isEmpty && ($0.idealCycleSeconds ?? 1) > 0 }) else {
                throw ProductionRuleError(.invalidInput, "every operation needs a name, and a positive ideal cycle time if it has one")
            }
        }
        guard let siteID = try db.query("SELECT id FROM site WHERE code = \(input.site)").decode(Int64.self).first else {
            throw ProductionRuleError(.notFound, "there is no site \(input.site)")
        }
        guard let partID = try db.query("SELECT id FROM part WHERE code = \(input.part) AND active").decode(Int64.self).first else {
            throw ProductionRuleError(.notFound, "there is no active part \(input.part)")
        }
        var machines: [String: Int64] = [:]
        for code in Set((input.operations ?? []).compactMap(\.machine)) {
            guard let id = try db.query("SELECT id FROM machine WHERE site_id = \(siteID) AND code = \(code) AND active").decode(Int64.self).first else {
                throw ProductionRuleError(.notFound, "there is no active machine \(code) at site \(input.site)")
            }
            machines[code] = id
        }
        let routingID = try db.query("""
            SELECT id FROM routing WHERE part_id = \(partID) AND active ORDER BY version DESC, id DESC LIMIT 1
            """).decode(Int64.self).first
        let existing = try db.query("SELECT id, state, site_id FROM work_order WHERE number = \(input.number) FOR UPDATE")
            .decode((Int64, String, Int64).self).first
        let outcome: UpsertOutcome
        let orderID: Int64
        if let (id, state, site) = existing {
            guard state == WorkOrderState.planned.rawValue || state == WorkOrderState.released.rawValue else {
                throw ProductionRuleError(.orderStarted, "work order \(input.number) is \(state); the MES no longer takes changes to it")
            }
            guard site == siteID else { throw ProductionRuleError(.invalidInput, "work order \(input.number) belongs to another site") }
            orderID = id
            let changed = try db.execute("""
                UPDATE work_order SET part_id = \(partID), quantity_planned = \(input.quantity), reference = \(input.reference),
                    planned_start = \(input.plannedStart), due_at = \(input.due), priority = coalesce(\(input.priority), priority),
                    routing_id = coalesce(routing_id, \(routingID)), updated_at = now()
                WHERE id = \(id) AND (part_id, quantity_planned, reference, planned_start, due_at, priority)
                    IS DISTINCT FROM (\(partID), \(input.quantity)::numeric(14, 3), \(input.reference), \(input.plannedStart), \(input.due),
                                      coalesce(\(input.priority), priority))
                """)
            outcome = changed > 0 ? .updated : .unchanged
        } else {
            let ids: [Int64] = try db.query("""
                INSERT INTO work_order (number, reference, part_id, routing_id, site_id, quantity_planned, priority, planned_start, due_at)
                VALUES (\(input.number), \(input.reference), \(partID), \(routingID), \(siteID), \(input.quantity), coalesce(\(input.priority), 0),
                        \(input.plannedStart), \(input.due))
                RETURNING id
                """).decode(Int64.self)
            orderID = ids[0]
            outcome = .created
        }
        var operationsChanged = 0
        for operation in input.operations ?? [] {
            operationsChanged += try db.execute("""
                INSERT INTO work_order_operation (work_order_id, sequence, name, machine_id, ideal_cycle_seconds)
                VALUES (\(orderID), \(operation.sequence), \(operation.name), \(operation.machine.flatMap { machines[$0] }), \(operation.idealCycleSeconds))
                ON CONFLICT (work_order_id, sequence) DO UPDATE SET name = EXCLUDED.name,
                    machine_id = coalesce(EXCLUDED.machine_id, work_order_operation.machine_id),
                    ideal_cycle_seconds = coalesce(EXCLUDED.ideal_cycle_seconds, work_order_operation.ideal_cycle_seconds), updated_at = now()
                WHERE work_order_operation.state = 'queued'
                  AND (work_order_operation.name, work_order_operation.machine_id, work_order_operation.ideal_cycle_seconds)
                      IS DISTINCT FROM (EXCLUDED.name, coalesce(EXCLUDED.machine_id, work_order_operation.machine_id),
                                        coalesce(EXCLUDED.ideal_cycle_seconds, work_order_operation.ideal_cycle_seconds))
                """)
        }
        // A new order is planned; an existing one keeps the state read above.
        if input.release == true, (existing?.1 ?? WorkOrderState.planned.rawValue) == WorkOrderState.planned.rawValue {
            _ = try release(orderID: orderID, number: input.number, db)
            return outcome == .created ? .created : .updated
        }
        return outcome == .unchanged && operationsChanged > 0 ? .updated : outcome
    }

    /// An order with its operations, as the API shows it.
    public struct WorkOrderStatus: Sendable, Equatable {
        public var number: String
        public var reference: String?
        public var part: String
        public var site: String
        public var quantity: Double
        public var state: String
        public var plannedStart: Date?
        public var due: Date?
        public var erpRef: String?
        public var operations: [OperationStatus]
    }

    public func workOrder(_ number: String) throws -> WorkOrderStatus {
        try pool.transaction { db in
            guard let row = try db.query("""
                SELECT wo.id, wo.number, wo.reference, p.code, s.code, wo.quantity_planned::float8, wo.state, wo.planned_start, wo.due_at, wo.erp_ref
                FROM work_order wo JOIN part p ON p.id = wo.part_id JOIN site s ON s.id = wo.site_id WHERE wo.number = \(number)
                """).decode((Int64, String, String?, String, String, Double, String, Date?, Date?, String?).self).first
            else { throw ProductionRuleError(.notFound, "there is no work order \(number)") }
            return WorkOrderStatus(
                number: row.1, reference: row.2, part: row.3, site: row.4, quantity: row.5, state: row.6, plannedStart: row.7, due: row.8,
                erpRef: row.9, operations: try operations(workOrderID: row.0, db))
        }
    }
}
