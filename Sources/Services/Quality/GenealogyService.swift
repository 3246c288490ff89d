#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Postgres

/// Lots and serials, and what was made from what: each operation run consumes input lots and
/// produces output lots, with the machine, operator, work order and time. Traces run both
/// ways in one recursive query; a recall's impact is everything made from a suspect lot.
public final class GenealogyService: Sendable {
    let pool: PGPool
    let clock: @Sendable () -> Date

    public init(pool: PGPool, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.clock = clock
    }

    public enum LotKind: String, Sendable, Codable {
        case lot
        case serial
    }

    /// A quantity of a lot of a part.
    public struct LotQuantity: Sendable, Equatable {
        public var part: String
        public var lot: String
        public var quantity: Double
        public var kind: LotKind

        public init(part: String, lot: String, quantity: Double, kind: LotKind = .lot) {
            self.part = part
            self.lot = lot
            self.quantity = quantity
            self.kind = kind
        }

        /// One serial-numbered unit.
        public static func serial(part: String, _ serial: String) -> LotQuantity {
            LotQuantity(part: part, lot: serial, quantity: 1, kind: .serial)
        }
    }

    /// Registers a lot received or made outside an operation (raw material from a supplier).
    @discardableResult
    public func receive(_ lot: LotQuantity, by username: String) throws -> Int64 {
        try pool.transaction { db in
            let id = try create(lot, workOrderID: nil, at: clock(), db)
            try AuditTrail.record("lot.received", entity: "lot", id: String(id), actor: username, at: clock(),
                                  after: try AuditTrail.snapshot("lot", id: id, db), db)
            return id
        }
    }

    /// Records that an operation consumed `consumed` and produced `produced` (new lots, made
    /// here). Refused: consuming a lot that does not exist or is on hold, more than a lot
    /// holds, producing a lot that exists already, a serial of a quantity other than 1.
    /// A repeated `requestKey` is the same record.
    @discardableResult
    public func record(
        operationID: Int64, consumed: [LotQuantity], produced: [LotQuantity], by username: String?, requestKey: String? = nil
    ) throws -> Int64 {
        guard !produced.isEmpty else { throw ProductionRuleError(.invalidInput, "a genealogy record needs at least one output lot or serial") }
        for flow in consumed + produced where !(flow.quantity > 0 && flow.quantity.isFinite) {
            throw ProductionRuleError(.badQuantity, "lot \(flow.lot) has a quantity that is not a positive number")
        }
        return try pool.transaction { db in
            if let requestKey, let id = try db.query("SELECT id FROM lot_transformation WHERE request_key = \(requestKey)").decode(Int64.self).first {
                return id
            }
            let now = clock()
            guard let operation = try db.query("""
                SELECT o.work_order_id, o.machine_id FROM work_order_operation o WHERE o.id = \(operationID)
                """).decode((Int64, Int64?).self).first
            else { throw ProductionRuleError(.notFound, "there is no operation \(operationID)") }
            let userID = try username.map { try Lookup.userID($0, db) }
            let id = try db.query("""
                INSERT INTO lot_transformation (operation_id, work_order_id, machine_id, user_id, at, request_key)
                VALUES (\(operationID), \(operation.0), \(operation.1), \(userID), \(now), \(requestKey)) RETURNING id
                """).decode(Int64.self)[0]
            for input in consumed {
                let lotID = try Self.lotID(part: input.part, code: input.lot, db)
                if let reason = try db.query("SELECT reason FROM quality_hold WHERE lot_id = \(lotID) AND released_at IS NULL LIMIT 1")
                    .decode(String.self).first {
                    throw ProductionRuleError(.onHold, "lot \(input.lot) of \(input.part) is on hold (\(reason)) and cannot be used")
                }
                let left = try db.query("""
                    SELECT l.quantity::float8 - coalesce((SELECT sum(quantity)::float8 FROM lot_flow WHERE lot_id = l.id AND direction = 'in'), 0)
                    FROM lot l WHERE l.id = \(lotID) FOR UPDATE
                    """).decode(Double.self)[0]
                guard input.quantity <= left + 1e-9 else {
                    throw ProductionRuleError(.badQuantity, "lot \(input.lot) of \(input.part) has \(left) left; \(input.quantity) cannot be used")
                }
                try flow(id, lotID, "in", input.quantity, db)
            }
            for output in produced {
                let lotID = try create(output, workOrderID: operation.0, at: now, db)
                try flow(id, lotID, "out", output.quantity, db)
            }
            try AuditTrail.record(
                "genealogy.recorded", entity: "lot_transformation", id: String(id), actor: username ?? "system", at: now,
                after: try db.query("""
                    SELECT jsonb_build_object('operation', \(operationID), 'flows',
                        jsonb_agg(jsonb_build_object('lot', l.code, 'part', p.code, 'direction', f.direction, 'quantity', f.quantity) ORDER BY f.direction, l.code))::text
                    FROM lot_flow f JOIN lot l ON l.id = f.lot_id JOIN part p ON p.id = l.part_id WHERE f.transformation_id = \(id)
                    """).decode(String.self).first, db)
            return id
        }
    }

    private func flow(_ transformationID: Int64, _ lotID: Int64, _ direction: String, _ quantity: Double, _ db: PGConnection) throws {
        do {
            try db.execute("""
                INSERT INTO lot_flow (transformation_id, lot_id, direction, quantity) VALUES (\(transformationID), \(lotID), \(direction), \(quantity))
                """)
        } catch let error as PGError where error.sqlState == "23505" {
            throw ProductionRuleError(.invalidInput, "a lot appears twice on the same side of one genealogy record")
        }
    }

    private func create(_ lot: LotQuantity, workOrderID: Int64?, at now: Date, _ db: PGConnection) throws -> Int64 {
        guard lot.kind == .lot || lot.quantity == 1 else { throw ProductionRuleError(.badQuantity, "serial \(lot.lot) is one unit, not \(lot.quantity)") }
        guard !lot.lot.trimmedIsEmpty else { throw ProductionRuleError(.invalidInput, "a lot or serial needs its number") }
        let partID = try Lookup.partID(lot.part, db)
        let id = try db.query("""
            INSERT INTO lot (part_id, code, kind, quantity, work_order_id, created_at)
            VALUES (\(partID), \(lot.lot), \(lot.kind.rawValue), \(lot.quantity), \(workOrderID), \(now))
            ON CONFLICT (part_id, code) DO NOTHING RETURNING id
            """).decode(Int64.self)
        guard let id = id.first else { throw ProductionRuleError(.invalidInput, "\(lot.kind.rawValue) \(lot.lot) of \(lot.part) exists already") }
        return id
    }

    static func lotID(part: String, code: String, _ db: PGConnection) throws -> Int64 {
        guard let id = try db.query("SELECT l.id FROM lot l JOIN part p ON p.id = l.part_id WHERE p.code = \(part) AND l.code = \(code)")
            .decode(Int64.self).first
        else { throw ProductionRuleError(.notFound, "there is no lot or serial \(code) of \(part)") }
        return id
    }

    // MARK: Tracing

    public enum Direction: String, Sendable {
        /// Where a lot came from: its inputs, their inputs, and so on.
        case backward
        /// What was made from a lot, and from that, and so on.
        case forward
    }

    /// One lot reached by a trace, and the step that links it.
    public struct TraceStep: Sendable, Equatable {
        /// Steps from the lot traced (1 for its direct inputs or outputs).
        public var depth: Int
        public var part: String
        public var lot: String
        public var kind: LotKind
        /// The quantity that moved along this link.
        public var quantity: Double
        /// The lot on the near side of the link (closer to the lot traced).
        public var via: String
        public var workOrder: String?
        public var operation: Int?
        public var machine: String?
        public var operatorName: String?
        public var at: Date
    }

    /// The full trace of a lot in one recursive query, nearest first. A lot reached by two
    /// paths appears once per link.
    public func trace(part: String, lot: String, _ direction: Direction) throws -> [TraceStep] {
        try pool.withConnection { db in
            let start = try Self.lotID(part: part, code: lot, db)
            // Backward: from a lot produced ('out') by a transformation to its inputs ('in').
            let (from, to) = direction == .backward ? ("out", "in") : ("in", "out")
            return try db.query("""
                WITH RECURSIVE walk (lot_id, near_id, transformation_id, quantity, depth, path) AS (
                    SELECT next.lot_id, here.lot_id, here.transformation_id, next.quantity, 1, ARRAY[here.lot_id, next.lot_id]
                    FROM lot_flow here JOIN lot_flow next ON next.transformation_id = here.transformation_id AND next.direction = \(to)
                    WHERE here.lot_id = \(start) AND here.direction = \(from)
                  UNION ALL
                    SELECT next.lot_id, here.lot_id, here.transformation_id, next.quantity, w.depth + 1, w.path || next.lot_id
                    FROM walk w JOIN lot_flow here ON here.lot_id = w.lot_id AND here.direction = \(from)
                    JOIN lot_flow next ON next.transformation_id = here.transformation_id AND next.direction = \(to)
                    WHERE NOT next.lot_id = ANY (w.path) AND w.depth < 100
                )
                SELECT w.depth, p.code, l.code, l.kind, w.quantity::float8, near.code, wo.number, o.sequence, m.code, u.username, t.at
                FROM walk w JOIN lot l ON l.id = w.lot_id JOIN part p ON p.id = l.part_id JOIN lot near ON near.id = w.near_id
                JOIN lot_transformation t ON t.id = w.transformation_id
                LEFT JOIN work_order wo ON wo.id = t.work_order_id LEFT JOIN work_order_operation o ON o.id = t.operation_id
                LEFT JOIN machine m ON m.id = t.machine_id LEFT JOIN app_user u ON u.id = t.user_id
                ORDER BY w.depth, p.code, l.code, near.code
                """).decode((Int, String, String, String, Double, String, String?, Int?, String?, String?, Date).self).map {
                TraceStep(
                    depth: $0.0, part: $0.1, lot: $0.2, kind: LotKind(rawValue: $0.3) ?? .lot, quantity: $0.4, via: $0.5, workOrder: $0.6,
                    operation: $0.7, machine: $0.8, operatorName: $0.9, at: $0.10)
            }
        }
    }

    /// A recall's impact: every lot and serial made, directly or not, from a suspect lot, each
    /// once, with where it stands (on hold or not, consumed further or not).
    public struct Impact: Sendable, Equatable {
        public var part: String
        public var lot: String
        public var kind: LotKind
        public var quantity: Double
        public var workOrder: String?
        /// Nothing was made from it yet: it is finished goods or still in stock.
        public var endItem: Bool
        public var onHold: Bool
    }

    public func recallImpact(part: String, lot: String) throws -> [Impact] {
        let steps = try trace(part: part, lot: lot, .forward)
        var seen = Set<String>()
        let reached = steps.filter { seen.insert("\($0.part)\u{1F}\($0.lot)").inserted }
        return try pool.withConnection { db in
            try reached.map { step in
                let row = try db.query("""
                    SELECT l.quantity::float8, wo.number,
                           NOT EXISTS (SELECT 1 FROM lot_flow f WHERE f.lot_id = l.id AND f.direction = 'in'),
                           EXISTS (SELECT 1 FROM quality_hold h WHERE h.lot_id = l.id AND h.released_at IS NULL)
                    FROM lot l JOIN part p ON p.id = l.part_id LEFT JOIN work_order wo ON wo.id = l.work_order_id
                    WHERE p.code = \(step.part) AND l.code = \(step.lot)
                    """).decode((Double, String?, Bool, Bool).self)[0]
                return Impact(part: step.part, lot: step.lot, kind: step.kind, quantity: row.0, workOrder: row.1, endItem: row.2, onHold: row.3)
            }
        }
    }

    /// A trace as CSV (RFC 4180), a header line first.
    public static func csv(_ steps: [TraceStep]) -> String {
        func field(_ text: String?) -> String {
            guard let text else { return "" }
            // A leading =, +, - or @ would be a formula to a spreadsheet: quote it as text.
            let guarded = text.first.map { "=+-@".contains($0) } == true ? "'" + text : text
            guard guarded.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return guarded }
            return "\"" + guarded.replacing("\"", with: "\"\"") + "\""
        }
        var lines = ["depth,part,lot,kind,quantity,via,work_order,operation,machine,operator,at"]
        for s in steps {
            lines.append([
                String(s.depth), field(s.part), field(s.lot), s.kind.rawValue, "\(s.quantity)", field(s.via), field(s.workOrder),
                s.operation.map(String.init) ?? "", field(s.machine), field(s.operatorName), s.at.ISO8601Format(),
            ].joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
