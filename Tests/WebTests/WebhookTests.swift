import Digest
import Domain
import Foundation
import HTTP
import JSON
import Postgres
import Services
import TestSupport
import Testing
import Webhooks
import Workers

/// The outbox POSTed to a receiver (our own HTTP server) that fails every first delivery.
struct WebhookTests {
    struct Delivery: Sendable {
        var key: String
        var event: String
        var timestamp: String
        var signature: String
        var body: [UInt8]
    }

    @Test func everyOutboxEntry_arrivesSigned_inOrder_andARetryCarriesTheSameKeyAndBody() throws {
        try TestDatabase.withMigrated { url, db in
            try db.executeScript(unsafeSQL: """
                INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'UTC');
                INSERT INTO machine (site_id, code, name) SELECT id, 'M1', 'Lathe' FROM site;
                INSERT INTO part (code, name) VALUES ('P-1', 'Shaft');
                INSERT INTO reason_code (kind, code, description) VALUES ('scrap', 'DIM', 'Out of tolerance');
                """)
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 4))
            defer { pool.close() }
            let floor = ProductionService(pool: pool)
            try floor.upsert(WorkOrderInput(number: "WO-1", part: "P-1", quantity: 5, site: "S1", release: true,
                                            operations: [.init(sequence: 10, name: "Turning", machine: "M1")]))
            let operation = try floor.operations(workOrder: "WO-1")[0].id
            try floor.perform(.start, operationID: operation)
            try floor.report(operationID: operation, .good, quantity: 4)
            try floor.report(operationID: operation, .scrap, quantity: 1, reason: "DIM")
            try floor.perform(.complete, operationID: operation)

            let received = Locked<[Delivery]>([])
            var router = Router()
            try router.post("/hooks/mes") { request, _ in
                let delivery = Delivery(
                    key: request.headers["X-MES-Delivery"] ?? "", event: request.headers["X-MES-Event"] ?? "",
                    timestamp: request.headers["X-MES-Timestamp"] ?? "", signature: request.headers["X-MES-Signature"] ?? "", body: request.body)
                let first = received.withLock { list in
                    defer { list.append(delivery) }
                    return !list.contains { $0.key == delivery.key }
                }
                return first ? .text("busy", status: .serviceUnavailable) : .text("thanks")
            }
            let receiver = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, loopCount: 1, workerCount: 2), router: router)
            try receiver.start()
            defer { receiver.shutdown(gracePeriod: 1) }

            let secret = "a-secret-of-at-least-16-bytes"
            let hook = WebhookConnector(url: URL(string: "http://127.0.0.1:\(receiver.port)/hooks/mes")!, secret: secret)
            let report = try OutboxDispatcher(pool: pool, connector: hook, node: "test", baseDelay: 0).runOnce()
            #expect(report.sent == 3 && report.retried == 3 && report.dead == 0)

            let deliveries = received.withLock { $0 }
            #expect(deliveries.map(\.event) == ["scrap", "scrap", "operation_done", "operation_done", "order_done", "order_done"])
            for delivery in deliveries {
                #expect(delivery.signature == WebhookConnector.signature(secret: Array(secret.utf8), timestamp: delivery.timestamp, body: delivery.body))
                #expect(delivery.signature != WebhookConnector.signature(secret: Array("another secret!!".utf8), timestamp: delivery.timestamp, body: delivery.body))
                let body = try JSONValue.parse(Data(delivery.body))
                #expect(body["key"]?.stringValue == delivery.key && body["event"]?.stringValue == delivery.event)
            }
            for pair in stride(from: 0, to: deliveries.count, by: 2) {
                #expect(deliveries[pair].key == deliveries[pair + 1].key && deliveries[pair].body == deliveries[pair + 1].body)
            }
            let done = try JSONValue.parse(Data(deliveries[4].body))
            #expect(done["data"]?["good"] == 4 && done["data"]?["scrap"] == 1 && done["data"]?["workOrder"] == "WO-1")
            #expect(try db.query("SELECT erp_answer FROM erp_outbox ORDER BY id").decode(String.self) == ["200 thanks", "200 thanks", "200 thanks"])
        }
    }
}
