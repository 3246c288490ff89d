#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Postgres

/// Every record type a pull writes has the ERP's key.
public protocol ERPRecord: Sendable {
    var ref: String { get }
}

extension ERPWorkCenter: ERPRecord {}
extension ERPPart: ERPRecord {}
extension ERPEmployee: ERPRecord {}
extension ERPBill: ERPRecord {}
extension ERPRouting: ERPRecord {}
extension ERPWorkOrder: ERPRecord {}

/// The pull job: master data and orders from the ERP into the plant model.
///
/// Each kind of record has a cursor, the newest change the ERP reported; the next pull asks
/// for changes since the cursor minus `overlap`, because an ERP stamps a record with its
/// transaction's start and may commit it after newer records were read. Reading a record
/// twice is harmless: every write is an upsert on the ERP's key that reports `unchanged`
/// when nothing differs. Only one node pulls at a time (a PostgreSQL advisory lock); the
/// others return at once with `ran == false`.
///
/// What is written: leaf work centers become machines at `site` (matched by code, else new and
/// not yet on a line; the MES owns them from then on); parts; employees become users with the operator role (matched by
/// `employee_ref`, no password until an administrator sets one); bills of materials;
/// routings; open orders become released work orders with the ERP's operations. An order the
/// MES has started is no longer changed by the ERP; a cancellation of a started order is
/// reported as a problem rather than applied.
public final class ERPPull: Sendable {
    let pool: PGPool
    let source: any ERPSource
    let site: String
    let overlap: Double
    let node: String
    let logger: Logger

    /// The advisory lock key of the pull job (any constant shared by every node).
    public static let lockKey: Int64 = 0x6D65_735F_7075_6C6C  // "mes_pull"

    public init(pool: PGPool, source: any ERPSource, site: String, overlap: Double = 600, node: String,
                logger: Logger = Logger(label: "mes.erp.pull")) {
        self.pool = pool
        self.source = source
        self.site = site
        self.overlap = overlap
        self.node = node
        self.logger = logger
    }

    /// What one kind of record did in a pull.
    public struct Counts: Sendable, Equatable, Codable {
        public var created = 0
        public var updated = 0
        public var unchanged = 0
        public var skipped = 0

        public init(created: Int = 0, updated: Int = 0, unchanged: Int = 0, skipped: Int = 0) {
            self.created = created
            self.updated = updated
            self.unchanged = unchanged
            self.skipped = skipped
        }
    }

    public struct Report: Sendable, Equatable {
        /// False when another node held the lock and this one did nothing.
        public var ran = true
        /// Per kind: work_centers, parts, employees, bills, routings, work_orders.
        public var counts: [String: Counts] = [:]
        /// Each record that could not be taken, with the reason.
        public var problems: [String] = []
    }

    /// A record the pull leaves out, with the reason.
    struct Skip: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Runs one pull of every kind of record, in dependency order.
    @discardableResult
    public func run() throws -> Report {
        try pool.withConnection { db in
            guard try db.query("SELECT pg_try_advisory_lock(\(Self.lockKey))").decode(Bool.self).first == true else {
                return Report(ran: false)
            }
            defer { _ = try? db.execute("SELECT pg_advisory_unlock(\(Self.lockKey))") }
            guard let (siteID, zone) = try db.query("SELECT id, time_zone FROM site WHERE code = \(site)").decode((Int64, String).self).first else {
                throw ERPError(.refused, "there is no site \(site) to pull the ERP's records into")
            }
            let started = Date()
            var report = Report()
            do {
                try pull("work_centers", db, &report, fetch: source.workCenters) { try self.apply($0, site: siteID, $1) }
                try pull("parts", db, &report, fetch: source.parts) { try self.apply($0, $1) }
                try pull("employees", db, &report, fetch: source.employees) { try self.apply($0, $1) }
                try pull("bills", db, &report, fetch: source.bills) { try self.apply($0, $1) }
                try pull("routings", db, &report, fetch: source.routings) { try self.apply($0, $1) }
                try pull("work_orders", db, &report, fetch: source.workOrders) { try self.apply($0, site: siteID, zone: zone, $1) }
            } catch {
                report.problems.append("pull stopped: \(error)")
                try? record(report, outcome: "failed", started: started, db)
                throw error
            }
            try record(report, outcome: "done", started: started, db)
            return report
        }
    }

    /// Pulls one kind of record: its changes since the cursor, written in transactions of
    /// 200 with a savepoint per record, so one bad record is skipped and reported alone.
    private func pull<R: ERPRecord>(
        _ entity: String, _ db: PGConnection, _ report: inout Report, fetch: (Date?) throws(ERPError) -> ERPChanges<R>,
        apply: (R, PGConnection) throws -> UpsertOutcome
    ) throws {
        let cursor = try db.query("SELECT last_modified FROM erp_sync_cursor WHERE entity = \(entity)").decode(Date.self).first
        let changes = try fetch(cursor.map { $0.addingTimeInterval(-overlap) })
        var counts = Counts()
        var problems: [String] = []
        var start = 0
        while start < changes.records.count {
            let chunk = changes.records[start..<min(start + 200, changes.records.count)]
            start += chunk.count
            try db.transaction { db in
                for record in chunk {
                    do {
                        switch try db.transaction({ try apply(record, $0) }) {
                        case .created: counts.created += 1
                        case .updated: counts.updated += 1
                        case .unchanged: counts.unchanged += 1
                        }
                    } catch let error as PGError where error.code == .server {
                        counts.skipped += 1
                        problems.append("\(entity) \(record.ref): \(error)")
                    } catch let skip as Skip {
                        counts.skipped += 1
                        problems.append("\(entity) \(record.ref): \(skip)")
                    }
                }
            }
        }
        if let newest = changes.newest {
            try db.execute("""
                INSERT INTO erp_sync_cursor (entity, last_modified) VALUES (\(entity), \(newest))
                ON CONFLICT (entity) DO UPDATE SET last_modified = greatest(erp_sync_cursor.last_modified, EXCLUDED.last_modified), updated_at = now()
                """)
        }
        for problem in problems { logger.warning("ERP record not taken", metadata: ["problem": "\(problem)"]) }
        report.counts[entity] = counts
        report.problems += problems
    }

    private func record(_ report: Report, outcome: String, started: Date, _ db: PGConnection) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let counts = String(decoding: try encoder.encode(report.counts), as: UTF8.self)
        let problems = String(decoding: try encoder.encode(report.problems), as: UTF8.self)
        try db.execute("""
            INSERT INTO erp_pull_run (node, started_at, finished_at, outcome, counts, problems)
            VALUES (\(node), \(started), now(), \(outcome), \(counts)::jsonb, \(problems)::jsonb)
            """)
    }

    // MARK: Writing each kind of record

    func apply(_ center: ERPWorkCenter, site: Int64, _ db: PGConnection) throws -> UpsertOutcome {
        // The plant model is the MES's: a machine, once made or linked, keeps its own name,
        // line and activity whatever the ERP later calls its work center.
        if try db.query("SELECT 1 FROM machine WHERE erp_ref = \(center.ref)").rowCount > 0 { return .unchanged }
        let code = Self.code(center.name, fallback: "WC-\(center.ref)")
        if try db.execute("""
            UPDATE machine SET erp_ref = \(center.ref), updated_at = now() WHERE site_id = \(site) AND code = \(code) AND erp_ref IS NULL
            """) == 1 { return .updated }
        guard try db.query("""
            INSERT INTO machine (site_id, code, name, erp_ref, active) VALUES (\(site), \(code), \(center.name), \(center.ref), \(center.active))
            ON CONFLICT (site_id, code) DO NOTHING RETURNING id
            """).rowCount == 1
        else { throw Skip("machine \(code) at the site belongs to another ERP work center") }
        return .created
    }

    func apply(_ part: ERPPart, _ db: PGConnection) throws -> UpsertOutcome {
        let linked = try db.execute("UPDATE part SET erp_ref = \(part.ref), updated_at = now() WHERE code = \(part.code) AND erp_ref IS NULL")
        let inserted = try db.query("""
            INSERT INTO part (code, name, unit, erp_ref, active) VALUES (\(part.code), \(part.name), \(part.unit), \(part.ref), \(part.active))
            ON CONFLICT (erp_ref) DO UPDATE SET code = EXCLUDED.code, name = EXCLUDED.name, unit = EXCLUDED.unit, active = EXCLUDED.active,
                updated_at = now()
            WHERE (part.code, part.name, part.unit, part.active) IS DISTINCT FROM (EXCLUDED.code, EXCLUDED.name, EXCLUDED.unit, EXCLUDED.active)
            RETURNING xmax = 0
            """).decode(Bool.self)
        return Self.outcome(inserted, linked: linked > 0)
    }

    func apply(_ employee: ERPEmployee, _ db: PGConnection) throws -> UpsertOutcome {
        if try db.execute("""
            UPDATE app_user SET display_name = \(employee.name), active = \(employee.active), updated_at = now()
            WHERE employee_ref = \(employee.ref) AND (display_name, active) IS DISTINCT FROM (\(employee.name), \(employee.active))
            """) == 1 { return .updated }
        if try db.query("SELECT 1 FROM app_user WHERE employee_ref = \(employee.ref)").rowCount > 0 { return .unchanged }
        var username = Self.username(employee.name)
        if try db.query("SELECT 1 FROM app_user WHERE lower(username) = \(username)").rowCount > 0 {
            username += ".\(Self.username(employee.ref))"
        }
        try db.execute("""
            WITH u AS (
                INSERT INTO app_user (username, display_name, employee_ref, active)
                VALUES (\(username), \(employee.name), \(employee.ref), \(employee.active)) RETURNING id
            )
            INSERT INTO user_role (user_id, role_code) SELECT id, 'operator' FROM u
            """)
        return .created
    }

    func apply(_ bill: ERPBill, _ db: PGConnection) throws -> UpsertOutcome {
        let partID = try partID(bill.partRef, db)
        guard bill.outputQuantity > 0 else { throw Skip("its output quantity is \(bill.outputQuantity)") }
        let (billID, inserted, changed) = try db.query("""
            WITH old AS (SELECT part_id, name, output_quantity, active FROM bill_of_materials WHERE erp_ref = \(bill.ref))
            INSERT INTO bill_of_materials (part_id, name, output_quantity, erp_ref, active)
            VALUES (\(partID), \(bill.name), \(bill.outputQuantity), \(bill.ref), \(bill.active))
            ON CONFLICT (erp_ref) DO UPDATE SET part_id = EXCLUDED.part_id, name = EXCLUDED.name, output_quantity = EXCLUDED.output_quantity,
                active = EXCLUDED.active, updated_at = now()
            RETURNING id, xmax = 0, (SELECT (old.part_id, old.name, old.output_quantity, old.active)
                IS DISTINCT FROM (\(partID), \(bill.name), \(bill.outputQuantity)::numeric(14, 4), \(bill.active)) FROM old)
            """).decode((Int64, Bool, Bool?).self)[0]
        let before = try components(billID, db)
        try db.execute("DELETE FROM bom_component WHERE bom_id = \(billID)")
        for (index, component) in bill.components.enumerated() {
            try db.execute("""
                INSERT INTO bom_component (bom_id, position, part_id, quantity, unit)
                VALUES (\(billID), \(index + 1), \(try self.partID(component.partRef, db)), \(component.quantity), \(component.unit))
                """)
        }
        if inserted { return .created }
        let after = try components(billID, db)
        return changed == true || before != after ? .updated : .unchanged
    }

    private func components(_ billID: Int64, _ db: PGConnection) throws -> [String] {
        try db.query("""
            SELECT part_id || ' ' || quantity || ' ' || unit FROM bom_component WHERE bom_id = \(billID) ORDER BY position
            """).decode(String.self)
    }

    func apply(_ routing: ERPRouting, _ db: PGConnection) throws -> UpsertOutcome {
        let partID = try partID(routing.partRef, db)
        let (routingID, inserted, changed) = try db.query("""
            WITH old AS (SELECT part_id, name, active FROM routing WHERE erp_ref = \(routing.ref))
            INSERT INTO routing (part_id, name, erp_ref, active) VALUES (\(partID), \(routing.name), \(routing.ref), \(routing.active))
            ON CONFLICT (erp_ref) DO UPDATE SET part_id = EXCLUDED.part_id, name = EXCLUDED.name, active = EXCLUDED.active, updated_at = now()
            RETURNING id, xmax = 0,
                (SELECT (old.part_id, old.name, old.active) IS DISTINCT FROM (\(partID), \(routing.name), \(routing.active)) FROM old)
            """).decode((Int64, Bool, Bool?).self)[0]
        var operationsChanged = 0
        for operation in Self.numbered(routing.operations) {
            operationsChanged += try db.execute("""
                INSERT INTO routing_operation (routing_id, sequence, name, machine_id, erp_ref)
                VALUES (\(routingID), \(operation.sequence), \(operation.name),
                        (SELECT id FROM machine WHERE erp_ref = \(operation.workCenterRef)), \(operation.ref))
                ON CONFLICT (routing_id, sequence) DO UPDATE SET name = EXCLUDED.name,
                    machine_id = coalesce(EXCLUDED.machine_id, routing_operation.machine_id), erp_ref = EXCLUDED.erp_ref, updated_at = now()
                WHERE (routing_operation.name, routing_operation.machine_id, routing_operation.erp_ref)
                      IS DISTINCT FROM (EXCLUDED.name, coalesce(EXCLUDED.machine_id, routing_operation.machine_id), EXCLUDED.erp_ref)
                """)
        }
        if inserted { return .created }
        return changed == true || operationsChanged > 0 ? .updated : .unchanged
    }

    func apply(_ order: ERPWorkOrder, site: Int64, zone: String, _ db: PGConnection) throws -> UpsertOutcome {
        let existing = try db.query("SELECT id, state FROM work_order WHERE erp_ref = \(order.ref) FOR UPDATE").decode((Int64, String).self).first
        let editable = ["planned", "released"]
        if order.status == .cancelled {
            guard let (id, state) = existing, state != "cancelled" else { return .unchanged }
            guard editable.contains(state) else {
                throw Skip("cancelled in the ERP, but work order \(order.number) is already \(state) in the MES; settle it in the ERP")
            }
            try db.execute("UPDATE work_order SET state = 'cancelled', updated_at = now() WHERE id = \(id)")
            return .updated
        }
        let partID = try partID(order.partRef, db)
        guard order.quantity > 0 else { throw Skip("its quantity is \(order.quantity)") }
        let routingID = try order.routingRef.flatMap { try db.query("SELECT id FROM routing WHERE erp_ref = \($0)").decode(Int64.self).first }
        let billID = try order.billRef.flatMap { try db.query("SELECT id FROM bill_of_materials WHERE erp_ref = \($0)").decode(Int64.self).first }
        // The ERP's days are the plant's days: an order starts at the site's local midnight
        // and is due at the end of its day.
        let start: SQL = "(\(order.plannedStart)::date::timestamp AT TIME ZONE \(zone))"
        let due: SQL = "((\(order.due)::date + 1)::timestamp AT TIME ZONE \(zone))"
        guard let (id, state) = existing else {
            let id = try db.query("""
                INSERT INTO work_order (number, reference, part_id, routing_id, bom_id, site_id, quantity_planned, state, released_at,
                                        planned_start, due_at, erp_ref)
                VALUES (\(order.number), \(order.reference), \(partID), \(routingID), \(billID), \(site), \(order.quantity), 'released', now(),
                        \(start), \(due), \(order.ref))
                RETURNING id
                """).decode(Int64.self)[0]
            try writeOperations(order, orderID: id, routingID: routingID, db)
            guard try db.query("SELECT 1 FROM work_order_operation WHERE work_order_id = \(id)").rowCount > 0 else {
                throw Skip("order \(order.number) has no operations in the ERP and no routing to take them from")
            }
            return .created
        }
        guard editable.contains(state) else { return .unchanged }
        let changed = try db.execute("""
            UPDATE work_order SET reference = \(order.reference), quantity_planned = \(order.quantity), routing_id = \(routingID),
                bom_id = \(billID), planned_start = \(start), due_at = \(due), updated_at = now()
            WHERE id = \(id) AND (reference, quantity_planned, routing_id, bom_id, planned_start, due_at)
                IS DISTINCT FROM (\(order.reference), \(order.quantity)::numeric(14, 3), \(routingID), \(billID), \(start), \(due))
            """)
        let operationsChanged = try writeOperations(order, orderID: id, routingID: routingID, db)
        return changed + operationsChanged > 0 ? .updated : .unchanged
    }

    /// Adds or renames the order's operations from the ERP; an operation that has started, or
    /// a machine the MES already chose, is left alone. Without operations from the ERP they
    /// come from the routing, as at a release in the MES.
    @discardableResult
    private func writeOperations(_ order: ERPWorkOrder, orderID: Int64, routingID: Int64?, _ db: PGConnection) throws -> Int {
        var changed = 0
        for operation in Self.numbered(order.operations) {
            changed += try db.execute("""
                INSERT INTO work_order_operation (work_order_id, routing_operation_id, sequence, name, machine_id, ideal_cycle_seconds, erp_ref)
                SELECT \(orderID), ro.id, \(operation.sequence), \(operation.name),
                       coalesce((SELECT id FROM machine WHERE erp_ref = \(operation.workCenterRef)), ro.machine_id), ro.ideal_cycle_seconds,
                       \(operation.ref)
                FROM (SELECT 1) one LEFT JOIN routing_operation ro ON ro.routing_id = \(routingID) AND ro.sequence = \(operation.sequence)
                ON CONFLICT (work_order_id, sequence) DO UPDATE SET name = EXCLUDED.name,
                    machine_id = coalesce(work_order_operation.machine_id, EXCLUDED.machine_id), erp_ref = EXCLUDED.erp_ref, updated_at = now()
                WHERE work_order_operation.state = 'queued'
                  AND (work_order_operation.name, work_order_operation.erp_ref, work_order_operation.machine_id IS NULL AND EXCLUDED.machine_id IS NOT NULL)
                      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.erp_ref, false)
                """)
        }
        if order.operations.isEmpty, let routingID {
            changed += try db.execute("""
                INSERT INTO work_order_operation (work_order_id, routing_operation_id, sequence, name, machine_id, ideal_cycle_seconds)
                SELECT \(orderID), ro.id, ro.sequence, ro.name, ro.machine_id, ro.ideal_cycle_seconds FROM routing_operation ro
                WHERE ro.routing_id = \(routingID)
                ON CONFLICT (work_order_id, sequence) DO NOTHING
                """)
        }
        return changed
    }

    private func partID(_ ref: String, _ db: PGConnection) throws -> Int64 {
        guard let id = try db.query("SELECT id FROM part WHERE erp_ref = \(ref)").decode(Int64.self).first else {
            throw Skip("its part \(ref) is not known (not pulled, or refused)")
        }
        return id
    }

    // MARK: Helpers

    static func outcome(_ inserted: [Bool], linked: Bool) -> UpsertOutcome {
        guard let first = inserted.first else { return linked ? .updated : .unchanged }
        return first ? .created : .updated
    }

    /// Operation numbers as the MES needs them: positive and unique. The ERP's numbers are
    /// kept when they are; otherwise the operations are numbered 10, 20, 30 in their order.
    static func numbered(_ operations: [ERPOperation]) -> [ERPOperation] {
        let sequences = operations.map(\.sequence)
        if sequences.allSatisfy({ $0 > 0 }) && Set(sequences).count == sequences.count { return operations }
        return operations.enumerated().map { index, operation in
            var copy = operation
            copy.sequence = (index + 1) * 10
            return copy
        }
    }

    /// A plant-model code from a name: letters, digits, `_`, `.` and `-`, others as `-`.
    static func code(_ name: String, fallback: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        var code = String(name.map { allowed.contains($0) ? $0 : "-" })
        while let first = code.first, !(first.isLetter || first.isNumber) { code.removeFirst() }
        return code.isEmpty ? fallback : code
    }

    /// A login from a person's name: "Operator Two" becomes "operator.two".
    static func username(_ name: String) -> String {
        var result = ""
        for character in name.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                result.append(character)
            } else if !result.isEmpty && result.last != "." {
                result.append(".")
            }
        }
        while result.last == "." { result.removeLast() }
        return result.isEmpty ? "employee" : result
    }
}
