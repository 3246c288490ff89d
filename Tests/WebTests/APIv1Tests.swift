import Domain
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP
import HTTPClient
import JSON
import Postgres
import Services
import TestSupport
import Testing
import Web

/// The API on a real server and a real PostgreSQL; the answers' shapes are checked against the
/// OpenAPI file by scripts/check-openapi.py in scripts/check-cli.sh.
struct APIv1Tests {
    static let spec = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/api/openapi.json")

    @Test func everyRoute_isInTheOpenAPIFile_andEveryPathThereIsARoute() throws {
        let document = try JSONValue.parse(Data(contentsOf: Self.spec))
        var documented = Set<String>()
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in (item.objectValue ?? [:]).keys { documented.insert("\(method.uppercased()) \(path)") }
        }
        #expect(document["openapi"] == "3.1.0")
        var router = Router()
        let pool = PGPool(configuration: PGPoolConfiguration(url: "postgresql://unused@127.0.0.1:1/unused"))
        let routes = try APIv1(pool: pool, production: ProductionService(pool: pool), plant: PlantReadService(pool: pool)).register(on: &router)
        // `:name` in the router is `{name}` in OpenAPI.
        let served = Set(routes.map { route in
            route.split(separator: "/", omittingEmptySubsequences: false).map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                .joined(separator: "/")
        })
        #expect(served == documented)
        #expect(served.count == 15)
    }

    /// The worked example of oee.com ("Calculate OEE"): an 8-hour shift with 60 minutes of
    /// breaks, 47 minutes of unplanned downtime, an ideal cycle of 1.0 s, 19,271 parts counted
    /// and 423 rejected gives availability 88.81 %, performance 86.11 %, quality 97.80 % and
    /// OEE 74.79 %. Stored as intervals and counts, read back through GET /oee.
    @Test func oee_fromStoredIntervalsAndCounts_reproducesTheOEEComExample() throws {
        try TestDatabase.withMigrated { url, db in
            try db.executeScript(unsafeSQL: """
                INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'UTC');
                INSERT INTO machine (site_id, code, name) SELECT id, 'M-01', 'Press 1' FROM site;
                INSERT INTO part (code, name) VALUES ('P-1', 'Bracket');
                INSERT INTO routing (part_id, name) SELECT id, 'P-1 routing' FROM part;
                INSERT INTO routing_operation (routing_id, sequence, name, machine_id, ideal_cycle_seconds)
                    SELECT r.id, 10, 'Stamping', m.id, 1.0 FROM routing r, machine m;
                """ + OEEComExample.shiftSQL)
            try APIServer.with(url: url) { api in
                let token = try api.token([.plantRead])
                let (status, body) = try api.call("GET", "/api/v1/sites/S1/oee?from=2026-11-20T06:00:00Z&to=2026-11-20T14:00:00Z", token: token)
                #expect(status == 200)
                let machine = try #require(body.arrayValue?.first)
                #expect(machine["machine"] == "M-01")
                #expect(abs((machine["availability"]?.doubleValue ?? 0) - 0.8881) < 0.00005)
                #expect(abs((machine["performance"]?.doubleValue ?? 0) - 0.8611) < 0.00005)
                #expect(abs((machine["quality"]?.doubleValue ?? 0) - 0.9780) < 0.00005)
                #expect(abs((machine["oee"]?.doubleValue ?? 0) - 0.7479) < 0.00005)
                #expect(machine["total_count"] == 19271 && machine["good_count"] == 18848)
            }
        }
    }

    @Test func workOrdersIn_theRulesHold_andErrorsSayWhat() throws {
        try TestDatabase.withMigrated { url, db in
            try db.executeScript(unsafeSQL: """
                INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'Europe/Berlin');
                INSERT INTO machine (site_id, code, name) SELECT id, m, m FROM site, unnest(ARRAY['M1', 'M2']) m;
                INSERT INTO part (code, name) VALUES ('P-1', 'Shaft');
                """)
            try APIServer.with(url: url) { api in
                let writer = try api.token([.ordersWrite, .plantRead])
                let body: JSONValue = [
                    "part": "P-1", "quantity": 12, "site": "S1", "release": true,
                    "operations": [["sequence": 10, "name": "Turning", "machine": "M1"], ["sequence": 20, "name": "Milling", "machine": "M2"]],
                ]
                var (status, answer) = try api.call("PUT", "/api/v1/work-orders/WO-7", token: writer, json: body)
                #expect(status == 201)
                #expect(answer["work_order"]?["state"] == "released")
                #expect(answer["work_order"]?["operations"]?.arrayValue?.compactMap { $0["machine"]?.stringValue } == ["M1", "M2"])

                // Once the floor starts it, the order is the MES's: the ERP's changes are refused.
                let operation: [Int64] = try db.query("SELECT o.id FROM work_order_operation o WHERE o.sequence = 10").decode(Int64.self)
                try ProductionService(pool: api.pool).perform(.start, operationID: operation[0])
                (status, answer) = try api.call("PUT", "/api/v1/work-orders/WO-7", token: writer, json: ["part": "P-1", "quantity": 20, "site": "S1"])
                #expect(status == 409)
                #expect(answer["error"]?["code"] == "order_started")

                (status, answer) = try api.call("PUT", "/api/v1/work-orders/WO-8", token: writer,
                                                json: ["part": "P-1", "quantity": 1, "site": "S1", "operations": [["sequence": 10, "name": "X", "machine": "M9"]]])
                #expect(status == 404)
                #expect(answer["error"]?["message"] == "there is no active machine M9 at site S1")
                (status, answer) = try api.call("PUT", "/api/v1/work-orders/WO-8", token: writer, json: ["part": "P-1", "site": "S1"])
                #expect(status == 400)
                #expect(answer["error"]?["message"] == "the field quantity is missing")
                #expect(try db.query("SELECT number FROM work_order").decode(String.self) == ["WO-7"])

                let reader = try api.token([.plantRead])
                (status, _) = try api.call("PUT", "/api/v1/work-orders/WO-9", token: reader, json: ["part": "P-1", "quantity": 1, "site": "S1"])
                #expect(status == 403)
                (status, _) = try api.call("GET", "/api/v1/work-orders/WO-7", token: "mes_00000000_00000000000000000000000000000000")
                #expect(status == 401)
            }
        }
    }
}

/// `mes serve`'s API on a free port over a database, and a client for it.
struct APIServer {
    let pool: PGPool
    let port: Int

    static func with<T>(url: String, _ body: (APIServer) throws -> T) throws -> T {
        let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 4))
        defer { pool.close() }
        var router = Router()
        try APIv1(pool: pool, production: ProductionService(pool: pool), plant: PlantReadService(pool: pool)).register(on: &router)
        let server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, loopCount: 1, workerCount: 4), router: router)
        try server.start()
        defer { server.shutdown(gracePeriod: 1) }
        return try body(APIServer(pool: pool, port: server.port))
    }

    func token(_ scopes: Set<APIScope>) throws -> String {
        try APITokens.create(name: "test", scopes: scopes, pool).1
    }

    func call(_ method: String, _ path: String, token: String, json: JSONValue? = nil) throws -> (Int, JSONValue) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = json.encoded()
        }
        let response = try BlockingHTTPClient(timeout: 10).send(request)
        return (response.status, (try? JSONValue.parse(response.body)) ?? .null)
    }
}
