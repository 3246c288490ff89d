#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Postgres

/// The demo plant `mes demo` builds: a Tier-2 automotive machining plant of 22 machines
/// (machining centres, lathes, grinders) on three lines, two shifts, parts with their routings,
/// reason codes, a bore-diameter characteristic with frozen limits, a person for each role,
/// and released work orders, a few already running. Made through the services where they
/// exist, so it is audited like real work.
public enum DemoPlant {
    /// A demo sign-in, printed for the newcomer.
    public struct Login: Sendable {
        public var role: String
        public var username: String
        public var password: String
        public var badge: String?
        public var pin: String?
    }

    public static let site = "S1"
    public static let logins = [
        Login(role: "operator", username: "ana", password: "demo-ana-2026", badge: "1001", pin: "1234"),
        Login(role: "supervisor", username: "sam", password: "demo-sam-2026"),
        Login(role: "quality", username: "quinn", password: "demo-quinn-2026"),
        Login(role: "manager", username: "mia", password: "demo-mia-2026"),
        Login(role: "admin", username: "adam", password: "demo-adam-2026"),
    ]

    /// Whether the database holds the demo plant already.
    public static func isSeeded(_ pool: PGPool) throws -> Bool {
        try pool.withConnection { db in try db.query("SELECT 1 FROM site WHERE code = \(site)").rowCount > 0 }
    }

    /// Builds the plant for the simulator's machines (`codes`, in order, 10 to a line) with
    /// their ideal cycles.
    public static func seed(_ pool: PGPool, machines codes: [String], idealCycleSeconds: [Double], parts: [String]) throws {
        let admin = PlantAdminService(pool: pool)
        let me = "demo"
        try admin.addSite(code: site, name: "Brno Precision Machining", timeZone: "Europe/Prague", by: me)
        let lines = [("L1", "Machining centres"), ("L2", "Turning"), ("L3", "Grinding")]
        for (code, name) in lines { try admin.addLine(site: site, area: "A1", line: code, name: name, by: me) }
        let kinds = ["DMG Mori DMU 50", "Okuma LB3000 EX", "Studer S33"]
        for (index, code) in codes.enumerated() {
            let line = min(index / 10, 2)
            try admin.addMachine(site: site, line: lines[line].0, code: code, name: "\(kinds[line]) #\(index % 10 + 1)", by: me)
        }
        for (name, start, end) in [("Early", 360, 840), ("Late", 840, 1320)] {
            try admin.addShift(site: site, name: name, start: start, end: end, weekdays: "12345", breaks: [(start + 240, 30)], by: me)
        }
        for (kind, code, text) in [("scrap", "DIM", "Out of tolerance"), ("scrap", "SURF", "Surface damage"), ("scrap", "MAT", "Material defect"),
                                   ("rework", "BURR", "Burr"), ("rework", "RECUT", "Re-cut to size")] {
            try admin.setReason(kind: kind, code: code, description: text, active: true, by: me)
        }
        let sessions = SessionService(pool: pool)
        for login in logins {
            try sessions.addUser(
                username: login.username, displayName: login.username.capitalized, roles: [login.role], password: login.password, badge: login.badge,
                pin: login.pin, iterations: 100_000, by: me)
        }
        let names = ["P-1001": "Brake caliper bracket", "P-1002": "Steering knuckle", "P-2040": "Drive shaft", "P-3300": "Gear blank"]
        try pool.transaction { db in
            for part in parts {
                try db.execute("INSERT INTO part (code, name) VALUES (\(part), \(names[part] ?? part))")
                // The standard times: each machine's ideal cycle for the part (the simulator's
                // machines make any part), the base of OEE performance.
                let routing = try db.query("INSERT INTO routing (part_id, name) SELECT id, 'standard times' FROM part WHERE code = \(part) RETURNING id")
                    .decode(Int64.self)[0]
                for (index, code) in codes.enumerated() {
                    try db.execute("""
                        INSERT INTO routing_operation (routing_id, sequence, name, machine_id, ideal_cycle_seconds)
                        SELECT \(routing), \((index + 1) * 10), 'on ' || m.code, m.id, \(idealCycleSeconds[index]) FROM machine m WHERE m.code = \(code)
                        """)
                }
            }
        }
        let quality = QualityService(pool: pool)
        for part in parts {
            let id = try quality.define(
                .init(part: part, operationSequence: 10, code: "bore_diameter", name: "Bore diameter", nominal: 12.0, lsl: 11.985, usl: 12.015,
                      samplingMinutes: 60, rules: [.n1, .n2, .n3, .n5, .n6]), by: me)
            try quality.freezeLimits(characteristicID: id, center: 12.0, sigma: 0.004, effectiveFrom: Date().addingTimeInterval(-86_400), by: "quinn",
                                     reason: "Capability study of the demo process")
        }
        // Released orders: one per machine of each line's first machines, two operations each.
        let production = ProductionService(pool: pool)
        for (index, code) in codes.enumerated() where index % 10 < 4 {
            let part = parts[index % parts.count]
            let next = codes[min(index + 10, codes.count - 1)]
            try production.upsert(WorkOrderInput(
                number: "WO-\(24_100 + index)", part: part, quantity: Double(200 + 50 * (index % 5)), site: site, reference: nil,
                plannedStart: Date(), due: Date().addingTimeInterval(Double(8 + index) * 3_600), priority: nil, release: true,
                operations: [.init(sequence: 10, name: "Rough and finish", machine: code), .init(sequence: 20, name: "Finish", machine: next)]))
        }
        for (index, code) in codes.enumerated() where index % 10 < 2 {
            let order = "WO-\(24_100 + index)"
            if let first = try production.operations(workOrder: order).first, first.machine == code {
                try production.perform(.start, operationID: first.id, by: "ana")
            }
        }
    }
}
