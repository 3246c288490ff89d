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

/// The quality routes of the API on a real server and database.
struct QualityAPITests {
    @Test func measurements_traces_recall_andHolds() throws {
        try TestDatabase.withMigrated { url, db in
            try db.executeScript(unsafeSQL: """
                INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'UTC');
                INSERT INTO machine (site_id, code, name) SELECT id, 'M1', 'Lathe' FROM site;
                INSERT INTO part (code, name) VALUES ('P-1', 'Shaft'), ('BAR', 'Bar stock');
                INSERT INTO routing (part_id, name) SELECT id, 'r' FROM part WHERE code = 'P-1';
                INSERT INTO routing_operation (routing_id, sequence, name, machine_id) SELECT r.id, 10, 'Turning', m.id FROM routing r, machine m;
                INSERT INTO work_order (number, part_id, routing_id, site_id, quantity_planned) SELECT 'WO-1', p.id, r.id, s.id, 5 FROM part p, routing r, site s WHERE p.code = 'P-1';
                INSERT INTO quality_characteristic (part_id, operation_sequence, code, name, lsl, usl) SELECT id, 10, 'BORE', 'Bore', 24.95, 25.05 FROM part WHERE code = 'P-1';
                INSERT INTO app_user (username, display_name) VALUES ('ana', 'Ana');
                """)
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 2))
            defer { pool.close() }
            let production = ProductionService(pool: pool)
            try production.release(workOrder: "WO-1")
            let operation: [Int64] = try db.query("SELECT id FROM work_order_operation").decode(Int64.self)
            try production.perform(.start, operationID: operation[0], by: "ana")
            let genealogy = GenealogyService(pool: pool)
            try genealogy.receive(.init(part: "BAR", lot: "H-1", quantity: 10), by: "ana")
            try genealogy.record(operationID: operation[0], consumed: [.init(part: "BAR", lot: "H-1", quantity: 1)], produced: [.serial(part: "P-1", "S,1")], by: "ana")

            try APIServer.with(url: url) { api in
                let writer = try api.token([.qualityWrite])
                let reader = try api.token([.qualityRead])
                let body: JSONValue = ["site": "S1", "machine": "M1", "characteristic": "BORE", "values": [25.2], "request_key": "gauge-7"]
                var (status, answer) = try api.call("POST", "/api/v1/measurements", token: writer, json: body)
                #expect(status == 201)
                #expect(answer["out_of_specification"] == true && answer["in_control"] == false)
                #expect(answer["nonconformance_id"]?.intValue != nil && answer["hold_id"]?.intValue != nil)
                (status, answer) = try api.call("POST", "/api/v1/measurements", token: writer, json: body)
                #expect(status == 200 && answer["duplicate"] == true)
                (status, answer) = try api.call("POST", "/api/v1/measurements", token: writer, json: ["operation_id": JSONValue(operation[0]), "characteristic": "BORE", "values": [1, 2]])
                #expect(status == 422 && answer["error"]?["code"] == "invalid_input")
                (status, _) = try api.call("POST", "/api/v1/measurements", token: writer, json: ["operation_id": 999, "characteristic": "LEN", "values": [1]])
                #expect(status == 404)
                (status, _) = try api.call("POST", "/api/v1/measurements", token: writer, json: ["characteristic": "BORE", "values": [1]])
                #expect(status == 400)
                (status, _) = try api.call("POST", "/api/v1/measurements", token: reader, json: body)
                #expect(status == 403)

                let flow: JSONValue = ["operation_id": JSONValue(operation[0]), "consumed": [["part": "BAR", "lot": "H-1", "quantity": 2]],
                                       "produced": [["part": "P-1", "lot": "S-2", "quantity": 1, "kind": "serial"]], "request_key": "gen-9"]
                (status, answer) = try api.call("POST", "/api/v1/genealogy", token: writer, json: flow)
                #expect(status == 201 && answer["transformation_id"]?.intValue != nil)
                (status, _) = try api.call("POST", "/api/v1/genealogy", token: writer, json: ["operation_id": JSONValue(operation[0]), "consumed": [],
                                                                                              "produced": [["part": "P-1", "lot": "S-3", "quantity": 2, "kind": "serial"]]])
                #expect(status == 422)
                (status, answer) = try api.call("GET", "/api/v1/holds", token: reader)
                #expect(status == 200 && answer.arrayValue?.first?["source"] == "inspection")
                (status, answer) = try api.call("GET", "/api/v1/lots/P-1/S,1/trace", token: reader)
                #expect(status == 200 && answer.arrayValue?.map { $0["lot"] } == ["H-1"])
                (status, answer) = try api.call("GET", "/api/v1/lots/BAR/H-1/recall", token: reader)
                #expect(answer.arrayValue?.map { $0["lot"] } == ["S,1", "S-2"] && answer.arrayValue?.first?["end_item"] == true)
                (status, _) = try api.call("GET", "/api/v1/lots/BAR/H-1/trace?direction=sideways", token: reader)
                #expect(status == 400)
                (status, _) = try api.call("GET", "/api/v1/lots/BAR/H-9/trace", token: reader)
                #expect(status == 404)

                var request = URLRequest(url: URL(string: "http://127.0.0.1:\(api.port)/api/v1/lots/BAR/H-1/trace?direction=forward&format=csv")!)
                request.setValue("Bearer \(reader)", forHTTPHeaderField: "Authorization")
                let csv = try BlockingHTTPClient(timeout: 10).send(request)
                #expect(csv.status == 200)
                let text = String(decoding: csv.body, as: UTF8.self)
                #expect(text.hasPrefix("depth,part,lot,kind,quantity,via,work_order,operation,machine,operator,at\r\n1,P-1,\"S,1\",serial,1.0,H-1,WO-1,10,M1,ana,"))
            }
        }
    }
}

/// Every API route with a token of every single scope: 403 exactly when the scope is not the
/// route's, 401 without a token; and a session cookie made up before sign-in is never honoured.
struct AuthorizationMatrixTests {
    @Test func everyAPIRoute_refusesEveryScopeItDoesNotNeed() throws {
        try TestDatabase.withMigrated { url, _ in
            try APIServer.with(url: url) { api in
                var router = Router()
                let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 1))
                defer { pool.close() }
                let routes = try APIv1(pool: pool, production: ProductionService(pool: pool), plant: PlantReadService(pool: pool)).register(on: &router)
                let needed = try JSONValue.parse(Data(contentsOf: APIv1Tests.spec))["paths"]?.objectValue ?? [:]
                var tokens: [APIScope: String] = [:]
                for scope in APIScope.allCases { tokens[scope] = try api.token([scope]) }
                var checked = 0
                for route in routes {
                    let parts = route.split(separator: " ")
                    let (method, pattern) = (String(parts[0]), String(parts[1]))
                    let template = pattern.split(separator: "/", omittingEmptySubsequences: false)
                        .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
                    let scope = needed[template]?[method.lowercased()]?["security"]?.arrayValue?.first?["bearer"]?.arrayValue?.first?.stringValue
                    let path = pattern.replacing(":number", with: "WO-404").replacing(":site", with: "S9").replacing(":id", with: "404404")
                        .replacing(":part", with: "P-404").replacing(":lot", with: "L-404")
                    #expect(try api.call(method, path, token: "mes_00000000_00000000000000000000000000000000").0 == 401, "\(route) without a valid token")
                    for (granted, token) in tokens {
                        let (status, _) = try api.call(method, path, token: token, json: method == "GET" ? nil : [:])
                        #expect((status == 403) == (granted.rawValue != scope), "\(route) with \(granted.rawValue): \(status)")
                        checked += 1
                    }
                }
                #expect(checked == routes.count * APIScope.allCases.count && checked >= 15 * 5)
            }
        }
    }
}
