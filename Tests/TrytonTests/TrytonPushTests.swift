import Domain
import Foundation
import HTTP
import JSON
import Postgres
import Services
import TestSupport
import Testing
import Workers
@testable import Tryton

/// Fault injection only: pushes through to the real Tryton, then loses the first answer for
/// each entry, as a crash or a dropped connection after Tryton committed would.
final class LosingFirstAnswers: ERPConnector {
    let real: any ERPConnector
    private let lost = Locked<Set<String>>([])
    init(_ real: any ERPConnector) { self.real = real }

    func push(_ message: OutboxMessage, idempotencyKey: String) throws(ERPError) -> ERPReceipt {
        let receipt = try real.push(message, idempotencyKey: idempotencyKey)
        if lost.withLock({ $0.insert(idempotencyKey).inserted }) {
            throw ERPError(.unreachable, "the answer was lost after Tryton committed")
        }
        return receipt
    }
}

extension TrytonTests {
    /// Pulls, then runs Tryton's order 2 (5 parts; works 4, 5, 6 on LATHE-02, CNC-01, QC-01) on
    /// the floor: operator.two signed in at the lathe and at inspection; 600 s setup and
    /// 2,100 s running at OP10 with 5 good and 1 scrapped, 1,200 s at OP20, 300 s at OP30 with
    /// 4 good and 1 scrapped. Nine outbox entries: 2 scrap, 3 labor, 3 operations, 1 order.
    static func runOrder2(_ plant: ERPPlant, _ connector: TrytonConnector) throws {
        try ERPPull(pool: plant.pool, source: connector, site: "S1", node: "test").run()
        let clock = TestClock()
        let floor = ProductionService(pool: plant.pool, clock: clock.read)
        func operation(_ sequence: Int) throws -> Int64 {
            let ids: [Int64] = try plant.db.query("""
                SELECT o.id FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id WHERE wo.number = '2' AND o.sequence = \(sequence)
                """).decode(Int64.self)
            return ids[0]
        }
        try floor.signIn("operator.two", machine: "LATHE-02", site: "S1")
        try floor.signIn("operator.two", machine: "QC-01", site: "S1")
        let op10 = try operation(10), op20 = try operation(20), op30 = try operation(30)
        try floor.perform(.setUp, operationID: op10, by: "operator.two")
        clock.advance(600)
        try floor.perform(.start, operationID: op10, by: "operator.two")
        clock.advance(2100)
        try floor.report(operationID: op10, .good, quantity: 5, by: "operator.two")
        try floor.report(operationID: op10, .scrap, quantity: 1, reason: "DIM", by: "operator.two")
        try floor.perform(.complete, operationID: op10, by: "operator.two")
        try floor.perform(.start, operationID: op20)
        clock.advance(1200)
        try floor.report(operationID: op20, .good, quantity: 5)
        try floor.perform(.complete, operationID: op20)
        try floor.perform(.start, operationID: op30, by: "operator.two")
        clock.advance(300)
        try floor.report(operationID: op30, .good, quantity: 4, by: "operator.two")
        try floor.report(operationID: op30, .scrap, quantity: 1, reason: "DIM", by: "operator.two")
        try floor.perform(.complete, operationID: op30, by: "operator.two")
        #expect(try plant.strings("SELECT kind FROM erp_outbox ORDER BY id").sorted()
            == ["labor", "labor", "labor", "operation_done", "operation_done", "operation_done", "order_done", "scrap", "scrap"])
    }

    /// What order 2 must look like in Tryton afterwards, each record exactly once.
    static func expectOrder2InTryton() throws {
        let tryton = try TrytonLedger()
        #expect(try tryton.productionState(2) == "done")
        let outputs = try tryton.rows("stock.move", [["production_output", "=", 2]], ["quantity", "state"])
        #expect(outputs.map { $0["quantity"] } == [4] && outputs.map { $0["state"] } == ["done"])
        for (work, seconds) in [(4, 2700.0), (5, 1200.0), (6, 300.0)] {
            let cycles = try tryton.rows("production.work.cycle", [["work", "=", .number(Double(work))]], ["state", "duration", "done_by"])
            #expect(cycles.count == 1, "work \(work) has \(cycles.count) cycles")
            #expect(cycles.first?["state"] == "done")
            #expect(cycles.first?["duration"]?["seconds"]?.doubleValue == seconds, "work \(work)")
            if work != 5 { #expect(cycles.first?["done_by"] == 2, "work \(work) was done by Operator Two") }
        }
        let lines = try tryton.rows("timesheet.line", [["description", "like", "%[mes labor:%"]], ["work", "employee", "duration"])
        #expect(lines.count == 3)
        #expect(Set(lines.compactMap { $0["employee"]?.intValue }) == [2])
        #expect(lines.compactMap { $0["duration"]?["seconds"]?.doubleValue }.reduce(0, +) == 3000)
        let chat = try tryton.client.call("ir.chat.channel", "get", ["production,2"]).arrayValue ?? []
        let scrapNotes = chat.compactMap { $0["content"]?.stringValue }.filter { $0.contains("[mes scrap:") }
        #expect(scrapNotes.count == 2)
        #expect(scrapNotes.allSatisfy { $0.hasPrefix("Scrap: 1 at operation") && $0.contains("reason DIM") })
    }

    @Test func floorEvents_becomeCyclesTimesheetLinesScrapNotesAndADoneProduction_once_thoughAnswersAreLostOrMalformed() throws {
        try TestTryton.reset()
        try ERPPlant.with { plant in
            let connector = TrytonConnector(settings: try TestTryton.settings())
            try Self.runOrder2(plant, connector)

            // A server that logs in fine and then answers every model call with broken JSON.
            var router = Router()
            try router.add("POST", "/*path") { request, _ in
                let method = (try? JSONValue.parse(Data(request.body)))?["method"]?.stringValue ?? ""
                switch method {
                case "common.db.login": return .json(Array(#"{"id": 1, "result": [4, "k", null]}"#.utf8))
                case "model.res.user.get_preferences": return .json(Array(#"{"id": 1, "result": {"company": 1, "employee": 1, "employees": [1, 2]}}"#.utf8))
                default: return .json(Array(#"{"id": 1, "result": [{"state": "#.utf8))
                }
            }
            let broken = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, loopCount: 1, workerCount: 2), router: router)
            try broken.start()
            defer { broken.shutdown(gracePeriod: 1) }
            let garbled = TrytonConnector(settings: TrytonSettings(url: "http://127.0.0.1:\(broken.port)", database: "mes", user: "mes", password: "x"))
            let first = try OutboxDispatcher(pool: plant.pool, connector: garbled, node: "a", baseDelay: 0).runOnce(limit: 1)
            #expect(first == OutboxDispatcher.Report(retried: 1))
            let tried = try plant.strings("SELECT state || ' ' || attempts || ' ' || last_error FROM erp_outbox WHERE attempts > 0")
            #expect(tried.count == 1 && tried[0].hasPrefix("pending 1 malformed_answer: Tryton's answer to"), "\(tried)")

            // The real Tryton, with every first answer lost after it committed.
            let report = try OutboxDispatcher(pool: plant.pool, connector: LosingFirstAnswers(connector), node: "b", baseDelay: 0).runOnce()
            #expect(report.sent == 9 && report.dead == 0)
            #expect(try plant.strings("SELECT DISTINCT state FROM erp_outbox") == ["sent"])
            // Each second attempt found what the first had made.
            #expect(try plant.strings("SELECT erp_answer FROM erp_outbox WHERE erp_answer NOT LIKE '%already%'") == [])
            try Self.expectOrder2InTryton()
        }
    }

    @Test func trytonStoppedMidStream_everythingArrivesOnce_afterItIsBack() throws {
        try TestTryton.reset()
        try ERPPlant.with { plant in
            let connector = TrytonConnector(settings: try TestTryton.settings())
            try Self.runOrder2(plant, connector)
            let dispatcher = OutboxDispatcher(pool: plant.pool, connector: connector, node: "a", maxAttempts: 100, baseDelay: 0)
            #expect(try dispatcher.runOnce(limit: 3).sent == 3)

            try TestTryton.stop()
            let whileDown = try dispatcher.runOnce(limit: 3)
            #expect(whileDown == OutboxDispatcher.Report(retried: 3))
            #expect(try plant.strings("SELECT last_error FROM erp_outbox WHERE state = 'pending' AND attempts > 0").allSatisfy { $0.hasPrefix("unreachable") })

            try TestTryton.start()
            let after = try dispatcher.runOnce()
            #expect(after.sent == 6 && after.retried == 0)
            #expect(try plant.strings("SELECT DISTINCT state FROM erp_outbox") == ["sent"])
            try Self.expectOrder2InTryton()
        }
    }
}
