import Foundation
import JSON
import Postgres
import Services
import TestSupport
import Testing
@testable import Tryton

/// The Tryton that scripts/test.sh starts (scripts/tryton-up.sh), reset to its seed before
/// each test, stopped and started by the tests that need it away.
enum TestTryton {
    static func environment(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            Issue.record("\(name) is not set: run the tests through scripts/test.sh, or eval \"$(scripts/tryton-up.sh)\" first")
            throw POSIXError(.EINVAL)
        }
        return value
    }

    static func settings() throws -> TrytonSettings {
        TrytonSettings(
            url: try environment("MES_TEST_TRYTON_URL"), database: try environment("MES_TEST_TRYTON_DATABASE"),
            user: try environment("MES_TEST_TRYTON_USER"), password: try environment("MES_TEST_TRYTON_PASSWORD"), timeout: 20)
    }

    /// Restores the seeded database and restarts trytond (a few seconds).
    static func reset() throws {
        try script("tryton-up.sh", extra: ["MES_TRYTON_RESET": "1"])
    }

    static func stop() throws {
        try script("tryton-down.sh", arguments: [try environment("MES_TRYTON_STATE_DIR")])
    }

    static func start() throws {
        try script("tryton-up.sh")
    }

    private static func script(_ name: String, arguments: [String] = [], extra: [String: String] = [:]) throws {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { $1 }
        let (status, output) = try TestBroker.runScript(TestBroker.scripts.appendingPathComponent(name).path, arguments: arguments, environment: environment)
        guard status == 0 else {
            Issue.record("\(name) exited with \(status): \(output)")
            throw POSIXError(.EIO)
        }
    }
}

/// A migrated database with one site, a machine named like a Tryton work center (so the pull
/// must link it rather than make a second one) and the plant's scrap reasons.
struct ERPPlant {
    let url: String
    let db: PGConnection
    let pool: PGPool

    static func with<T>(_ body: (ERPPlant) throws -> T) throws -> T {
        try TestDatabase.withMigrated { url, db in
            try db.executeScript(unsafeSQL: """
                INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'Europe/Berlin');
                INSERT INTO area (site_id, code, name) SELECT id, 'A1', 'Machining' FROM site;
                INSERT INTO line (area_id, code, name) SELECT id, 'L1', 'Shaft line' FROM area;
                INSERT INTO machine (site_id, line_id, code, name) SELECT s.id, l.id, 'LATHE-02', 'Lathe 2' FROM site s, line l;
                INSERT INTO reason_code (kind, code, description) VALUES ('scrap', 'DIM', 'Out of tolerance');
                """)
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 4))
            defer { pool.close() }
            return try body(ERPPlant(url: url, db: db, pool: pool))
        }
    }

    func strings(_ sql: SQL) throws -> [String] {
        try db.query(sql).decode(String.self)
    }
}

/// Counts what the MES made in Tryton, through a client of its own.
struct TrytonLedger {
    let client: TrytonClient

    init() throws {
        client = TrytonClient(settings: try TestTryton.settings())
    }

    func rows(_ model: String, _ domain: JSONValue, _ fields: [String]) throws -> [[String: JSONValue]] {
        try client.searchRead(model, domain, fields: fields)
    }

    func productionState(_ id: Int) throws -> String? {
        try rows("production", [["id", "=", .number(Double(id))]], ["state"]).first?["state"]?.stringValue
    }
}
